"""The headline of a run, for people: one model's sources side by side with their intervals and verdicts, and the
provenance that makes the numbers checkable (date, commit, configuration, machine).

The README's headline table and the dated sections of ``docs/results.md`` are written by ``tools/headline.py`` from
a run's tables (:func:`headline_markdown` between ``<!-- headline:start -->`` and ``<!-- headline:end -->``
markers, :func:`replace_block`), never typed by hand; the workflow's end-of-run summary (:func:`run_summary`)
uses the same rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd


class HeadlineError(ValueError):
    """A table lacks what the headline needs, or a document lacks its markers."""


def _number(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def _interval(row: Mapping[str, Any], value: str, low: str, high: str, unit: str = "") -> str:
    v, lo, hi = _number(row.get(value)), _number(row.get(low)), _number(row.get(high))
    if v is None:
        return "-"
    text = f"{v:.2f}{unit}"
    return f"{text} [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else text


def _verdict(row: Mapping[str, Any]) -> str:
    verdict = row.get("verdict")
    if isinstance(verdict, str) and verdict:
        p = _number(row.get("mcnemar_p_holm"))
        return f"{verdict} (p = {p:.2g})" if p is not None else verdict
    return "reference" if row.get("source") == row.get("reference") else "-"


def headline_markdown(table: pd.DataFrame, model: str, agreement: pd.DataFrame | None = None,
                      realism: pd.DataFrame | None = None, sources: Sequence[str] | None = None,
                      confidence: float = 0.95) -> str:
    """A Markdown table of one model's sources (columns) in one algorithm's quantization table: the drop with its
    interval, the flip rate with its interval, the verdict against the reference source (with the Holm-corrected
    McNemar p), and, where given, the judge's label agreement and the realism report's precision and coverage."""
    rows = table[(table["model"] == model) & table["drop_points"].notna()]
    if rows.empty:
        raise HeadlineError(f"no results for model {model!r} in the table (models: "
                            f"{', '.join(dict.fromkeys(table['model']))})")
    by_source = {r["source"]: r for r in rows.to_dict("records")}
    order = [s for s in (sources or by_source) if s in by_source]
    level = f"{100 * confidence:g} % "
    lines = ["| calibration source | " + " | ".join(f"`{s}`" for s in order) + " |",
             "|---|" + "---:|" * len(order)]
    lines.append(f"| INT8 drop, points [{level}interval] | " + " | ".join(
        _interval(by_source[s], "drop_points", "drop_ci_low", "drop_ci_high") for s in order) + " |")
    lines.append("| predictions changed (flip rate, %) | " + " | ".join(
        _interval(by_source[s], "flip_rate", "flip_ci_low", "flip_ci_high") for s in order) + " |")
    reference = next((r["reference"] for r in by_source.values() if isinstance(r.get("reference"), str)), None)
    if reference:
        lines.append(f"| verdict against `{reference}` | " + " | ".join(_verdict(by_source[s]) for s in order) + " |")
    if agreement is not None and not agreement.empty:
        agree = {}
        for r in agreement.to_dict("records"):
            name = r.get("set") or r["source"]
            if r.get("labelled", True) in (True, "True", 1) and (r.get("calibrated_model") in (None, model)
                                                                 or pd.isna(r.get("calibrated_model"))):
                agree.setdefault(name.partition("/")[0], 100.0 * float(r["accuracy"]))
        judge = next(iter(dict.fromkeys(agreement.get("judge", agreement.get("model")))), "")
        lines.append(f"| label agreement (judge `{judge}`) | " + " | ".join(
            f"{agree[s]:.1f} %" if s in agree else "-" for s in order) + " |")
    if realism is not None and not realism.empty:
        real = {r["source"].partition("/")[0]: r for r in realism.to_dict("records")
                if "/" not in r["source"] or r["source"].endswith(f"/{model}")}
        for measure in ("precision", "coverage"):
            lines.append(f"| {measure} against real training images | " + " | ".join(
                f"{_number(real[s][measure]):.2f}" if s in real and _number(real[s][measure]) is not None else "-"
                for s in order) + " |")
    return "\n".join(lines)


#: The leading columns of each answer table (synthcal.verdicts) shown in the docs; the sources' cells follow.
ANSWER_COLUMNS = {"where_data_matters": ["model", "algorithm", "data_matters", "spread_points"],
                  "breaking_point": ["model", "precision", "method", "execution", "data_matters"]}


def answer_markdown(table: pd.DataFrame, kind: str, sources: Sequence[str]) -> str:
    """A Markdown table of an answer table (``where_data_matters`` or ``breaking_point``): its leading columns, then
    each source's cell (``drop [low, high] verdict``) for the ``sources`` that ran."""
    if kind not in ANSWER_COLUMNS:
        raise HeadlineError(f"unknown answer table {kind!r} ({', '.join(ANSWER_COLUMNS)})")
    lead = [c for c in ANSWER_COLUMNS[kind] if c in table.columns]
    shown = [s for s in sources if s in table.columns and table[s].fillna("").astype(str).str.len().gt(0).any()]
    if not lead or table.empty:
        raise HeadlineError(f"the {kind} table is empty or lacks its columns ({', '.join(ANSWER_COLUMNS[kind])})")
    lines = ["| " + " | ".join([c.replace("_", " ") for c in lead] + [f"`{s}`" for s in shown]) + " |",
             "|" + "---|" * len(lead) + "---:|" * len(shown)]
    for row in table.to_dict("records"):
        cells = [f"{row[c]:.2f}" if isinstance(row[c], float) and _number(row[c]) is not None else
                 "" if row[c] is None or isinstance(row[c], float) else str(row[c]) for c in lead + shown]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def recorded_machine(table: pd.DataFrame) -> str:
    """The machine a table's rows record (the first one), or says that none was recorded."""
    machines = table["machine"].dropna() if "machine" in table else pd.Series(dtype=object)
    return machines.iloc[0] if len(machines) else "an unrecorded machine"


