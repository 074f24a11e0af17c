"""Rule adapter: the noise calibration folder (synthcal.datafree.noise_images)."""

import numpy as np

from synthcal.calibration import write_calibration_folder
from synthcal.data import Split
from synthcal.datafree import noise_images
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    images = noise_images(10 * p.n_per_class, p.seed, p.distribution, p.std)
    labels = np.repeat(np.arange(10), p.n_per_class)
    manifest = write_calibration_folder(sm.output[0], Split(images, labels), {
        "source": "noise", "seed": p.seed, "n_per_class": p.n_per_class, "distribution": p.distribution,
        "std": p.std if p.distribution == "gaussian" else None, "labels": "arbitrary"})
    log.info("wrote %d %s noise images", manifest["count"], p.distribution)
