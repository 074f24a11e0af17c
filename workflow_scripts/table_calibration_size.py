"""Rule adapter: the calibration-size sweep's table and figure (synthcal.aggregate, synthcal.figures)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.aggregate import size_sweep_table
from synthcal.figures import drop_vs_calibration_size_chart
from synthcal.io import read_json, write_csv
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    full = pd.read_csv(sm.input.full[0]) if sm.input.full else None
    table = size_sweep_table([read_json(f) for f in sm.input.fp32], [read_json(f) for f in sm.input.sweep], full)
    write_csv(table, sm.output.table)
    drop_vs_calibration_size_chart(table, sm.output.figure)
    log.info("\n%s", table.to_string())
