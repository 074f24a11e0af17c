# Classifiers: fetch each model's checkpoint (or use the local path from config), build the architecture, load the
# weights strictly, optionally fuse RepVGG, and convert to an FP32 OpenVINO IR checked against PyTorch.


rule download_weights:
    output:
        "resources/weights/{filename}",
    params:
        url=lambda wc: weights_download(wc)[0],
        checksum=lambda wc: weights_download(wc)[1],
        config_keys=lambda wc: {k: f"{weights_download(wc)[2]}.{v}" for k, v in
                         (("url", "url"), ("checksum", "sha256"), ("local", "path"))},
    log:
        f"{RES}/logs/download_weights/{{filename}}.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/download.py"


rule convert_model:
    input:
        weights=weights_file,
    output:
        xml=f"{RES}/models/{{model}}/fp32.xml",
        bin=f"{RES}/models/{{model}}/fp32.bin",
        report=f"{RES}/models/{{model}}/conversion.json",
    params:
        code=script_code("convert_model.py"),
        arch=lambda wc: model_entry(wc)["arch"],
        fuse=lambda wc: model_entry(wc)["fuse"],
        sha256=lambda wc: model_entry(wc)["weights"]["sha256"],
        seed=config["seed"],
        check_batch=config["conversion"]["check_batch"],
        tolerance=config["conversion"]["tolerance"],
    log:
        f"{RES}/logs/convert_model/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/convert_model/{{model}}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/convert.yaml"
    script:
        "../workflow_scripts/convert_model.py"
