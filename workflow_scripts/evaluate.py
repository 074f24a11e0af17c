"""Rule adapter: accuracy, throughput and latency of one IR (synthcal.evaluate.evaluate_ir)."""

from synthcal.data import load_split
from synthcal.evaluate import evaluate_ir
from synthcal.io import write_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    test = load_split(sm.input.test)
    mean, std = p.mean_std
    report = evaluate_ir(sm.input.xml, test, mean, std, threads=sm.threads, batch_size=p.batch_size,
                         timing_batch_size=p.timing_batch_size, timing_seconds=p.timing_seconds)
    record = {"model": sm.wildcards.model, "arch": p.arch, "precision": p.precision, "algorithm": p.algorithm,
              "source": p.source, "repeat": p.repeat, "ir": sm.input.xml, **report}
    write_json(sm.output[0], record)
    log.info("%s %s: top-1 %.2f%% on %d images; %s images/s, %s ms batch-1 latency (%d threads)",
             sm.wildcards.model, p.precision, 100 * record["accuracy"], record["n_images"],
             record["images_per_s"], record["latency_ms_median"], sm.threads)
