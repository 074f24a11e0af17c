"""The answers the grid gives, from the algorithms' tables (synthcal.aggregate): where the calibration data matters
(each model and algorithm, every source against the reference source), where it starts to matter as the bit width
falls (the breaking point), and whether the two backends agree where they overlap (W8A8).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from synthcal.figures import pyplot, save_figure

#: Columns of where_data_matters.csv before the per-source cells.
DATA_MATTERS_COLUMNS = ["model", "algorithm", "reference", "data_matters", "differs", "equivalent", "inconclusive",
                        "spread_points", "lowest_source", "highest_source"]


def data_matters_table(table: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    """Where the calibration data matters: one row per (model, algorithm) of the algorithms' tables (concatenated),
    each source's cell ``drop [low, high] verdict`` (points, its interval, its verdict against the reference
    source), the spread of the drops across sources (largest minus smallest, points) and the answer:
    ``data_matters`` is ``yes`` where some source's drop differs from the reference's (verdict worse or better),
    ``no`` where every source is equivalent to it, ``undecided`` otherwise (an interval too wide to tell),
    ``no reference`` without one and ``no comparison`` where only the reference ran."""
    rows = []
    for (model, algorithm), cell in table.groupby(["model", "algorithm"], sort=False):
        cell = cell.set_index("source")
        reference = cell["reference"].dropna().iloc[0] if "reference" in cell and cell["reference"].notna().any() \
            else None
        compared = cell["verdict"].dropna() if "verdict" in cell else pd.Series(dtype=object)
        differs = [s for s, v in compared.items() if v in ("worse", "better")]
        answer = ("no reference" if reference is None else "no comparison" if not len(compared) else
                  "yes" if differs else "no" if (compared == "equivalent").all() else "undecided")
        drops = cell["drop_points"].dropna()
        row = {"model": model, "algorithm": algorithm, "reference": reference, "data_matters": answer,
               "differs": " ".join(f"{s} ({compared[s]})" for s in differs),
               "equivalent": int((compared == "equivalent").sum()), "inconclusive": int((compared == "inconclusive").sum()),
               "spread_points": float(drops.max() - drops.min()) if len(drops) else None,
               "lowest_source": drops.idxmin() if len(drops) else None,
               "highest_source": drops.idxmax() if len(drops) else None}
        for source in sources:
            if source in cell.index and pd.notna(cell.loc[source, "drop_points"]):
                r = cell.loc[source]
                verdict = r.get("verdict") if pd.notna(r.get("verdict")) else ("reference" if source == reference
                                                                               else "")
                row[source] = (f"{r['drop_points']:.2f} [{r['drop_ci_low']:.2f}, {r['drop_ci_high']:.2f}] "
                               f"{verdict}").strip()
            else:
                row[source] = ""
        rows.append(row)
    return pd.DataFrame(rows, columns=DATA_MATTERS_COLUMNS + list(sources))


def _bits(precision: str) -> tuple[int, int]:
    """(weight bits, activation bits) of ``W<w>A<a>``."""
    found = re.fullmatch(r"W(\d+)A(\d+)", str(precision))
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def breaking_point_table(table: pd.DataFrame, sources: Sequence[str]) -> pd.DataFrame:
    """Where the calibration source starts to matter as the precision falls: :func:`data_matters_table` of every
    algorithm, with its precision, method and execution, ordered per model and method from the widest precision
    to the narrowest (the NNCF INT8 rows first, as executed)."""
    answer = data_matters_table(table, sources)
    described = table.drop_duplicates("algorithm").set_index("algorithm")[["precision", "method", "execution"]]
    answer = answer.join(described, on="algorithm")
    weights, activations = zip(*answer["precision"].map(_bits)) if len(answer) else ((), ())
    answer = answer.assign(_w=list(weights), _a=list(activations),
                           _simulated=answer["execution"].str.startswith("simulated"))
    answer = answer.sort_values(["model", "_simulated", "method", "_w", "_a"], ascending=[True, True, True, False,
                                                                                          False], kind="stable")
    front = ["model", "precision", "method", "execution", "algorithm"]
    return answer[front + [c for c in answer.columns if c not in front and not c.startswith("_")]].reset_index(
        drop=True)


#: Columns of backend_agreement.csv.
AGREEMENT_COLUMNS = ["model", "source", "nncf_algorithm", "nncf_drop", "nncf_ci_low", "nncf_ci_high",
                     "brevitas_algorithm", "brevitas_drop", "brevitas_ci_low", "brevitas_ci_high", "agrees"]


def backend_agreement(table: pd.DataFrame, nncf: str, brevitas: str) -> pd.DataFrame:
    """Where the two backends overlap: NNCF's INT8 (``nncf``, executed by OpenVINO) and a Brevitas W8A8 algorithm
    (``brevitas``, simulated), per (model, source); ``agrees`` when the Brevitas drop lies within NNCF's interval."""
    rows = []
    a = table[table["algorithm"] == nncf].set_index(["model", "source"])
    b = table[table["algorithm"] == brevitas].set_index(["model", "source"])
    for key in a.index.intersection(b.index):
        x, y = a.loc[key], b.loc[key]
        rows.append({"model": key[0], "source": key[1], "nncf_algorithm": nncf, "nncf_drop": x["drop_points"],
                     "nncf_ci_low": x["drop_ci_low"], "nncf_ci_high": x["drop_ci_high"], "brevitas_algorithm": brevitas,
                     "brevitas_drop": y["drop_points"], "brevitas_ci_low": y["drop_ci_low"],
                     "brevitas_ci_high": y["drop_ci_high"],
                     "agrees": bool(x["drop_ci_low"] <= y["drop_points"] <= x["drop_ci_high"])})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def data_matters_figure(table: pd.DataFrame, confidence: float | None = None):
    """Where the calibration data matters: one panel per model, the algorithms along x, each source's drop a marker
    with its interval (sources side by side), the reference source's interval a grey band over its algorithm, so
    that a source whose interval leaves the band differs from real data. Returns the figure."""
    plt = pyplot()
    models = list(dict.fromkeys(table["model"]))
    sources = list(dict.fromkeys(table["source"]))
    fig, axes = plt.subplots(len(models), 1, figsize=(max(7, 1.4 * table["algorithm"].nunique() + 4),
                                                      3.2 * max(len(models), 1)), squeeze=False)
    colours = plt.get_cmap("tab10")
    for ax, model in zip(axes[:, 0], models):
        sub = table[table["model"] == model]
        algorithms = list(dict.fromkeys(sub["algorithm"]))
        step = 0.8 / max(len(sources), 1)
        for k, source in enumerate(sources):
            rows = sub[sub["source"] == source].set_index("algorithm").reindex(algorithms)
            x = np.arange(len(algorithms)) + (k - (len(sources) - 1) / 2) * step
            y = rows["drop_points"].to_numpy(dtype=float)
            err = np.vstack([np.nan_to_num(y - rows["drop_ci_low"].to_numpy(dtype=float)),
                             np.nan_to_num(rows["drop_ci_high"].to_numpy(dtype=float) - y)])
            ax.errorbar(x, y, yerr=err, fmt="o", ms=4, capsize=2, color=colours(k % 10), label=source)
        references = sub["reference"].dropna() if "reference" in sub else pd.Series(dtype=object)
        if len(references):
            reference = references.iloc[0]
            ref = sub[sub["source"] == reference].set_index("algorithm").reindex(algorithms)
            for i, algorithm in enumerate(algorithms):
                if np.isfinite(ref.loc[algorithm, "drop_ci_low"]):
                    ax.fill_between([i - 0.45, i + 0.45], ref.loc[algorithm, "drop_ci_low"],
                                    ref.loc[algorithm, "drop_ci_high"], color="grey", alpha=0.2, linewidth=0,
                                    label=f"{reference} interval" if i == 0 else None)
        ax.set_xticks(np.arange(len(algorithms)), algorithms, rotation=10, fontsize=8)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel("accuracy drop (points)")
        level = f"{100 * confidence:g} % " if confidence else ""
        ax.set_title(f"{model}: INT8 drop per calibration source and algorithm, {level}intervals")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def data_matters_chart(table: pd.DataFrame, path: str | Path, confidence: float | None = None) -> Path:
    """Save :func:`data_matters_figure` as a PNG."""
    return save_figure(data_matters_figure(table, confidence), path)


