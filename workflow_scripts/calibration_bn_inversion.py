"""Rule adapter: the per-model bn_inversion calibration folder (synthcal.datafree.bn_inversion)."""

import numpy as np
import torch

from synthcal.calibration import write_calibration_folder
from synthcal.convert import load_classifier
from synthcal.data import Split
from synthcal.datafree import BNInversionSettings, bn_inversion
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    torch.set_num_threads(sm.threads)
    # BatchNorm statistics live in the multi-branch form; a fused RepVGG computes the same function without them
    model, _ = load_classifier(p.arch, sm.input.weights, fuse=False)
    labels = np.repeat(np.arange(10), p.n_per_class)
    mean, std = p.mean_std
    settings = BNInversionSettings(iterations=p.iterations, lr=p.lr, batch_size=p.batch_size, ce_weight=p.ce_weight)
    images, report = bn_inversion(model, labels, mean, std, settings, p.seed)
    manifest = write_calibration_folder(sm.output[0], Split(images, labels), {
        "source": "bn_inversion", "model": sm.wildcards.model, "seed": p.seed, "n_per_class": p.n_per_class,
        "distilled_from": "the multi-branch form (fused later, same function)" if p.fuse else "the model",
        "labels": "assigned" + (" (cross-entropy term)" if p.ce_weight > 0 else " (not enforced)"), **report})
    log.info("distilled %d images from %s in %.1f s; BN loss %.4g -> %.4g", manifest["count"], sm.wildcards.model,
             report["seconds"], report["bn_loss_start"], report["bn_loss_end"])
