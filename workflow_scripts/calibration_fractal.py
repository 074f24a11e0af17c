"""Rule adapter: the fractal calibration folder (synthcal.sources.fractal)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.settings import FractalSettings, from_params
from synthcal.sources.fractal import FractalParameters, fractal_calibration_folder

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    settings = FractalParameters.of(from_params(FractalSettings, p.settings))
    manifest = fractal_calibration_folder(sm.output[0], p.n_per_class, p.seed, settings, workers=sm.threads)
    log.info("wrote %d fractals from %d IFS systems (colouring: %s)", manifest["count"], manifest["categories"],
             manifest["colorize"])