def breaking_point_figure(table: pd.DataFrame):
    """The drop as the precision falls: one panel per (model, method), the precisions along x from the widest, each
    source a line with its intervals; the NNCF INT8 result (executed) at W8A8 in every panel of its model, as a
    grey band, so that the simulated W8A8 can be read against it. Returns the figure."""
    plt = pyplot()
    simulated = table[table["execution"].astype(str).str.startswith("simulated")]
    executed = table[~table.index.isin(simulated.index) & (table["algorithm"] == "default")]
    panels = list(dict.fromkeys(zip(simulated["model"], simulated["method"])))
    sources = list(dict.fromkeys(table["source"]))
    fig, axes = plt.subplots(max(len(panels), 1), 1, figsize=(8, 3.0 * max(len(panels), 1)), squeeze=False)
    colours = plt.get_cmap("tab10")

    def bits(precision: str) -> tuple[int, int]:
        digits = [int(d) for d in precision.strip("W").split("A")]
        return digits[0], digits[1]

    for ax, (model, method) in zip(axes[:, 0], panels):
        sub = simulated[(simulated["model"] == model) & (simulated["method"] == method)]
        precisions = sorted(dict.fromkeys(sub["precision"]), key=bits, reverse=True)
        x = {p: i for i, p in enumerate(precisions)}
        for k, source in enumerate(sources):
            rows = sub[sub["source"] == source].set_index("precision").reindex(precisions)
            y = rows["drop_points"].to_numpy(dtype=float)
            err = np.vstack([np.nan_to_num(y - rows["drop_ci_low"].to_numpy(dtype=float)),
                             np.nan_to_num(rows["drop_ci_high"].to_numpy(dtype=float) - y)])
            ax.errorbar(np.arange(len(precisions)) + (k - len(sources) / 2) * 0.04, y, yerr=err, marker="o", ms=3,
                        capsize=2, color=colours(k % 10), label=source)
        int8 = executed[executed["model"] == model]
        if "W8A8" in x and len(int8):
            ax.fill_between([x["W8A8"] - 0.3, x["W8A8"] + 0.3], int8["drop_ci_low"].min(), int8["drop_ci_high"].max(),
                            color="grey", alpha=0.25, linewidth=0, label="NNCF INT8 (OpenVINO), all sources")
        ax.set_xticks(np.arange(len(precisions)), precisions)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_ylabel("accuracy drop (points)")
        ax.set_title(f"{model}, {method} (simulated)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def breaking_point_chart(table: pd.DataFrame, path: str | Path) -> Path:
    """Save :func:`breaking_point_figure` as a PNG."""
    return save_figure(breaking_point_figure(table), path)
