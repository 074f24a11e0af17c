"""Rule adapter: where the calibration data matters, from every algorithm's table (synthcal.aggregate, figures)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.io import write_csv
from synthcal.logs import step_logging
from synthcal.verdicts import data_matters_chart, data_matters_table

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    tables = pd.concat([pd.read_csv(f) for f in sm.input.tables], ignore_index=True)
    answer = data_matters_table(tables, sm.params.sources)
    write_csv(answer, sm.output.table)
    data_matters_chart(tables, sm.output.figure, sm.params.confidence)
    log.info("where the calibration data matters:\n%s", answer.to_string())
