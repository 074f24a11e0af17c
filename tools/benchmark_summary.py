"""Summarise a run's benchmark files into results/tables/benchmark.csv (synthcal.benchmarks).

    python tools/benchmark_summary.py [--results results] [--models resnet20 vgg16_bn ...] [--out FILE]

Rows: per (stage, rule, model), per stage, per model and overall; wall and CPU seconds summed over jobs, peak
memory the largest job's. Models default to every entry of the configuration's catalogue (config.yaml and any --configfile).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synthcal.benchmarks import read_benchmarks, summarise
from synthcal.config import load_config
from synthcal.io import write_csv
from synthcal.planning import Plan
from synthcal.rulefiles import rule_stages

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="results", help="the run's results folder")
    parser.add_argument("--configfile", nargs="*", default=[],
                        help="config files (over config.yaml) whose models and algorithms to recognise")
    parser.add_argument("--models", nargs="*", help="model names (default: the configuration's catalogue)")
    parser.add_argument("--out", help="default: <results>/tables/benchmark.csv")
    args = parser.parse_args()
    plan = Plan(load_config(REPO / "config.yaml", *args.configfile))
    models = args.models or list(plan.config["models"])
    jobs = read_benchmarks(Path(args.results) / "benchmarks", models, rule_stages(REPO / "rules"),
                           plan.quantization.variant_folders())
    table = summarise(jobs)
    out = Path(args.out or Path(args.results) / "tables" / "benchmark.csv")
    write_csv(table, out, decimals=1)
    print(table[table.level != "rule"].to_string(index=False))
    print(f"{len(jobs)} benchmark files -> {out}")


if __name__ == "__main__":
    main()
