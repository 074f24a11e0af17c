# Aggregation: per algorithm, one CSV row per (model, source) (mean and std over repeats), the individual runs, and
# the paper's Table 1a (default) / Table 1b (accuracy-aware) layout.


rule table_default:
    input:
        **algorithm_inputs("default"),
        speed=speed_records("default"),
    output:
        table=report(f"{RES}/tables/default_quantization.csv", caption="../report/quantization.rst", category="Tables"),
        runs=f"{RES}/tables/default_quantization_runs.csv",
        paper=report(f"{RES}/tables/table1a.csv", caption="../report/table1.rst", category="Tables"),
    params:
        code=script_code("aggregate.py"),
        models=MODELS,
        sources=SOURCES,
    log:
        f"{RES}/logs/tables/default.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/aggregate.py"


use rule table_default as table_accuracy_aware with:
    input:
        **algorithm_inputs("accuracy_aware"),
        speed=speed_records("accuracy_aware"),
    output:
        table=report(f"{RES}/tables/accuracy_aware_quantization.csv", caption="../report/quantization.rst",
                     category="Tables"),
        runs=f"{RES}/tables/accuracy_aware_quantization_runs.csv",
        paper=report(f"{RES}/tables/table1b.csv", caption="../report/table1.rst", category="Tables"),
    params:
        code=script_code("aggregate.py"),
        models=AA_MODELS,
        sources=SOURCES,
    log:
        f"{RES}/logs/tables/accuracy_aware.log",


rule table_repvgg_fusion:
    input:
        tables=[f"{RES}/tables/{a}_quantization.csv" for a in ALGORITHMS if grid(a)],
    output:
        report(f"{RES}/tables/repvgg_fusion.csv", caption="../report/quantization.rst", category="Tables"),
    params:
        code=script_code("table_fusion.py"),
        pairs=fusion_pairs(),
    log:
        f"{RES}/logs/tables/repvgg_fusion.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_fusion.py"


localrules:
    table_default,
    table_accuracy_aware,
    table_repvgg_fusion,


rule table_calibration_size:
    """The calibration-size sweep (experiment.calibration_sizes): drop against images per source, per model."""
    input:
        fp32=sorted({f"{RES}/evaluation/{m}/fp32.json" for m in MODELS}),
        sweep=[f"{RES}/evaluation/{m}/size/{k}/{s}{r}.json" for m in MODELS for s in SOURCES
               for k in config["experiment"]["calibration_sizes"] for r in REPS],
        full=[f"{RES}/tables/default_quantization.csv"] if "default" in ALGORITHMS else [],
    output:
        table=report(f"{RES}/tables/calibration_size.csv", caption="../report/calibration_size.rst",
                     category="Tables"),
        figure=report(f"{RES}/figures/drop_vs_calibration_size.png", caption="../report/calibration_size.rst",
                      category="Figures"),
    params:
        code=script_code("table_calibration_size.py"),
    log:
        f"{RES}/logs/tables/calibration_size.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_calibration_size.py"


localrules:
    table_calibration_size,
