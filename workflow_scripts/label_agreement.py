"""Rule adapter: FP32 accuracy of one model on one labelled calibration folder (synthcal.evaluate)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.evaluate import label_agreement
from synthcal.io import write_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    rows = label_agreement(sm.input.xml, {sm.wildcards.source: sm.input.folder}, *sm.params.mean_std,
                           model=sm.wildcards.model, threads=sm.threads)
    log.info("%s on %s: %.2f%% agree with the labels", sm.wildcards.model, sm.wildcards.source,
             100 * rows[0]["accuracy"])
    write_json(sm.output[0], rows)
