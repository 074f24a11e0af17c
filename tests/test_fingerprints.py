"""Code identities with no holes (synthcal.codedeps, the planner's code parameters): every module a job really runs,
absolute, relative or loaded by importlib; a factory's own modules; the architecture a job builds and no other; the
fractal colouriser's files; the library versions; a text of the code that no Python upgrade changes. The reruns
these cause on a finished run are in tests/test_workflow.py (the `cloned` tests)."""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synthcal.codedeps import HiddenImportError, canonical_dump, library_modules, module_fingerprint, script_fingerprint
from synthcal.config import load_config, validate_config
from synthcal.machine import record_versions, version_changes
from synthcal.planning import Plan

from helpers import REPO


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _found(script, root):
    return sorted(p.relative_to(root).as_posix() for p in library_modules(script, root))


def test_relative_imports_are_followed(tmp_path):
    _write(tmp_path / "synthcal/__init__.py", "")
    _write(tmp_path / "synthcal/gan/__init__.py", "")
    _write(tmp_path / "synthcal/gan/a.py", "from . import b\nfrom .c import f\nfrom ..top import g\n")
    for name in ("gan/b.py", "gan/c.py", "top.py"):
        _write(tmp_path / "synthcal" / name, "def f(): pass\ng = 1\n")
    _write(tmp_path / "synthcal/unused.py", "X = 1\n")
    script = _write(tmp_path / "scripts/run.py", "from synthcal.gan import a\n")
    assert _found(script, tmp_path) == ["synthcal/__init__.py", "synthcal/gan/__init__.py", "synthcal/gan/a.py",
                                        "synthcal/gan/b.py", "synthcal/gan/c.py", "synthcal/top.py"]


def test_importlib_loads_are_followed_and_a_load_named_at_run_time_must_say_how_it_is_covered(tmp_path):
    _write(tmp_path / "synthcal/__init__.py", "")
    _write(tmp_path / "synthcal/plugin.py", "X = 1\n")
    _write(tmp_path / "synthcal/loader.py", "import importlib\nM = importlib.import_module('synthcal.plugin')\n")
    script = _write(tmp_path / "run.py", "from synthcal import loader\n")
    assert "synthcal/plugin.py" in _found(script, tmp_path)
    _write(tmp_path / "synthcal/loader.py", "import importlib\ndef load(n):\n    return importlib.import_module(n)\n")
    with pytest.raises(HiddenImportError, match=r"loader.py:3 loads a module named at run time"):
        library_modules(script, tmp_path)
    _write(tmp_path / "synthcal/loader.py", "import importlib\nDYNAMIC_IMPORTS = 'the caller names them'\n"
                                            "def load(n):\n    return importlib.import_module(n)\n")
    assert "synthcal/plugin.py" not in _found(script, tmp_path)  # declared: the planner adds what it loads


def _python_model_plan(src, **entry) -> Plan:
    config = load_config(REPO / "config.yaml")
    config = copy.deepcopy(config)
    config["experiment"] = {**config["experiment"], "models": ["mine"], "sources": ["cifar10"],
                            "algorithms": ["default"]}
    config["models"]["mine"] = {"format": "python", "factory": "nets.model:build", "python_path": str(src), **entry}
    return Plan(validate_config(config))


def test_a_factorys_identity_covers_the_modules_of_its_tree_that_it_imports(tmp_path):
    src = tmp_path / "src"
    _write(src / "nets/__init__.py", "")
    _write(src / "nets/model.py", "from .layers import block\nimport helpers\ndef build():\n    return block()\n")
    _write(src / "nets/layers.py", "def block():\n    return helpers.width\nimport helpers\n")
    _write(src / "helpers.py", "width = 8\n")
    _write(src / "unused.py", "width = 9\n")
    code = _python_model_plan(src).models.code("mine")
    assert set(code) == {"nets/__init__.py", "nets/model.py", "nets/layers.py", "helpers.py"}
    _write(src / "helpers.py", "width = 16\n")  # a helper two imports away: the model's identity changes
    changed = _python_model_plan(src).models.code("mine")
    assert {k for k in code if code[k] != changed[k]} == {"helpers.py"}


def test_a_job_builds_in_its_identity_only_the_architecture_its_model_uses():
    plan = Plan(load_config(REPO / "config.yaml"))
    assert set(plan.models.code("mobilenetv2_x1_4")) == {"synthcal/models/mobilenetv2.py"}
    assert set(plan.models.code("repvgg_a2_fused")) == {"synthcal/models/repvgg.py"}
    # the scripts themselves run no architecture: the GAN training and the quantization never name one
    for script in ("train_gan.py", "quantize.py", "calibration_cifar10.py", "teacher_dump.py"):
        code = script_fingerprint(REPO / "workflow_scripts" / script, REPO)
        architectures = [p for p in code if re.fullmatch(r"synthcal/models/(?!__init__|training).*\.py", p)]
        assert not architectures, f"{script} runs {architectures}"