def provenance(date: str, commit: str, configs: Sequence[str], machine: str, repeats: int | None = None) -> str:
    """One sentence saying where a table's numbers come from."""
    draws = f", {repeats} calibration draws per source" if repeats else ""
    return (f"Measured {date} at commit {commit} with `{' '.join(configs)}`{draws}, on {machine}.")


def replace_block(text: str, marker: str, body: str) -> str:
    """``text`` with the part between ``<!-- marker:start -->`` and ``<!-- marker:end -->`` replaced by ``body``.

    Raises:
        HeadlineError: the markers are missing.
    """
    pattern = re.compile(rf"(<!-- {re.escape(marker)}:start -->\n).*?(<!-- {re.escape(marker)}:end -->)", re.S)
    if not pattern.search(text):
        raise HeadlineError(f"no <!-- {marker}:start --> ... <!-- {marker}:end --> block to replace")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def run_summary(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """One line per (algorithm, model): the sources with the smallest and largest drop, with their intervals and
    verdicts (the workflow's end-of-run summary)."""
    lines = []
    for algorithm, table in tables.items():
        ran = table[table["drop_points"].notna()]
        for model, rows in ran.groupby("model", sort=False):
            best = rows.loc[rows["drop_points"].idxmin()].to_dict()
            worst = rows.loc[rows["drop_points"].idxmax()].to_dict()

            def describe(row: Mapping[str, Any]) -> str:
                verdict = _verdict(row)
                return (f"{row['source']} {_interval(row, 'drop_points', 'drop_ci_low', 'drop_ci_high')}"
                        + (f", {verdict}" if verdict != "-" else ""))

            lines.append(f"{algorithm}, {model}: smallest drop {describe(best)}; largest {describe(worst)} "
                         "(points, intervals)")
    return lines


#: What the end-of-run summary points to, if the run wrote it.
OUTPUTS = (("tables", "results/tables"), ("reports", "results/reports"), ("figures", "results/figures"),
           ("logs and benchmarks", "results/logs, results/benchmarks"))


def end_of_run(table_files: Mapping[str, str]) -> str:
    """The message printed when a run succeeds: where its outputs are and one headline line per model and
    algorithm (:func:`run_summary`) from the quantization tables ``{algorithm: csv path}`` that exist."""
    tables = {a: pd.read_csv(path) for a, path in table_files.items() if Path(path).exists()}
    lines = ["synthcal: the run is complete."]
    lines += [f"  {what}: {where}/" if "," not in where else f"  {what}: {where}" for what, where in OUTPUTS]
    lines.append("  open first: results/tables/table1a.csv (the paper's Table 1a), results/figures/accuracy_drop.png; "
                 "every file is described in docs/outputs.md")
    lines += [f"  {line}" for line in run_summary(tables)]
    return "\n".join(lines)
