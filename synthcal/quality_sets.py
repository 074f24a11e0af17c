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

The realism measures (precision, recall, density, coverage, per-class KID: :mod:`synthcal.realism`) compare each set
with real *training* images, in the same feature space: a reference of ``n_reference`` training images
(:func:`realism_reference_indices`), and of each set a seeded subset of at most ``n_images`` images with their
labels (:func:`realism_subset`); the ``cifar10`` set's subset leaves out the reference's images.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthcal.calibration import calibration_order, load_calibration_folder
from synthcal.data import load_split
from synthcal.gan.dump import read_dump, read_dump_arrays, sample_generator
from synthcal.gan.networks import load_released, resolve_device
from synthcal.seeding import rng
from synthcal.settings import FractalSettings, NoiseSettings, from_params
from synthcal.sources.fractal import FractalParameters, colouring, generate_fractals
from synthcal.sources.noise import describe as describe_noise
from synthcal.sources.noise import noise_images

KINDS = ("images", "generator", "fractal", "noise")


def _sample(total: int, n: int, seed: int) -> np.ndarray:
    """``min(n, total)`` positions of a seeded order of ``total`` items, sorted."""
    return np.sort(calibration_order(total, seed, min(n, total), purpose="quality-sample"))


@dataclass(frozen=True)
class ImageSet:
    """A quality set's images (uint8 NHWC), their class labels (None for unlabelled kinds) and, for a set drawn from
    a stored split, the positions of its images in that split and the split's size (None otherwise)."""

    images: np.ndarray
    labels: np.ndarray | None = None
    indices: np.ndarray | None = None
    total: int | None = None


def realism_reference_indices(total: int, n: int, seed: int) -> np.ndarray:
    """The training images of the realism reference: a seeded sample of ``n`` of the split's ``total`` images, at
    most half of them (the ``cifar10`` row needs real images outside the reference), sorted."""
    return np.sort(calibration_order(total, seed, min(n, total // 2), purpose="realism-reference"))


def stored_images(path: str | Path, n: int, seed: int, subset: str | None = None,
                  n_reference: int = 0) -> ImageSet:
    """A seeded sample of ``n`` images (all if fewer) of a prepared split, a teacher dump or a calibration folder,
    with their labels; ``subset="realism_reference"`` takes the realism reference of a split instead
    (:func:`realism_reference_indices`, ``n`` images)."""
    path = Path(path)
    if path.suffix == ".npz":
        split = load_split(path)
        chosen = (realism_reference_indices(len(split), n, seed) if subset == "realism_reference"
                  else _sample(len(split), n, seed))
        return ImageSet(split.images[chosen], split.labels[chosen], chosen, len(split))
    if (path / "noise.npy").exists():  # a teacher dump: decode only the chosen images
        labels = read_dump_arrays(path)[1]
        chosen = _sample(len(labels), n, seed)
        _, images, chosen_labels, _ = read_dump(path, chosen)
        return ImageSet(images, chosen_labels, chosen, len(labels))
    split = load_calibration_folder(path, progress=False)[0]
    chosen = _sample(len(split), n, seed)
    return ImageSet(split.images[chosen], split.labels[chosen], chosen, len(split))


def realism_subset(image_set: ImageSet, n: int, seed: int, exclude_reference: int | None = None) -> np.ndarray:
    """Positions (into ``image_set``) of the at most ``n`` images whose features the realism measures use: a seeded
    sample; ``exclude_reference`` (the reference's size) leaves out the images of the split's realism reference."""
    candidates = np.arange(len(image_set.images))
    if exclude_reference and image_set.indices is not None and image_set.total is not None:
        reference = realism_reference_indices(image_set.total, exclude_reference, seed)
        candidates = candidates[~np.isin(image_set.indices, reference)]
    if len(candidates) <= n:
        return candidates
    return np.sort(rng(seed, "realism-subset").choice(candidates, n, replace=False))


def describe(kind: str, settings: Mapping[str, Any] | None = None, what: str = "") -> str:
    """What a quality set's images are, as Table 2 states it: ``what`` (the stored set or the generator, in words)
    for stored and generated sets, the colouring for fractals, the distribution for noise."""
    if kind == "fractal":
        return f"IFS fractals, {colouring(from_params(FractalSettings, settings).colorizer_dir)}"
    if kind == "noise":
        return describe_noise(from_params(NoiseSettings, settings))
    if kind in ("images", "generator"):
        return what
    raise ValueError(f"unknown quality set kind {kind!r}; one of {', '.join(KINDS)}")


def labelled_image_set(kind: str, n: int, seed: int, source: str | Path | None = None,
                       settings: Mapping[str, Any] | None = None, threads: int = 1, device: str = "auto") -> ImageSet:
    """The images of one quality set, with their labels where the set has classes (see the module docstring).

    Args:
        kind: one of :data:`KINDS`.
        source: the stored set (``images``) or the generator's folder or ``generator.pt`` (``generator``).
        settings: the rule parameters of :class:`synthcal.settings.FractalSettings` (``fractal``) or
            :class:`synthcal.settings.NoiseSettings` (``noise``), or ``subset: realism_reference`` (``images`` of a
            split: the realism reference).
    """
    settings = dict(settings or {})
    if kind == "images":
        assert source is not None
        return stored_images(source, n, seed, settings.get("subset"))
    if kind == "generator":
        assert source is not None
        dev = resolve_device(device)
        generator = load_released(source, map_location=dev).to(dev)
        split, _, _ = sample_generator(generator, math.ceil(n / 10), seed, generator.z_dim, batch_size=500,
                                       device=dev, purpose="quality", name=f"the generator in {source}")
        chosen = _sample(len(split), n, seed)
        return ImageSet(split.images[chosen], split.labels[chosen])
    if kind == "fractal":
        parameters = FractalParameters.of(from_params(FractalSettings, settings))
        return ImageSet(generate_fractals(n, seed, parameters, workers=threads)[0])
    if kind == "noise":
        return ImageSet(noise_images(n, seed, from_params(NoiseSettings, settings)))
    raise ValueError(f"unknown quality set kind {kind!r}; one of {', '.join(KINDS)}")


def image_set(kind: str, n: int, seed: int, source: str | Path | None = None,
              settings: Mapping[str, Any] | None = None, threads: int = 1, device: str = "auto") -> np.ndarray:
    """The uint8 NHWC images of one quality set (:func:`labelled_image_set` without the labels)."""
    return labelled_image_set(kind, n, seed, source, settings, threads, device).images
