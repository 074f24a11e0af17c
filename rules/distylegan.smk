# DiStyleGAN: the student generator trained by black-box distillation from the teacher dump, with real CIFAR-10
# images in the discriminator's GAN term (paper Sec. 3.2); checkpoints resume in results/distylegan/training/.


rule distylegan_train:
    input:
        dump="results/teacher/dump",
        train="results/data/cifar10/train.npz",
    output:
        generator="results/distylegan/generator.pt",
        config="results/distylegan/config.json",
        summary="results/distylegan/training.json",
        losses="results/distylegan/losses.csv",
        samples="results/distylegan/samples.npz",
    params:
        code=script_code("train_gan.py"),
        settings=PLAN.train_settings("distylegan"),
        device=config["distylegan"]["device"],
        label=TRAINING_RUNS["distylegan"],
        feature_network=PLAN.feature_network("distylegan"),
    log:
        "results/logs/distylegan_train.log",
    benchmark:
        "results/benchmarks/distylegan_train/distylegan_train.tsv"
    threads: config["distylegan"]["threads"]
    resources:
        **PLAN.train_resources("distylegan"),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"


rule training_figures:
    """Loss curves and the final fixed-noise sample grid of a GAN training run, drawn from its numeric outputs (an
    edit of the drawing code reruns only this rule)."""
    input:
        losses="results/{run}/losses.csv",
        samples="results/{run}/samples.npz",
    output:
        curves=report("results/{run}/loss_curves.png", caption="../report/training.rst", category="GAN training",
                      labels={"run": "{run}", "figure": "losses"}),
        samples=report("results/{run}/samples.png", caption="../report/training.rst", category="GAN training",
                       labels={"run": "{run}", "figure": "samples"}),
    params:
        code=script_code("training_figures.py"),
        label=lambda wc: TRAINING_RUNS[wc.run],
    wildcard_constraints:
        run="|".join(TRAINING_RUNS),
    log:
        "results/logs/figures/training_{run}.log",
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
