"""Rule adapter: the teacher's calibration folder, chosen from its dump (synthcal.sources.teacher)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.logs import step_logging
from synthcal.sources.teacher import calibration_from_dump

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    manifest = calibration_from_dump(sm.input.dump, sm.output[0], sm.params.source, sm.params.n_per_class,
                                     sm.params.seed)
    log.info("wrote %d %s images to %s", manifest["count"], sm.params.source, sm.output[0])
