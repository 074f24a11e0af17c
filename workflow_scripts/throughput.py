"""Rule adapter: FP32 vs INT8 speed of one model's IRs, measured once (synthcal.speed.compare_speed)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.cpus import limit_cpus
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped
from synthcal.speed import compare_speed

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    irs = {"fp32": sm.input.fp32, **{f"int8/{s}": x for s, x in zip(p.sources, sm.input.int8, strict=True)}}
    record = {"model": sm.wildcards.model, "algorithm": sm.wildcards.algorithm,
              **compare_speed(irs, sm.threads, p.batch_size, p.seconds, p.repeats)}
    write_json(sm.output[0], stamped(record))
    for name, speed in record["irs"].items():
        log.info("%s %s %s: %.0f images/s (batch %d), batch-1 latency %.3f ms (p90 %.3f)", sm.wildcards.model,
                 sm.wildcards.algorithm, name, speed["images_per_s"], p.batch_size, speed["latency_ms"],
                 speed["latency_ms_p90"])
