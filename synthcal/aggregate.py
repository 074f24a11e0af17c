"""Result tables: one row per (model, source, algorithm), and the paper's Table 1 layout."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthcal import CIFAR10_CLASSES
from synthcal.machine import machine_label
from synthcal.predictions import Predictions
from synthcal.statistics import StatisticsSettings, compare_to_reference, drop_statistics, holm, per_class_drops

#: Columns of ``default_quantization.csv`` in order (accuracies, drops and flip rates in percent / percentage points;
#: intervals and verdicts as synthcal.statistics computes them).
COLUMNS = [
    "model", "arch", "source", "algorithm", "calibration_data", "precision", "method", "execution",
    "fp32_accuracy", "int8_accuracy", "drop_points", "drop_ci_low", "drop_ci_high",
    "drop_percent", "drop_percent_ci_low", "drop_percent_ci_high", "flip_rate", "flip_ci_low", "flip_ci_high",
    "reference", "diff_vs_reference", "diff_ci_low", "diff_ci_high", "verdict", "mcnemar_p", "mcnemar_p_holm",
    "worst_class", "worst_class_drop",
    "n_calibration", "subset_size", "batch_size", "channel_alignment", "seed",
    "fp32_images_per_s", "int8_images_per_s", "speedup",
    "fp32_latency_ms", "int8_latency_ms", "fake_quantize_ops", "quantize_seconds",
    "repeats", "int8_accuracy_std", "drop_points_std", "drop_points_min", "drop_points_max", "drop_percent_std",
    "machine", "note",
]
#: Columns of ``<algorithm>_per_class.csv``: every class's accuracy and drop per (model, source).
PER_CLASS_COLUMNS = ["model", "source", "algorithm", "class", "fp32_accuracy", "int8_accuracy", "drop_points"]

#: Extra columns of the accuracy-aware table (from its quantization reports).
ACCURACY_AWARE_COLUMNS = ["max_drop", "drop_type", "validation", "validation_metric", "reverted_ops", "quantized_ops",
                          "reached_required_drop", "validation_fp32_accuracy", "validation_int8_accuracy"]
#: Values that vary between repeats and are summarised by mean (and std where named in COLUMNS).
_VARYING = ["int8_accuracy", "drop_points", "drop_percent", "fake_quantize_ops", "quantize_seconds", "reverted_ops",
            "validation_fp32_accuracy", "validation_int8_accuracy"]
#: Speed columns, joined from the one speed measurement per (model, algorithm, source) (synthcal.speed).
SPEED_COLUMNS = ["fp32_images_per_s", "int8_images_per_s", "speedup", "fp32_latency_ms", "int8_latency_ms"]


class AggregationError(ValueError):
    """Evaluation records are missing or inconsistent."""


def accuracy_drop(fp32: float, int8: float) -> tuple[float, float]:
    """(absolute drop in points, relative drop in % of the FP32 accuracy) for accuracies in [0, 1]."""
    points = (fp32 - int8) * 100.0
    percent = (fp32 - int8) / fp32 * 100.0 if fp32 > 0 else float("nan")
    return points, percent


def speed_rows(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per INT8 IR of a model's speed record (``fp32`` and ``int8/<source>`` entries of
    :func:`synthcal.speed.compare_speed`, plus ``model`` and ``algorithm``): FP32 and INT8 throughput and latency, speed-ups."""
    fp32 = record["irs"]["fp32"]
    rows = []
    for name, int8 in record["irs"].items():
        if name == "fp32":
            continue
        rows.append({
            "model": record["model"], "algorithm": record["algorithm"], "source": name.removeprefix("int8/"),
            "threads": record["threads"], "batch_size": record["batch_size"],
            "fp32_images_per_s": fp32["images_per_s"], "int8_images_per_s": int8["images_per_s"],
            "speedup": int8["images_per_s"] / fp32["images_per_s"],
            "fp32_latency_ms": fp32["latency_ms"], "int8_latency_ms": int8["latency_ms"],
            "fp32_latency_ms_p90": fp32["latency_ms_p90"], "int8_latency_ms_p90": int8["latency_ms_p90"],
            "latency_speedup": fp32["latency_ms"] / int8["latency_ms"]})
    return rows


#: How a predictions mapping keys an evaluation: ("fp32", model) or (model, source, algorithm, repeat).
PredictionKey = tuple


def _predicted(predictions: Mapping[PredictionKey, Predictions], key: PredictionKey,
               record: Mapping[str, Any]) -> Predictions:
    """The stored predictions of an evaluation record, checked against the accuracy its summary states."""
    if key not in predictions:
        raise AggregationError(f"no stored predictions for {key}")
    found = predictions[key]
    if abs(found.accuracy() - float(record["accuracy"])) > 1e-9:
        raise AggregationError(f"the predictions of {key} give top-1 {found.accuracy():.6f}, its summary says "
                               f"{record['accuracy']:.6f}: one of the two files is stale; rerun its evaluation")
    return found


