"""Which synthetic images to calibrate on: a generated pool scored by the FP32 classifier, the best kept per class.

A filtered source samples a pool ``pool_factor`` times larger than the calibration set from a generator (the
teacher's dump, DiStyleGAN) or from the real training set (a control), scores every image with the FP32 model and
keeps the best ``n_per_class`` of each class (GenQ, Li et al. ECCV 2024, filters Stable Diffusion images this way):

* ``confidence``: the softmax probability of the class the image was made for; highest kept;
* ``energy``: GenQ's energy score, ``-logsumexp(logits)``; lowest kept (in-distribution images have low energy);
* ``bn_distance``: how far the image pulls the BatchNorm input statistics from the running statistics. Images
  are scored in batches: for every BatchNorm layer, the ZeroQ distance ``||mean - running_mean||_2 +
  ||std - running_std||_2`` of the batch with the image, minus that of the batch without it (leave-one-out,
  computed exactly from per-image moments), summed over layers; lowest kept.

Scores come from one model, so filtered folders are per model (like BN inversion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from synthcal.calibration import calibration_order, select_balanced, write_calibration_folder
from synthcal.classifiers import inference_mode
from synthcal.data import Split, load_split
from synthcal.gan.dump import read_dump, read_dump_arrays, sample_generator
from synthcal.gan.networks import load_released, resolve_device
from synthcal.preprocess import to_model_input
from synthcal.sources.bn_inversion import BatchNormTaps, zeroq_distance
from synthcal.sources.registry import FILTERS, HIGHER_IS_BETTER


class _Moments:
    """Per-image, per-channel first and second moments of every BatchNorm input of a forward
    (:class:`~synthcal.sources.bn_inversion.BatchNormTaps`), as (layer, means (n, C), second moments (n, C))."""

    def __init__(self, model: nn.Module) -> None:
        self.taps = BatchNormTaps(model)
        self.layers = self.taps.layers

    def moments(self) -> list[tuple[Any, torch.Tensor, torch.Tensor]]:
        out = []
        for layer, x in self.taps.records:
            x = x.double()
            dims = tuple(range(2, x.dim()))
            out.append((layer, x.mean(dim=dims), (x * x).mean(dim=dims)))
        return out

    def remove(self) -> None:
        self.taps.remove()


def _zeroq_distance(m1: torch.Tensor, m2: torch.Tensor, layer: nn.modules.batchnorm._BatchNorm) -> torch.Tensor:
    """ZeroQ's distance (:func:`synthcal.sources.bn_inversion.zeroq_distance`) from first and second moments (..., C)."""
    return zeroq_distance(m1, (m2 - m1 * m1).clamp_min(0).add(layer.eps).sqrt(), layer)


def bn_contributions(moments: Sequence[tuple[Any, torch.Tensor, torch.Tensor]]) -> np.ndarray:
    """Per image of a batch: the batch's BN-statistics distance minus the distance without that image.

    ``moments`` = (layer, per-image channel means, per-image channel second moments) of each BatchNorm input,
    each (n, C); every image has the same number of positions, so batch moments are means of per-image moments.
    """
    total = None
    for layer, first, second in moments:
        n = len(first)
        s1, s2 = first.sum(0), second.sum(0)
        full = _zeroq_distance(s1 / n, s2 / n, layer)
        without = _zeroq_distance((s1 - first) / (n - 1), (s2 - second) / (n - 1), layer)  # (n,) leave-one-out
        contribution = full - without
        total = contribution if total is None else total + contribution
    assert total is not None
    return total.numpy()


@dataclass
class Scores:
    """Per image: softmax confidence in its label, energy, and BN-distance contribution (NaN without BN)."""

    confidence: np.ndarray
    energy: np.ndarray
    bn_distance: np.ndarray

    def of(self, method: str) -> np.ndarray:
        if method not in FILTERS:
            raise ValueError(f"unknown filter {method!r}; one of {', '.join(FILTERS)}")
        return getattr(self, method)


@torch.no_grad()
def score_images(model: nn.Module, images: np.ndarray, labels: np.ndarray, mean: Sequence[float],
                 std: Sequence[float], batch_size: int = 200, progress: bool = True) -> Scores:
    """Score uint8 NHWC ``images`` (made for ``labels``) with a classifier in eval mode, in batches of
    ``batch_size`` (the batches of the BN-distance contributions; at least 2 images)."""
    if batch_size < 2:
        raise ValueError("bn_distance compares each image with its batch: batch_size must be at least 2")
    model = inference_mode(model)
    moments = _Moments(model)
    confidence, energy, contributions = [], [], []
    try:
        for start in tqdm(range(0, len(images), batch_size), desc="score pool", unit="batch", disable=not progress):
            x = torch.from_numpy(to_model_input(images[start:start + batch_size], mean, std))
            y = torch.from_numpy(labels[start:start + batch_size]).long()
            moments.taps.clear()
            logits = model(x).double()
            confidence.append(F.softmax(logits, dim=1).gather(1, y.view(-1, 1)).squeeze(1).numpy())
            energy.append((-torch.logsumexp(logits, dim=1)).numpy())
            if moments.layers and len(x) > 1:
                contributions.append(bn_contributions(moments.moments()))
            else:  # no BatchNorm, or a last batch of one image: nothing to compare with
                contributions.append(np.full(len(x), np.nan))
    finally:
        moments.remove()
    return Scores(np.concatenate(confidence), np.concatenate(energy), np.concatenate(contributions))


