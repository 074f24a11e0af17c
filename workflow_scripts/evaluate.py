"""Rule adapter: test-split accuracy of one IR (synthcal.evaluate.evaluate_ir)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.data import load_split
from synthcal.evaluate import evaluate_ir
from synthcal.io import write_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    mean, std = p.mean_std
    report = evaluate_ir(sm.input.xml, load_split(sm.input.test), mean, std, threads=sm.threads,
                         batch_size=p.batch_size)
    record = {"model": sm.wildcards.model, **p.record, "ir": sm.input.xml, **report}
    write_json(sm.output[0], record)
    log.info("%s %s: top-1 %.2f%% on %d images", sm.wildcards.model, p.record["precision"], 100 * record["accuracy"],
             record["n_images"])