def quantization_runs(fp32: Iterable[Mapping[str, Any]], int8: Iterable[Mapping[str, Any]],
                      quantization: Iterable[Mapping[str, Any]], predictions: Mapping[PredictionKey, Predictions],
                      speed: Iterable[Mapping[str, Any]] = ()) -> pd.DataFrame:
    """One row per (model, source, algorithm, repeat): FP32 evaluations (per model) joined with INT8 evaluations,
    quantization reports and the speed rows of :func:`speed_rows` (measured on repeat 0's IR, the same structure
    as every repeat's; empty where not measured). Accuracies come from the stored per-image ``predictions``
    (keyed ``("fp32", model)`` and ``(model, source, algorithm, repeat)``), checked against the summaries.

    Raises:
        AggregationError: an INT8 record has no FP32 baseline, no quantization report or no predictions, or a
            summary disagrees with its predictions.
    """
    base = {r["model"]: r for r in fp32}
    quant = {(r["model"], r["source"], r["algorithm"], r.get("repeat") or 0): r for r in quantization}
    speeds = {(r["model"], r["source"], r["algorithm"]): r for r in speed}
    rows = []
    for rec in int8:
        key = (rec["model"], rec["source"], rec["algorithm"], rec.get("repeat") or 0)
        if rec["model"] not in base:
            raise AggregationError(f"no FP32 evaluation for model {rec['model']!r}")
        if key not in quant:
            raise AggregationError(f"no quantization report for {key}")
        ref, q = base[rec["model"]], quant[key]
        fp32_acc = _predicted(predictions, ("fp32", rec["model"]), ref).accuracy()
        int8_acc = _predicted(predictions, key, rec).accuracy()
        points, percent = accuracy_drop(fp32_acc, int8_acc)
        timing = speeds.get(key[:3], {})
        rows.append({
            "model": rec["model"], "arch": rec.get("arch"), "source": rec["source"], "algorithm": rec["algorithm"],
            "calibration_data": q.get("calibration_data"), "precision": q.get("precision", "W8A8"),
            "method": q.get("method") or f"nncf {q['algorithm']}",
            "execution": q.get("execution", "OpenVINO INT8"),
            "fp32_accuracy": fp32_acc * 100.0, "int8_accuracy": int8_acc * 100.0,
            "drop_points": points, "drop_percent": percent,
            "n_calibration": q["n_calibration"], "subset_size": q["subset_size"], "batch_size": q.get("batch_size"),
            "channel_alignment": q.get("channel_alignment_applied"),
            "seed": q["seed"],
            **{c: timing.get(c) for c in SPEED_COLUMNS},
            "fake_quantize_ops": q.get("fake_quantize_ops"), "quantize_seconds": q.get("seconds"),
            "machine": machine_label(rec.get("machine")),
            "repeat": key[3], **{c: q[c] for c in ACCURACY_AWARE_COLUMNS if c in q},
        })
    runs = pd.DataFrame(rows)
    if runs.empty:
        return pd.DataFrame(columns=[c for c in COLUMNS if c in _RUN_COLUMNS] + ["repeat"])
    return runs  # in input order: the workflow passes models, sources and repeats in config order


#: Columns of a run (one repeat), before the cell's statistics.
_RUN_COLUMNS = ["model", "arch", "source", "algorithm", "calibration_data", "precision", "method", "execution",
                "fp32_accuracy", "int8_accuracy",
                "drop_points", "drop_percent", "n_calibration", "subset_size", "batch_size", "channel_alignment", "seed",
                *SPEED_COLUMNS, "fake_quantize_ops", "quantize_seconds", "machine"]


def _cell_draws(group: pd.DataFrame, predictions: Mapping[PredictionKey, Predictions]) -> list[Predictions]:
    return [predictions[(r.model, r.source, r.algorithm, int(r.repeat))] for r in group.itertuples()]


