"""Rule adapter: the noise calibration folder (synthcal.sources.noise)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.logs import step_logging
from synthcal.settings import NoiseSettings, from_params
from synthcal.sources.noise import noise_calibration_folder

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    manifest = noise_calibration_folder(sm.output[0], p.n_per_class, p.seed, from_params(NoiseSettings, p.settings))
    log.info("wrote %d images of %s", manifest["count"], manifest["description"])
