"""Rule adapter: download a file and verify its checksum (synthcal.download.download)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.download import ConfigKeys, download
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
spec = sm.params.download
with step_logging(sm.log[0]) as log:
    log.info("downloading %s", spec["url"])
    download(spec["url"], sm.output[0], spec["checksum"], ConfigKeys(**spec["keys"]))
    log.info("saved %s", sm.output[0])