def quantization_table(runs: pd.DataFrame, predictions: Mapping[PredictionKey, Predictions],
                       settings: StatisticsSettings,
                       left_out: Iterable[Mapping[str, Any]] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summarise repeats and say how sure each number is: one row per (model, source, algorithm) with the means
    over repeats, their intervals, flip rate, worst class and the comparison with the reference source
    (:mod:`synthcal.statistics`, computed from the stored ``predictions``); then one row per left-out (model,
    source) (``left_out``: model, source, note), empty but for its ``note``, so that a pair that could not run says
    why instead of missing. Returns (table, per-class table).

    The seed column holds the first repeat's seed (repeat r used seed + r). With one repeat the std columns are
    empty. McNemar p-values are Holm-corrected over the table's comparisons (``mcnemar_p_holm``).
    """
    keys = ["model", "arch", "source", "algorithm"]
    extra = [c for c in ACCURACY_AWARE_COLUMNS if c in runs.columns]
    rows, per_class = [], []
    cells = {}
    for _, group in runs.groupby(keys, sort=False, dropna=False):
        first = group.iloc[0]
        row = {c: first[c] for c in COLUMNS if c in group.columns}
        row.update({c: first[c] for c in extra})
        for c in _VARYING:
            if c in group.columns:
                row[c] = pd.to_numeric(group[c], errors="coerce").mean()
        row["seed"] = int(group["seed"].min())
        row["repeats"] = len(group)
        for c in ("int8_accuracy", "drop_points", "drop_percent"):
            row[f"{c}_std"] = group[c].std(ddof=1) if len(group) > 1 else float("nan")
        row["machine"] = "; ".join(dict.fromkeys(group["machine"]))
        fp32, draws = predictions[("fp32", first["model"])], _cell_draws(group, predictions)
        spread = drop_statistics(fp32, draws, settings)
        row.update({k: v for k, v in spread.items() if k in COLUMNS})
        base, quant, drops = per_class_drops(fp32, draws, len(CIFAR10_CLASSES))
        worst = int(np.nanargmax(drops))
        row["worst_class"], row["worst_class_drop"] = CIFAR10_CLASSES[worst], float(drops[worst])
        per_class += [{"model": first["model"], "source": first["source"], "algorithm": first["algorithm"],
                       "class": name, "fp32_accuracy": base[i], "int8_accuracy": quant[i], "drop_points": drops[i]}
                      for i, name in enumerate(CIFAR10_CLASSES)]
        cells[(first["model"], first["source"])] = draws
        rows.append(row)
    _compare(rows, cells, settings)
    algorithm = runs["algorithm"].iloc[0] if len(runs) else None
    rows += [{"model": r["model"], "arch": r.get("arch"), "source": r["source"], "algorithm": algorithm,
              "note": r["note"]} for r in left_out]
    return pd.DataFrame(rows, columns=COLUMNS + extra), pd.DataFrame(per_class, columns=PER_CLASS_COLUMNS)


def _compare(rows: list[dict[str, Any]], cells: Mapping[tuple[str, str], list[Predictions]],
             settings: StatisticsSettings) -> None:
    """Fill each row's comparison with the reference source of its model (in place); Holm over the table."""
    reference = settings.reference
    compared = []
    for row in rows:
        if reference is None:
            continue
        row["reference"] = reference
        if row["source"] == reference:
            continue  # the reference row has no verdict
        ref = cells.get((row["model"], reference))
        if ref is None:
            row["note"] = f"no verdict: the reference source {reference} did not run for {row['model']}"
            continue
        row.update(compare_to_reference(cells[(row["model"], row["source"])], ref, settings))
        compared.append(row)
    for row, adjusted in zip(compared, holm([r["mcnemar_p"] for r in compared])):
        row["mcnemar_p_holm"] = adjusted


def paper_table(table: pd.DataFrame, models: Sequence[str], sources: Sequence[str],
                value: str = "drop_percent") -> pd.DataFrame:
    """The paper's Table 1 layout: rows = calibration sources, columns = models, cells = ``value``, and a last
    column ``calibration_data`` saying what each source's images are (e.g. how the fractals were coloured), since
    the name alone may claim more than was run. Per-model descriptions of one source (BN inversion of each model)
    are joined.

    Rows and columns follow the given (config) order; combinations without a result are left empty.
    """
    pivot = table.pivot_table(index="source", columns="model", values=value, aggfunc="mean")
    pivot = pivot.reindex(index=list(sources), columns=list(models))
    pivot.index.name = "source"
    pivot.columns.name = None
    if "calibration_data" in table.columns:
        described = table.dropna(subset=["calibration_data"]).groupby("source", sort=False)["calibration_data"]
        pivot["calibration_data"] = described.agg(lambda s: "; ".join(dict.fromkeys(s))).reindex(pivot.index)
    return pivot


def paper_intervals(table: pd.DataFrame, models: Sequence[str], sources: Sequence[str]) -> pd.DataFrame:
    """The companion of :func:`paper_table`: the same layout, each cell ``drop [low, high]``: the relative drop in %
    of FP32 and its interval (synthcal.statistics), two decimals; empty where a pair did not run."""
    def cell(row: pd.Series) -> str:
        if pd.isna(row["drop_percent"]):
            return ""
        return f"{row['drop_percent']:.2f} [{row['drop_percent_ci_low']:.2f}, {row['drop_percent_ci_high']:.2f}]"

    cells = table.assign(cell=table.apply(cell, axis=1))
    pivot = cells.pivot_table(index="source", columns="model", values="cell", aggfunc="first")
    pivot = pivot.reindex(index=list(sources), columns=list(models)).fillna("")
    pivot.index.name = "source"
    pivot.columns.name = None
    return pivot


def fusion_table(tables: Iterable[pd.DataFrame], pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """RepVGG multi-branch vs fused side by side, per (pair, source, algorithm)."""
    frame = pd.concat(list(tables), ignore_index=True)
    rows = []
    for multi, fused in pairs:
        a = frame[frame["model"] == multi].set_index(["source", "algorithm"])
        b = frame[frame["model"] == fused].set_index(["source", "algorithm"])
        for key in a.index.intersection(b.index):
            rows.append({"source": key[0], "algorithm": key[1], "multi_branch": multi, "fused": fused,
                         "fp32_accuracy_multi_branch": a.loc[key, "fp32_accuracy"],
                         "fp32_accuracy_fused": b.loc[key, "fp32_accuracy"],
                         "int8_accuracy_multi_branch": a.loc[key, "int8_accuracy"],
                         "int8_accuracy_fused": b.loc[key, "int8_accuracy"],
                         "drop_percent_multi_branch": a.loc[key, "drop_percent"],
                         "drop_percent_fused": b.loc[key, "drop_percent"]})
    return pd.DataFrame(rows)


#: NNCF's default calibration subset (items; images with one image per item): sizes below it run NNCF's statistics
#: and fast bias correction on fewer images than its defaults assume.
NNCF_DEFAULT_SUBSET = 300
#: Columns of tables/calibration_size.csv.
SIZE_COLUMNS = ["model", "source", "images_per_class", "images", "repeats", "int8_accuracy", "int8_accuracy_std",
                "drop_points", "drop_points_std", "full_drop_points", "within_0_2_of_full", "smallest_size_within_0_2",
                "below_nncf_default_subset"]


def size_sweep_table(fp32: Iterable[Mapping[str, Any]], sweep: Iterable[Mapping[str, Any]],
                     full: pd.DataFrame | None = None, tolerance: float = 0.2) -> pd.DataFrame:
    """The calibration-size sweep: one row per (model, source, images per class) with the mean and standard
    deviation over repeats of the INT8 accuracy and drop (points), the drop of the full calibration folder
    (``full``: the default algorithm's table, if run), whether a size is within ``tolerance`` points of it, the
    smallest such size per (model, source), and whether the size is below NNCF's default subset of 300 images."""
    base = {r["model"]: r["accuracy"] for r in fp32}
    rows = []
    for rec in sweep:
        if rec["model"] not in base:
            raise AggregationError(f"no FP32 evaluation for model {rec['model']!r}")
        rows.append({"model": rec["model"], "source": rec["source"], "images_per_class": int(rec["images_per_class"]),
                     "int8": rec["accuracy"] * 100.0, "drop": accuracy_drop(base[rec["model"]], rec["accuracy"])[0]})
    runs = pd.DataFrame(rows, columns=["model", "source", "images_per_class", "int8", "drop"])
    out = []
    for (model, source, k), group in runs.groupby(["model", "source", "images_per_class"], sort=False):
        reference = None
        if full is not None and not full.empty:
            match = full[(full["model"] == model) & (full["source"] == source)]
            reference = float(match["drop_points"].iloc[0]) if len(match) else None
        drop = float(group["drop"].mean())
        out.append({"model": model, "source": source, "images_per_class": int(k), "images": int(k) * 10,
                    "repeats": len(group), "int8_accuracy": float(group["int8"].mean()),
                    "int8_accuracy_std": float(group["int8"].std(ddof=1)) if len(group) > 1 else float("nan"),
                    "drop_points": drop,
                    "drop_points_std": float(group["drop"].std(ddof=1)) if len(group) > 1 else float("nan"),
                    "full_drop_points": reference,
                    "within_0_2_of_full": None if reference is None else bool(abs(drop - reference) <= tolerance),
                    "below_nncf_default_subset": int(k) * 10 < NNCF_DEFAULT_SUBSET})
    table = pd.DataFrame(out, columns=[c for c in SIZE_COLUMNS if c != "smallest_size_within_0_2"])
    table = table.sort_values(["model", "source", "images_per_class"], kind="stable").reset_index(drop=True)
    smallest = {}
    for (model, source), group in table.groupby(["model", "source"], sort=False):
        within = group[group["within_0_2_of_full"] == True]  # noqa: E712 (None/NaN are not True)
        smallest[(model, source)] = int(within["images_per_class"].min()) if len(within) else None
    table["smallest_size_within_0_2"] = [smallest[(m, s)] for m, s in zip(table["model"], table["source"])]
    return table[SIZE_COLUMNS]
