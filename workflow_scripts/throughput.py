"""Rule adapter: FP32 vs INT8 throughput and latency of one model (synthcal.evaluate.compare_throughput)."""

from synthcal.evaluate import compare_throughput
from synthcal.io import write_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    result = compare_throughput(sm.input.fp32, sm.input.int8, sm.threads, p.batch_size, p.seconds, p.repeats)
    write_json(sm.output[0], {"model": sm.wildcards.model, "int8_ir": sm.input.int8, **result})
    log.info("%s: FP32 %.0f img/s, INT8 %.0f img/s (x%.2f); latency %.3f -> %.3f ms", sm.wildcards.model,
             result["fp32_images_per_s"], result["int8_images_per_s"], result["speedup"],
             result["fp32_latency_ms"], result["int8_latency_ms"])
