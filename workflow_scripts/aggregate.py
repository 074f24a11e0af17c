"""Rule adapter: evaluation + quantization JSONs -> result tables (synthcal.aggregate)."""

from synthcal.aggregate import paper_table, quantization_runs, quantization_table, write_csv
from synthcal.io import read_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    runs = quantization_runs([read_json(f) for f in sm.input.fp32], [read_json(f) for f in sm.input.int8],
                             [read_json(f) for f in sm.input.quantization])
    table = quantization_table(runs)
    write_csv(runs, sm.output.runs)
    write_csv(table, sm.output.table)
    write_csv(paper_table(table, sm.params.models, sm.params.sources), sm.output.paper, index=True, decimals=2)
    log.info("wrote %d rows (%d runs) to %s\n%s", len(table), len(runs), sm.output.table,
             table[["model", "source", "fp32_accuracy", "int8_accuracy", "drop_points", "drop_percent"]].to_string())
