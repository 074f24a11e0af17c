"""Rule adapter: a training run, distillation or plain conditional GAN (synthcal.gan.pipeline.train_run)."""

from pathlib import Path

import torch

from synthcal.gan.pipeline import train_run
from synthcal.gan.train import TrainSettings
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    torch.set_num_threads(sm.threads)
    settings = TrainSettings(**{**sm.params.settings, "betas": tuple(sm.params.settings["betas"])})
    log.info("training %s: %s", sm.params.label, settings)
    summary = train_run(settings, sm.input.train, Path(sm.output.generator).parent,
                        dump_dir=sm.input.get("dump"), device=sm.params.device, label=sm.params.label)
    log.info("done: %d epochs on %s, %s images/s, %s s (resumed after epoch %s)", summary["epochs"],
             summary["device"], summary["images_per_s"], summary["train_seconds"], summary["resumed_after_epoch"])
