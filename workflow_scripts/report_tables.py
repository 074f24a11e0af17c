"""Rule adapter: label-agreement and throughput tables, and the summary figures (synthcal.aggregate/figures)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.aggregate import speed_rows
from synthcal.figures import accuracy_drop_chart, drop_vs_fid_chart, per_class_drop_chart
from synthcal.io import read_json, write_csv
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    agreement = pd.json_normalize([row for f in sm.input.agreement for row in read_json(f)])  # versions.<package>
    write_csv(agreement, sm.output.agreement)
    throughput = pd.DataFrame([row for f in sm.input.throughput for row in speed_rows(read_json(f))])
    write_csv(throughput, sm.output.throughput)
    tables = pd.concat([pd.read_csv(f) for f in sm.input.tables], ignore_index=True)
    accuracy_drop_chart(tables, sm.output.drops, confidence=sm.params.confidence)
    per_class_drop_chart(pd.concat([pd.read_csv(f) for f in sm.input.per_class], ignore_index=True),
                         sm.output.per_class)
    if sm.input.quality:
        drop_vs_fid_chart(tables, pd.read_csv(sm.input.quality[0]), sm.output.fid)
    log.info("label agreement:\n%s\nthroughput:\n%s", agreement.to_string(), throughput.to_string())
