"""Rule adapter: IS and FID summaries of one quality set, and the features of its realism subset (synthcal.quality_sets,
synthcal.quality)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.quality import choose_network, openvino_extractor, quality_features, save_features, torch_extractor
from synthcal.quality_sets import describe, labelled_image_set, realism_subset

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    if p.backend == "openvino":
        extractor = openvino_extractor(sm.input.extractor, sm.threads)
    else:
        extractor = torch_extractor(choose_network(sm.input.get("inception"), p.fid_extractor, p.inception_checksum), p.device)
    found = labelled_image_set(p.kind, p.n_images, p.seed, source=sm.input.get("source"), settings=p.settings,
                               threads=sm.threads, device=p.device)
    keep = (realism_subset(found, p.realism["n_images"], p.seed, p.realism["exclude_reference"])
            if p.realism else None)
    log.info("%s: %d images (%s, asked %d) through %s on %s; %s kept for the realism measures", sm.wildcards.qset,
             len(found.images), p.kind, p.n_images, extractor.name, extractor.backend,
             "none" if keep is None else len(keep))
    summary = quality_features(found.images, extractor, p.batch_size, p.splits, desc=sm.wildcards.qset, keep=keep,
                               labels=found.labels)
    save_features(sm.output[0], extractor.name, summary, extractor.backend,
                  describe(p.kind, p.settings, p.description or ""))
    log.info("%s: N %d, IS %s", sm.wildcards.qset, summary["n_images"], summary.get("is_mean", "not computed"))
