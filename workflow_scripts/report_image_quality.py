"""Rule adapter: IS and FID of every quality set -> reports/image_quality.csv and the paper's Table 2."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.io import write_csv
from synthcal.logs import step_logging
from synthcal.quality import load_features
from synthcal.quality_report import image_quality_rows, table2

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    reference = load_features(sm.input.reference)
    sets = {name: load_features(path) for name, path in zip(sm.params.names, sm.input.sets, strict=True)}
    rows = image_quality_rows(sets, reference, reference["extractor"])
    write_csv(pd.DataFrame(rows), sm.output.report)
    write_csv(pd.DataFrame(table2(rows)), sm.output.table2)
    log.info("\n%s", pd.DataFrame(table2(rows)).to_string())
