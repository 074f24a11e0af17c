"""Rule adapter: the paper's Table 1 layout of an algorithm's table, and its companion of intervals
(synthcal.aggregate)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.aggregate import paper_intervals, paper_table
from synthcal.io import write_csv
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    table = pd.read_csv(sm.input.table)
    paper = paper_table(table, p.models, p.sources)
    write_csv(paper, sm.output.paper, index=True, decimals=2)
    write_csv(paper_intervals(table, p.models, p.sources), sm.output.intervals, index=True)
    log.info("%s\n%s", sm.wildcards.table, paper.to_string())
