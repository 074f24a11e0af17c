"""Calibration folders: ``<root>/<class>/<n>.png`` plus ``<root>/manifest.json``.

Every calibration source (:mod:`synthcal.sources`) writes a folder of this shape with
:func:`write_calibration_folder`, and quantization reads any of them the same way (:func:`load_calibration_folder`,
:func:`calibration_order`). The manifest's ``description`` says in words what the images are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthcal.data import Split, read_class_folder, write_class_folder
from synthcal.io import atomic_path, read_json, write_json
from synthcal.machine import stamped
from synthcal.seeding import rng

MANIFEST = "manifest.json"


class CalibrationError(ValueError):
    """A calibration folder cannot be built or read."""


def select_balanced(labels: np.ndarray, n_per_class: int, seed: int, purpose: str = "cifar10",
                    num_classes: int = 10) -> np.ndarray:
    """Indices of ``n_per_class`` items of every class, drawn without replacement with ``seed``.

    The result is grouped by class (class 0 first), and within a class in ascending index order.
    """
    gen = rng(seed, "calibration-selection", purpose)
    chosen = []
    for cls in range(num_classes):
        pool = np.flatnonzero(labels == cls)
        if len(pool) < n_per_class:
            raise CalibrationError(f"class {cls} has {len(pool)} images, fewer than n_per_class={n_per_class}")
        chosen.append(np.sort(gen.choice(pool, size=n_per_class, replace=False)))
    return np.concatenate(chosen)


def balanced_labels(n_per_class: int, num_classes: int = 10) -> np.ndarray:
    """Class-major labels of a generated folder: ``n_per_class`` zeros, then ones, ... (the dump's order too)."""
    return np.repeat(np.arange(num_classes), n_per_class)


def nested_subset(labels: np.ndarray, per_class: int, seed: int, num_classes: int = 10,
                  purpose: str = "size-sweep") -> np.ndarray:
    """Indices of the first ``per_class`` images of every class in a seeded per-class order, so that the subset of
    ``k`` images per class holds the subset of every smaller ``k`` (the calibration-size sweep; ``purpose`` names
    the random stream of another use, such as a training subset); class-major.

    Raises:
        CalibrationError: a class has fewer than ``per_class`` images.
    """
    chosen = []
    for cls in range(num_classes):
        members = np.flatnonzero(labels == cls)
        if len(members) < per_class:
            raise CalibrationError(f"class {cls} has {len(members)} images, fewer than {per_class} per class")
        chosen.append(members[rng(seed, purpose, cls).permutation(len(members))[:per_class]])
    return np.concatenate(chosen)


def write_calibration_folder(root: str | Path, split: Split, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``split`` as lossless PNGs under ``root`` with a manifest, atomically (all or nothing).

    The manifest gets ``count``, ``class_counts`` and the library versions added; returns it.
    """
    full = stamped({**manifest, "count": len(split), "class_counts": split.class_counts(),
                    "layout": "<class>/<n>.png"})
    with atomic_path(root) as tmp:
        tmp.mkdir()
        write_class_folder(tmp, split)
        write_json(tmp / MANIFEST, full)
    return full


def load_calibration_folder(root: str | Path, progress: bool = True) -> tuple[Split, dict[str, Any]]:
    """Read a calibration folder; returns (images and labels sorted by class, manifest or {}).

    Raises:
        CalibrationError: the manifest's count disagrees with the images found.
        synthcal.data.DataFormatError: an image cannot be decoded (the message names it).
    """
    root = Path(root)
    split = read_class_folder(root, progress=progress)
    manifest = read_json(root / MANIFEST) if (root / MANIFEST).exists() else {}
    if manifest and manifest.get("count") != len(split):
        raise CalibrationError(
            f"{root} holds {len(split)} images but its manifest says {manifest.get('count')}; "
            "the folder was modified or is incomplete: delete it and rerun the workflow")
    return split, manifest


def calibration_order(n: int, seed: int, subset_size: int | None = None,
                      purpose: str = "calibration-order") -> np.ndarray:
    """The seeded order in which calibration images are given to NNCF, cut to ``subset_size`` (a seeded random
    sample of ``subset_size`` of ``n`` items; ``purpose`` names the random stream).

    NNCF uses the *first* ``subset_size`` items it is given and class folders are sorted by class, so without
    this shuffle a subset would hold only the first classes.
    """
    order = rng(seed, purpose).permutation(n)
    return order if subset_size is None else order[: min(subset_size, n)]
