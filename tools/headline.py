"""Write a run's headline table into the README and docs/results.md (between ``<!-- headline:start -->`` and
``<!-- headline:end -->``), with its provenance: date, commit, configuration and machine (synthcal.headline).

    python tools/headline.py --configfile configs/offline.yaml --model akamaster_resnet20 --write README.md

Without ``--write`` the block is printed. ``--answers`` writes the answer tables instead (where the data matters and
the breaking point, between ``<!-- where_data_matters:start -->`` and ``<!-- breaking_point:start -->`` markers).
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
from pathlib import Path

import pandas as pd

from synthcal.headline import (
    ANSWER_COLUMNS,
    answer_markdown,
    headline_markdown,
    provenance,
    recorded_machine,
    replace_block,
)
from synthcal.io import read_json

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="results", help="the run's results folder")
    parser.add_argument("--configfile", nargs="+", default=["config.yaml"], help="the configuration(s) of the run")
    parser.add_argument("--model", help="the model whose sources the headline shows")
    parser.add_argument("--answers", action="store_true", help="write the answer tables, not the headline")
    parser.add_argument("--algorithm", default="default")
    parser.add_argument("--commit", default=None, help="the commit of the run (default: HEAD)")
    parser.add_argument("--write", nargs="*", default=[], help="documents whose headline block to replace")
    args = parser.parse_args(argv)
    results = Path(args.results)
    commit = args.commit or subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                           cwd=REPO).stdout.strip()
    if args.answers:
        return write_answers(results, commit, args.configfile, args.write)
    if not args.model:
        parser.error("--model is required for the headline")
    table = pd.read_csv(results / "tables" / f"{args.algorithm}_quantization.csv")
    optional = {name: results / path for name, path in (("agreement", "reports/label_agreement.csv"),
                                                        ("realism", "reports/realism.csv"))}
    frames = {name: pd.read_csv(path) if path.exists() else None for name, path in optional.items()}
    body = headline_markdown(table, args.model, frames["agreement"], frames["realism"])
    rows = table[table["model"] == args.model]
    evaluation = read_json(results / "evaluation" / args.model / "fp32.json")
    date = datetime.date.fromtimestamp((results / "tables" / f"{args.algorithm}_quantization.csv").stat().st_mtime)
    machine = recorded_machine(rows)
    block = (f"{body}\n\n{provenance(date.isoformat(), commit, args.configfile, machine, int(rows['repeats'].max()))} "
             f"FP32 top-1 {100 * evaluation['accuracy']:.2f} % on {evaluation['n_images']:,} test images.")
    if not args.write:
        print(block)
    for document in args.write:
        path = Path(document)
        path.write_text(replace_block(path.read_text(), "headline", block))
        print(f"wrote the headline of {args.model} into {path}")


def write_answers(results: Path, commit: str, configs: list[str], documents: list[str]) -> None:
    """Write (or print) the answer tables of a run's ``tables/`` with their provenance."""
    quantization = pd.concat([pd.read_csv(p) for p in sorted((results / "tables").glob("*_quantization.csv"))])
    sources = list(dict.fromkeys(quantization["source"]))
    machine = recorded_machine(quantization)
    for kind in ANSWER_COLUMNS:
        path = results / "tables" / f"{kind}.csv"
        if not path.exists():
            continue
        date = datetime.date.fromtimestamp(path.stat().st_mtime).isoformat()
        block = f"{answer_markdown(pd.read_csv(path), kind, sources)}\n\n{provenance(date, commit, configs, machine)}"
        if not documents:
            print(block)
        for document in documents:
            doc = Path(document)
            doc.write_text(replace_block(doc.read_text(), kind, block))
            print(f"wrote {kind} into {doc}")


if __name__ == "__main__":
    main()
