# Data (synthcal.planning.data): downloads (CIFAR-10, checkpoints, NVIDIA's pickle and code, Inception weights:
# whatever the configuration has no local copy of) and CIFAR-10 normalised to results/data/cifar10/{train,test}.npz
# (uint8 images + labels), which every later rule reads.


rule download:
    """One download for every file the configuration fetches (PLAN.data.downloads), checked against its checksum;
    an error names the config keys of its URL and of the local copy that replaces it."""
    output:
        paths.DOWNLOAD,
    params:
        code=script_code("download.py"),
        download=lambda wc: PLAN.data.download(f"resources/{wc.path}"),
    wildcard_constraints:
        path=PLAN.data.download_pattern(),
    log:
        paths.log("download/{path}"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/download.py"


rule fetch_stylegan2_code:
    """NVIDIA's stylegan2-ada-pytorch code at one commit (dnnlib, torch_utils: what its pickle needs to load), when
    teacher.stylegan2_ada.repo is null; its licence forbids bundling it, so it is downloaded, like the pickle."""
    output:
        directory(paths.STYLEGAN2_CODE),
    params:
        code=script_code("fetch_code.py"),
        url=config["teacher"]["stylegan2_ada"]["code_url"],
    log:
        paths.log("download/stylegan2-ada-pytorch"),
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/fetch_code.py"


rule prepare_cifar10:
    input:
        source=PLAN.data.cifar10_source(),
    output:
        train=paths.CIFAR10_TRAIN,
        test=paths.CIFAR10_TEST,
        manifest=paths.CIFAR10_MANIFEST,
    params:
        code=script_code("prepare_cifar10.py"),
        checksum=config["data"]["cifar10"]["checksum"],
    log:
        paths.log("prepare_cifar10"),
    benchmark:
        paths.benchmark("prepare_cifar10", "prepare_cifar10")
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/prepare_cifar10.py"
