"""Rule adapter: test-split accuracy of one IR and its per-image predictions (synthcal.evaluate.evaluate_ir)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.data import load_split
from synthcal.evaluate import evaluate_ir
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.predictions import save_predictions

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    mean, std = p.mean_std
    report, predictions = evaluate_ir(sm.input.xml, load_split(sm.input.test), mean, std, threads=sm.threads,
                                      batch_size=p.batch_size)
    save_predictions(sm.output.predictions, predictions)
    record = {"model": sm.wildcards.model, **p.record, "ir": sm.input.xml, "predictions": sm.output.predictions,
              **report}
    write_json(sm.output.summary, record)
    log.info("%s %s: top-1 %.2f%% on %d images", sm.wildcards.model, p.record["precision"], 100 * record["accuracy"],
             record["n_images"])
