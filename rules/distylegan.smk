# DiStyleGAN: the student generator trained by black-box distillation from the teacher dump, with real CIFAR-10
# images in the discriminator's GAN term (paper Sec. 3.2). Resumes from results/distylegan/training/checkpoints.


rule distylegan_train:
    input:
        dump=f"{RES}/teacher/dump",
        train=f"{RES}/data/cifar10/train.npz",
    output:
        generator=f"{RES}/distylegan/generator.pt",
        config=f"{RES}/distylegan/config.json",
        summary=f"{RES}/distylegan/training.json",
        losses=f"{RES}/distylegan/losses.csv",
        samples=f"{RES}/distylegan/samples.npz",
    params:
        code=script_code("train_gan.py"),
        settings=train_settings(DSG, "distill"),
        device=DSG["device"],
        label="DiStyleGAN",
    log:
        f"{RES}/logs/distylegan_train.log",
    benchmark:
        f"{RES}/benchmarks/distylegan_train/distylegan_train.tsv"
    threads: DSG["threads"]
    resources:
        mem_mb=12000,
        runtime=train_runtime(10 * TEACHER["n_per_class"], DSG["epochs"], DSG["device"]),
        gpu=gpus(DSG["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"


rule training_figures:
    """Loss curves and the final fixed-noise sample grid of a GAN training run, drawn from its numeric outputs (an
    edit of the drawing code reruns only this rule)."""
    input:
        losses=f"{RES}/{{run}}/losses.csv",
        samples=f"{RES}/{{run}}/samples.npz",
    output:
        curves=report(f"{RES}/{{run}}/loss_curves.png", caption="../report/training.rst", category="GAN training",
                      labels={"run": "{run}", "figure": "losses"}),
        samples=report(f"{RES}/{{run}}/samples.png", caption="../report/training.rst", category="GAN training",
                       labels={"run": "{run}", "figure": "samples"}),
    params:
        code=script_code("training_figures.py"),
        label=lambda wc: TRAINING_RUNS[wc.run],
    wildcard_constraints:
        run="|".join(TRAINING_RUNS),
    log:
        f"{RES}/logs/figures/training_{{run}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/tables.yaml"
    script:
        "../workflow_scripts/training_figures.py"


localrules:
    training_figures,
