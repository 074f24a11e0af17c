# Models (synthcal.planning.models): classifiers in any form (a built-in architecture with a checkpoint, trained here
# or not; ONNX, OpenVINO IR, torch.export program, Python factory) converted to an FP32 OpenVINO IR, checked against
# CIFAR-10's shapes and against PyTorch where there is a PyTorch module; and, once per model, whether NNCF's
# channel alignment runs on it.


rule train_classifier:
    """The train weights provider: a built-in architecture trained on the CIFAR-10 training split
    (synthcal.models.training, resumable from results/models/<model>/trained/checkpoints/), its FP32 test accuracy
    in training.json."""
    input:
        train=paths.CIFAR10_TRAIN,
        test=paths.CIFAR10_TEST,
    output:
        weights=paths.TRAINED_WEIGHTS,
        summary=paths.TRAINED_SUMMARY,
    params:
        code=script_code("train_classifier.py"),
        model_code=model_code,
        arch=lambda wc: PLAN.grid.model(wc.model)["arch"],
        settings=lambda wc: to_params(PLAN.models.training_settings(wc.model)),
        mean_std=mean_std,
    wildcard_constraints:
        model="|".join(PLAN.models.trained_models()) or "(?!)",
    log:
        paths.log("train_classifier/{model}"),
    benchmark:
        paths.benchmark("train_classifier", "{model}")
    threads: lambda wc: PLAN.models.training_threads(wc.model)
    resources:
        mem_mb=4000,
        runtime=lambda wc: PLAN.models.training_runtime(wc.model),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_classifier.py"


rule convert_model:
    input:
        unpack(model_files),
    output:
        xml=paths.FP32_XML,
        bin=paths.FP32_BIN,
        report=paths.CONVERSION,
    params:
        code=script_code("convert_model.py"),
        classifier=classifier,
        model_code=model_code,
        checksum=lambda wc: PLAN.models.checksum(wc.model),
        seed=config["seed"],
        check_batch=config["conversion"]["check_batch"],
        tolerance=config["conversion"]["tolerance"],
    log:
        paths.log("convert_model/{model}"),
    benchmark:
        paths.benchmark("convert_model", "{model}")
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
        xml=paths.FP32_XML,
        bin=paths.FP32_BIN,
    output:
        paths.CHANNEL_ALIGNMENT,
    params:
        code=script_code("channel_alignment.py"),
        settings=PLAN.quantization.alignment_settings(),
    log:
        paths.log("channel_alignment/{model}"),
    benchmark:
        paths.benchmark("channel_alignment", "{model}")
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/channel_alignment.py"
