"""The ``noise`` source: pixel noise, the data-free floor any calibration set must beat."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthcal.calibration import balanced_labels, write_calibration_folder
from synthcal.data import Split
from synthcal.seeding import rng
from synthcal.settings import NoiseSettings


def noise_images(count: int, seed: int, settings: NoiseSettings, size: int = 32) -> np.ndarray:
    """``count`` uint8 RGB noise images: uniform on 0..255, or N(127.5, std) clipped to [0, 255]."""
    gen = rng(seed, "noise-images")
    if settings.distribution == "uniform":
        return gen.integers(0, 256, size=(count, size, size, 3), dtype=np.uint8)
    if settings.distribution == "gaussian":
        if settings.std is None:
            raise ValueError("Gaussian noise needs its std (noise.std)")
        return np.clip(np.rint(gen.normal(127.5, settings.std, size=(count, size, size, 3))), 0, 255).astype(np.uint8)
    raise ValueError(f"unknown noise distribution {settings.distribution!r} (uniform or gaussian)")


def describe(settings: NoiseSettings) -> str:
    return ("uniform pixel noise" if settings.distribution == "uniform"
            else f"Gaussian pixel noise (std {settings.std:g})")


def noise_calibration_folder(root: str | Path, n_per_class: int, seed: int, settings: NoiseSettings) -> dict:
    """The ``noise`` source: ``10 * n_per_class`` noise images (arbitrary labels) written as a calibration folder."""
    images = noise_images(10 * n_per_class, seed, settings)
    return write_calibration_folder(root, Split(images, balanced_labels(n_per_class)), {
        "source": "noise", "seed": seed, "n_per_class": n_per_class, "distribution": settings.distribution,
        "std": settings.std if settings.distribution == "gaussian" else None, "labels": "arbitrary",
        "description": describe(settings)})
