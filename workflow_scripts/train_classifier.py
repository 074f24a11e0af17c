"""Rule adapter: the train weights provider, a built-in classifier trained on the training split
(synthcal.models.training.train_weights)."""

from pathlib import Path

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.models.training import train_weights
from synthcal.settings import ClassifierTraining, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    mean, std = p.mean_std
    summary = train_weights(p.arch, sm.input.train, sm.input.test, mean, std, from_params(ClassifierTraining, p.settings),
                            Path(sm.output.weights).parent)
    log.info("%s: FP32 top-1 %.2f%% on the test split after %d epochs (%.0f s, %s images/s)", sm.wildcards.model,
             summary["test_accuracy"], p.settings["epochs"], summary["train_seconds"], summary["images_per_s"])
