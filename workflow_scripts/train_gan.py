"""Rule adapter: a training run, distillation or plain conditional GAN (synthcal.gan.train.train_run)."""

from pathlib import Path

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.gan.train import feature_identity, feature_network, train_run
from synthcal.logs import step_logging
from synthcal.settings import GanTraining, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    settings = from_params(GanTraining, sm.params.settings)
    helper = sm.params.feature_network
    features = feature_network(helper, sm.input.get("feature_weights")) if helper else None
    log.info("training %s: %s%s", sm.params.label, settings,
             f" (helped by the frozen {features.name}, taps {features.taps})" if features else "")
    summary = train_run(settings, sm.input.train, Path(sm.output.generator).parent,
                        dump_dir=sm.input.get("dump"), device=sm.params.device, label=sm.params.label,
                        features=features, features_identity=feature_identity(features, helper) if features else None)
    log.info("done: %d epochs on %s, %s images/s, %s s (resumed after epoch %s)", summary["epochs"],
             summary["device"], summary["images_per_s"], summary["train_seconds"], summary["resumed_after_epoch"])
