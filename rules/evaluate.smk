# Accuracy of every IR on the CIFAR-10 test split: FP32 per model, INT8 per (variant, model, source, repeat), a
# JSON summary (with the machine that computed it) and the per-image predictions (.npz, synthcal.predictions) each.
# Speed is measured once per model and algorithm, by the throughput rule (reports.smk).


rule evaluate_fp32:
    input:
        xml="results/models/{model}/fp32.xml",
        bin="results/models/{model}/fp32.bin",
        test="results/data/cifar10/test.npz",
    output:
        summary="results/evaluation/{model}/fp32.json",
        predictions="results/evaluation/{model}/fp32.npz",
    params:
        code=script_code("evaluate.py"),
        mean_std=mean_std,
        record=lambda wc: {"arch": PLAN.arch_label(wc.model), "precision": "fp32", "algorithm": None,
                           "source": None, "repeat": None},
        batch_size=config["evaluation"]["batch_size"],
    log:
        "results/logs/evaluate/{model}/fp32.log",
    benchmark:
        "results/benchmarks/evaluate_fp32/{model}/fp32.tsv"
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
        xml="results/quantized/{variant}/{source}{rep}/{model}/int8.xml",
        bin="results/quantized/{variant}/{source}{rep}/{model}/int8.bin",
        test="results/data/cifar10/test.npz",
    output:
        summary="results/evaluation/{model}/{variant}/{source}{rep}.json",
        predictions="results/evaluation/{model}/{variant}/{source}{rep}.npz",
    params:
        code=script_code("evaluate.py"),
        mean_std=mean_std,
        record=lambda wc: PLAN.int8_record(wc.model, wc.variant, wc.source, wc.rep),
        batch_size=config["evaluation"]["batch_size"],
    log:
        "results/logs/evaluate/{model}/{variant}/{source}{rep}.log",
    benchmark:
        "results/benchmarks/evaluate_int8/{model}/{variant}/{source}{rep}.tsv"
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/evaluate.py"
