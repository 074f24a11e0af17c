"""Rule adapter: download NVIDIA's stylegan2-ada-pytorch code at one commit (synthcal.download.fetch_source_archive)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.download import ConfigKeys, fetch_source_archive
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    log.info("downloading NVIDIA's code from %s", sm.params.url)
    keys = ConfigKeys("teacher.stylegan2_ada.code_url", None, "teacher.stylegan2_ada.repo")
    fetch_source_archive(sm.params.url, sm.output[0], keys, required=("dnnlib", "torch_utils"))
    log.info("unpacked into %s", sm.output[0])
