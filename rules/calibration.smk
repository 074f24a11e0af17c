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
