# Calibration folders: results/calibration/<source>/<class>/<n>.png + manifest.json, one per source (per model for
# bn_inversion). Repeat r > 0 (config `repeats`) writes results/calibration/<source>.r<r>/ with seed + r.


rule calibration_cifar10:
    input:
        train=f"{RES}/data/cifar10/train.npz",
    output:
        directory(f"{RES}/calibration/cifar10{{rep}}"),
    params:
        code=script_code("calibration_cifar10.py"),
        seed=rep_seed,
        # the whole training set when calibration.cifar10_full_train (the authors' notebook), else n_per_class
        n_per_class=None if config["calibration"]["cifar10_full_train"] else config["calibration"]["n_per_class"],
    log:
        f"{RES}/logs/calibration/cifar10{{rep}}.log",
    benchmark:
        f"{RES}/benchmarks/calibration_cifar10/cifar10{{rep}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_cifar10.py"


rule holdout_cifar10:
    input:
        train=f"{RES}/data/cifar10/train.npz",
    output:
        f"{RES}/data/cifar10/holdout.npz",
    params:
        code=script_code("holdout_cifar10.py"),
        seed=config["seed"],
        calibration_seeds=[rep_seed(Namespace(rep=r)) for r in REPS],
        n_per_class=config["calibration"]["n_per_class"],
        holdout_per_class=AA["holdout_per_class"],
    log:
        f"{RES}/logs/holdout_cifar10.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/holdout_cifar10.py"


rule calibration_teacher:
    input:
        dump=f"{RES}/teacher/dump",
    output:
        directory(f"{RES}/calibration/{TEACHER_NAME}{{rep}}"),
    params:
        code=script_code("calibration_teacher.py"),
        source=TEACHER_NAME,
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
    log:
        f"{RES}/logs/calibration/{TEACHER_NAME}{{rep}}.log",
    benchmark:
        f"{RES}/benchmarks/calibration_teacher/{TEACHER_NAME}{{rep}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_teacher.py"


rule calibration_distylegan:
    input:
        unpack(distylegan_inputs),
    output:
        directory(f"{RES}/calibration/distylegan{{rep}}"),
    params:
        code=script_code("calibration_distylegan.py"),
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
        batch_size=DSG["sample_batch_size"],
        device=DSG["device"],
    log:
        f"{RES}/logs/calibration/distylegan{{rep}}.log",
    benchmark:
        f"{RES}/benchmarks/calibration_distylegan/distylegan{{rep}}.tsv"
    threads: DSG["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=gpus(DSG["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_distylegan.py"


rule calibration_fractal:
    output:
        directory(f"{RES}/calibration/fractal{{rep}}"),
    params:
        code=script_code("calibration_fractal.py"),
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
        points=config["fractal"]["points"],
        chains=config["fractal"]["chains"],
        fill_rate=config["fractal"]["fill_rate"],
        colorizer_dir=config["fractal"]["colorizer_dir"],
    log:
        f"{RES}/logs/calibration/fractal{{rep}}.log",
    benchmark:
        f"{RES}/benchmarks/calibration_fractal/fractal{{rep}}.tsv"
    threads: config["fractal"]["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_fractal.py"


rule calibration_noise:
    output:
        directory(f"{RES}/calibration/noise{{rep}}"),
    params:
        code=script_code("calibration_noise.py"),
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
        distribution=config["noise"]["distribution"],
        std=config["noise"]["std"] if config["noise"]["distribution"] == "gaussian" else None,
    log:
        f"{RES}/logs/calibration/noise{{rep}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_noise.py"


rule calibration_bn_inversion:
    input:
        weights=weights_file,
    output:
        directory(f"{RES}/calibration/bn_inversion{{rep}}/{{model}}"),
    params:
        code=script_code("calibration_bn_inversion.py"),
        seed=rep_seed,
        arch=lambda wc: model_entry(wc)["arch"],
        mean_std=model_mean_std,
        n_per_class=config["bn_inversion"]["n_per_class"],
        iterations=config["bn_inversion"]["iterations"],
        lr=config["bn_inversion"]["lr"],
        batch_size=config["bn_inversion"]["batch_size"],
        ce_weight=config["bn_inversion"]["ce_weight"],
    log:
        f"{RES}/logs/calibration/bn_inversion{{rep}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/calibration_bn_inversion/bn_inversion{{rep}}/{{model}}.tsv"
    threads: config["bn_inversion"]["threads"]
    resources:
        mem_mb=6000,
        runtime=240,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_bn_inversion.py"


rule calibration_filtered:
    """A filtered source <base>_<filter> for one model: a pool from the generator (or the real training set) scored
    by the FP32 model, the best n_per_class per class kept (synthcal.filtering). A fused RepVGG shares its
    multi-branch twin's folder (the same function)."""
    input:
        unpack(filter_pool_input),
        weights=weights_file,
    output:
        directory(f"{RES}/calibration/{{base}}_{{filter}}{{rep}}/{{model}}"),
    params:
        code=script_code("calibration_filtered.py"),
        kind=lambda wc: filter_pool_kind(wc.base),
        seed=rep_seed,
        arch=lambda wc: model_entry(wc)["arch"],
        mean_std=model_mean_std,
        n_per_class=config["calibration"]["n_per_class"],
        pool_factor=config["calibration"]["filter"]["pool_factor"],
        batch_size=config["calibration"]["filter"]["batch_size"],
        device=lambda wc: DSG["device"] if filter_pool_kind(wc.base) == "generator" else None,
    wildcard_constraints:
        base="|".join(FILTER_BASES),
        filter="|".join(FILTER_NAMES),
    log:
        f"{RES}/logs/calibration/{{base}}_{{filter}}{{rep}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/calibration_filtered/{{base}}_{{filter}}{{rep}}/{{model}}.tsv"
    threads: config["calibration"]["filter"]["threads"]
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_filtered.py"


rule sample_grid:
    input:
        folder=calibration_folder,
    output:
        report(f"{RES}/figures/samples/{{source}}.png", caption="../report/samples.rst", category="Calibration sets",
               labels={"source": "{source}"}),
    params:
        code=script_code("sample_grid.py"),
    log:
        f"{RES}/logs/figures/samples_{{source}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/sample_grid.py"


use rule sample_grid as sample_grid_per_model with:
    output:
        report(f"{RES}/figures/samples/{{source}}/{{model}}.png", caption="../report/samples.rst",
               category="Calibration sets", labels={"source": "{source}", "model": "{model}"}),
    log:
        f"{RES}/logs/figures/samples_{{source}}_{{model}}.log",
