"""What predicts the drop? Each source's quality measures against the INT8 drop and flip rate of the cells it
calibrated, with a rank correlation across the grid's cells and its interval.

A cell is one (model, algorithm, source) of the quantization tables. Its measures are its calibration set's: IS and
FID (reports/image_quality.csv), precision, recall, density, coverage and mean per-class KID (reports/realism.csv),
and label agreement (reports/label_agreement.csv, by the judge). Per-model sources (BN inversion, the filtered
sets) have one set per model (``source/model``). A measure is correlated only over cells whose sets were measured
at the same N (the most common one), since IS, FID and the k-NN measures move with N. With fewer than 10 cells the
correlation is small-sample evidence, and the table says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthcal.statistics import StatisticsSettings, common_n, rank_correlation

#: Quality measures and the report column each comes from.
MEASURES = {"is_mean": "inception score", "fid": "FID", "precision": "precision", "recall": "recall",
            "density": "density", "coverage": "coverage", "kid_mean": "per-class KID (mean)",
            "label_agreement": "label agreement"}
#: Outcomes a measure is correlated with.
OUTCOMES = {"drop_points": "INT8 drop (points)", "flip_rate": "flip rate (%)"}
#: Below this many cells a correlation is flagged as small-sample evidence.
SMALL_SAMPLE = 10
CORRELATION_COLUMNS = ["measure", "outcome", "cells", "n_images", "rho", "ci_low", "ci_high", "note"]


def cell_measures(tables: pd.DataFrame, quality: pd.DataFrame | None, realism: pd.DataFrame | None,
                  agreement: pd.DataFrame | None, set_names: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """One row per cell that ran (model, algorithm, source, drop_points, flip_rate) with its calibration set's
    measures (NaN where not measured) and the N of each (``<measure>_n``); ``set_names`` maps (model, source) to
    the quality set's name (``source`` or ``source/model``)."""
    cells = tables[tables["drop_points"].notna()][["model", "algorithm", "source", "drop_points", "flip_rate"]].copy()
    cells["set"] = [set_names.get((m, s), s) for m, s in zip(cells["model"], cells["source"])]
    by_set: dict[str, dict[str, Any]] = {}
    for frame, columns in ((quality, ("is_mean", "fid")),
                           (realism, ("precision", "recall", "density", "coverage", "kid_mean"))):
        if frame is None or frame.empty:
            continue
        for row in frame.itertuples():
            entry = by_set.setdefault(row.source, {})
            for column in columns:
                entry[column] = getattr(row, column)
                entry[f"{column}_n"] = row.n_images
    if agreement is not None and not agreement.empty:
        for row in agreement.itertuples():  # one judge per set (or each model judging its own sets)
            name = row.set if hasattr(row, "set") else row.source
            entry = by_set.setdefault(name, {})
            if getattr(row, "labelled", True) in (True, "True", 1):
                entry["label_agreement"], entry["label_agreement_n"] = 100.0 * row.accuracy, row.n_images
    for measure in MEASURES:
        cells[measure] = [by_set.get(s, {}).get(measure, np.nan) for s in cells["set"]]
        cells[f"{measure}_n"] = [by_set.get(s, {}).get(f"{measure}_n", np.nan) for s in cells["set"]]
    return cells.reset_index(drop=True)


def correlations(cells: pd.DataFrame, settings: StatisticsSettings) -> pd.DataFrame:
    """Spearman's rho of every measure with every outcome across the cells measured at the measure's most common
    N, with a bootstrap interval over cells (:func:`synthcal.statistics.rank_correlation`)."""
    rows = []
    for measure in MEASURES:
        sub = cells[cells[measure].notna()]
        n_images = common_n(sub[f"{measure}_n"])
        same_n = sub[sub[f"{measure}_n"] == n_images]
        for outcome in OUTCOMES:
            out = rank_correlation(same_n[measure], same_n[outcome], settings)
            left = len(sub) - len(same_n)
            notes = []
            if out["rho"] is None:
                notes.append("not computed: fewer than 3 cells or a constant measure")
            elif out["n"] < SMALL_SAMPLE:
                notes.append(f"small-sample evidence ({out['n']} cells)")
            if left:
                notes.append(f"{left} cells at another N left out")
            rows.append({"measure": measure, "outcome": outcome, "cells": out["n"],
                         "n_images": n_images, "rho": out["rho"],
                         "ci_low": out["ci_low"], "ci_high": out["ci_high"], "note": "; ".join(notes) or None})
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
