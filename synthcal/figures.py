"""Figures: class-by-row sample grids (as the paper's Figure 2), GAN loss curves, accuracy-drop charts."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from synthcal import CIFAR10_CLASSES
from synthcal.calibration import load_calibration_folder
from synthcal.io import atomic_path
from synthcal.statistics import common_n

if TYPE_CHECKING:
    import pandas as pd


def sample_grid(images: np.ndarray, labels: np.ndarray, path: str | Path, per_class: int = 10, scale: int = 2,
                classes: Sequence[str] = CIFAR10_CLASSES, title: str | None = None) -> Path:
    """Save a PNG with one row per class (its first ``per_class`` images), labelled with the class name."""
    size, pad, label_w = 32 * scale, 2, 80
    top = 18 if title else 0
    width = label_w + per_class * (size + pad)
    canvas = Image.new("RGB", (width, top + len(classes) * (size + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 3), title, fill="black")
    for row, name in enumerate(classes):
        y = top + row * (size + pad)
        draw.text((4, y + size // 2 - 6), name, fill="black")
        for col, idx in enumerate(np.flatnonzero(labels == row)[:per_class]):
            tile = Image.fromarray(images[idx]).resize((size, size), Image.NEAREST)
            canvas.paste(tile, (label_w + col * (size + pad), y))
    with atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
    return Path(path)


def calibration_grid(folder: str | Path, path: str | Path, per_class: int = 10, title: str | None = None) -> Path:
    """A sample-grid figure (rows = classes) of a calibration folder."""

    split, manifest = load_calibration_folder(folder, progress=False)
    return sample_grid(split.images, split.labels, path, per_class=per_class,
                       title=title or f"{manifest.get('source', Path(folder).name)} calibration images")


def loss_curves(history: Sequence[dict[str, float]], path: str | Path, title: str = "training losses") -> Path:
    """Save a PNG with the per-epoch mean of every generator and discriminator loss term."""
    plt = pyplot()
    epochs = [row["epoch"] for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, prefix in zip(axes, ("G_", "D_")):
        keys = sorted({k for row in history for k in row if k.startswith(prefix)})
        for key in keys:
            ax.plot(epochs, [row.get(key, np.nan) for row in history], marker="o", markersize=3,
                    label=key[len(prefix):])
        ax.set_title("generator" if prefix == "G_" else "discriminator")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return save_figure(fig, path)


def read_history(path: str | Path) -> list[dict[str, float]]:
    """A training run's ``losses.csv`` (written by :func:`synthcal.gan.train.write_history`) as rows of floats;
    terms absent in an epoch are NaN."""
    with open(path, newline="") as fh:
        return [{k: float(v) if v not in ("", None) else np.nan for k, v in row.items()} for row in csv.DictReader(fh)]


def training_figures(losses_csv: str | Path, samples_npz: str | Path, curves_png: str | Path, samples_png: str | Path,
                     label: str) -> None:
    """The figures of a GAN training run, drawn from its numeric outputs: loss curves from ``losses.csv`` and the
    fixed-noise sample grid from ``samples.npz`` (images, labels)."""
    history = read_history(losses_csv)
    loss_curves(history, curves_png, title=f"{label} losses")
    with np.load(samples_npz) as npz:
        images, labels = npz["images"], npz["labels"]
    epochs = int(history[-1]["epoch"]) if history else 0
    sample_grid(images, labels, samples_png, per_class=int(np.bincount(labels).max()), title=f"{label}, after {epochs} epochs")


def save_figure(fig, path: str | Path) -> Path:
    """Write a matplotlib figure as PNG, atomically, and close it."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    pyplot().close(fig)
    return Path(path)


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def accuracy_drop_figure(table: pd.DataFrame, value: str = "drop_points", confidence: float | None = None):
    """Grouped bars: the INT8 accuracy drop per model (groups) and calibration source (bars), one panel per
    algorithm. Every bar carries its interval (``<value>`` with ``drop_ci_low``/``drop_ci_high``, or the
    ``drop_percent_ci_*`` columns for ``drop_percent``: test sampling and, with repeats, calibration draws), and the
    reference source's interval is drawn as a band across its model's group, so that a bar whose interval leaves
    the band differs from real data; ``confidence`` names the intervals' level in the title. Returns the matplotlib
    figure (:func:`accuracy_drop_chart` saves it)."""
    plt = pyplot()
    low_col, high_col = (("drop_ci_low", "drop_ci_high") if value == "drop_points" else
                         (f"{value}_ci_low", f"{value}_ci_high"))
    table = table[table[value].notna()] if value in table else table
    algorithms = list(dict.fromkeys(table["algorithm"]))
    fig, axes = plt.subplots(max(len(algorithms), 1), 1, figsize=(max(7, 1.6 * table["model"].nunique() + 3),
                                                                  3.6 * max(len(algorithms), 1)), squeeze=False)
    for ax, algorithm in zip(axes[:, 0], algorithms):
        sub = table[table["algorithm"] == algorithm]
        models = list(dict.fromkeys(sub["model"]))
        sources = list(dict.fromkeys(sub["source"]))
        width = 0.8 / max(len(sources), 1)
        for k, source in enumerate(sources):
            rows = sub[sub["source"] == source].set_index("model").reindex(models)
            height = rows[value].to_numpy(dtype=float)
            err = None
            if low_col in rows and high_col in rows:
                low, high = rows[low_col].to_numpy(dtype=float), rows[high_col].to_numpy(dtype=float)
                err = np.vstack([np.nan_to_num(height - low), np.nan_to_num(high - height)])
            ax.bar(np.arange(len(models)) + (k - (len(sources) - 1) / 2) * width, height, width, yerr=err,
                   label=source, capsize=2)
        reference = sub["reference"].dropna().iloc[0] if "reference" in sub and sub["reference"].notna().any() else None
        if reference is not None and reference in sources and low_col in sub:
            ref = sub[sub["source"] == reference].set_index("model").reindex(models)
            for i, model in enumerate(models):
                if np.isfinite(ref.loc[model, low_col]):
                    ax.fill_between([i - 0.45, i + 0.45], ref.loc[model, low_col], ref.loc[model, high_col],
                                    color="grey", alpha=0.2, linewidth=0,
                                    label=f"{reference} interval" if i == 0 else None)
        ax.set_xticks(np.arange(len(models)), models, rotation=15, fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel("accuracy drop (points)" if value == "drop_points" else value)
        level = f"{100 * confidence:g} % " if confidence else ""
        ax.set_title(f"INT8 accuracy drop with {level}intervals, {algorithm} quantization")
        ax.legend(fontsize=8, ncol=1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="y", alpha=0.3)
    return fig


def per_class_drop_figure(per_class: pd.DataFrame):
    """A heatmap per algorithm: rows = (model, source), columns = classes, cells = the class's INT8 accuracy drop
    in points (annotated), so that a source that keeps the mean and wrecks one class shows as one dark cell.
    Returns the figure (:func:`per_class_drop_chart` saves it)."""
    plt = pyplot()
    algorithms = list(dict.fromkeys(per_class["algorithm"])) or ["(none)"]
    panels = []
    for algorithm in algorithms:
        sub = per_class[per_class["algorithm"] == algorithm]
        rows = list(dict.fromkeys(zip(sub["model"], sub["source"])))
        classes = list(dict.fromkeys(sub["class"]))
        grid = sub.pivot_table(index=["model", "source"], columns="class", values="drop_points", aggfunc="first")
        panels.append((algorithm, rows, classes, grid.reindex(index=rows, columns=classes)))
    height = sum(max(len(r), 1) for _, r, _, _ in panels)
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 1.2 + 0.38 * height + 1.0 * len(panels)), squeeze=False)
    values = np.concatenate([g.to_numpy(dtype=float).ravel() for *_, g in panels]) if panels else np.zeros(1)
    bound = max(1.0, float(np.nanmax(np.abs(values)))) if np.isfinite(values).any() else 1.0
    for ax, (algorithm, rows, classes, grid) in zip(axes[:, 0], panels):
        data = grid.to_numpy(dtype=float)
        image = ax.imshow(data, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
        for (i, j), v in np.ndenumerate(data):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(classes)), classes, rotation=30, fontsize=8)
        ax.set_yticks(range(len(rows)), [f"{m} / {s}" for m, s in rows], fontsize=8)
        ax.set_title(f"per-class INT8 accuracy drop (points), {algorithm} quantization")
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    return fig


