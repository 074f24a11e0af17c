"""Rule adapter: whether NNCF's channel alignment runs on a model (synthcal.quantize.channel_alignment_verdict)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped
from synthcal.quantize import channel_alignment_verdict
from synthcal.settings import DefaultQuantizationSettings, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    settings = from_params(DefaultQuantizationSettings, sm.params.settings)
    verdict = channel_alignment_verdict(sm.input.xml, settings)
    write_json(sm.output[0], stamped({"model": sm.wildcards.model, **verdict}))
    log.info("%s: channel alignment %s", sm.wildcards.model,
             "runs" if verdict["applicable"] else f"fails in NNCF ({verdict['error']})")
