"""Rule adapter: evaluation + quantization JSONs and speed records -> result tables (synthcal.aggregate)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.aggregate import paper_table, quantization_runs, quantization_table, speed_rows, write_csv
from synthcal.io import read_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    speed = [row for f in sm.input.speed for row in speed_rows(read_json(f))]
    runs = quantization_runs([read_json(f) for f in sm.input.fp32], [read_json(f) for f in sm.input.int8],
                             [read_json(f) for f in sm.input.quantization], speed)
    table = quantization_table(runs, sm.params.left_out)
    write_csv(runs, sm.output.runs)
    write_csv(table, sm.output.table)
    write_csv(paper_table(table, sm.params.models, sm.params.sources), sm.output.paper, index=True, decimals=2)
    log.info("wrote %d rows (%d runs) to %s\n%s", len(table), len(runs), sm.output.table,
             table[["model", "source", "fp32_accuracy", "int8_accuracy", "drop_points", "drop_percent"]].to_string())
