"""Rule adapter: quality measures against drops and flip rates, with rank correlations (synthcal.predictors)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.figures import predictors_chart
from synthcal.io import write_csv
from synthcal.logs import step_logging
from synthcal.predictors import cell_measures, correlations
from synthcal.settings import StatisticsSettings, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    tables = pd.concat([pd.read_csv(f) for f in sm.input.tables], ignore_index=True)
    quality = pd.read_csv(sm.input.quality[0]) if sm.input.quality else None
    realism = pd.read_csv(sm.input.realism[0]) if sm.input.realism else None
    cells = cell_measures(tables, quality, realism, pd.read_csv(sm.input.agreement),
                          {(m, s): name for m, s, name in p.set_names})
    table = correlations(cells, from_params(StatisticsSettings, p.statistics))
    write_csv(cells, sm.output.cells)
    write_csv(table, sm.output.correlations)
    predictors_chart(cells, table, sm.output.figure)
    log.info("\n%s", table.to_string())
