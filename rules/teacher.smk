# The teacher: a class-conditional generator G(z, one-hot c) dumped as N images per class with their noise vectors
# and labels (results/teacher/dump/). Providers: NVIDIA's StyleGAN2-ADA pickle, a TorchScript module, an existing
# dump in the authors' layout, or a conditional GAN trained here on the real training set.


rule teacher_train:
    input:
        train="results/data/cifar10/train.npz",
        **PLAN.train_inputs("teacher/trained"),
    output:
        generator="results/teacher/trained/generator.pt",
        config="results/teacher/trained/config.json",
        summary="results/teacher/trained/training.json",
        losses="results/teacher/trained/losses.csv",
        samples="results/teacher/trained/samples.npz",
    params:
        code=script_code("train_gan.py"),
        settings=PLAN.train_settings("teacher/trained"),
        device=config["teacher"]["device"],
        label=TRAINING_RUNS["teacher/trained"],
        feature_network=PLAN.feature_network("teacher/trained"),
    log:
        "results/logs/teacher_train.log",
    benchmark:
        "results/benchmarks/teacher_train/teacher_train.tsv"
    threads: config["teacher"]["threads"]
    resources:
        **PLAN.train_resources("teacher/trained"),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"


rule teacher_dump:
    input:
        **PLAN.teacher_files(),
    output:
        directory("results/teacher/dump"),
    params:
        code=script_code("teacher_dump.py"),
        teacher_code=PLAN.teacher_code(),
        settings=teacher_dump_settings(config),  # the active provider's settings only
    log:
        "results/logs/teacher_dump.log",
    benchmark:
        "results/benchmarks/teacher_dump/teacher_dump.tsv"
    threads: config["teacher"]["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpus(config["teacher"]["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/teacher_dump.py"


rule teacher_gate:
    """The teacher dump's quality gate, beside the dump: the label agreement of the dump (its calibration folder)
    with every configured classifier and its FID against real test images, both computed by the report rules,
    checked against teacher.gate's thresholds (a failed threshold fails the job, which stops the run). It is not an
    input of the distillation, so recomputing it (for a new classifier, say) never retrains DiStyleGAN; it has a
    high priority, and `snakemake --until teacher_gate` runs the chain up to it alone."""
    input:
        agreement=PLAN.gate_agreement_files(),
        **({"features": f"results/reports/features/{PLAN.teacher_name}.npz",
            "reference": "results/reports/features/reference.npz"} if config["quality"]["enabled"] else {}),
    output:
        "results/teacher/gate.json",
    params:
        code=script_code("teacher_gate.py"),
        min_label_agreement=config["teacher"]["gate"]["min_label_agreement"],
        max_fid=config["teacher"]["gate"]["max_fid"],
    log:
        "results/logs/teacher_gate.log",
    priority: 50
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/teacher_gate.py"
