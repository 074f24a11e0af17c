"""Rule adapter: RepVGG multi-branch vs fused rows side by side (synthcal.aggregate.fusion_table)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.aggregate import fusion_table
from synthcal.io import write_csv
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    table = fusion_table([pd.read_csv(f) for f in sm.input.tables], [tuple(p) for p in sm.params.pairs])
    write_csv(table, sm.output[0])
    log.info("wrote %d rows to %s", len(table), sm.output[0])
