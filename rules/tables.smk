# Aggregation: one CSV row per (model, source) and algorithm, and the paper's Table 1a layout.


def algorithm_inputs(algorithm):
    def inputs(wildcards):
        grid = [(m, s) for m in MODELS for s in SOURCES]
        return {
            "fp32": [f"{RES}/evaluation/{m}/fp32.json" for m in MODELS],
            "int8": [f"{RES}/evaluation/{m}/{algorithm}/{s}.json" for m, s in grid],
            "quantization": [f"{RES}/quantized/{algorithm}/{s}/{m}/quantization.json" for m, s in grid],
        }

    return inputs


rule table_default:
    input:
        unpack(algorithm_inputs("default")),
        code=lib("aggregate.py"),
    output:
        table=f"{RES}/tables/default_quantization.csv",
        paper=f"{RES}/tables/table1a.csv",
    params:
        models=MODELS,
        sources=SOURCES,
    log:
        f"{RES}/logs/tables/default.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/synthcal.yaml"
    script:
        "../workflow_scripts/aggregate.py"


localrules:
    table_default,
