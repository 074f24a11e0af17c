# The teacher: a class-conditional generator G(z, one-hot c) dumped as N images per class with their noise
# vectors and labels (results/teacher/dump/). Providers: NVIDIA's StyleGAN2-ADA pickle, a TorchScript module, an
# existing dump in the authors' layout, or a conditional GAN trained here on the real training set.


rule download_teacher_pickle:
    output:
        "resources/teacher/{filename}.pkl",
    params:
        url=TEACHER["stylegan2_ada"]["pickle"]["url"],
        checksum=TEACHER["stylegan2_ada"]["pickle"]["sha256"],
        config_keys={"url": "teacher.stylegan2_ada.pickle.url", "checksum": "teacher.stylegan2_ada.pickle.sha256",
              "local": "teacher.stylegan2_ada.pickle.path"},
    log:
        f"{RES}/logs/download_teacher/{{filename}}.log",
    threads: 1
    resources:
        mem_mb=500,
        runtime=60,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/download.py"


rule teacher_train:
    input:
        train=f"{RES}/data/cifar10/train.npz",
    output:
        generator=f"{RES}/teacher/trained/generator.pt",
        config=f"{RES}/teacher/trained/config.json",
        summary=f"{RES}/teacher/trained/training.json",
        losses=f"{RES}/teacher/trained/losses.csv",
        samples=f"{RES}/teacher/trained/samples.npz",
    params:
        code=script_code("train_gan.py"),
        settings=train_settings(TEACHER["trained"], "gan"),
        device=TEACHER["device"],
        label="teacher (conditional GAN)",
    log:
        f"{RES}/logs/teacher_train.log",
    benchmark:
        f"{RES}/benchmarks/teacher_train/teacher_train.tsv"
    threads: TEACHER["threads"]
    resources:
        mem_mb=8000,
        runtime=train_runtime(50000, TEACHER["trained"]["epochs"], TEACHER["device"]),
        gpu=gpus(TEACHER["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"


rule teacher_dump:
    input:
        unpack(teacher_dump_inputs),
    output:
        directory(f"{RES}/teacher/dump"),
    params:
        code=script_code("teacher_dump.py"),
        settings=teacher_dump_settings(config),  # the active provider's settings only
    log:
        f"{RES}/logs/teacher_dump.log",
    benchmark:
        f"{RES}/benchmarks/teacher_dump/teacher_dump.tsv"
    threads: TEACHER["threads"]
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=gpus(TEACHER["device"]),
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
        agreement=[f"{RES}/reports/label_agreement/{m}/{TEACHER_NAME}.json" for m in MODELS],
        **({"features": f"{RES}/reports/features/{TEACHER_NAME}.npz",
            "reference": f"{RES}/reports/features/reference.npz"} if QUALITY["enabled"] else {}),
    output:
        f"{RES}/teacher/gate.json",
    params:
        code=script_code("teacher_gate.py"),
        min_label_agreement=TEACHER["gate"]["min_label_agreement"],
        max_fid=TEACHER["gate"]["max_fid"],
    log:
        f"{RES}/logs/teacher_gate.log",
    priority: 50
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    conda:
        "../envs/quality.yaml"
    script:
        "../workflow_scripts/teacher_gate.py"