def per_class_drop_chart(per_class: pd.DataFrame, path: str | Path) -> Path:
    """Save :func:`per_class_drop_figure` as a PNG."""
    return save_figure(per_class_drop_figure(per_class), path)


def accuracy_drop_chart(table: pd.DataFrame, path: str | Path, value: str = "drop_points",
                        confidence: float | None = None) -> Path:
    """Save :func:`accuracy_drop_figure` as a PNG."""
    return save_figure(accuracy_drop_figure(table, value, confidence), path)


def drop_vs_fid_figure(table: pd.DataFrame, quality: pd.DataFrame):
    """Scatter of the accuracy drop (default algorithm) against each source's FID, one series per model, each
    point labelled with its source; only sources measured at the N of most sets (FID moves with N), per-model sets
    left out. Returns the figure (:func:`drop_vs_fid_chart` saves it)."""
    plt = pyplot()
    fid = quality.dropna(subset=["fid"])
    fid = fid[~fid["source"].str.contains("/")]
    fid = fid[fid["n_images"] == common_n(fid["n_images"])]  # FID moves with N: only sets at one N side by side
    fid = fid.set_index("source")["fid"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sub = table[(table["algorithm"] == "default") & table["source"].isin(fid.index)]
    for model, rows in sub.groupby("model", sort=False):
        ax.scatter(fid.loc[rows["source"]].to_numpy(), rows["drop_points"].to_numpy(), label=model)
        for _, row in rows.iterrows():
            ax.annotate(row["source"], (fid.loc[row["source"]], row["drop_points"]), fontsize=7,
                        textcoords="offset points", xytext=(3, 3))
    if sub.empty:
        ax.text(0.5, 0.5, "no FID values (see reports/image_quality.csv)", ha="center", transform=ax.transAxes)
    ax.set_xlabel("FID against real CIFAR-10 test images (lower = closer)")
    ax.set_ylabel("INT8 accuracy drop (points)")
    ax.set_title("Is a more realistic calibration set a better one?")
    ax.grid(alpha=0.3)
    if not sub.empty:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def drop_vs_fid_chart(table: pd.DataFrame, quality: pd.DataFrame, path: str | Path) -> Path:
    """Save :func:`drop_vs_fid_figure` as a PNG."""
    return save_figure(drop_vs_fid_figure(table, quality), path)


def predictors_figure(cells: pd.DataFrame, correlations: pd.DataFrame):
    """One scatter panel per (measure, outcome) with data: the cells' measure against their drop or flip rate,
    one colour per source, titled with Spearman's rho, its interval and the number of cells (from
    :func:`synthcal.predictors.correlations`). Returns the figure."""
    plt = pyplot()
    measures = [m for m in dict.fromkeys(correlations["measure"]) if cells[m].notna().any()] or ["(none)"]
    outcomes = list(dict.fromkeys(correlations["outcome"]))
    fig, axes = plt.subplots(len(measures), len(outcomes), figsize=(5 * len(outcomes), 2.8 * len(measures)),
                             squeeze=False)
    sources = list(dict.fromkeys(cells["source"]))
    colours = {s: f"C{i % 10}" for i, s in enumerate(sources)}
    for i, measure in enumerate(measures):
        for j, outcome in enumerate(outcomes):
            ax = axes[i, j]
            if measure not in cells:
                ax.set_axis_off()
                continue
            for source in sources:
                sub = cells[(cells["source"] == source) & cells[measure].notna()]
                if len(sub):
                    ax.scatter(sub[measure], sub[outcome], s=18, color=colours[source], label=source)
            row = correlations[(correlations["measure"] == measure) & (correlations["outcome"] == outcome)]
            stats = row.iloc[0] if len(row) else None
            title = "rho not computed"
            if stats is not None and stats["rho"] is not None and np.isfinite(stats["rho"]):
                title = f"rho {stats['rho']:.2f} [{stats['ci_low']:.2f}, {stats['ci_high']:.2f}], {stats['cells']} cells"
            ax.set_title(title, fontsize=8)
            ax.set_xlabel(measure, fontsize=8)
            ax.set_ylabel(outcome, fontsize=8)
            ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper right", fontsize=8)
    fig.suptitle("What predicts the drop? Quality measures of each calibration set against its INT8 drop")
    return fig


def predictors_chart(cells: pd.DataFrame, correlations: pd.DataFrame, path: str | Path) -> Path:
    """Save :func:`predictors_figure` as a PNG."""
    return save_figure(predictors_figure(cells, correlations), path)


def drop_vs_calibration_size_figure(table: pd.DataFrame):
    """The calibration-size sweep: INT8 drop (points) against calibration images, one line per source with the
    repeats' standard deviation as error bars (none for a single run), one panel per model; NNCF's default subset
    (300 images) marked. Returns the figure (:func:`drop_vs_calibration_size_chart` saves it)."""
    plt = pyplot()
    models = list(dict.fromkeys(table["model"]))
    fig, axes = plt.subplots(1, max(len(models), 1), figsize=(6.5 * max(len(models), 1), 4.5), squeeze=False)
    for ax, model in zip(axes[0], models):
        sub = table[table["model"] == model]
        for source, rows in sub.groupby("source", sort=False):
            rows = rows.sort_values("images")
            std = rows["drop_points_std"].to_numpy(dtype=float)
            ax.errorbar(rows["images"], rows["drop_points"], yerr=np.nan_to_num(std) if np.isfinite(std).any() else None,
                        marker="o", markersize=4, capsize=3, label=source)
        ax.axvline(300, color="grey", linestyle=":", linewidth=1, label="NNCF default subset (300)")
        ax.set_xscale("log")
        ax.set_xlabel("calibration images")
        ax.set_ylabel("INT8 accuracy drop (points)")
        ax.set_title(model)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("How many calibration images does each source need?")
    return fig


def drop_vs_calibration_size_chart(table: pd.DataFrame, path: str | Path) -> Path:
    """Save :func:`drop_vs_calibration_size_figure` as a PNG."""
    return save_figure(drop_vs_calibration_size_figure(table), path)


def tracking_curves_figure(curves: Mapping[str, Sequence[Mapping[str, Any]]]):
    """Label agreement and FID against generator steps, one line per training run (``{label: rows of
    synthcal.gan.tracking.tracking_curve}``); FID only where computed. Returns the figure."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for label, rows in curves.items():
        left.plot([r["step"] for r in rows], [100 * r["agreement"] for r in rows], marker=".", label=label)
        with_fid = [r for r in rows if r.get("fid") is not None]
        right.plot([r["step"] for r in with_fid], [r["fid"] for r in with_fid], marker="o", label=label)
    left.axhline(10, color="grey", lw=0.8, ls=":")
    left.set_xlabel("generator steps")
    left.set_ylabel("label agreement (%)")
    left.set_title("recognised as the class they were made for")
    right.set_xlabel("generator steps")
    right.set_ylabel("FID (lower = closer to real)")
    right.set_title("FID against real test images")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def tracking_curves_chart(curves: Mapping[str, Sequence[Mapping[str, Any]]], path: str | Path) -> Path:
    """Save :func:`tracking_curves_figure` as a PNG."""
    return save_figure(tracking_curves_figure(curves), path)
