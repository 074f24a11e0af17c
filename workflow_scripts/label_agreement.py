"""Rule adapter: a judge's FP32 accuracy on one calibration set's labels (synthcal.evaluate.label_agreement)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.evaluate import label_agreement
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    judge, qset = sm.wildcards.judge, sm.wildcards.qset
    source, _, calibrated = qset.partition("/")
    rows = label_agreement(sm.input.xml, {source: sm.input.folder}, *sm.params.mean_std, model=judge,
                           threads=sm.threads)
    for row in rows:  # which folder (a per-model source's is the calibrated model's) and whether its labels are classes
        row.update(judge=judge, set=qset, calibrated_model=calibrated or None, labelled=sm.params.labelled)
    log.info("%s on %s: %.2f%% agree with the labels", judge, qset, 100 * rows[0]["accuracy"])
    write_json(sm.output[0], [stamped(row) for row in rows])
