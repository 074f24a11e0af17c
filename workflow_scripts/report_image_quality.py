"""Rule adapter: IS and FID of every image set -> results/reports/image_quality.csv (synthcal.quality)."""

import numpy as np
import pandas as pd

from synthcal.aggregate import write_csv
from synthcal.logs import step_logging
from synthcal.quality import image_quality_rows

sm = snakemake  # noqa: F821 (injected by snakemake)


def load(path):
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


with step_logging(sm.log[0]) as log:
    reference = load(sm.input.reference)
    sets = {name: load(path) for name, path in zip(sm.params.names, sm.input.sets)}
    extractors = {str(f["extractor"]) for f in [reference, *sets.values()]}
    if len(extractors) != 1:
        raise ValueError(f"image sets were featurised with different networks ({extractors}); rerun quality_features")
    rows = image_quality_rows(sets, reference, extractors.pop(), sm.params.splits)
    table = pd.DataFrame(rows)
    write_csv(table, sm.output[0])
    log.info("\n%s", table[["source", "n_images", "is_mean", "is_std", "fid"]].to_string())
