# Calibration folders, one rule per source (synthcal.sources.<source>): results/calibration/<source><rep>/, or
# <source><rep>/<model>/ for the per-model sources, each <class>/<n>.png + manifest.json. Repeat r > 0 (config
# `repeats`) writes <source>.r<r>/ with seed + r. Plus the held-out validation split and the sample grids.


rule calibration_cifar10:
    input:
        train="results/data/cifar10/train.npz",
    output:
        directory("results/calibration/cifar10{rep}"),
    params:
        code=script_code("calibration_cifar10.py"),
        seed=rep_seed,
        # the whole training set when calibration.cifar10_full_train (the authors' notebook), else n_per_class
        n_per_class=None if config["calibration"]["cifar10_full_train"] else config["calibration"]["n_per_class"],
    log:
        "results/logs/calibration/cifar10{rep}.log",
    benchmark:
        "results/benchmarks/calibration_cifar10/cifar10{rep}.tsv"
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
        train="results/data/cifar10/train.npz",
    output:
        "results/data/cifar10/holdout.npz",
    params:
        code=script_code("holdout_cifar10.py"),
        seed=config["seed"],
        calibration_seeds=[PLAN.rep_seed(r) for r in PLAN.reps],
        n_per_class=config["calibration"]["n_per_class"],
        holdout_per_class=config["quantization"]["accuracy_aware"]["holdout_per_class"],
    log:
        "results/logs/holdout_cifar10.log",
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
        dump="results/teacher/dump",
    output:
        directory(f"results/calibration/{PLAN.teacher_name}{{rep}}"),
    params:
        code=script_code("calibration_teacher.py"),
        source=PLAN.teacher_name,
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
    log:
        f"results/logs/calibration/{PLAN.teacher_name}{{rep}}.log",
    benchmark:
        f"results/benchmarks/calibration_teacher/{PLAN.teacher_name}{{rep}}.tsv"
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
        **PLAN.distylegan_files(),
    output:
        directory("results/calibration/distylegan{rep}"),
    params:
        code=script_code("calibration_distylegan.py"),
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
        batch_size=config["distylegan"]["sample_batch_size"],
        device=config["distylegan"]["device"],
    log:
        "results/logs/calibration/distylegan{rep}.log",
    benchmark:
        "results/benchmarks/calibration_distylegan/distylegan{rep}.tsv"
    threads: config["distylegan"]["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=gpus(config["distylegan"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_distylegan.py"


rule calibration_fractal:
    output:
        directory("results/calibration/fractal{rep}"),
    params:
        code=script_code("calibration_fractal.py"),
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
        settings=PLAN.source_settings("fractal"),
    log:
        "results/logs/calibration/fractal{rep}.log",
    benchmark:
        "results/benchmarks/calibration_fractal/fractal{rep}.tsv"
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
        directory("results/calibration/noise{rep}"),
    params:
        code=script_code("calibration_noise.py"),
        seed=rep_seed,
        n_per_class=config["calibration"]["n_per_class"],
        settings=PLAN.source_settings("noise"),
    log:
        "results/logs/calibration/noise{rep}.log",
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
        unpack(model_files),
    output:
        directory("results/calibration/bn_inversion{rep}/{model}"),
    params:
        code=script_code("calibration_bn_inversion.py"),
        seed=rep_seed,
        classifier=classifier,
        factory_code=factory_code,
        mean_std=mean_std,
        n_per_class=config["bn_inversion"]["n_per_class"],
        settings=PLAN.bn_inversion_settings(),
    log:
        "results/logs/calibration/bn_inversion{rep}/{model}.log",
    benchmark:
        "results/benchmarks/calibration_bn_inversion/bn_inversion{rep}/{model}.tsv"
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
    by the FP32 model, the best n_per_class per class kept (synthcal.sources.filtered). A fused RepVGG shares its
    multi-branch twin's folder (the same function)."""
    input:
        unpack(lambda wc: PLAN.filter_inputs(wc.model, wc.base)),
    output:
        directory("results/calibration/{base}_{filter}{rep}/{model}"),
    params:
        code=script_code("calibration_filtered.py"),
        kind=lambda wc: PLAN.filter_pool(wc.base)[0],
        seed=rep_seed,
        classifier=classifier,
        factory_code=factory_code,
        mean_std=mean_std,
        n_per_class=config["calibration"]["n_per_class"],
        pool_factor=config["calibration"]["filter"]["pool_factor"],
        batch_size=config["calibration"]["filter"]["batch_size"],
        device=lambda wc: config["distylegan"]["device"] if PLAN.filter_pool(wc.base)[0] == "generator" else None,
    wildcard_constraints:
        base="|".join(PLAN.filter_bases()),
        filter="|".join(FILTERS),
    log:
        "results/logs/calibration/{base}_{filter}{rep}/{model}.log",
    benchmark:
        "results/benchmarks/calibration_filtered/{base}_{filter}{rep}/{model}.tsv"
    threads: config["calibration"]["filter"]["threads"]
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        "../envs/convert.yaml"
    script:
        "../workflow_scripts/calibration_filtered.py"


rule sample_grid:
    """A figure of a calibration folder, one row per class (per model for the per-model sources)."""
    input:
        folder=lambda wc: PLAN.set_folder(wc.name),
    output:
        report("results/figures/samples/{name}.png", caption="../report/samples.rst", category="Calibration sets",
               labels={"set": "{name}"}),
    params:
        code=script_code("sample_grid.py"),
    wildcard_constraints:
        name="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        "results/logs/figures/samples_{name}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/sample_grid.py"
