"""Rule adapter: a filtered source for one model (synthcal.sources.filtered.filtered_calibration_folder)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.classifiers import Classifier
from synthcal.convert import logits_model
from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.sources.filtered import filtered_calibration_folder

sm = snakemake  # noqa: F821 (injected by snakemake)
p, wc = sm.params, sm.wildcards
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    # scores come from the multi-branch form (a fused RepVGG shares its twin's folder: the same function), or from
    # the FP32 IR of a model without a PyTorch module (confidence and energy need logits only)
    model = logits_model(Classifier(path=sm.input.get("weights"), **p.classifier), sm.input.get("fp32"), sm.threads)
    manifest = filtered_calibration_folder(sm.output[0], base=wc.base, kind=p.kind, source=sm.input.pool,
                                           method=wc.filter, model=model, model_name=wc.model,
                                           n_per_class=p.n_per_class, pool_factor=p.pool_factor, mean=p.mean_std[0],
                                           std=p.mean_std[1], seed=p.seed, batch_size=p.batch_size, device=p.device)
    log.info("%s for %s: kept %d of %d pool images; %s of the pool %s, of the kept %s", manifest["source"],
             wc.model, manifest["count"], manifest["pool_size"], wc.filter, manifest["scores_pool"]["median"],
             manifest["scores_kept"]["median"])
