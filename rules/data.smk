# Downloads (CIFAR-10, checkpoints, NVIDIA's pickle, Inception weights: whatever the configuration has no local copy
# of) and CIFAR-10 normalised to results/data/cifar10/{train,test}.npz (uint8 images + labels), which every later
# rule reads.


rule download:
    """One download for every file the configuration fetches (synthcal.plan.Plan.downloads), checked against its
    checksum; an error names the config keys of its URL and of the local copy that replaces it."""
    output:
        "resources/{path}",
    params:
        code=script_code("download.py"),
        download=lambda wc: PLAN.download(f"resources/{wc.path}"),
    wildcard_constraints:
        path=PLAN.download_pattern(),
    log:
        "results/logs/download/{path}.log",
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
        directory(STYLEGAN2_CODE),
    params:
        code=script_code("fetch_code.py"),
        url=config["teacher"]["stylegan2_ada"]["code_url"],
    log:
        "results/logs/download/stylegan2-ada-pytorch.log",
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
        source=config["data"]["cifar10"]["local_path"] or "resources/downloads/cifar-10-python.tar.gz",
    output:
        train="results/data/cifar10/train.npz",
        test="results/data/cifar10/test.npz",
        manifest="results/data/cifar10/manifest.json",
    params:
        code=script_code("prepare_cifar10.py"),
        checksum=config["data"]["cifar10"]["checksum"],
    log:
        "results/logs/prepare_cifar10.log",
    benchmark:
        "results/benchmarks/prepare_cifar10/prepare_cifar10.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/prepare_cifar10.py"
