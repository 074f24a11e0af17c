# Aggregation: per algorithm, one CSV row per (model, source) (mean and std over repeats), the individual runs, and
# the paper's Table 1a (default) / Table 1b (accuracy-aware) layout; RepVGG fused vs multi-branch; the
# calibration-size sweep.


rule table_default:
    """One algorithm's tables: every (model, source) with its drop, interval, flip rate and verdict against the
    reference source (synthcal.statistics, from the stored per-image predictions), the per-class drops, the runs,
    and the paper's Table 1 with its companion of intervals."""
    input:
        unpack(lambda wc: PLAN.table_inputs("default")),
    output:
        table=report("results/tables/default_quantization.csv", caption="../report/quantization.rst",
                     category="Tables"),
        runs="results/tables/default_quantization_runs.csv",
        per_class="results/tables/default_per_class.csv",
        paper=report("results/tables/table1a.csv", caption="../report/table1.rst", category="Tables"),
        paper_intervals="results/tables/table1a_intervals.csv",
    params:
        code=script_code("aggregate.py"),
        algorithm="default",
        # the table's models: the algorithm's (accuracy-aware runs on its listed models only)
        models=PLAN.variant_models("default"),
        sources=PLAN.sources,
        left_out=PLAN.left_out_rows("default"),
        statistics=PLAN.statistics_settings(),
    log:
        "results/logs/tables/default.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/aggregate.py"


use rule table_default as table_accuracy_aware with:
    input:
        unpack(lambda wc: PLAN.table_inputs("accuracy_aware")),
    output:
        table=report("results/tables/accuracy_aware_quantization.csv", caption="../report/quantization.rst",
                     category="Tables"),
        runs="results/tables/accuracy_aware_quantization_runs.csv",
        per_class="results/tables/accuracy_aware_per_class.csv",
        paper=report("results/tables/table1b.csv", caption="../report/table1.rst", category="Tables"),
        paper_intervals="results/tables/table1b_intervals.csv",
    params:
        code=script_code("aggregate.py"),
        algorithm="accuracy_aware",
        models=PLAN.variant_models("accuracy_aware"),
        sources=PLAN.sources,
        left_out=PLAN.left_out_rows("accuracy_aware"),
        statistics=PLAN.statistics_settings(),
    log:
        "results/logs/tables/accuracy_aware.log",


rule table_repvgg_fusion:
    input:
        tables=[f"results/tables/{a}_quantization.csv" for a in PLAN.active_algorithms()],
    output:
        report("results/tables/repvgg_fusion.csv", caption="../report/quantization.rst", category="Tables"),
    params:
        code=script_code("table_fusion.py"),
        pairs=PLAN.fusion_pairs(),
    log:
        "results/logs/tables/repvgg_fusion.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_fusion.py"


rule table_calibration_size:
    """The calibration-size sweep (experiment.calibration_sizes): drop against images per source, per model."""
    input:
        fp32=sorted({f"results/evaluation/{m}/fp32.json" for m in PLAN.models}),
        sweep=PLAN.size_sweep_inputs(),
        full=["results/tables/default_quantization.csv"] if "default" in PLAN.algorithms else [],
    output:
        table=report("results/tables/calibration_size.csv", caption="../report/calibration_size.rst",
                     category="Tables"),
        figure=report("results/figures/drop_vs_calibration_size.png", caption="../report/calibration_size.rst",
                      category="Figures"),
    params:
        code=script_code("table_calibration_size.py"),
    log:
        "results/logs/tables/calibration_size.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_calibration_size.py"


localrules:
    table_default,
    table_accuracy_aware,
    table_repvgg_fusion,
    table_calibration_size,
