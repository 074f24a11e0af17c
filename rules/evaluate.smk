# Evaluation of every IR (FP32 per model, INT8 per model x source x algorithm) on the CIFAR-10 test split: top-1
# accuracy, one JSON each. Speed is measured once per model and algorithm, by the throughput rule (reports.smk).

EVAL = config["evaluation"]


rule evaluate_fp32:
    input:
        xml=f"{RES}/models/{{model}}/fp32.xml",
        bin=f"{RES}/models/{{model}}/fp32.bin",
        test=f"{RES}/data/cifar10/test.npz",
    output:
        f"{RES}/evaluation/{{model}}/fp32.json",
    params:
        code=script_code("evaluate.py"),
        mean_std=model_mean_std,
        arch=lambda wc: model_entry(wc)["arch"],
        precision="fp32",
        algorithm=None,
        source=None,
        repeat=None,
        batch_size=EVAL["batch_size"],
    log:
        f"{RES}/logs/evaluate/{{model}}/fp32.log",
    benchmark:
        f"{RES}/benchmarks/evaluate_fp32/{{model}}/fp32.tsv"
    threads: EVAL["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_int8:
    input:
        xml=f"{RES}/quantized/{{algorithm}}/{{source}}{{rep}}/{{model}}/int8.xml",
        bin=f"{RES}/quantized/{{algorithm}}/{{source}}{{rep}}/{{model}}/int8.bin",
        test=f"{RES}/data/cifar10/test.npz",
    output:
        f"{RES}/evaluation/{{model}}/{{algorithm}}/{{source}}{{rep}}.json",
    params:
        code=script_code("evaluate.py"),
        mean_std=model_mean_std,
        arch=lambda wc: model_entry(wc)["arch"],
        precision="int8",
        algorithm=lambda wc: wc.algorithm,
        source=lambda wc: wc.source,
        repeat=rep_index,
        batch_size=EVAL["batch_size"],
    log:
        f"{RES}/logs/evaluate/{{model}}/{{algorithm}}/{{source}}{{rep}}.log",
    benchmark:
        f"{RES}/benchmarks/evaluate_int8/{{model}}/{{algorithm}}/{{source}}{{rep}}.tsv"
    threads: EVAL["threads"]
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/evaluate.py"


use rule evaluate_int8 as evaluate_size with:
    input:
        xml=f"{RES}/quantized/size/{{size}}/{{source}}{{rep}}/{{model}}/int8.xml",
        bin=f"{RES}/quantized/size/{{size}}/{{source}}{{rep}}/{{model}}/int8.bin",
        test=f"{RES}/data/cifar10/test.npz",
    output:
        f"{RES}/evaluation/{{model}}/size/{{size}}/{{source}}{{rep}}.json",
    params:
        code=script_code("evaluate.py"),
        mean_std=model_mean_std,
        arch=lambda wc: model_entry(wc)["arch"],
        precision="int8",
        algorithm="default",
        source=lambda wc: wc.source,
        repeat=rep_index,
        size=lambda wc: int(wc.size),
        batch_size=EVAL["batch_size"],
    wildcard_constraints:
        size="[0-9]+",
    log:
        f"{RES}/logs/evaluate/{{model}}/size/{{size}}/{{source}}{{rep}}.log",
    benchmark:
        f"{RES}/benchmarks/evaluate_size/{{model}}/{{size}}/{{source}}{{rep}}.tsv"
