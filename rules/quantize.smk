# Post-training quantization (synthcal.planning.quantization), per (variant, model, calibration source, repeat): the
# algorithms of the grid, as data (name -> backend, kind, settings), and the calibration-size sweep (variant
# size/<k>: nested subsets of k images per class, every image used). Each job writes
# results/quantized/<variant>/<source><rep>/<model>/quantization.json, and int8.{xml,bin} (NNCF, OpenVINO's INT8)
# or brevitas.pt (Brevitas below INT8, simulated in PyTorch).


rule quantize:
    input:
        unpack(lambda wc: PLAN.quantization.inputs(wc.model, wc.variant, wc.source, wc.rep)),
    output:
        xml=paths.INT8_XML,
        bin=paths.INT8_BIN,
        report=paths.QUANTIZATION_REPORT,
    params:
        code=script_code("quantize.py"),
        job=lambda wc: PLAN.quantization.job(wc.variant, wc.source),
        algorithm=lambda wc: PLAN.quantization.algorithm(wc.variant).name,
        seed=rep_seed,
        repeat=rep_index,
        mean_std=mean_std,
    wildcard_constraints:
        variant=PLAN.quantization.variant_pattern("nncf"),
    log:
        paths.log("quantize/{variant}/{source}{rep}/{model}"),
    benchmark:
        paths.benchmark("quantize", "{variant}/{source}{rep}/{model}")
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=lambda wc: PLAN.quantization.resources(wc.variant)["mem_mb"],
        runtime=lambda wc: PLAN.quantization.resources(wc.variant)["runtime"],
    conda:
        "../envs/openvino.yaml"
    script:
        "../workflow_scripts/quantize.py"


rule quantize_brevitas:
    """Below INT8 with Brevitas (synthcal.brevitas_backend): the model's PyTorch module quantized layer by layer on the
    folder's calibration images, its weights set by rounding, GPTQ or GPFQ, its biases corrected or not."""
    input:
        unpack(lambda wc: PLAN.quantization.brevitas_inputs(wc.model, wc.variant, wc.source, wc.rep)),
    output:
        model=paths.BREVITAS_MODEL,
        report=paths.QUANTIZATION_REPORT,
    params:
        code=script_code("quantize_brevitas.py"),
        arch_code=model_code,
        classifier=classifier,
        checksum=lambda wc: PLAN.models.checksum(wc.model),
        job=lambda wc: PLAN.quantization.job(wc.variant, wc.source),
        algorithm=lambda wc: PLAN.quantization.algorithm(wc.variant).name,
        seed=rep_seed,
        repeat=rep_index,
        mean_std=mean_std,
    wildcard_constraints:
        variant=PLAN.quantization.variant_pattern("brevitas"),
    log:
        paths.log("quantize/{variant}/{source}{rep}/{model}"),
    benchmark:
        paths.benchmark("quantize", "{variant}/{source}{rep}/{model}")
    threads: config["quantization"]["threads"]
    resources:
        mem_mb=lambda wc: PLAN.quantization.resources(wc.variant)["mem_mb"],
        runtime=lambda wc: PLAN.quantization.resources(wc.variant)["runtime"],
    conda:
        "../envs/brevitas.yaml"
    script:
        "../workflow_scripts/quantize_brevitas.py"
