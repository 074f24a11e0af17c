# Calibration folders (synthcal.planning.calibration), one rule per source (synthcal.sources.<source>):
# results/calibration/<source><rep>/, or <source><rep>/<model>/ for the per-model sources, each <class>/<n>.png +
# manifest.json. Repeat r > 0 (config `repeats`) writes <source>.r<r>/ with seed + r. Plus the held-out validation
# split and the sample grids.


rule calibration_cifar10:
    input:
        train=paths.CIFAR10_TRAIN,
    output:
        directory(paths.fill(paths.CALIBRATION, source="cifar10")),
    params:
        code=script_code("calibration_cifar10.py"),
        seed=rep_seed,
        n_per_class=PLAN.calibration.cifar10_per_class(),  # None: every training image (calibration.cifar10_full_train)
    log:
        paths.log("calibration/cifar10{rep}"),
    benchmark:
        paths.benchmark("calibration_cifar10", "cifar10{rep}")
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
        train=paths.CIFAR10_TRAIN,
    output:
        paths.HOLDOUT,
    params:
        code=script_code("holdout_cifar10.py"),
        seed=config["seed"],
        calibration_seeds=PLAN.calibration.holdout_seeds(),
        n_per_class=PLAN.calibration.n_per_class(),
        holdout_per_class=config["quantization"]["accuracy_aware"]["holdout_per_class"],
    log:
        paths.log("holdout_cifar10"),
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
        dump=paths.TEACHER_DUMP,
    output:
        directory(paths.fill(paths.CALIBRATION, source=PLAN.grid.teacher_name)),
    params:
        code=script_code("calibration_teacher.py"),
        source=PLAN.grid.teacher_name,
        seed=rep_seed,
        n_per_class=PLAN.calibration.n_per_class(),
    log:
        paths.log(f"calibration/{PLAN.grid.teacher_name}{{rep}}"),
    benchmark:
        paths.benchmark("calibration_teacher", f"{PLAN.grid.teacher_name}{{rep}}")
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
        **PLAN.distillation.files(),
    output:
        directory(paths.fill(paths.CALIBRATION, source="distylegan")),
    params:
        code=script_code("calibration_distylegan.py"),
        seed=rep_seed,
        n_per_class=PLAN.calibration.n_per_class(),
        batch_size=config["distylegan"]["sample_batch_size"],
        device=config["distylegan"]["device"],
    log:
        paths.log("calibration/distylegan{rep}"),
    benchmark:
        paths.benchmark("calibration_distylegan", "distylegan{rep}")
    threads: config["distylegan"]["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
        gpu=PLAN.distillation.resources()["gpu"],
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/calibration_distylegan.py"


rule calibration_fractal:
    input:
        colorizer=PLAN.calibration.colorizer_files(),  # Zhang et al.'s model, when configured
    output:
        directory(paths.fill(paths.CALIBRATION, source="fractal")),
    params:
        code=script_code("calibration_fractal.py"),
        seed=rep_seed,
        n_per_class=PLAN.calibration.n_per_class(),
        settings=PLAN.calibration.settings_of("fractal"),
    log:
        paths.log("calibration/fractal{rep}"),
    benchmark:
        paths.benchmark("calibration_fractal", "fractal{rep}")
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
        directory(paths.fill(paths.CALIBRATION, source="noise")),
    params:
        code=script_code("calibration_noise.py"),
        seed=rep_seed,
        n_per_class=PLAN.calibration.n_per_class(),
        settings=PLAN.calibration.settings_of("noise"),
    log:
        paths.log("calibration/noise{rep}"),
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
        directory(paths.fill(paths.CALIBRATION_PER_MODEL, source="bn_inversion")),
    params:
        code=script_code("calibration_bn_inversion.py"),
        seed=rep_seed,
        classifier=classifier,
        model_code=model_code,
        mean_std=mean_std,
        n_per_class=config["bn_inversion"]["n_per_class"],
        settings=to_params(PLAN.calibration.bn_inversion()),
    log:
        paths.log("calibration/bn_inversion{rep}/{model}"),
    benchmark:
        paths.benchmark("calibration_bn_inversion", "bn_inversion{rep}/{model}")
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
        unpack(lambda wc: PLAN.calibration.filter_inputs(wc.model, wc.base)),
    output:
        directory(paths.fill(paths.CALIBRATION_PER_MODEL, source="{base}_{filter}")),
    params:
        code=script_code("calibration_filtered.py"),
        kind=lambda wc: PLAN.calibration.filter_pool(wc.base)[0],
        seed=rep_seed,
        classifier=classifier,
        model_code=model_code,
        mean_std=mean_std,
        n_per_class=PLAN.calibration.n_per_class(),
        pool_factor=config["calibration"]["filter"]["pool_factor"],
        batch_size=config["calibration"]["filter"]["batch_size"],
        device=lambda wc: PLAN.calibration.filter_device(wc.base),
    wildcard_constraints:
        base="|".join(PLAN.calibration.filter_bases()),
        filter="|".join(PLAN.calibration.filters()),
    log:
        paths.log("calibration/{base}_{filter}{rep}/{model}"),
    benchmark:
        paths.benchmark("calibration_filtered", "{base}_{filter}{rep}/{model}")
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
        folder=lambda wc: PLAN.grid.set_folder(wc.name),
    output:
        report(paths.SAMPLE_GRID, caption="../report/samples.rst", category="Calibration sets",
               labels={"set": "{name}"}),
    params:
        code=script_code("sample_grid.py"),
    wildcard_constraints:
        name="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        paths.log("figures/samples_{name}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/sample_grid.py"
