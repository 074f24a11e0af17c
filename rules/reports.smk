# Reports beyond the accuracy tables (synthcal.planning.reports, .evaluation): image quality of every source
# (Inception Score, FID against real test images) and its realism against real training images, label agreement
# (a judge's accuracy on each labelled source), FP32 vs INT8 speed, what predicts the drop, and the summary figures.


rule convert_extractor:
    """The IS/FID feature network as an OpenVINO IR, converted once and checked against PyTorch (pool features
    within 1e-3, logits within 1e-3 of their scale, the Inception Score of the check batch to a relative 1e-4)."""
    input:
        **PLAN.reports.inception_weights(),
    output:
        xml=paths.EXTRACTOR_XML,
        bin=paths.EXTRACTOR_BIN,
        report=paths.EXTRACTOR_REPORT,
    params:
        code=script_code("convert_extractor.py"),
        fid_extractor=PLAN.reports.fid_extractor(),
        inception_checksum=PLAN.reports.inception_checksum(),
        n_check=16,
    log:
        paths.log("convert_extractor"),
    benchmark:
        paths.benchmark("convert_extractor", "convert_extractor")
    threads: config["quality"]["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/convert_extractor.py"


rule quality_features:
    """What the IS/FID report needs of one image set (N, feature mean and covariance, IS) and the features of its
    realism subset: a set drawn from a source itself at quality.n_images (synthcal.quality_sets), or a reference."""
    input:
        unpack(lambda wc: PLAN.reports.quality_inputs(wc.qset)),
        colorizer=lambda wc: PLAN.calibration.colorizer_files() if wc.qset == "fractal" else [],
    output:
        paths.FEATURES,
    params:
        code=script_code("quality_features.py"),
        n_images=lambda wc: PLAN.reports.quality_images(wc.qset),
        kind=lambda wc: PLAN.reports.quality_set(wc.qset).kind,
        settings=lambda wc: PLAN.reports.quality_set(wc.qset).settings,
        description=lambda wc: PLAN.reports.quality_set(wc.qset).description,
        realism=lambda wc: PLAN.reports.realism_params(wc.qset),
        splits=config["quality"]["is_splits"],
        seed=config["seed"],
        fid_extractor=None if PLAN.reports.quality_network() else config["quality"]["fid_extractor"],
        inception_checksum=PLAN.reports.inception_checksum(),
        backend=config["quality"]["backend"],
        device=config["quality"]["device"],
        batch_size=config["quality"]["batch_size"],
    wildcard_constraints:
        qset="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        paths.log("quality/{qset}"),
    benchmark:
        paths.benchmark("quality_features", "{qset}")
    threads: config["quality"]["threads"]
    resources:
        **PLAN.reports.quality_resources(),
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/quality_features.py"


rule report_image_quality:
    input:
        sets=[paths.fill(paths.FEATURES, qset=q) for q in PLAN.reports.quality_sets()],
        reference=paths.fill(paths.FEATURES, qset="reference"),
    output:
        report=report(paths.IMAGE_QUALITY, caption="../report/reports.rst", category="Reports"),
        table2=report(paths.TABLE2, caption="../report/table2.rst", category="Tables"),
    params:
        code=script_code("report_image_quality.py"),
        names=PLAN.reports.quality_sets(),
    log:
        paths.log("quality/report"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/report_image_quality.py"


rule report_realism:
    """Precision, recall, density and coverage of every source against real training images, per-class KID and
    intra-class FID (synthcal.realism), from the features the quality jobs kept."""
    input:
        sets=[paths.fill(paths.FEATURES, qset=q) for q in PLAN.reports.quality_sets()],
        reference=paths.fill(paths.FEATURES, qset="train_reference"),
    output:
        report=report(paths.REALISM, caption="../report/reports.rst", category="Reports"),
        per_class=paths.REALISM_PER_CLASS,
    params:
        code=script_code("report_realism.py"),
        names=PLAN.reports.quality_sets(),
        labelled=[PLAN.grid.set_labelled(q) for q in PLAN.reports.quality_sets()],
        settings=PLAN.reports.realism_settings(),
    log:
        paths.log("quality/realism"),
    benchmark:
        paths.benchmark("report_realism", "report_realism")
    threads: 2
    resources:
        mem_mb=lambda wc: 3000 + 3 * config["quality"]["realism"]["n_images"] ** 2 * 4 // 2**20,
        runtime=60,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/report_realism.py"


rule label_agreement:
    """A judge's FP32 accuracy on one calibration set, with respect to the labels its images were made for
    (quality.judge, else each experiment model on its own sets; the teacher's rows also feed its quality gate)."""
    input:
        xml=paths.fill(paths.FP32_XML, model="{judge}"),
        bin=paths.fill(paths.FP32_BIN, model="{judge}"),
        folder=lambda wc: PLAN.grid.set_folder(wc.qset),
    output:
        paths.LABEL_AGREEMENT,
    params:
        code=script_code("label_agreement.py"),
        mean_std=lambda wc: PLAN.grid.mean_std(wc.judge),
        labelled=lambda wc: PLAN.grid.set_labelled(wc.qset),
    wildcard_constraints:
        judge="[A-Za-z0-9_]+",
        qset="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        paths.log("label_agreement/{judge}/{qset}"),
    benchmark:
        paths.benchmark("label_agreement", "{judge}/{qset}")
    threads: config["evaluation"]["threads"]
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/label_agreement.py"


rule throughput:
    """The one speed measurement of a model: its FP32 IR and the algorithm's INT8 IRs (every source, repeat 0) in
    alternation. tables/throughput.csv and the speed columns of the quantization tables both come from it."""
    input:
        fp32=paths.FP32_XML,
        int8=lambda wc: PLAN.evaluation.speed_irs(wc.algorithm, wc.model),
    output:
        paths.THROUGHPUT,
    params:
        code=script_code("throughput.py"),
        sources=lambda wc: PLAN.grid.model_sources(wc.model),
        threads=config["throughput"]["threads"],  # a rerun trigger (the script uses the granted threads)
        batch_size=config["throughput"]["batch_size"],
        seconds=config["throughput"]["seconds"],
        repeats=config["throughput"]["repeats"],
    log:
        paths.log("throughput/{algorithm}/{model}"),
    benchmark:
        paths.benchmark("throughput", "{algorithm}/{model}")
    threads: config["throughput"]["threads"]
    resources:
        mem_mb=3000,
        runtime=PLAN.evaluation.throughput_runtime(),
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/throughput.py"


rule report_tables:
    input:
        agreement=PLAN.evaluation.agreement_files(),
        throughput=PLAN.evaluation.speed_records(),
        tables=[paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in PLAN.quantization.active()],
        per_class=[paths.fill(paths.PER_CLASS_TABLE, algorithm=a) for a in PLAN.quantization.active()],
        quality=[paths.IMAGE_QUALITY] if config["quality"]["enabled"] else [],
    output:
        agreement=report(paths.AGREEMENT_TABLE, caption="../report/reports.rst", category="Reports"),
        throughput=report(paths.THROUGHPUT_TABLE, caption="../report/reports.rst", category="Reports"),
        drops=report(paths.DROP_FIGURE, caption="../report/figure.rst", category="Figures"),
        per_class=report(paths.PER_CLASS_FIGURE, caption="../report/figure.rst", category="Figures"),
        fid=report(paths.FID_FIGURE, caption="../report/figure.rst", category="Figures")
        if config["quality"]["enabled"] else [],
    params:
        code=script_code("report_tables.py"),
        confidence=config["statistics"]["confidence"],
    log:
        paths.log("reports"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/report_tables.py"


rule report_predictors:
    """What predicts the drop: every quality measure of a calibration set against the drop and flip rate of the
    cells it calibrated, with rank correlations and their intervals (synthcal.predictors)."""
    input:
        tables=[paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in PLAN.quantization.active()],
        agreement=paths.AGREEMENT_TABLE,
        quality=[paths.IMAGE_QUALITY] if config["quality"]["enabled"] else [],
        realism=[paths.REALISM] if PLAN.reports.realism_enabled() else [],
    output:
        correlations=report(paths.PREDICTORS_TABLE, caption="../report/reports.rst", category="Reports"),
        cells=paths.PREDICTORS_CELLS,
        figure=report(paths.PREDICTORS_FIGURE, caption="../report/figure.rst", category="Figures"),
    params:
        code=script_code("report_predictors.py"),
        set_names=PLAN.reports.cell_sets(),
        statistics=to_params(PLAN.reports.statistics()),
    log:
        paths.log("reports_predictors"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/report_predictors.py"


localrules:
    report_predictors,
    report_image_quality,
    report_tables,
