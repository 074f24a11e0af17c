# Accuracy of every IR on the CIFAR-10 test split (synthcal.planning.evaluation): FP32 per model, INT8 per (variant,
# model, source, repeat), a JSON summary (with the machine that computed it) and the per-image predictions (.npz,
# synthcal.predictions) each. Speed is measured once per model and algorithm, by the throughput rule (reports.smk).


rule evaluate_fp32:
    input:
        **PLAN.models.ir("{model}"),
        test=paths.CIFAR10_TEST,
    output:
        summary=paths.fill(paths.EVALUATION_FP32, ext="json"),
        predictions=paths.fill(paths.EVALUATION_FP32, ext="npz"),
    params:
        code=script_code("evaluate.py"),
        mean_std=mean_std,
        record=lambda wc: PLAN.evaluation.fp32_record(wc.model, PLAN.grid),
        batch_size=config["evaluation"]["batch_size"],
    log:
        paths.log("evaluate/{model}/fp32"),
    benchmark:
        paths.benchmark("evaluate_fp32", "{model}/fp32")
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_int8:
    input:
        xml=paths.INT8_XML,
        bin=paths.INT8_BIN,
        test=paths.CIFAR10_TEST,
    output:
        summary=paths.fill(paths.EVALUATION_INT8, ext="json"),
        predictions=paths.fill(paths.EVALUATION_INT8, ext="npz"),
    params:
        code=script_code("evaluate.py"),
        mean_std=mean_std,
        record=lambda wc: PLAN.quantization.record(wc.model, wc.variant, wc.source, wc.rep),
        batch_size=config["evaluation"]["batch_size"],
    wildcard_constraints:
        variant=PLAN.quantization.variant_pattern("nncf"),
    log:
        paths.log("evaluate/{model}/{variant}/{source}{rep}"),
    benchmark:
        paths.benchmark("evaluate_int8", "{model}/{variant}/{source}{rep}")
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_brevitas:
    """A Brevitas model, simulated in PyTorch, on the test split; an all-8-bit one also exported as QCDQ ONNX and run by
    OpenVINO, which must agree with the simulation."""
    input:
        unpack(model_files),
        model=paths.BREVITAS_MODEL,
        test=paths.CIFAR10_TEST,
    output:
        summary=paths.fill(paths.EVALUATION_INT8, ext="json"),
        predictions=paths.fill(paths.EVALUATION_INT8, ext="npz"),
    params:
        code=script_code("evaluate_brevitas.py"),
        arch_code=model_code,
        classifier=classifier,
        mean_std=mean_std,
        record=lambda wc: PLAN.quantization.record(wc.model, wc.variant, wc.source, wc.rep),
        batch_size=config["evaluation"]["batch_size"],
    wildcard_constraints:
        variant=PLAN.quantization.variant_pattern("brevitas"),
    log:
        paths.log("evaluate/{model}/{variant}/{source}{rep}"),
    benchmark:
        paths.benchmark("evaluate_int8", "{model}/{variant}/{source}{rep}")
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    conda:
        "../envs/brevitas.yaml"
    script:
        "../workflow_scripts/evaluate_brevitas.py"
