"""Which library files a workflow script runs: derived from its imports, so that editing them reruns the rule."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "synthcal"
# files whose edits never change an output (logging set-up): not rerun triggers
NO_OUTPUT_EFFECT = ("synthcal/logs.py",)


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of a dotted module name under ``root`` (the folder holding the package), if it is one."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    """Dotted names of the package's modules imported anywhere in ``path`` (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


def library_modules(script: str | Path, root: str | Path, exclude: tuple[str, ...] = NO_OUTPUT_EFFECT) -> list[Path]:
    """Every file of the ``synthcal`` package that ``script`` imports, directly or through other modules,
    including the ``__init__.py`` of each package on the way, less ``exclude`` (paths relative to ``root``, the
    folder that holds ``synthcal/``).
    """
    root = Path(root)
    seen: set[Path] = set()
    pending = [Path(script)]
    while pending:
        for dotted in _imported_modules(pending.pop()):
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py too
                found = _module_file(root, ".".join(parts[:i]))
                if found is not None and found not in seen:
                    seen.add(found)
                    pending.append(found)
    return sorted(p for p in seen if p.relative_to(root).as_posix() not in exclude)
