# DiStyleGAN: the student generator trained by black-box distillation from the teacher dump, with real CIFAR-10
# images in the discriminator's GAN term (paper Sec. 3.2). Resumes from results/distylegan/training/checkpoints.


rule distylegan_train:
    input:
        dump=f"{RES}/teacher/dump",
        train=f"{RES}/data/cifar10/train.npz",
        code=script_code("train_gan.py"),
    output:
        generator=f"{RES}/distylegan/generator.pt",
        config=f"{RES}/distylegan/config.json",
        summary=f"{RES}/distylegan/training.json",
        losses=f"{RES}/distylegan/losses.csv",
        curves=report(f"{RES}/distylegan/loss_curves.png", caption="../report/training.rst", category="GAN training",
                      labels={"run": "DiStyleGAN", "figure": "losses"}),
        samples=report(f"{RES}/distylegan/samples.png", caption="../report/training.rst", category="GAN training",
                       labels={"run": "DiStyleGAN", "figure": "samples"}),
    params:
        settings=train_settings(DSG, "distill"),
        device=DSG["device"],
        label="DiStyleGAN",
    log:
        f"{RES}/logs/distylegan_train.log",
    benchmark:
        f"{RES}/benchmarks/distylegan_train.tsv"
    threads: DSG["threads"]
    resources:
        mem_mb=12000,
        runtime=train_runtime(10 * TEACHER["n_per_class"], DSG["epochs"], DSG["device"]),
        gpu=gpus(DSG["device"]),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"
