"""Rule adapter: the cifar10 calibration folder (synthcal.sources.cifar10)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.logs import step_logging
from synthcal.sources.cifar10 import cifar10_calibration_folder

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    manifest = cifar10_calibration_folder(sm.input.train, sm.output[0], sm.params.n_per_class, sm.params.seed)
    log.info("wrote %d images (%s per class, seed %d) to %s", manifest["count"], sm.params.n_per_class or "all",
             sm.params.seed, sm.output[0])
