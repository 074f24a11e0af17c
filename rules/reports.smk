# Reports beyond the accuracy tables: image quality of every source (Inception Score, FID against real test
# images), label agreement (FP32 accuracy on each labelled source), FP32 vs INT8 speed, and the summary figures.


rule download_inception:
    output:
        "resources/inception/{filename}.pth",
    params:
        url=QUALITY["inception"]["url"],
        checksum=QUALITY["inception"]["sha256"],
        config_keys={"url": "quality.inception.url", "checksum": "quality.inception.sha256", "local": "quality.inception.path"},
    log:
        f"{RES}/logs/download_inception/{{filename}}.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/download.py"


rule convert_extractor:
    """The IS/FID feature network as an OpenVINO IR, converted once and checked against PyTorch (pool features
    within 1e-3, the Inception Score of the check batch to 3 decimals)."""
    input:
        unpack(quality_weights),
    output:
        xml=f"{RES}/models/inception/extractor.xml",
        bin=f"{RES}/models/inception/extractor.bin",
        report=f"{RES}/models/inception/conversion.json",
    params:
        code=script_code("convert_extractor.py"),
        fid_extractor=lambda wc, input: None if input.get("inception") else QUALITY["fid_extractor"],
        n_check=16,
    log:
        f"{RES}/logs/convert_extractor.log",
    benchmark:
        f"{RES}/benchmarks/convert_extractor/convert_extractor.tsv"
    threads: QUALITY["threads"]
    resources:
        mem_mb=6000,
        runtime=30,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/convert_extractor.py"


rule quality_features:
    input:
        unpack(quality_images),
        unpack(quality_network),
    output:
        f"{RES}/reports/features/{{qset}}.npz",
    params:
        code=script_code("quality_features.py"),
        n_images=lambda wc: QUALITY["n_reference"] if wc.qset == "reference" else QUALITY["n_images"],
        kind=lambda wc: quality_set_spec(wc)[0],
        settings=lambda wc: quality_set_spec(wc)[2],
        description=lambda wc: quality_set_spec(wc)[3],
        splits=QUALITY["is_splits"],
        seed=config["seed"],
        fid_extractor=lambda wc, input: (None if input.get("inception") or input.get("extractor")
                                         else QUALITY["fid_extractor"]),
        backend=QUALITY["backend"],
        device=QUALITY["device"],
        batch_size=QUALITY["batch_size"],
    wildcard_constraints:
        qset="[A-Za-z0-9_]+(/[A-Za-z0-9_]+)?",
    log:
        f"{RES}/logs/quality/{{qset}}.log",
    benchmark:
        f"{RES}/benchmarks/quality_features/{{qset}}.tsv"
    threads: QUALITY["threads"]
    resources:
        mem_mb=lambda wc: 4000 + QUALITY["n_images"] // 10,
        runtime=lambda wc: 30 + QUALITY["n_images"] // 300,  # about 10 images/s through the IR on 2 cores
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/quality_features.py"


rule report_image_quality:
    input:
        sets=[f"{RES}/reports/features/{q}.npz" for q in quality_sets()],
        reference=f"{RES}/reports/features/reference.npz",
    output:
        report=report(f"{RES}/reports/image_quality.csv", caption="../report/reports.rst", category="Reports"),
        table2=report(f"{RES}/tables/table2.csv", caption="../report/table2.rst", category="Tables"),
    params:
        code=script_code("report_image_quality.py"),
        names=quality_sets(),
    log:
        f"{RES}/logs/quality/report.log",
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
        xml=f"{RES}/models/{{model}}/fp32.xml",
        bin=f"{RES}/models/{{model}}/fp32.bin",
        folder=lambda wc: calibration_folder(Namespace(source=wc.source, model=wc.model, rep="")),
    output:
        f"{RES}/reports/label_agreement/{{model}}/{{source}}.json",
    params:
        code=script_code("label_agreement.py"),
        mean_std=model_mean_std,
    log:
        f"{RES}/logs/label_agreement/{{model}}/{{source}}.log",
    benchmark:
        f"{RES}/benchmarks/label_agreement/{{model}}/{{source}}.tsv"
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
        fp32=f"{RES}/models/{{model}}/fp32.xml",
        int8=lambda wc: [f"{RES}/quantized/{wc.algorithm}/{s}/{wc.model}/int8.xml" for s in SOURCES],
    output:
        f"{RES}/reports/throughput/{{algorithm}}/{{model}}.json",
    params:
        code=script_code("throughput.py"),
        sources=SOURCES,
        threads=config["throughput"]["threads"],  # a rerun trigger (the script uses the granted threads)
        batch_size=config["throughput"]["batch_size"],
        seconds=config["throughput"]["seconds"],
        repeats=config["throughput"]["repeats"],
    log:
        f"{RES}/logs/throughput/{{algorithm}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/throughput/{{algorithm}}/{{model}}.tsv"
    threads: config["throughput"]["threads"]
    resources:
        mem_mb=3000,
        runtime=lambda wc: 10 + int(2 * (len(SOURCES) + 1) * config["throughput"]["repeats"]
                                    * config["throughput"]["seconds"] / 60),
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/throughput.py"


rule report_tables:
    input:
        agreement=[f"{RES}/reports/label_agreement/{m}/{s}.json" for m in MODELS for s in SOURCES],
        throughput=speed_records(),
        tables=[f"{RES}/tables/{a}_quantization.csv" for a in ALGORITHMS if grid(a)],
        quality=[f"{RES}/reports/image_quality.csv"] if QUALITY["enabled"] else [],
    output:
        agreement=report(f"{RES}/reports/label_agreement.csv", caption="../report/reports.rst", category="Reports"),
        throughput=report(f"{RES}/tables/throughput.csv", caption="../report/reports.rst", category="Reports"),
        drops=report(f"{RES}/figures/accuracy_drop.png", caption="../report/figure.rst", category="Figures"),
        fid=(report(f"{RES}/figures/drop_vs_fid.png", caption="../report/figure.rst", category="Figures")
             if QUALITY["enabled"] else []),
    params:
        code=script_code("report_tables.py"),
    log:
        f"{RES}/logs/reports.log",
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
