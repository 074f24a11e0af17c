# Classifiers: each model's checkpoint (downloaded or local) built into its architecture, loaded strictly, optionally
# fused (RepVGG), converted to an FP32 OpenVINO IR checked against PyTorch; and, once per model, whether NNCF's
# channel alignment can run on it.


rule convert_model:
    input:
        weights=weights,
    output:
        xml="results/models/{model}/fp32.xml",
        bin="results/models/{model}/fp32.bin",
        report="results/models/{model}/conversion.json",
    params:
        code=script_code("convert_model.py"),
        arch=arch,
        fuse=lambda wc: PLAN.model(wc.model)["fuse"],
        sha256=lambda wc: PLAN.model(wc.model)["weights"]["sha256"],
        seed=config["seed"],
        check_batch=config["conversion"]["check_batch"],
        tolerance=config["conversion"]["tolerance"],
    log:
        "results/logs/convert_model/{model}.log",
    benchmark:
        "results/benchmarks/convert_model/{model}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/convert.yaml"
    script:
        "../workflow_scripts/convert_model.py"


rule channel_alignment:
    """Whether NNCF's ChannelAlignment (POT's ActivationChannelAlignment) runs on a model, decided once on one item
    of noise (synthcal.quantize.channel_alignment_verdict); quantization jobs that ask for alignment read it."""
    input:
        xml="results/models/{model}/fp32.xml",
        bin="results/models/{model}/fp32.bin",
    output:
        "results/models/{model}/channel_alignment.json",
    params:
        code=script_code("channel_alignment.py"),
        settings=PLAN.alignment_settings(),
    log:
        "results/logs/channel_alignment/{model}.log",
    benchmark:
        "results/benchmarks/channel_alignment/{model}.tsv"
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/channel_alignment.py"
