# Reports beyond the accuracy tables: image quality of every source (Inception Score, FID against real test
# images), label agreement (FP32 accuracy on each labelled source), FP32 vs INT8 speed, and the summary figures.


rule convert_extractor:
    """The IS/FID feature network as an OpenVINO IR, converted once and checked against PyTorch (pool features
    within 1e-3, logits within 1e-3 of their scale, the Inception Score of the check batch to a relative 1e-4)."""
    input:
        **PLAN.inception_weights(),
    output:
        xml="results/models/inception/extractor.xml",
        bin="results/models/inception/extractor.bin",
        report="results/models/inception/conversion.json",
    params:
        code=script_code("convert_extractor.py"),
        fid_extractor=None if PLAN.inception_weights() else config["quality"]["fid_extractor"],
        inception_checksum=PLAN.inception_checksum(),
        n_check=16,
    log:
        "results/logs/convert_extractor.log",
    benchmark:
        "results/benchmarks/convert_extractor/convert_extractor.tsv"
    threads: config["quality"]["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/convert_extractor.py"


rule quality_features:
    """What the IS/FID report needs of one image set (N, feature mean and covariance, IS): a set drawn from a source
    itself at quality.n_images (synthcal.quality_sets), or the reference of real test images."""
    input:
        unpack(lambda wc: PLAN.quality_inputs(wc.qset)),
    output:
        "results/reports/features/{qset}.npz",
    params:
        code=script_code("quality_features.py"),
        n_images=lambda wc: PLAN.quality_images(wc.qset),
        kind=lambda wc: PLAN.quality_set(wc.qset).kind,
        settings=lambda wc: PLAN.quality_set(wc.qset).settings,
        description=lambda wc: PLAN.quality_set(wc.qset).description,
        realism=lambda wc: PLAN.realism_params(wc.qset),
        splits=config["quality"]["is_splits"],
        seed=config["seed"],
        fid_extractor=None if PLAN.quality_network() else config["quality"]["fid_extractor"],
        inception_checksum=PLAN.inception_checksum(),
        backend=config["quality"]["backend"],
        device=config["quality"]["device"],
        batch_size=config["quality"]["batch_size"],
    wildcard_constraints:
        qset="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        "results/logs/quality/{qset}.log",
    benchmark:
        "results/benchmarks/quality_features/{qset}.tsv"
    threads: config["quality"]["threads"]
    resources:
        **PLAN.quality_resources(),
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/quality_features.py"


rule report_image_quality:
    input:
        sets=[f"results/reports/features/{q}.npz" for q in PLAN.quality_sets()],
        reference="results/reports/features/reference.npz",
    output:
        report=report("results/reports/image_quality.csv", caption="../report/reports.rst", category="Reports"),
        table2=report("results/tables/table2.csv", caption="../report/table2.rst", category="Tables"),
    params:
        code=script_code("report_image_quality.py"),
        names=PLAN.quality_sets(),
    log:
        "results/logs/quality/report.log",
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
        sets=[f"results/reports/features/{q}.npz" for q in PLAN.quality_sets()],
        reference="results/reports/features/train_reference.npz",
    output:
        report=report("results/reports/realism.csv", caption="../report/reports.rst", category="Reports"),
        per_class="results/reports/realism_per_class.csv",
    params:
        code=script_code("report_realism.py"),
        names=PLAN.quality_sets(),
        labelled=[PLAN.set_labelled(q) for q in PLAN.quality_sets()],
        settings=PLAN.realism_settings(),
    log:
        "results/logs/quality/realism.log",
    benchmark:
        "results/benchmarks/report_realism/report_realism.tsv"
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
        xml="results/models/{judge}/fp32.xml",
        bin="results/models/{judge}/fp32.bin",
        folder=lambda wc: PLAN.set_folder(wc.qset),
    output:
        "results/reports/label_agreement/{judge}/{qset}.json",
    params:
        code=script_code("label_agreement.py"),
        mean_std=lambda wc: PLAN.mean_std(wc.judge),
        labelled=lambda wc: PLAN.set_labelled(wc.qset),
    wildcard_constraints:
        judge="[A-Za-z0-9_]+",
        qset="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        "results/logs/label_agreement/{judge}/{qset}.log",
    benchmark:
        "results/benchmarks/label_agreement/{judge}/{qset}.tsv"
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
        fp32="results/models/{model}/fp32.xml",
        int8=lambda wc: [f"results/quantized/{wc.algorithm}/{s}/{wc.model}/int8.xml"
                         for s in PLAN.model_sources(wc.model)],
    output:
        "results/reports/throughput/{algorithm}/{model}.json",
    params:
        code=script_code("throughput.py"),
        sources=lambda wc: PLAN.model_sources(wc.model),
        threads=config["throughput"]["threads"],  # a rerun trigger (the script uses the granted threads)
        batch_size=config["throughput"]["batch_size"],
        seconds=config["throughput"]["seconds"],
        repeats=config["throughput"]["repeats"],
    log:
        "results/logs/throughput/{algorithm}/{model}.log",
    benchmark:
        "results/benchmarks/throughput/{algorithm}/{model}.tsv"
    threads: config["throughput"]["threads"]
    resources:
        mem_mb=3000,
        runtime=PLAN.throughput_runtime(),
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/throughput.py"


rule report_tables:
    input:
        agreement=PLAN.agreement_files(),
        throughput=PLAN.speed_records(),
        tables=[f"results/tables/{a}_quantization.csv" for a in PLAN.active_algorithms()],
        per_class=[f"results/tables/{a}_per_class.csv" for a in PLAN.active_algorithms()],
        quality=["results/reports/image_quality.csv"] if config["quality"]["enabled"] else [],
    output:
        agreement=report("results/reports/label_agreement.csv", caption="../report/reports.rst", category="Reports"),
        throughput=report("results/tables/throughput.csv", caption="../report/reports.rst", category="Reports"),
        drops=report("results/figures/accuracy_drop.png", caption="../report/figure.rst", category="Figures"),
        per_class=report("results/figures/per_class_drop.png", caption="../report/figure.rst", category="Figures"),
        fid=(report("results/figures/drop_vs_fid.png", caption="../report/figure.rst", category="Figures")
             if config["quality"]["enabled"] else []),
    params:
        code=script_code("report_tables.py"),
        confidence=config["statistics"]["confidence"],
    log:
        "results/logs/reports.log",
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
        tables=[f"results/tables/{a}_quantization.csv" for a in PLAN.active_algorithms()],
        agreement="results/reports/label_agreement.csv",
        quality=["results/reports/image_quality.csv"] if config["quality"]["enabled"] else [],
        realism=["results/reports/realism.csv"] if PLAN.realism_enabled() else [],
    output:
        correlations=report("results/tables/drop_predictors.csv", caption="../report/reports.rst", category="Reports"),
        cells="results/tables/drop_predictors_cells.csv",
        figure=report("results/figures/drop_predictors.png", caption="../report/figure.rst", category="Figures"),
    params:
        code=script_code("report_predictors.py"),
        set_names=PLAN.cell_sets(),
        statistics=PLAN.statistics_settings(),
    log:
        "results/logs/reports_predictors.log",
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
