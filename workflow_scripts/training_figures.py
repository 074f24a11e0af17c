"""Rule adapter: loss curves and the final sample grid of a GAN training run (synthcal.figures)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.figures import training_figures
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    training_figures(sm.input.losses, sm.input.samples, sm.output.curves, sm.output.samples, sm.params.label)
    log.info("wrote %s and %s", sm.output.curves, sm.output.samples)
