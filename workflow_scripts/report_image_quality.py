"""Rule adapter: IS and FID of every image set -> results/reports/image_quality.csv (synthcal.quality)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import pandas as pd

from synthcal.aggregate import write_csv
from synthcal.logs import step_logging
from synthcal.quality import image_quality_rows, load_features

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    reference = load_features(sm.input.reference)
    sets = {name: load_features(path) for name, path in zip(sm.params.names, sm.input.sets, strict=True)}
    table = pd.DataFrame(image_quality_rows(sets, reference, reference["extractor"], sm.params.splits))
    write_csv(table, sm.output[0])
    log.info("\n%s", table[["source", "n_images", "is_mean", "is_std", "fid"]].to_string())
