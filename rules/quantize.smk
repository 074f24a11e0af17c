# INT8 post-training quantization with NNCF, per (model, calibration source, repeat).
# Each algorithm writes results/quantized/<algorithm>/<source><rep>/<model>/int8.{xml,bin} + quantization.json.

QDEFAULT = config["quantization"]["default"]
# nncf.quantize's settings, after quantization.protocol filled the keys left null (synthcal.config.PROTOCOLS)
DEFAULT_SETTINGS = {k: QDEFAULT[k] for k in ("subset_size", "preset", "target_device", "fast_bias_correction",
                                             "channel_alignment", "range_estimator", "range_statistics",
                                             "ignored_types")}
DEFAULT_SETTINGS["batch_size"] = config["quantization"]["batch_size"]
AA_SETTINGS = {k: AA[k] for k in ("max_drop", "drop_type", "ranking_subset_size", "max_num_iterations",
                                  "ranking_workers")}


rule quantize_default:
    input:
        xml=f"{RES}/models/{{model}}/fp32.xml",
        bin=f"{RES}/models/{{model}}/fp32.bin",
        calibration=calibration_folder,
    output:
        xml=f"{RES}/quantized/default/{{source}}{{rep}}/{{model}}/int8.xml",
        bin=f"{RES}/quantized/default/{{source}}{{rep}}/{{model}}/int8.bin",
        report=f"{RES}/quantized/default/{{source}}{{rep}}/{{model}}/quantization.json",
    params:
        code=script_code("quantize.py"),
        seed=rep_seed,
        repeat=rep_index,
        mean_std=model_mean_std,
        settings=DEFAULT_SETTINGS,
    log:
        f"{RES}/logs/quantize_default/{{source}}{{rep}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/quantize_default/{{source}}{{rep}}/{{model}}.tsv"
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=6000,
        runtime=60,
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/quantize.py"


use rule quantize_default as quantize_accuracy_aware with:
    input:
        unpack(holdout_inputs),
        xml=f"{RES}/models/{{model}}/fp32.xml",
        bin=f"{RES}/models/{{model}}/fp32.bin",
        calibration=calibration_folder,
    output:
        xml=f"{RES}/quantized/accuracy_aware/{{source}}{{rep}}/{{model}}/int8.xml",
        bin=f"{RES}/quantized/accuracy_aware/{{source}}{{rep}}/{{model}}/int8.bin",
        report=f"{RES}/quantized/accuracy_aware/{{source}}{{rep}}/{{model}}/quantization.json",
    params:
        code=script_code("quantize.py"),
        seed=rep_seed,
        repeat=rep_index,
        mean_std=model_mean_std,
        settings=DEFAULT_SETTINGS,
        aa_settings=AA_SETTINGS,
        validation=AA["validation"],
    log:
        f"{RES}/logs/quantize_accuracy_aware/{{source}}{{rep}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/quantize_accuracy_aware/{{source}}{{rep}}/{{model}}.tsv"
    resources:
        mem_mb=8000,
        runtime=600,


use rule quantize_default as quantize_size with:
    # the calibration-size sweep: a nested subset of `size` images per class, every image of it used
    output:
        xml=f"{RES}/quantized/size/{{size}}/{{source}}{{rep}}/{{model}}/int8.xml",
        bin=f"{RES}/quantized/size/{{size}}/{{source}}{{rep}}/{{model}}/int8.bin",
        report=f"{RES}/quantized/size/{{size}}/{{source}}{{rep}}/{{model}}/quantization.json",
    params:
        code=script_code("quantize.py"),
        seed=rep_seed,
        repeat=rep_index,
        mean_std=model_mean_std,
        settings={**DEFAULT_SETTINGS, "subset_size": None},
        per_class=lambda wc: int(wc.size),
    wildcard_constraints:
        size="[0-9]+",
    log:
        f"{RES}/logs/quantize_size/{{size}}/{{source}}{{rep}}/{{model}}.log",
    benchmark:
        f"{RES}/benchmarks/quantize_size/{{size}}/{{source}}{{rep}}/{{model}}.tsv"
