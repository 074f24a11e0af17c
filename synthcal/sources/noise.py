"""The ``noise`` source: pixel noise, the data-free floor any calibration set must beat."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthcal.calibration import balanced_labels, write_calibration_folder
from synthcal.data import Split
from synthcal.seeding import rng


def noise_images(count: int, seed: int, distribution: str = "uniform", std: float = 64.0,
                 size: int = 32) -> np.ndarray:
    """``count`` uint8 RGB noise images: uniform on 0..255, or N(127.5, std) clipped to [0, 255]."""
    gen = rng(seed, "noise-images")
    if distribution == "uniform":
        return gen.integers(0, 256, size=(count, size, size, 3), dtype=np.uint8)
    if distribution == "gaussian":
        return np.clip(np.rint(gen.normal(127.5, std, size=(count, size, size, 3))), 0, 255).astype(np.uint8)
    raise ValueError(f"unknown noise distribution {distribution!r} (uniform or gaussian)")


def noise_calibration_folder(root: str | Path, n_per_class: int, seed: int, distribution: str = "uniform",
                             std: float = 64.0) -> dict:
    """The ``noise`` source: ``10 * n_per_class`` noise images (arbitrary labels) written as a calibration folder."""

    images = noise_images(10 * n_per_class, seed, distribution, std)
    return write_calibration_folder(root, Split(images, balanced_labels(n_per_class)), {
        "source": "noise", "seed": seed, "n_per_class": n_per_class, "distribution": distribution,
        "std": std if distribution == "gaussian" else None, "labels": "arbitrary",
        "description": "uniform pixel noise" if distribution == "uniform" else f"Gaussian pixel noise (std {std:g})"})
