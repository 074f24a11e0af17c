"""The ``cifar10`` source: real training images, and the labelled validation split held out from them.

The paper calibrates on 5,000 real images (500 per class); the authors' notebook used the whole training set
(``n_per_class`` None here). The held-out split of accuracy-aware quantization (``validation: holdout``) never
shares an image with a ``cifar10`` calibration folder of any repeat, and is never the test split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from synthcal.calibration import select_balanced, write_calibration_folder
from synthcal.data import Split, load_split, save_split


def cifar10_selection(train: Split, n_per_class: int, seed: int) -> np.ndarray:
    """Training-set indices of the ``cifar10`` calibration folder of ``seed`` (:func:`select_balanced`)."""
    return select_balanced(train.labels, n_per_class, seed, purpose="cifar10", num_classes=len(train.classes))


def cifar10_calibration_folder(train_npz: str | Path, root: str | Path, n_per_class: int | None,
                               seed: int) -> dict[str, Any]:
    """The ``cifar10`` source: ``n_per_class`` seeded training images per class (None: the whole training set, as
    the authors' notebook calibrated), written as a calibration folder.

    The manifest records the chosen training-set indices (or ``all``), so the selection can be audited.
    """
    train = load_split(train_npz)
    if n_per_class is None:
        chosen = np.argsort(train.labels, kind="stable")
        subset = Split(train.images[chosen], train.labels[chosen], train.classes)
        return write_calibration_folder(root, subset, {
            "source": "cifar10", "seed": seed, "n_per_class": None, "origin": str(train_npz), "train_indices": "all",
            "description": f"real CIFAR-10: the whole training split ({len(train)} images, the authors' notebook)"})
    chosen = cifar10_selection(train, n_per_class, seed)
    subset = Split(train.images[chosen], train.labels[chosen], train.classes)
    manifest = {"source": "cifar10", "seed": seed, "n_per_class": n_per_class,
                "description": f"real CIFAR-10: {n_per_class} training images per class",
                "origin": str(train_npz), "train_indices": chosen.tolist()}
    return write_calibration_folder(root, subset, manifest)


def holdout_split(train_npz: str | Path, out_npz: str | Path, per_class: int, seed: int,
                  calibration_seeds: list[int], n_per_class: int) -> dict[str, Any]:
    """A labelled validation split from the training set, disjoint from every ``cifar10`` calibration folder.

    The calibration selections of ``calibration_seeds`` (``n_per_class`` each) are excluded, then ``per_class``
    images per class are drawn with ``seed``. Never the test split: that one measures the final accuracy.
    """

    train = load_split(train_npz)
    excluded = set()
    for s in calibration_seeds:
        excluded.update(cifar10_selection(train, n_per_class, s).tolist())
    pool = np.array(sorted(set(range(len(train))) - excluded))
    chosen = pool[select_balanced(train.labels[pool], per_class, seed, purpose="holdout")]
    save_split(out_npz, Split(train.images[chosen], train.labels[chosen], train.classes))
    return {"count": int(len(chosen)), "indices": chosen.tolist()}
