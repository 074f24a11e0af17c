# The teacher (synthcal.planning.teacher): a class-conditional generator G(z, one-hot c) dumped as N images per class
# with their noise vectors and labels (results/teacher/dump/). Providers: NVIDIA's StyleGAN2-ADA pickle, a
# torch.export program, a Python factory, a TorchScript module, an existing dump in the authors' layout, or a
# conditional GAN trained here on the real training set.


rule teacher_train:
    input:
        train=paths.CIFAR10_TRAIN,
        **PLAN.teacher.train_inputs(),
    output:
        **{key: paths.run_file("teacher/trained", key) for key in paths.RUN_FILES},
    params:
        code=script_code("train_gan.py"),
        settings=to_params(PLAN.teacher.settings()),
        device=config["teacher"]["device"],
        label="teacher (conditional GAN)",
        feature_network=PLAN.teacher.feature_network(),
    log:
        paths.log("teacher_train"),
    benchmark:
        paths.benchmark("teacher_train", "teacher_train")
    threads: config["teacher"]["threads"]
    resources:
        **PLAN.teacher.resources(),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"


rule teacher_dump:
    input:
        **PLAN.teacher.files(),
    output:
        directory(paths.TEACHER_DUMP),
    params:
        code=script_code("teacher_dump.py"),
        teacher_code=PLAN.teacher.code(),
        settings=PLAN.teacher.dump_settings(),  # the active provider's settings only
    log:
        paths.log("teacher_dump"),
    benchmark:
        paths.benchmark("teacher_dump", "teacher_dump")
    threads: config["teacher"]["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=PLAN.teacher.resources()["gpu"],
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/teacher_dump.py"


rule teacher_gate:
    """The teacher dump's quality gate, beside the dump: the label agreement of the dump (its calibration folder)
    with every judge and its FID against real test images, both computed by the report rules, checked against
    teacher.gate's thresholds (a failed threshold fails the job, which stops the run). It is not an input of the
    distillation, so recomputing it (for a new judge, say) never retrains DiStyleGAN; it has a high priority, and
    `snakemake --until teacher_gate` runs the chain up to it alone."""
    input:
        agreement=PLAN.teacher.gate_inputs(PLAN.evaluation.judges()),
        **({"features": paths.fill(paths.FEATURES, qset=PLAN.grid.teacher_name),
            "reference": paths.fill(paths.FEATURES, qset="reference")} if config["quality"]["enabled"] else {}),
    output:
        paths.TEACHER_GATE,
    params:
        code=script_code("teacher_gate.py"),
        min_label_agreement=config["teacher"]["gate"]["min_label_agreement"],
        max_fid=config["teacher"]["gate"]["max_fid"],
    log:
        paths.log("teacher_gate"),
    priority: 50
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/teacher_gate.py"