def select_best(scores: np.ndarray, labels: np.ndarray, n_per_class: int, higher_is_better: bool,
                num_classes: int = 10) -> np.ndarray:
    """Indices of the ``n_per_class`` best-scoring images of every class (class-major, best first; ties keep pool
    order). NaN scores rank last.

    Raises:
        ValueError: a class has fewer than ``n_per_class`` images in the pool.
    """
    chosen = []
    for cls in range(num_classes):
        pool = np.flatnonzero(labels == cls)
        if len(pool) < n_per_class:
            raise ValueError(f"class {cls} has {len(pool)} pool images, fewer than n_per_class={n_per_class}")
        values = scores[pool]
        key = np.where(np.isnan(values), np.inf, -values if higher_is_better else values)
        chosen.append(pool[np.argsort(key, kind="stable")[:n_per_class]])
    return np.concatenate(chosen)


def score_summary(values: np.ndarray) -> dict[str, float | None]:
    """Mean, standard deviation and quartiles of scores, for the manifest (None where undefined)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"n": 0, "mean": None, "std": None, "min": None, "q25": None, "median": None, "q75": None, "max": None}
    q = np.percentile(finite, [0, 25, 50, 75, 100])
    return {"n": int(len(finite)), "mean": float(finite.mean()), "std": float(finite.std()), "min": float(q[0]),
            "q25": float(q[1]), "median": float(q[2]), "q75": float(q[3]), "max": float(q[4])}


def pool(kind: str, source: str | Path, per_class: int, seed: int, purpose: str,
         device: str = "cpu") -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A class-balanced pool of ``per_class`` images per class: (images, labels, description).

    ``kind``: ``dump`` (a teacher dump: a seeded choice of its images, all of a class when it holds fewer),
    ``generator`` (fresh samples of a released-format generator, Gaussian latents with per-image seeds) or
    ``images`` (a prepared split such as the real training set: a seeded choice).
    """
    if kind == "generator":
        dev = resolve_device(device)
        generator = load_released(source, map_location=dev).to(dev)
        split, _, _ = sample_generator(generator, per_class, seed, generator.z_dim, 500, dev, purpose=purpose,
                                       name=f"the generator in {source}")
        return split.images, split.labels, {"kind": kind, "source": str(source), "per_class": per_class}
    if kind == "dump":
        labels = read_dump_arrays(source)[1]
        available = int(np.bincount(labels, minlength=10).min())
        take = min(per_class, available)
        chosen = select_balanced(labels, take, seed, purpose=purpose)
        _, images, chosen_labels, _ = read_dump(source, chosen)
        return images, chosen_labels, {"kind": kind, "source": str(source), "per_class": take,
                                       "asked_per_class": per_class, "dump_indices": chosen.tolist()}
    if kind == "images":
        split = load_split(source)
        take = min(per_class, int(np.bincount(split.labels, minlength=10).min()))
        chosen = select_balanced(split.labels, take, seed, purpose=purpose)
        return split.images[chosen], split.labels[chosen], {"kind": kind, "source": str(source), "per_class": take,
                                                            "asked_per_class": per_class,
                                                            "indices": chosen.tolist()}
    raise ValueError(f"unknown pool kind {kind!r} (dump, generator or images)")


def filtered_calibration_folder(root: str | Path, *, base: str, kind: str, source: str | Path, method: str,
                                model: nn.Module, model_name: str, n_per_class: int, pool_factor: float,
                                mean: Sequence[float], std: Sequence[float], seed: int, batch_size: int = 200,
                                device: str = "cpu") -> dict[str, Any]:
    """A filtered source ``<base>_<method>`` for one model: a pool of ``pool_factor * n_per_class`` images per
    class from ``source``, scored by ``model`` (:func:`score_images`), the best ``n_per_class`` per class kept
    (:func:`select_best`) and written as a calibration folder. The manifest records the pool, the score
    distribution of the pool and of the kept images, and the pool indices kept."""
    per_class = max(n_per_class, int(round(pool_factor * n_per_class)))
    images, labels, description = pool(kind, source, per_class, seed, purpose=f"{base}-pool", device=device)
    order = calibration_order(len(images), seed, purpose=f"{base}-score-batches")  # mixed classes in every batch
    scores = score_images(model, images[order], labels[order], mean, std, batch_size)
    values = np.empty(len(images))
    values[order] = scores.of(method)
    kept = select_best(values, labels, n_per_class, HIGHER_IS_BETTER[method])
    return write_calibration_folder(root, Split(images[kept], labels[kept]), {
        "source": f"{base}_{method}", "base": base, "filter": method, "model": model_name, "seed": seed,
        "description": f"{base} images kept by the {method} filter of the calibrated model (the best "
                       f"{n_per_class} of {description['per_class']} per class)",
        "n_per_class": n_per_class, "pool_factor": pool_factor, "pool": description, "pool_size": int(len(images)),
        "higher_is_better": HIGHER_IS_BETTER[method], "score_batch_size": batch_size,
        "scores_pool": score_summary(values), "scores_kept": score_summary(values[kept]),
        "kept_pool_indices": kept.tolist()})
