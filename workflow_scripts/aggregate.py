"""Rule adapter: evaluation summaries and predictions, quantization reports and speed records -> one algorithm's tables
with intervals and verdicts (synthcal.aggregate, synthcal.statistics)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.aggregate import quantization_runs, quantization_table, speed_rows
from synthcal.io import read_json, write_csv
from synthcal.logs import step_logging
from synthcal.predictions import load_predictions
from synthcal.settings import StatisticsSettings, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    # a variant reports its built-in base's speed measurement (the same graph), under its own name
    speed = [{**row, "algorithm": sm.wildcards.algorithm} for f in sm.input.speed for row in speed_rows(read_json(f))]
    fp32 = [read_json(f) for f in sm.input.fp32]
    int8 = [read_json(f) for f in sm.input.int8]
    predictions = {("fp32", r["model"]): load_predictions(f) for r, f in zip(fp32, sm.input.fp32_predictions)}
    predictions.update({(r["model"], r["source"], r["algorithm"], r.get("repeat") or 0): load_predictions(f)
                        for r, f in zip(int8, sm.input.int8_predictions)})
    runs = quantization_runs(fp32, int8, [read_json(f) for f in sm.input.quantization], predictions, speed)
    table, per_class = quantization_table(runs, predictions, from_params(StatisticsSettings, p.statistics), p.left_out)
    write_csv(runs, sm.output.runs)
    write_csv(table, sm.output.table)
    write_csv(per_class, sm.output.per_class)
    log.info("wrote %d rows (%d runs) to %s\n%s", len(table), len(runs), sm.output.table,
             table[["model", "source", "drop_points", "drop_ci_low", "drop_ci_high", "flip_rate", "verdict"]]
             .to_string())
