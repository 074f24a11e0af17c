"""Result tables: one row per (model, source, algorithm), and the paper's Table 1 layout."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from synthcal.io import atomic_path

#: Columns of ``default_quantization.csv`` in order (accuracies and drops in percent / percentage points).
COLUMNS = [
    "model", "arch", "source", "algorithm",
    "fp32_accuracy", "int8_accuracy", "drop_points", "drop_percent",
    "n_calibration", "subset_size", "seed",
    "fp32_images_per_s", "int8_images_per_s", "speedup",
    "fp32_latency_ms", "int8_latency_ms", "fake_quantize_ops", "quantize_seconds",
]


class AggregationError(ValueError):
    """Evaluation records are missing or inconsistent."""


def accuracy_drop(fp32: float, int8: float) -> tuple[float, float]:
    """(absolute drop in points, relative drop in % of the FP32 accuracy) for accuracies in [0, 1]."""
    points = (fp32 - int8) * 100.0
    percent = (fp32 - int8) / fp32 * 100.0 if fp32 > 0 else float("nan")
    return points, percent


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def quantization_table(fp32: Iterable[Mapping[str, Any]], int8: Iterable[Mapping[str, Any]],
                       quantization: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Join FP32 evaluations (per model), INT8 evaluations and quantization reports (per model, source, algorithm).

    Raises:
        AggregationError: an INT8 record has no FP32 baseline or no quantization report.
    """
    base = {r["model"]: r for r in fp32}
    quant = {(r["model"], r["source"], r["algorithm"]): r for r in quantization}
    rows = []
    for rec in int8:
        key = (rec["model"], rec["source"], rec["algorithm"])
        if rec["model"] not in base:
            raise AggregationError(f"no FP32 evaluation for model {rec['model']!r}")
        if key not in quant:
            raise AggregationError(f"no quantization report for {key}")
        ref, q = base[rec["model"]], quant[key]
        points, percent = accuracy_drop(ref["accuracy"], rec["accuracy"])
        rows.append({
            "model": rec["model"], "arch": rec.get("arch"), "source": rec["source"], "algorithm": rec["algorithm"],
            "fp32_accuracy": ref["accuracy"] * 100.0, "int8_accuracy": rec["accuracy"] * 100.0,
            "drop_points": points, "drop_percent": percent,
            "n_calibration": q["n_calibration"], "subset_size": q["subset_size"], "seed": q["seed"],
            "fp32_images_per_s": ref.get("images_per_s"), "int8_images_per_s": rec.get("images_per_s"),
            "speedup": _ratio(rec.get("images_per_s"), ref.get("images_per_s")),
            "fp32_latency_ms": ref.get("latency_ms_median"), "int8_latency_ms": rec.get("latency_ms_median"),
            "fake_quantize_ops": q.get("fake_quantize_ops"), "quantize_seconds": q.get("seconds"),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def paper_table(table: pd.DataFrame, models: Sequence[str], sources: Sequence[str],
                value: str = "drop_percent") -> pd.DataFrame:
    """The paper's Table 1 layout: rows = calibration sources, columns = models, cells = ``value``.

    Rows and columns follow the given (config) order; combinations without a result are left empty.
    """
    pivot = table.pivot_table(index="source", columns="model", values=value, aggfunc="mean")
    pivot = pivot.reindex(index=list(sources), columns=list(models))
    pivot.index.name = "source"
    pivot.columns.name = None
    return pivot


def write_csv(frame: pd.DataFrame, path: str | Path, index: bool = False, decimals: int = 4) -> None:
    """Write a table atomically, rounding floats to ``decimals``."""
    with atomic_path(path) as tmp:
        frame.round(decimals).to_csv(tmp, index=index)
