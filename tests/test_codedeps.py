"""Rule code inputs derived from a script's imports."""

from __future__ import annotations

from pathlib import Path

from synthcal.codedeps import library_modules

from helpers import REPO


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_imports_are_followed_transitively_inside_functions_and_through_packages(tmp_path):
    _write(tmp_path / "synthcal/__init__.py", "")
    _write(tmp_path / "synthcal/logs.py", "")
    _write(tmp_path / "synthcal/a.py", "import numpy\nfrom synthcal import b\n")
    _write(tmp_path / "synthcal/b.py", "def f():\n    from synthcal.sub.c import g\n")
    _write(tmp_path / "synthcal/sub/__init__.py", "")
    _write(tmp_path / "synthcal/sub/c.py", "import synthcal.logs\n")
    _write(tmp_path / "synthcal/unused.py", "")
    _write(tmp_path / "script.py", "import os\nfrom synthcal.logs import x\n\ndef run():\n    from synthcal.a import h\n")
    found = {p.relative_to(tmp_path).as_posix() for p in library_modules(tmp_path / "script.py", tmp_path)}
    assert found == {"synthcal/__init__.py", "synthcal/a.py", "synthcal/b.py", "synthcal/sub/__init__.py",
                     "synthcal/sub/c.py"}  # logs.py changes no output; unused.py is not imported


def test_quantize_rule_depends_on_the_conversion_code_it_reaches():
    found = {p.relative_to(REPO).as_posix() for p in library_modules(REPO / "workflow_scripts/quantize.py", REPO)}
    assert {"synthcal/quantize.py", "synthcal/calibration.py", "synthcal/convert.py", "synthcal/preprocess.py"} <= found
    assert "synthcal/logs.py" not in found and "synthcal/fractal.py" not in found
