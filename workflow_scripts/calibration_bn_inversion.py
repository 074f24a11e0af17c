"""Rule adapter: the per-model bn_inversion calibration folder (synthcal.sources.bn_inversion)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.classifiers import Classifier, pytorch_module
from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.settings import BNInversionSettings, from_params
from synthcal.sources.bn_inversion import bn_inversion_calibration_folder

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    # BatchNorm statistics live in the multi-branch form; a fused RepVGG shares its twin's folder (same function)
    model = pytorch_module(Classifier(path=sm.input.get("weights"), **p.classifier), fuse=False)
    manifest = bn_inversion_calibration_folder(sm.output[0], model, sm.wildcards.model, p.n_per_class, *p.mean_std,
                                               from_params(BNInversionSettings, p.settings), p.seed)
    log.info("distilled %d images from %s in %.1f s; BN loss %.4g -> %.4g", manifest["count"], sm.wildcards.model,
             manifest["seconds"], manifest["bn_loss_start"], manifest["bn_loss_end"])
