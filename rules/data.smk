# CIFAR-10 acquisition: download the canonical archive (or take a local copy from config) and normalise it to
# results/data/cifar10/{train,test}.npz (uint8 images + labels), which every later rule reads.



rule download_cifar10:
    output:
        "resources/downloads/cifar-10-python.tar.gz",
    params:
        url=config["data"]["cifar10"]["url"],
        checksum=f"md5:{config['data']['cifar10']['md5']}",
        config_keys={"url": "data.cifar10.url", "checksum": "data.cifar10.md5", "local": "data.cifar10.local_path"},
    log:
        f"{RES}/logs/download_cifar10.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/download.py"


rule prepare_cifar10:
    input:
        source=cifar10_input,
    output:
        train=f"{RES}/data/cifar10/train.npz",
        test=f"{RES}/data/cifar10/test.npz",
        manifest=f"{RES}/data/cifar10/manifest.json",
    params:
        code=script_code("prepare_cifar10.py"),
        checksum=config["data"]["cifar10"]["checksum"],
    log:
        f"{RES}/logs/prepare_cifar10.log",
    benchmark:
        f"{RES}/benchmarks/prepare_cifar10/prepare_cifar10.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/prepare_cifar10.py"
