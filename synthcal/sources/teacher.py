"""The teacher's source (named by ``teacher.name``): images chosen from the teacher's dump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthcal.calibration import select_balanced, write_calibration_folder
from synthcal.data import Split
from synthcal.gan.dump import read_dump, read_dump_arrays


def calibration_from_dump(dump_root: str | Path, root: str | Path, source: str, n_per_class: int,
                          seed: int) -> dict[str, Any]:
    """The teacher's calibration source: ``n_per_class`` dump images per class chosen with ``seed``."""
    chosen = select_balanced(read_dump_arrays(dump_root)[1], n_per_class, seed, purpose=source)
    _, images, labels, manifest = read_dump(dump_root, chosen)
    subset = Split(images, labels)
    provider = (manifest.get("teacher") or {}).get("provider", "unknown")
    return write_calibration_folder(root, subset, {
        "source": source, "seed": seed, "n_per_class": n_per_class, "origin": str(dump_root),
        "description": f"the teacher's dump ({provider} provider), {n_per_class} images per class",
        "teacher": manifest.get("teacher"), "dump_indices": chosen.tolist()})
