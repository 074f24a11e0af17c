"""Deterministic random streams: one config seed, independent generators per purpose."""

from __future__ import annotations

import zlib

import numpy as np


def rng(seed: int, *purpose: str | int) -> np.random.Generator:
    """A numpy Generator determined by ``seed`` and a purpose, e.g. ``rng(42, "calibration", "cifar10")``.

    Different purposes give statistically independent streams, so adding a new random step never shifts the
    choices of an existing one.
    """
    words = [int(seed)] + [zlib.crc32(str(p).encode()) for p in purpose]
    return np.random.default_rng(np.random.SeedSequence(words))


def seed_int(seed: int, *purpose: str | int) -> int:
    """A 62-bit integer seed from the stream of :func:`rng` (for ``torch.manual_seed`` and torch Generators)."""
    return int(rng(seed, *purpose).integers(0, 2**62))
