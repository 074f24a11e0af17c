"""What a workflow run cost: the rules' ``benchmark:`` files summarised per rule, per model and per stage.

Every rule that costs time writes ``results/benchmarks/<rule>/<wildcards>.tsv`` (Snakemake's columns ``s``,
``max_rss`` (MB), ``cpu_time``, ...). :func:`read_benchmarks` reads them all, attributing each to its rule (the first
folder; ``quantize default``, ``quantize accuracy_aware``, ``quantize size`` for the quantization variants, whose
costs differ by orders of magnitude), its stage (the ``rules/<stage>.smk`` file that defines the rule) and its model
(a path part that names a configured model; jobs shared by every model, such as data preparation or GAN training,
have none), and :func:`summarise` totals them: wall seconds and CPU seconds summed, peak memory the maximum.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

#: Columns of results/tables/benchmark.csv.
SUMMARY_COLUMNS = ["level", "stage", "rule", "model", "jobs", "wall_s", "cpu_s", "peak_mb"]
ALL = "all"


def read_benchmarks(folder: str | Path, models: Iterable[str], stages: Mapping[str, str],
                    variants: Iterable[str]) -> pd.DataFrame:
    """One row per benchmark file under ``folder``: file, rule, stage, model, wall s, CPU s, peak memory (MB).

    A folder after the rule's that names a quantization variant (``variants``: the algorithms and ``size``, the
    top folders of ``results/quantized/``) makes a rule of its own (``quantize default``). Files of a rule not in
    ``stages`` get the stage ``other``; unreadable or empty files are skipped.
    """
    folder, models, variants = Path(folder), set(models), set(variants)
    rows = []
    for path in sorted(folder.rglob("*.tsv")):
        parts = path.relative_to(folder).with_suffix("").parts
        try:
            frame = pd.read_csv(path, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if frame.empty or "s" not in frame:
            continue
        rule = f"{parts[0]} {parts[1]}" if len(parts) > 2 and parts[1] in variants else parts[0]
        model = next((p for p in parts[1:] if p in models), None)
        rows.append({"file": path.relative_to(folder).as_posix(), "rule": rule, "stage": stages.get(parts[0], "other"),
                     "model": model, "wall_s": float(frame["s"].mean()),
                     "cpu_s": float(pd.to_numeric(frame.get("cpu_time"), errors="coerce").mean()),
                     "peak_mb": float(pd.to_numeric(frame.get("max_rss"), errors="coerce").max())})
    return pd.DataFrame(rows, columns=["file", "rule", "stage", "model", "wall_s", "cpu_s", "peak_mb"])


def _totals(frame: pd.DataFrame, level: str, keys: list[str]) -> pd.DataFrame:
    grouped = frame.groupby(keys, dropna=False, sort=True).agg(
        jobs=("wall_s", "size"), wall_s=("wall_s", "sum"), cpu_s=("cpu_s", "sum"), peak_mb=("peak_mb", "max"))
    out = grouped.reset_index()
    out["level"] = level
    for column in ("stage", "rule", "model"):
        if column not in keys:
            out[column] = ALL
    return out


def summarise(jobs: pd.DataFrame) -> pd.DataFrame:
    """Totals of :func:`read_benchmarks` rows: per (stage, rule, model), per stage, per model and overall.

    ``model`` is ``shared`` for jobs common to every model and ``all`` in totals over models; wall and CPU seconds
    are sums over jobs (the time the jobs took one after another), ``peak_mb`` the largest job's peak.
    """
    frame = jobs.assign(model=jobs["model"].fillna("shared"))
    if frame.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    parts = [_totals(frame, "rule", ["stage", "rule", "model"]), _totals(frame, "stage", ["stage"]),
             _totals(frame, "model", ["model"]), _totals(frame.assign(level=ALL), "total", ["level"]).assign(
                 level="total")]
    out = pd.concat(parts, ignore_index=True)[SUMMARY_COLUMNS]
    out["jobs"] = out["jobs"].astype(int)
    return out
