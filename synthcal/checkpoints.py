"""Checkpoints that belong to the code, settings and data that wrote them.

A training run (a GAN, a classifier) is identified by a JSON-able *identity*: its settings (those that change the
weights), digests of its data, the fingerprint of the code that computes it (:func:`synthcal.codedeps.module_code`)
and of any frozen network it uses. :class:`RunCheckpoints` keeps each identity's checkpoints in its own folder
``<checkpoint_dir>/<fingerprint>/`` (the first 16 hex digits of the identity's sha256, with a ``run.json`` naming
it), keeps the two newest of that folder and resumes only from there: switching settings and back never deletes or
mixes another run's checkpoints, and a change of code, settings or data trains afresh, the log saying what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from synthcal.io import atomic_path

log = logging.getLogger(__name__)


def fingerprint(identity: Mapping[str, Any]) -> str:
    """The sha256 (hex) of an identity's canonical JSON."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def identity_changes(theirs: Mapping[str, Any], mine: Mapping[str, Any]) -> list[str]:
    """What differs between two identities, in words: ``settings`` key by key, ``code`` file by file, and any
    other entry (data digests, frozen networks) as a whole."""
    changes = []
    for key in sorted(set(theirs) | set(mine)):
        a, b = theirs.get(key), mine.get(key)
        if a == b:
            continue
        if key == "settings" and isinstance(a, Mapping) and isinstance(b, Mapping):
            changes += [f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif key == "code" and isinstance(a, Mapping) and isinstance(b, Mapping):
            changes += [f"code of {path} changed" for path in sorted(set(a) | set(b)) if a.get(path) != b.get(path)]
        elif key == "code":
            changes.append("written before checkpoints recorded their code")
        else:
            changes.append(f"{key} changed")
    return changes


class RunCheckpoints:
    """The checkpoints of one run identity under ``checkpoint_dir`` (see the module docstring)."""

    def __init__(self, checkpoint_dir: str | Path | None, identity: Mapping[str, Any], keep: int = 2) -> None:
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.identity = dict(identity)
        self.fingerprint = fingerprint(self.identity)
        self.keep = keep

    @property
    def run_dir(self) -> Path | None:
        """This run's folder (None without a checkpoint folder: nothing is saved or resumed)."""
        return self.checkpoint_dir / self.fingerprint[:16] if self.checkpoint_dir else None

    def checkpoints(self) -> list[Path]:
        if self.run_dir is None or not self.run_dir.exists():
            return []
        return sorted(self.run_dir.glob("epoch_*.pt"))

    def save(self, epoch: int, state: Mapping[str, Any]) -> None:
        """Write ``state`` (with the epoch and fingerprint) as this run's checkpoint of ``epoch``, atomically; keep the
        newest ``keep``."""
        if self.run_dir is None:
            return
        if not (self.run_dir / "run.json").exists():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.run_dir / "run.json") as tmp:
                tmp.write_text(json.dumps(self.identity, indent=2) + "\n")
        with atomic_path(self.run_dir / f"epoch_{epoch:04d}.pt") as tmp:
            torch.save({**state, "epoch": epoch, "fingerprint": self.fingerprint}, tmp)
        for old in self.checkpoints()[:-self.keep]:
            old.unlink()
        log.info("checkpoint: epoch %d -> %s", epoch, self.run_dir)

    def explain_other_runs(self) -> None:
        """Log the checkpoints in ``checkpoint_dir`` that are not this run's, and why they are not resumed."""
        if self.checkpoint_dir is None or not self.checkpoint_dir.exists():
            return
        for entry in sorted(self.checkpoint_dir.iterdir()):
            if entry == self.run_dir:
                continue
            if entry.is_file() and entry.name.startswith("epoch_"):
                log.info("ignoring checkpoint %s: written before checkpoints were kept per settings", entry)
                continue
            if not entry.is_dir() or not (entry / "run.json").exists():
                continue
            try:
                other = json.loads((entry / "run.json").read_text())
            except ValueError:
                continue
            n = len(list(entry.glob("epoch_*.pt")))
            log.info("ignoring %d checkpoint(s) of another run in %s (%s)", n, entry.name,
                     "; ".join(identity_changes(other, self.identity)) or "different settings")

    def resume(self, map_location: Any = "cpu") -> dict[str, Any] | None:
        """The newest readable checkpoint of this run (its state dict), or None; unreadable or foreign files are
        skipped with a log line."""
        if self.checkpoint_dir is None:
            return None
        self.explain_other_runs()
        for path in reversed(self.checkpoints()):
            try:
                state = torch.load(path, map_location=map_location, weights_only=False)
            except Exception as exc:  # a torn file from a crash: try the previous one
                log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
                continue
            if state.get("fingerprint") != self.fingerprint:
                log.warning("ignoring checkpoint %s: its fingerprint is not this run's", path)
                continue
            log.info("resuming from %s (epoch %d done)", path, state["epoch"])
            return state
        log.info("no checkpoint of this code, these settings and data in %s: training from epoch 1", self.run_dir)
        return None
