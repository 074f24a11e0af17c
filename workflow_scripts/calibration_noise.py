"""Rule adapter: the noise calibration folder (synthcal.datafree.noise_calibration_folder)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.datafree import noise_calibration_folder
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    manifest = noise_calibration_folder(sm.output[0], p.n_per_class, p.seed, p.distribution, p.std)
    log.info("wrote %d %s noise images", manifest["count"], p.distribution)
