"""Rule adapter: the distylegan calibration folder, sampled from the student (synthcal.sources.distylegan)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.logs import step_logging
from synthcal.sources.distylegan import sample_to_calibration

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    manifest = sample_to_calibration(sm.input.generator, sm.output[0], source="distylegan",
                                     n_per_class=p.n_per_class, seed=p.seed, batch_size=p.batch_size,
                                     device=p.device)
    log.info("sampled %d images from %s", manifest["count"], manifest["generator"])
