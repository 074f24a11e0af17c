"""Rule adapter: the teacher dump (synthcal.gan.teachers.make_dump), with the active provider's settings only."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.gan.teachers import make_dump
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
settings = sm.params.settings
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    source = sm.input.get("teacher")
    log.info("dumping from the %s teacher %s: %s", settings["provider"], source or settings.get("factory"), settings)
    if sm.input.get("repo"):  # NVIDIA's code: the configured checkout, or the one downloaded into resources/
        settings = {**settings, "repo": sm.input.repo}
    manifest = make_dump(out_dir=sm.output[0], source=source, **settings)
    log.info("wrote %d images (latent %s) to %s", manifest["count"], manifest["latent"], sm.output[0])
