# INT8 post-training quantization with NNCF, per (variant, model, calibration source, repeat): the default and
# accuracy-aware algorithms, and the calibration-size sweep (variant size/<k>: nested subsets of k images per
# class, every image used). Each job writes results/quantized/<variant>/<source><rep>/<model>/int8.{xml,bin} and
# quantization.json; what a variant runs comes from one place (synthcal.plan.Plan.quantization_job).


rule quantize:
    input:
        unpack(lambda wc: PLAN.quantize_inputs(wc.model, wc.variant, wc.source, wc.rep)),
    output:
        xml="results/quantized/{variant}/{source}{rep}/{model}/int8.xml",
        bin="results/quantized/{variant}/{source}{rep}/{model}/int8.bin",
        report="results/quantized/{variant}/{source}{rep}/{model}/quantization.json",
    params:
        code=script_code("quantize.py"),
        job=lambda wc: PLAN.quantization_job(wc.variant),
        seed=rep_seed,
        repeat=rep_index,
        mean_std=mean_std,
    log:
        "results/logs/quantize/{variant}/{source}{rep}/{model}.log",
    benchmark:
        "results/benchmarks/quantize/{variant}/{source}{rep}/{model}.tsv"
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=lambda wc: PLAN.quantization_resources(wc.variant)["mem_mb"],
        runtime=lambda wc: PLAN.quantization_resources(wc.variant)["runtime"],
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/quantize.py"
