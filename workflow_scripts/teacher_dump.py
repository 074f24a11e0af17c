"""Rule adapter: the teacher dump (synthcal.gan.pipeline.make_dump)."""

import torch

from synthcal.gan.pipeline import make_dump
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    torch.set_num_threads(sm.threads)
    source = sm.input.teacher
    log.info("dumping %d images per class from the %s teacher %s", p.n_per_class, p.provider, source)
    manifest = make_dump(p.provider, sm.output[0], n_per_class=p.n_per_class, seed=p.seed, latent=p.latent,
                         batch_size=p.batch_size, device=p.device, source=source, repo=p.repo,
                         truncation_psi=p.truncation_psi, z_dim=p.z_dim, checksum=p.checksum)
    log.info("wrote %d images (latent %s) to %s", manifest["count"], manifest["latent"], sm.output[0])
