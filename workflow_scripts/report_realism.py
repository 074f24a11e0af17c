"""Rule adapter: the realism report of every quality set against real training images (synthcal.realism)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.io import write_csv
from synthcal.logs import step_logging
from synthcal.quality import load_features
from synthcal.realism import PER_CLASS_COLUMNS, REALISM_COLUMNS, realism_rows
from synthcal.settings import RealismSettings, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    reference = load_features(sm.input.reference)
    settings = from_params(RealismSettings, p.settings)
    rows, per_class = [], []
    for name, path, labelled in zip(p.names, sm.input.sets, p.labelled, strict=True):
        row, classes = realism_rows(name, load_features(path), reference, labelled, settings)
        rows.append(row)
        per_class += classes
        log.info("%s: N %d, precision %s, recall %s, density %s, coverage %s, KID %s", name, row["n_images"],
                 row["precision"], row["recall"], row["density"], row["coverage"], row["kid_mean"])
    write_csv(pd.DataFrame(rows, columns=REALISM_COLUMNS), sm.output.report, decimals=6)
    write_csv(pd.DataFrame(per_class, columns=PER_CLASS_COLUMNS), sm.output.per_class, decimals=6)
