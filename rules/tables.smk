# Aggregation (synthcal.planning.reports): per algorithm, one CSV row per (model, source) with its interval, flip rate
# and verdict against the reference source (synthcal.statistics, from the stored per-image predictions), the runs and
# the per-class drops; the paper's Table 1a (default) / Table 1b (accuracy-aware) layout with its intervals; RepVGG
# fused vs multi-branch; the calibration-size sweep.


rule quantization_table:
    """One algorithm's tables: every (model, source) with its drop, interval, flip rate and verdict, the per-class
    drops and the runs."""
    input:
        unpack(lambda wc: PLAN.reports.table_inputs(wc.algorithm)),
    output:
        table=report(paths.QUANTIZATION_TABLE, caption="../report/quantization.rst", category="Tables"),
        runs=paths.QUANTIZATION_RUNS,
        per_class=paths.PER_CLASS_TABLE,
    params:
        code=script_code("aggregate.py"),
        left_out=lambda wc: PLAN.quantization.left_out_rows(wc.algorithm),
        statistics=to_params(PLAN.reports.statistics()),
    log:
        paths.log("tables/{algorithm}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/aggregate.py"


rule paper_table:
    """The paper's Table 1a (default) or 1b (accuracy-aware): relative drops, rows = sources, columns = models, and
    its companion of intervals."""
    input:
        table=lambda wc: paths.fill(paths.QUANTIZATION_TABLE, algorithm=PLAN.reports.algorithm_of(wc.table)),
    output:
        paper=report(paths.PAPER_TABLE, caption="../report/table1.rst", category="Tables"),
        intervals=paths.PAPER_INTERVALS,
    params:
        code=script_code("paper_table.py"),
        models=lambda wc: PLAN.quantization.variant_models(PLAN.reports.algorithm_of(wc.table)),
        sources=PLAN.grid.sources,
    wildcard_constraints:
        table="|".join(PLAN.reports.paper_tables()) or "(?!)",
    log:
        paths.log("tables/{table}"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/paper_table.py"


rule table_data_matters:
    """Where the calibration data matters: every (model, algorithm) with each source's drop, interval and verdict
    against the reference source, the spread across sources, and the same as a figure."""
    input:
        tables=[paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in PLAN.quantization.active()],
    output:
        table=report(paths.DATA_MATTERS_TABLE, caption="../report/quantization.rst", category="Tables"),
        figure=report(paths.DATA_MATTERS_FIGURE, caption="../report/quantization.rst", category="Figures"),
    params:
        code=script_code("table_data_matters.py"),
        sources=PLAN.grid.sources,
        confidence=config["statistics"]["confidence"],
    log:
        paths.log("tables/where_data_matters"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_data_matters.py"


rule table_breaking_point:
    """Below INT8 (the Brevitas algorithms): where the calibration source starts to matter as the precision falls,
    per model and method, as a table and a figure, and whether Brevitas' W8A8 agrees with NNCF's INT8."""
    input:
        tables=[paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in PLAN.quantization.active()],
    output:
        table=report(paths.BREAKING_POINT_TABLE, caption="../report/quantization.rst", category="Tables"),
        figure=report(paths.BREAKING_POINT_FIGURE, caption="../report/quantization.rst", category="Figures"),
        agreement=paths.BACKEND_AGREEMENT,
    params:
        code=script_code("table_breaking_point.py"),
        sources=PLAN.grid.sources,
        pair=PLAN.reports.backend_pair(),
    log:
        paths.log("tables/breaking_point"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_breaking_point.py"


rule table_repvgg_fusion:
    input:
        tables=[paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in PLAN.quantization.active()],
    output:
        report(paths.FUSION_TABLE, caption="../report/quantization.rst", category="Tables"),
    params:
        code=script_code("table_fusion.py"),
        pairs=PLAN.grid.fusion_pairs(),
    log:
        paths.log("tables/repvgg_fusion"),
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
        fp32=[paths.fill(paths.EVALUATION_FP32, model=m, ext="json") for m in sorted(PLAN.grid.models)],
        sweep=PLAN.evaluation.size_sweep(),
        full=[paths.fill(paths.QUANTIZATION_TABLE, algorithm="default")] if "default" in PLAN.quantization.algorithms
        else [],
    output:
        table=report(paths.SIZE_TABLE, caption="../report/calibration_size.rst", category="Tables"),
        figure=report(paths.SIZE_FIGURE, caption="../report/calibration_size.rst", category="Figures"),
    params:
        code=script_code("table_calibration_size.py"),
    log:
        paths.log("tables/calibration_size"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/table_calibration_size.py"


localrules:
    quantization_table,
    table_data_matters,
    table_breaking_point,
    paper_table,
    table_repvgg_fusion,
    table_calibration_size,
