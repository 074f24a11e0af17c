"""Rule adapter: FP32 accuracy of one model on every labelled calibration source (synthcal.quality)."""

from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.quality import label_agreement

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    folders = dict(zip(sm.params.sources, sm.input.folders, strict=True))
    rows = label_agreement(sm.input.xml, folders, *sm.params.mean_std, model=sm.wildcards.model, threads=sm.threads)
    for row in rows:
        log.info("%s on %s: %.2f%% agree with the labels", row["model"], row["source"], 100 * row["accuracy"])
    write_json(sm.output[0], rows)
