"""Rule adapter: Inception features (pool, and logits when available) of one image set (synthcal.quality)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.quality import choose_extractor, load_image_set, quality_features, save_features

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    extractor = choose_extractor(sm.input.get("inception"), p.fid_extractor)
    images = load_image_set(sm.input.images)
    log.info("%s: features of %d of %d images with %s", sm.wildcards.qset, min(p.n_images, len(images)),
             len(images), extractor.name)
    save_features(sm.output[0], extractor.name,
                  quality_features(images, extractor, p.n_images, p.seed, p.batch_size, desc=sm.wildcards.qset))
