# Calibration folders: results/calibration/<source>/<class>/<n>.png + manifest.json, one per source.
# Every source (real CIFAR-10 here; GAN, fractal and data-free sources in later stages) produces this shape.


rule calibration_cifar10:
    input:
        train=f"{RES}/data/cifar10/train.npz",
        code=lib("calibration.py", "data.py", "seeding.py"),
    output:
        directory(f"{RES}/calibration/cifar10"),
    params:
        seed=config["seed"],
        n_per_class=config["calibration"]["n_per_class"],
    log:
        f"{RES}/logs/calibration/cifar10.log",
    benchmark:
        f"{RES}/benchmarks/calibration/cifar10.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../envs/synthcal.yaml"
    script:
        "../workflow_scripts/calibration_cifar10.py"


rule calibration_teacher:
    input:
        dump=f"{RES}/teacher/dump",
        code=lib("gan/dump.py", "calibration.py", "seeding.py"),
    output:
        directory(f"{RES}/calibration/{TEACHER_NAME}"),
    params:
        source=TEACHER_NAME,
        seed=config["seed"],
        n_per_class=config["calibration"]["n_per_class"],
    log:
        f"{RES}/logs/calibration/{TEACHER_NAME}.log",
    benchmark:
        f"{RES}/benchmarks/calibration/{TEACHER_NAME}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        "../envs/synthcal.yaml"
    script:
        "../workflow_scripts/calibration_teacher.py"


rule calibration_distylegan:
    input:
        unpack(distylegan_inputs),
        code=lib("gan/dump.py", "gan/pipeline.py", "calibration.py"),
    output:
        directory(f"{RES}/calibration/distylegan"),
    params:
        seed=config["seed"],
        n_per_class=config["calibration"]["n_per_class"],
        batch_size=DSG["sample_batch_size"],
        device=DSG["device"],
    log:
        f"{RES}/logs/calibration/distylegan.log",
    benchmark:
        f"{RES}/benchmarks/calibration/distylegan.tsv"
    threads: DSG["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/synthcal.yaml"
    script:
        "../workflow_scripts/calibration_distylegan.py"


rule sample_grid:
    input:
        folder=calibration_folder,
        code=lib("gan/figures.py"),
    output:
        f"{RES}/figures/samples/{{source}}.png",
    log:
        f"{RES}/logs/figures/samples_{{source}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/synthcal.yaml"
    script:
        "../workflow_scripts/sample_grid.py"
