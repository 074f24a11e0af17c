# DiStyleGAN (synthcal.planning.distillation): the student generator trained by black-box distillation from the
# teacher dump, with real CIFAR-10 images in the discriminator's GAN term (paper Sec. 3.2); checkpoints resume in
# results/distylegan/training/.


rule distylegan_train:
    input:
        dump=paths.TEACHER_DUMP,
        train=paths.CIFAR10_TRAIN,
    output:
        **{key: paths.run_file("distylegan", key) for key in paths.RUN_FILES},
    params:
        code=script_code("train_gan.py"),
        settings=to_params(PLAN.distillation.settings()),
        device=config["distylegan"]["device"],
        label="DiStyleGAN",
        feature_network=None,
    log:
        paths.log("distylegan_train"),
    benchmark:
        paths.benchmark("distylegan_train", "distylegan_train")
    threads: config["distylegan"]["threads"]
    resources:
        **PLAN.distillation.resources(),
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gan.py"


rule training_figures:
    """Loss curves and the final fixed-noise sample grid of a GAN training run, drawn from its numeric outputs (an
    edit of the drawing code reruns only this rule)."""
    input:
        losses=paths.fill(paths.RUN_FILE, name=paths.RUN_FILES["losses"]),
        samples=paths.fill(paths.RUN_FILE, name=paths.RUN_FILES["samples"]),
    output:
        curves=report(paths.LOSS_CURVES, caption="../report/training.rst", category="GAN training",
                      labels={"run": "{run}", "figure": "losses"}),
        samples=report(paths.SAMPLES_FIGURE, caption="../report/training.rst", category="GAN training",
                       labels={"run": "{run}", "figure": "samples"}),
    params:
        code=script_code("training_figures.py"),
        label=lambda wc: PLAN.training_runs()[wc.run],
    wildcard_constraints:
        run="teacher/trained|distylegan",
    log:
        paths.log("figures/training_{run}"),
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
