# Reports beyond the accuracy tables: image quality of every source (Inception Score, FID against real test
# images), label agreement (FP32 accuracy on each labelled source), FP32 vs INT8 speed, and the summary figures.


rule convert_extractor:
    """The IS/FID feature network as an OpenVINO IR, converted once and checked against PyTorch (pool features
    within 1e-3, the Inception Score of the check batch to 3 decimals)."""
    input:
        **PLAN.inception_weights(),
    output:
        xml="results/models/inception/extractor.xml",
        bin="results/models/inception/extractor.bin",
        report="results/models/inception/conversion.json",
    params:
        code=script_code("convert_extractor.py"),
        fid_extractor=None if PLAN.inception_weights() else config["quality"]["fid_extractor"],
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
        splits=config["quality"]["is_splits"],
        seed=config["seed"],
        fid_extractor=None if PLAN.quality_network() else config["quality"]["fid_extractor"],
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


rule label_agreement:
    """The FP32 model's accuracy on one labelled calibration folder, with respect to the labels its images were
    made for (the teacher's rows also feed its quality gate)."""
    input:
        xml="results/models/{model}/fp32.xml",
        bin="results/models/{model}/fp32.bin",
        folder=lambda wc: PLAN.calibration_folder(wc.model, wc.source),
    output:
        "results/reports/label_agreement/{model}/{source}.json",
    params:
        code=script_code("label_agreement.py"),
        mean_std=mean_std,
    log:
        "results/logs/label_agreement/{model}/{source}.log",
    benchmark:
        "results/benchmarks/label_agreement/{model}/{source}.tsv"
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
        agreement=[f"results/reports/label_agreement/{m}/{s}.json" for m, s in PLAN.pairs()],
        throughput=PLAN.speed_records(),
        tables=[f"results/tables/{a}_quantization.csv" for a in PLAN.active_algorithms()],
        quality=["results/reports/image_quality.csv"] if config["quality"]["enabled"] else [],
    output:
        agreement=report("results/reports/label_agreement.csv", caption="../report/reports.rst", category="Reports"),
        throughput=report("results/tables/throughput.csv", caption="../report/reports.rst", category="Reports"),
        drops=report("results/figures/accuracy_drop.png", caption="../report/figure.rst", category="Figures"),
        fid=(report("results/figures/drop_vs_fid.png", caption="../report/figure.rst", category="Figures")
             if config["quality"]["enabled"] else []),
    params:
        code=script_code("report_tables.py"),
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


localrules:
    report_image_quality,
    report_tables,
