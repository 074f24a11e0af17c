"""The workflow's rule files read as data: each rule's stage (its ``.smk`` file), script and conda environment, with
``use rule ... as ... with:`` inheriting its parent's. The tests, the docs generator and the benchmark summary use
it; nothing here runs a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_RULE = re.compile(r"^(?:rule (\w+)|use rule (\w+) as (\w+) with)\s*:", re.M)
_SCRIPT = re.compile(r"^\s+script:\s*\n\s+\"\.\./workflow_scripts/([\w.]+)\"", re.M)
_CONDA = re.compile(r'^\s+conda:\s*\n\s+"\.\./envs/([\w.-]+)\.yaml"', re.M)


@dataclass(frozen=True)
class RuleBlock:
    """One rule of a rule file: its name, the ``.smk`` file's stem (its stage), the rule it is derived from with
    ``use rule ... as ... with:`` (None for a plain rule) and the text of its body."""

    name: str
    stage: str
    parent: str | None
    body: str


def rule_blocks(rules_dir: str | Path) -> list[RuleBlock]:
    """Every rule of ``rules_dir/*.smk``, in file order."""
    blocks = []
    for smk in sorted(Path(rules_dir).glob("*.smk")):
        text = smk.read_text()
        heads = list(_RULE.finditer(text))
        for k, head in enumerate(heads):
            body = text[head.end():heads[k + 1].start() if k + 1 < len(heads) else len(text)]
            name, parent = (head.group(1), None) if head.group(1) else (head.group(3), head.group(2))
            blocks.append(RuleBlock(name, smk.stem, parent, body))
    return blocks


def _rule_directive(rules_dir: str | Path, pattern: re.Pattern[str]) -> dict[str, str | None]:
    """``{rule: the first group of pattern in its body}`` (None where absent; ``use rule`` inherits its parent's
    unless it sets its own)."""
    blocks = rule_blocks(rules_dir)
    found: dict[str, str | None] = {}
    for block in blocks:
        match = pattern.search(block.body)
        found[block.name] = match.group(1) if match else None
    for block in blocks:
        if block.parent is not None and found[block.name] is None:
            found[block.name] = found.get(block.parent)
    return found


def rule_scripts(rules_dir: str | Path) -> dict[str, str]:
    """``{rule: script file name}`` for the ``script:`` rules in ``rules_dir/*.smk`` (``use rule`` inherits)."""
    return {rule: script for rule, script in _rule_directive(rules_dir, _SCRIPT).items() if script}


def rule_envs(rules_dir: str | Path) -> dict[str, str | None]:
    """``{rule: conda environment stem}`` for the rules in ``rules_dir/*.smk`` (``use rule`` inherits; None where a
    rule names none)."""
    return _rule_directive(rules_dir, _CONDA)


def rule_stages(rules_dir: str | Path) -> dict[str, str]:
    """``{rule: stage}``, the stage being the stem of the ``.smk`` file that defines the rule."""
    return {block.name: block.stage for block in rule_blocks(rules_dir)}
