"""Rule adapter: Inception features (pool, and logits when available) of one image set (synthcal.quality)."""

import numpy as np
import torch

from synthcal.calibration import load_calibration_folder
from synthcal.data import load_split
from synthcal.logs import step_logging
from synthcal.quality import choose_extractor, quality_features

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    torch.set_num_threads(sm.threads)
    extractor = choose_extractor(sm.input.get("inception"), p.fid_extractor)
    if sm.wildcards.qset == "reference":
        images = load_split(sm.input.images).images
    else:
        images = load_calibration_folder(sm.input.images, progress=False)[0].images
    log.info("%s: features of %d of %d images with %s", sm.wildcards.qset, min(p.n_images, len(images)),
             len(images), extractor.name)
    feats = quality_features(images, extractor, p.n_images, p.seed, p.batch_size, desc=sm.wildcards.qset)
    with open(sm.output[0], "wb") as fh:
        np.savez(fh, extractor=np.array(extractor.name), **feats)
