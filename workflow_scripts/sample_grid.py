"""Rule adapter: a sample-grid figure (rows = classes) of a calibration folder."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.figures import calibration_grid
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    calibration_grid(sm.input.folder, sm.output[0])
    log.info("wrote %s", sm.output[0])
