# INT8 post-training quantization with NNCF, per (model, calibration source).
# Each algorithm writes results/quantized/<algorithm>/<source>/<model>/int8.{xml,bin} + quantization.json.

QDEFAULT = config["quantization"]["default"]


rule quantize_default:
    input:
        xml=f"{RES}/models/{{model}}/fp32.xml",
        bin=f"{RES}/models/{{model}}/fp32.bin",
        calibration=calibration_folder,
        code=lib("quantize.py", "calibration.py", "preprocess.py"),
    output:
        xml=f"{RES}/quantized/default/{{source}}/{{model}}/int8.xml",
        bin=f"{RES}/quantized/default/{{source}}/{{model}}/int8.bin",
        report=f"{RES}/quantized/default/{{source}}/{{model}}/quantization.json",
    params:
        seed=config["seed"],
        mean_std=model_mean_std,
        subset_size=QDEFAULT["subset_size"],
        preset=QDEFAULT["preset"],
        target_device=QDEFAULT["target_device"],
        fast_bias_correction=QDEFAULT["fast_bias_correction"],
        channel_alignment=QDEFAULT["channel_alignment"],
        ignored_types=QDEFAULT["ignored_types"],
    log:
        f"{RES}/logs/quantize_default/{{source}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/quantize_default/{{source}}/{{model}}.tsv"
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        "../envs/synthcal.yaml"
    script:
        "../workflow_scripts/quantize_default.py"
