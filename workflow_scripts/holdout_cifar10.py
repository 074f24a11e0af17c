"""Rule adapter: a labelled real validation split held out from the CIFAR-10 training set (synthcal.sources.cifar10)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.logs import step_logging
from synthcal.sources.cifar10 import holdout_split

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    info = holdout_split(sm.input.train, sm.output[0], p.holdout_per_class, p.seed,
                         calibration_seeds=p.calibration_seeds, n_per_class=p.n_per_class)
    log.info("held out %d training images (%d per class), disjoint from every cifar10 calibration folder",
             info["count"], p.holdout_per_class)
