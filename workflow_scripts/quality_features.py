"""Rule adapter: IS and FID summaries of one quality set (synthcal.quality_sets, synthcal.quality)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.quality import choose_network, openvino_extractor, quality_features, save_features, torch_extractor
from synthcal.quality_sets import describe, image_set

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    if p.backend == "openvino":
        extractor = openvino_extractor(sm.input.extractor, sm.threads)
    else:
        extractor = torch_extractor(choose_network(sm.input.get("inception"), p.fid_extractor), p.device)
    images = image_set(p.kind, p.n_images, p.seed, source=sm.input.get("source"), settings=p.settings,
                       threads=sm.threads, device=p.device)
    log.info("%s: %d images (%s, asked %d) through %s on %s", sm.wildcards.qset, len(images), p.kind, p.n_images,
             extractor.name, extractor.backend)
    summary = quality_features(images, extractor, p.batch_size, p.splits, desc=sm.wildcards.qset)
    save_features(sm.output[0], extractor.name, summary, extractor.backend,
                  describe(p.kind, p.settings, p.description or ""))
    log.info("%s: N %d, IS %s", sm.wildcards.qset, summary["n_images"], summary.get("is_mean", "not computed"))
