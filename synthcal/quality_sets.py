"""The image sets whose Inception Score and FID are reported (the paper's Table 2), at ``quality.n_images``.

The paper reports IS on 50,000 images per source; a 5,000-image calibration folder cannot give that, so the quality
set of a source comes from the source itself:

* ``images``: a stored set (real training split ``.npz``, a teacher dump, a calibration folder), of which a seeded
  sample of ``n`` is taken (all when it holds fewer; the report states N);
* ``generator``: ``n`` images sampled from a released-format generator (DiStyleGAN), class-balanced, Gaussian
  latents with per-image seeds;
* ``fractal``: ``n`` fractals generated with the calibration source's settings;
* ``noise``: ``n`` noise images with the calibration source's settings.

The FID reference is drawn from the real *test* split and the real-image set (``cifar10``) from the training split,
so the two never share an image, whatever N.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthcal.calibration import calibration_order, load_calibration_folder
from synthcal.data import load_split
from synthcal.gan.dump import read_dump, read_dump_arrays, sample_generator
from synthcal.gan.networks import load_released, resolve_device
from synthcal.sources.fractal import FractalSettings, colouring, generate_fractals
from synthcal.sources.noise import noise_images

KINDS = ("images", "generator", "fractal", "noise")


def _sample(total: int, n: int, seed: int) -> np.ndarray:
    """``min(n, total)`` positions of a seeded order of ``total`` items, sorted."""
    return np.sort(calibration_order(total, seed, min(n, total), purpose="quality-sample"))


def stored_images(path: str | Path, n: int, seed: int) -> np.ndarray:
    """A seeded sample of ``n`` images (all if fewer) of a prepared split, a teacher dump or a calibration folder."""
    path = Path(path)
    if path.suffix == ".npz":
        images = load_split(path).images
        return images[_sample(len(images), n, seed)]
    if (path / "noise.npy").exists():  # a teacher dump: decode only the chosen images
        labels = read_dump_arrays(path)[1]
        return read_dump(path, _sample(len(labels), n, seed))[1]
    images = load_calibration_folder(path, progress=False)[0].images
    return images[_sample(len(images), n, seed)]


def describe(kind: str, settings: Mapping[str, Any] | None = None, what: str = "") -> str:
    """What a quality set's images are, as Table 2 states it: ``what`` (the stored set or the generator, in words)
    for stored and generated sets, the colouring for fractals, the distribution for noise."""
    settings = dict(settings or {})
    if kind == "fractal":
        return f"IFS fractals, {colouring(settings.get('colorizer_dir'))}"
    if kind == "noise":
        distribution = settings.get("distribution", "uniform")
        return "uniform pixel noise" if distribution == "uniform" else \
            f"Gaussian pixel noise (std {settings.get('std') or 64.0:g})"
    if kind in ("images", "generator"):
        return what
    raise ValueError(f"unknown quality set kind {kind!r}; one of {', '.join(KINDS)}")


def image_set(kind: str, n: int, seed: int, source: str | Path | None = None,
              settings: Mapping[str, Any] | None = None, threads: int = 1, device: str = "auto") -> np.ndarray:
    """The uint8 NHWC images of one quality set (see the module docstring).

    Args:
        kind: one of :data:`KINDS`.
        source: the stored set (``images``) or the generator's folder or ``generator.pt`` (``generator``).
        settings: :class:`synthcal.sources.fractal.FractalSettings` fields (``fractal``) or ``distribution`` and ``std``
            (``noise``).
    """
    settings = dict(settings or {})
    if kind == "images":
        assert source is not None
        return stored_images(source, n, seed)
    if kind == "generator":
        assert source is not None
        dev = resolve_device(device)
        generator = load_released(source, map_location=dev).to(dev)
        split, _, _ = sample_generator(generator, math.ceil(n / 10), seed, generator.z_dim, batch_size=500,
                                       device=dev, purpose="quality", name=f"the generator in {source}")
        return split.images[_sample(len(split), n, seed)]
    if kind == "fractal":
        return generate_fractals(n, seed, FractalSettings(**settings), workers=threads)[0]
    if kind == "noise":
        return noise_images(n, seed, settings.get("distribution", "uniform"), settings.get("std") or 64.0)
    raise ValueError(f"unknown quality set kind {kind!r}; one of {', '.join(KINDS)}")
