"""The docs stay honest where a machine can check them: every results path they name is written by a rule, every
config key they name is in the schema, and every generated part (keys, costs, job counts, environments) is up to
date."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys

import pytest

from synthcal.schema import schema

from helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _normalise(pattern: str) -> str:
    """A path pattern with every placeholder (``{x}``, ``{{x}}``, ``<x>``) as ``*``."""
    pattern = re.sub(r"\{\{?[A-Za-z_][^{}]*\}?\}", "*", pattern)
    return re.sub(r"<[^<>]*>", "*", pattern)


def _rule_paths() -> set[str]:
    """Every path pattern under results/ that the rules and the planner spell."""
    found = set()
    for path in [*(REPO / "rules").glob("*.smk"), *(REPO / "synthcal").rglob("*.py")]:
        for match in re.finditer(r"[\"'](results/[^\"']+)[\"']", path.read_text()):
            found.add(_normalise(match.group(1)))
    return found


def _expand(path: str) -> list[str]:
    """``a.{json,npz}`` -> ``a.json``, ``a.npz`` (brace alternatives in the docs)."""
    match = re.search(r"\{([^{}]*,[^{}]*)\}", path)
    if not match:
        return [path]
    return [q for option in match.group(1).split(",") for q in _expand(path[:match.start()] + option.strip()
                                                                              + path[match.end():])]


def _doc_paths() -> list[tuple[str, str]]:
    """(document, path) for every results/... path in backticks, and the paths of docs/outputs.md's table (which are
    relative to results/)."""
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for match in re.finditer(r"`(results/[^`\s]+)`", text):
            out.append((doc.name, match.group(1)))
        if doc.name == "outputs.md":
            for row in re.finditer(r"^\| `[^|]+` \| ([^|]+) \|", text, flags=re.M):
                for cell in re.findall(r"`([^`]+)`", row.group(1)):
                    if not cell.startswith("resources/"):
                        out.append((doc.name, f"results/{cell}"))
    return out


#: Folders a job writes inside itself rather than as a rule's output, and who writes them.
INSIDE_JOBS = {"results/*/training/*/": "GAN checkpoints, synthcal.gan.train"}


def _literal(pattern: str) -> str:
    return pattern.split("*")[0]


def _written(doc_path: str, patterns: set[str]) -> bool:
    """Whether a rule writes ``doc_path`` (a file pattern, or a folder ending in ``/`` that some output lies in)."""
    path = _normalise(doc_path).removesuffix("...")
    if path in INSIDE_JOBS:
        return True
    if path.endswith("/"):
        prefix = _literal(path)
        return prefix.count("/") >= 2 and any(p.startswith(prefix) or (
            _literal(p).count("/") >= 2 and prefix.startswith(_literal(p))) for p in patterns)
    # a file, or a file inside a folder that a rule writes as a whole (a dump, a calibration folder)
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(p, path) or fnmatch.fnmatch(path, p + "/*")
               for p in patterns)


def test_every_results_path_a_doc_names_is_written_by_a_rule():
    patterns = _rule_paths()
    unknown = [f"{doc}: {path}" for doc, path in _doc_paths()
               if not all(_written(v, patterns) for v in _expand(path))]
    assert not unknown, "paths the docs name that no rule writes:\n" + "\n".join(unknown)


def _schema_keys() -> set[str]:
    keys = set()

    def walk(node, prefix):
        properties = node.get("properties", {})
        if isinstance(node.get("additionalProperties"), dict) and "properties" in node["additionalProperties"]:
            walk(node["additionalProperties"], f"{prefix}<name>.")
        for name, sub in properties.items():
            keys.add(prefix + name)
            walk(sub, f"{prefix}{name}.")

    walk(schema(), "")
    return keys | {"models.<name>"}


def test_every_config_key_a_doc_names_is_in_the_schema():
    keys = _schema_keys()
    top = {k for k in keys if "." not in k}
    unknown = []
    for doc in DOCS + [REPO / "config.yaml"]:
        for match in re.finditer(r"`([a-z_0-9]+(?:\.[A-Za-z_0-9<>]+)+)`", doc.read_text()):
            key = match.group(1)
            first = key.split(".")[0]
            if (first not in top or key.endswith((".py", ".yaml", ".csv", ".json", ".png", ".md", ".npy", ".npz"))
                    or (REPO / "synthcal" / f"{key.replace('.', '/')}.py").exists()):
                continue  # a module of the library, a file, or a name that is not a config key
            generic = re.sub(r"^models\.[A-Za-z_0-9<>]+\.", "models.<name>.", key)
            if key not in keys and generic not in keys:
                unknown.append(f"{doc.name}: {key}")
    assert not unknown, "config keys the docs name that the schema lacks:\n" + "\n".join(unknown)


@pytest.mark.slow
def test_the_generated_parts_of_the_docs_are_up_to_date():
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "config_docs.py"), "--check"], capture_output=True,
                          text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_the_code_is_lint_clean():
    """The lint that docs/development.md names, on what it names (ruff is a test dependency)."""
    pytest.importorskip("ruff", reason="ruff is installed with the test extras (pip install -e '.[test]')")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "synthcal", "tests", "tools", "workflow_scripts"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
