"""Rule adapter: the breaking point below INT8 and the backends' agreement at W8A8 (synthcal.verdicts)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.io import write_csv
from synthcal.logs import step_logging
from synthcal.verdicts import AGREEMENT_COLUMNS, backend_agreement, breaking_point_chart, breaking_point_table

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    tables = pd.concat([pd.read_csv(f) for f in sm.input.tables], ignore_index=True)
    answer = breaking_point_table(tables, sm.params.sources)
    write_csv(answer, sm.output.table)
    breaking_point_chart(tables, sm.output.figure)
    pair = sm.params.pair
    agreement = backend_agreement(tables, *pair) if pair else pd.DataFrame(columns=AGREEMENT_COLUMNS)
    write_csv(agreement, sm.output.agreement)
    log.info("breaking point:\n%s\nW8A8, NNCF against Brevitas:\n%s", answer.to_string(), agreement.to_string())