def test_the_fractal_colourisers_files_are_inputs_of_the_fractal_jobs(tmp_path):
    colorizer = tmp_path / "colorizer"
    names = ["colorization_deploy_v2.prototxt", "colorization_release_v2.caffemodel", "pts_in_hull.npy"]
    for name in names:
        _write(colorizer / name, name)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["experiment"] = {"models": ["resnet20"], "sources": ["fractal"], "algorithms": ["default"]}
    config["fractal"] = {**config.get("fractal", {}), "colorizer_dir": str(colorizer)}
    config["quality"] = {"enabled": False}
    assert Plan(validate_config(copy.deepcopy(config))).calibration.colorizer_files() == [
        str(colorizer / n) for n in names]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "results/calibration/fractal", "-n", "--cores", "1",
                           "-s", str(REPO / "Snakefile"), "-d", str(tmp_path / "run"),
                           "--configfile", str(tmp_path / "c.yaml")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    job = (proc.stdout + proc.stderr).split("rule calibration_fractal:")[1].split("rule ")[0]
    inputs = job.split("input:")[1].split("\n")[0]
    assert all(str(colorizer / n) in inputs for n in names)  # an edited file regenerates the fractals


def test_a_version_change_is_reported_before_a_run_and_the_versions_are_recorded(tmp_path):
    recorded = tmp_path / "versions.json"
    now = {"torch": "2.14.1", "nncf": "3.4.0", "openvino": "2026.4.1", "numpy": "2.3.0"}
    assert version_changes(recorded, now, "warn") == []  # no previous run
    record_versions(recorded, {**now, "nncf": "3.3.0"})
    assert json.loads(recorded.read_text())["nncf"] == "3.3.0"
    [warn] = version_changes(recorded, now, "warn")
    assert "nncf 3.3.0 -> 3.4.0" in warn and "torch" not in warn and "kept" in warn
    [rerun] = version_changes(recorded, now, "rerun")
    assert "every job reruns" in rerun
    record_versions(recorded, now)
    assert version_changes(recorded, now, "rerun") == []


def test_the_code_text_does_not_depend_on_the_python_version(tmp_path):
    """Newer Pythons add fields to syntax nodes (3.12: type_params) that old code leaves empty, and ast.dump's text
    changes between versions: the canonical text leaves empty fields and locations out, so the digests below, taken
    on Python 3.11, hold on any version that parses the same code to the same nodes."""
    node = ast.parse("def f(x: int = 1) -> int:\n    return x\n").body[0]
    bare = canonical_dump(node)
    node.type_params = []  # what Python 3.12 parses into every function
    assert canonical_dump(node) == bare and "lineno" not in bare
    source = _write(tmp_path / "m.py", GOLDEN_SOURCE)
    assert module_fingerprint(source) == "5d7d71197533"


GOLDEN_SOURCE = '''"""doc"""
import os


class A:
    """doc"""

    def f(self, x: int = 1, *a, k=None, **kw) -> int:
        return [i for i in x if i] if x else {**kw}


def g(y):
    return f"{y!r:>4}" + str(y := 2) and (lambda z: z[1:2])
'''


def _interpreters() -> list[str]:
    """Other interpreters of a Python the project supports (pyproject.toml: >= 3.11) on this machine: pyenv's, or
    python3.N on PATH; one per minor version, this one's left out."""
    import glob
    import shutil

    candidates = glob.glob(str(Path.home() / ".pyenv/versions/3.*/bin/python3"))
    candidates += [p for minor in range(11, 20) if (p := shutil.which(f"python3.{minor}"))]
    found: dict[str, str] = {}
    for path in candidates:
        proc = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True,
                              text=True, timeout=30)
        version = proc.stdout.strip()
        if proc.returncode == 0 and tuple(map(int, version.split("."))) >= (3, 11):
            found.setdefault(version, path)
    found.pop(f"{sys.version_info.major}.{sys.version_info.minor}", None)
    return sorted(found.values())


def test_every_fingerprint_is_the_same_under_other_python_versions():
    """The fingerprints of every file of the workflow, computed by each other Python found here, equal this one's."""
    others = _interpreters()
    if not others:
        pytest.skip("no other Python interpreter on this machine")
    files = sorted(str(p) for p in [*(REPO / "synthcal").rglob("*.py"), *(REPO / "workflow_scripts").glob("*.py")])
    code = ("import importlib.util, json, sys\n"
            f"spec = importlib.util.spec_from_file_location('codedeps', {str(REPO / 'synthcal/codedeps.py')!r})\n"
            "m = importlib.util.module_from_spec(spec); sys.modules['codedeps'] = m; spec.loader.exec_module(m)\n"
            "print(json.dumps([m.module_fingerprint(f) for f in json.loads(sys.stdin.read())]))")
    here = [module_fingerprint(f) for f in files]
    for python in others:
        proc = subprocess.run([python, "-c", code], input=json.dumps(files), capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr[-1000:]
        assert json.loads(proc.stdout) == here, f"{python} fingerprints the code differently"
