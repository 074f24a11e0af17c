"""Rule code inputs derived from a script's module-level imports (synthcal.codedeps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthcal.codedeps import (
    HiddenImportError,
    library_modules,
    main,
    module_fingerprint,
    script_fingerprint,
    third_party_imports,
)
from synthcal.rulefiles import rule_envs, rule_scripts

from helpers import REPO

#: The rules whose jobs cost minutes to days, and the modules that draw, report, log or place CPUs: an edit of
#: those must never rerun these.
EXPENSIVE = ("teacher_train", "distylegan_train", "teacher_dump", "calibration_distylegan", "calibration_teacher",
             "calibration_bn_inversion", "calibration_fractal", "convert_model", "quantize", "channel_alignment")
PRESENTATION = ("synthcal/figures.py", "synthcal/aggregate.py", "synthcal/logs.py", "synthcal/cpus.py",
                "synthcal/speed.py", "synthcal/evaluate.py", "synthcal/quality.py")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _found(script: Path, root: Path, **kw) -> set[str]:
    return {p.relative_to(root).as_posix() for p in library_modules(script, root, **kw)}


def test_module_level_imports_are_followed_transitively_and_through_packages(tmp_path):
    _write(tmp_path / "synthcal/__init__.py", "")
    _write(tmp_path / "synthcal/logs.py", "AFFECTS_OUTPUTS = False\n")
    _write(tmp_path / "synthcal/a.py", "import numpy\nfrom synthcal import b\n")
    _write(tmp_path / "synthcal/b.py", "from typing import TYPE_CHECKING\nfrom synthcal.sub.c import g\n"
                                       "if TYPE_CHECKING:\n    from synthcal import typing_only\n")
    _write(tmp_path / "synthcal/sub/__init__.py", "")
    _write(tmp_path / "synthcal/sub/c.py", "import synthcal.logs\n")
    _write(tmp_path / "synthcal/typing_only.py", "")
    _write(tmp_path / "synthcal/unused.py", "")
    _write(tmp_path / "script.py", "import os\nfrom synthcal.logs import x\nfrom synthcal.a import h\n")
    assert _found(tmp_path / "script.py", tmp_path) == {
        "synthcal/__init__.py", "synthcal/a.py", "synthcal/b.py", "synthcal/sub/__init__.py", "synthcal/sub/c.py"}
    # logs.py declares that it changes no output: listed only on request
    assert "synthcal/logs.py" in _found(tmp_path / "script.py", tmp_path, include_silent=True)


def test_an_import_hidden_in_a_function_is_an_error(tmp_path):
    _write(tmp_path / "synthcal/__init__.py", "")
    _write(tmp_path / "synthcal/a.py", "def f():\n    from synthcal.b import g\n    return g\n")
    _write(tmp_path / "synthcal/b.py", "")
    _write(tmp_path / "script.py", "from synthcal import a\n")
    with pytest.raises(HiddenImportError, match=r"a\.py:2 imports synthcal\.b.* inside a function"):
        library_modules(tmp_path / "script.py", tmp_path)
    _write(tmp_path / "ok.py", "def f():\n    import numpy\n")  # third-party lazy imports are fine
    assert library_modules(tmp_path / "ok.py", tmp_path) == []
    assert third_party_imports(tmp_path / "ok.py") == {"numpy"}


def test_the_library_has_no_hidden_imports():
    for module in sorted((REPO / "synthcal").rglob("*.py")):
        library_modules(module, REPO)  # raises HiddenImportError naming the line


def test_expensive_rules_never_depend_on_drawing_reporting_or_logging_code():
    scripts = rule_scripts(REPO / "rules")
    assert set(EXPENSIVE) <= set(scripts)
    for rule in EXPENSIVE:
        found = _found(REPO / "workflow_scripts" / scripts[rule], REPO)
        assert not found & set(PRESENTATION), f"{rule} depends on {sorted(found & set(PRESENTATION))}"
    # what they do depend on is there: quantization reads IRs and calibration folders, training its networks
    quantize = _found(REPO / "workflow_scripts" / scripts["quantize"], REPO)
    assert {"synthcal/quantize.py", "synthcal/ir.py", "synthcal/calibration.py", "synthcal/preprocess.py"} <= quantize
    assert not any(m.startswith("synthcal/models/") for m in quantize)  # an IR, not the PyTorch architectures
    train = _found(REPO / "workflow_scripts" / scripts["distylegan_train"], REPO)
    assert {"synthcal/gan/train.py", "synthcal/gan/losses.py", "synthcal/gan/networks.py"} <= train
    assert "synthcal/gan/teachers.py" not in train
    # the cheap drawing rules do depend on the drawing code
    for rule in ("sample_grid", "training_figures", "report_tables"):
        assert "synthcal/figures.py" in _found(REPO / "workflow_scripts" / scripts[rule], REPO)


def test_rule_scripts_and_the_listing_command(capsys):
    scripts = rule_scripts(REPO / "rules")
    assert scripts["quantization_table"] == "aggregate.py" and scripts["paper_table"] == "paper_table.py"
    assert scripts["quantize"] == "quantize.py" and scripts["sample_grid"] == "sample_grid.py"
    main([str(REPO)])
    text = capsys.readouterr().out
    block = text.split("quantize (quantize.py):\n")[1].split(":\n")[0]
    assert "  synthcal/quantize.py" in block and "synthcal/figures.py" not in block
    digest = module_fingerprint(REPO / "synthcal/quantize.py")
    assert f"    {digest}  synthcal/quantize.py" in block and "  workflow_scripts/quantize.py" in block


MODULE = '''"""A module."""

import math

#: an attribute comment
SCALE = 2.0
"""An attribute docstring."""


class Box:
    """A class."""

    def area(self, side: float) -> float:
        """A method."""
        return math.pow(side, 2) * SCALE  # squared
'''


def test_the_fingerprint_ignores_comments_docstrings_and_formatting_only(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(MODULE)
    original = module_fingerprint(path)
    same = [MODULE.replace("A module.", "Another text."), MODULE.replace("# squared", "# the square"),
            MODULE.replace("\n\n\nclass", "\nclass"), MODULE.replace('"""An attribute docstring."""\n', ""),
            MODULE.replace("return math.pow(side, 2) * SCALE",
                           "return (\n            math.pow(side, 2)\n            * SCALE\n        )"),
            MODULE.replace('"""A method."""', '"""A method.\n\n        More words.\n        """')]
    for text in same:
        path.write_text(text)
        assert module_fingerprint(path) == original, text
    different = [MODULE.replace("SCALE = 2.0", "SCALE = 3.0"), MODULE.replace("pow(side, 2)", "pow(side, 3)"),
                 MODULE.replace("side: float) -> float", "side: int) -> float")]
    for text in different:
        path.write_text(text)
        assert module_fingerprint(path) != original, text


def test_a_script_fingerprint_names_each_file_it_runs(tmp_path):
    _write(tmp_path / "synthcal/__init__.py", '"""pkg"""\n')
    _write(tmp_path / "synthcal/a.py", "X = 1\n")
    _write(tmp_path / "synthcal/logs.py", "AFFECTS_OUTPUTS = False\n")
    _write(tmp_path / "scripts/run.py", "from synthcal import a\nfrom synthcal import logs\n")
    first = script_fingerprint(tmp_path / "scripts/run.py", tmp_path)
    assert sorted(first) == ["scripts/run.py", "synthcal/__init__.py", "synthcal/a.py"]
    _write(tmp_path / "synthcal/a.py", "X = 2\n")
    _write(tmp_path / "synthcal/logs.py", "AFFECTS_OUTPUTS = False\nY = 1\n")
    second = script_fingerprint(tmp_path / "scripts/run.py", tmp_path)
    assert {k for k in first if first[k] != second[k]} == {"synthcal/a.py"}


def test_the_package_docstring_names_every_module():
    import synthcal

    modules = {p.stem for p in (REPO / "synthcal").glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in (REPO / "synthcal").iterdir() if (p / "__init__.py").exists()}
    missing = [m for m in sorted(modules) if f":mod:`synthcal.{m}`" not in synthcal.__doc__]
    assert not missing, f"synthcal/__init__.py does not name {missing}"


def test_a_derived_rule_inherits_its_script_and_environment_unless_it_sets_its_own(tmp_path):
    (tmp_path / "t.smk").write_text(
        'rule a:\n    conda:\n        "../envs/quantize.yaml"\n    script:\n        "../workflow_scripts/a.py"\n\n\n'
        'use rule a as b with:\n    params:\n        x=1,\n\n\n'
        'use rule a as c with:\n    conda:\n        "../envs/tables.yaml"\n\n\n'
        'rule d:\n    shell:\n        "true"\n')
    assert rule_scripts(tmp_path) == {"a": "a.py", "b": "a.py", "c": "a.py"}
    assert rule_envs(tmp_path) == {"a": "quantize", "b": "quantize", "c": "tables", "d": None}
