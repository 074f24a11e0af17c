"""Rule adapter: FP32 accuracy of one model on every labelled calibration source (synthcal.quality)."""

from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.quality import label_agreement

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    mean, std = sm.params.mean_std
    rows = []
    for source, folder in zip(sm.params.sources, sm.input.folders):
        report = label_agreement(sm.input.xml, folder, mean, std, sm.threads)
        rows.append({"source": source, "model": sm.wildcards.model, "accuracy": report["accuracy"],
                     "n_images": report["n_images"], "labels": report["labels"]})
        log.info("%s on %s: %.2f%% agree with the generated labels", sm.wildcards.model, source,
                 100 * report["accuracy"])
    write_json(sm.output[0], rows)
