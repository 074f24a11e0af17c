"""Summarise a run's benchmark files into results/tables/benchmark.csv (synthcal.benchmarks).

    python tools/benchmark_summary.py [--results results] [--models resnet20 vgg16_bn ...] [--out FILE]

Rows: per (stage, rule, model), per stage, per model and overall; wall and CPU seconds summed over jobs, peak
memory the largest job's. Models default to every entry of config.yaml's catalogue and of any --configfile given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from synthcal.benchmarks import read_benchmarks, rule_stages, summarise
from synthcal.io import write_csv

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="results", help="the run's results folder")
    parser.add_argument("--configfile", nargs="*", default=[], help="config files whose models to recognise")
    parser.add_argument("--models", nargs="*", help="model names (default: from the config files)")
    parser.add_argument("--out", help="default: <results>/tables/benchmark.csv")
    args = parser.parse_args()
    models = set(args.models or [])
    if not args.models:
        for path in [REPO / "config.yaml", *args.configfile]:
            models |= set((yaml.safe_load(Path(path).read_text()) or {}).get("models", {}))
    jobs = read_benchmarks(Path(args.results) / "benchmarks", models, rule_stages(REPO / "rules"))
    table = summarise(jobs)
    out = Path(args.out or Path(args.results) / "tables" / "benchmark.csv")
    write_csv(table, out, decimals=1)
    print(table[table.level != "rule"].to_string(index=False))
    print(f"{len(jobs)} benchmark files -> {out}")


if __name__ == "__main__":
    main()
