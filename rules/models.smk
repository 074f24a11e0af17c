# Classifiers in any form (synthcal.classifiers: a built-in architecture and checkpoint, ONNX, OpenVINO IR,
# torch.export program, Python factory) converted to an FP32 OpenVINO IR, checked against CIFAR-10's shapes and
# against PyTorch where there is a PyTorch module; and, once per model, whether NNCF's channel alignment runs on it.


rule train_classifier:
    """The train weights provider: a built-in architecture trained on the CIFAR-10 training split
    (synthcal.models.training, resumable from results/models/<model>/trained/checkpoints/), its FP32 test accuracy
    in training.json."""
    input:
        train="results/data/cifar10/train.npz",
        test="results/data/cifar10/test.npz",
    output:
        weights="results/models/{model}/trained/weights.pt",
        summary="results/models/{model}/trained/training.json",
    params:
        code=script_code("train_classifier.py"),
        arch=lambda wc: PLAN.model(wc.model)["arch"],
        settings=lambda wc: PLAN.training_settings(wc.model),
        mean_std=mean_std,
    wildcard_constraints:
        model="|".join(PLAN.trained_models()) or "(?!)",
    log:
        "results/logs/train_classifier/{model}.log",
    benchmark:
        "results/benchmarks/train_classifier/{model}.tsv"
    threads: lambda wc: PLAN.model(wc.model)["weights"]["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=lambda wc: PLAN.classifier_training_runtime(wc.model),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_classifier.py"


rule convert_model:
    input:
        unpack(model_files),
    output:
        xml="results/models/{model}/fp32.xml",
        bin="results/models/{model}/fp32.bin",
        report="results/models/{model}/conversion.json",
    params:
        code=script_code("convert_model.py"),
        classifier=classifier,
        factory_code=factory_code,
        # a local file's own optional checksum (a download was checked by the download rule)
        checksum=lambda wc: PLAN.model(wc.model)["weights"]["checksum"] if PLAN.model(wc.model)["weights"]["path"] else None,
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
