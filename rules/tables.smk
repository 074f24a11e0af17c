# Aggregation: one CSV row per (model, source) and algorithm, and the paper's Table 1a layout.


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
