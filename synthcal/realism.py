"""Realism measures that a classifier-guided generator cannot game: how much of the real data a source covers, not
only how recognisable its images are.

A generator trained with a classifier's guidance makes class prototypes: its images are recognised as their class
more often than real images are (label agreement rewards that), while they may cover only part of each class. So
each source is compared with real *training* images in the FID feature space (pool features of the same network):

* **precision / recall** (Kynkaeaenniemi et al. 2019) and **density / coverage** (Naeem et al. 2020), k = 5, from
  the ``prdc`` package, at equal N: the real reference is subsampled (seeded) to the source's N, at most
  ``quality.realism.n_images`` (the k-NN distance matrices grow as N squared). Precision and density: how many
  generated images lie in the real manifold; recall and coverage: how much of the real manifold they reach.
* **per-class KID** (Kernel Inception Distance, torch-fidelity's unbiased estimator over random subsets, so usable
  at small N) between a source's images of a class and the real images of that class, for sources whose labels
  mean the class (:func:`synthcal.sources.registry.traits`);
* **intra-class FID**, only where both sides hold at least ``min_per_class`` images of a class (500 by default:
  FID's bias at small N would dominate).

Compare rows only at the same N (the report states N); the ``cifar10`` row is real training images against
disjoint real training images: the values real data itself reaches at that N.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from prdc import compute_prdc
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

from synthcal import CIFAR10_CLASSES
from synthcal.quality import frechet_distance
from synthcal.seeding import rng
from synthcal.settings import RealismSettings

#: Columns of reports/realism.csv and reports/realism_per_class.csv.
REALISM_COLUMNS = ["source", "n_images", "n_reference", "nearest_k", "precision", "recall", "density", "coverage",
                   "labelled", "kid_mean", "kid_classes", "kid_subset_size", "intra_fid_mean", "intra_fid_classes",
                   "extractor", "description"]
PER_CLASS_COLUMNS = ["source", "class", "n_images", "n_reference", "kid", "kid_std", "kid_subset_size", "intra_fid"]


class RealismError(ValueError):
    """Features for the realism measures are missing or were computed by another network."""


def _features(summary: Mapping[str, Any], name: str) -> tuple[np.ndarray, np.ndarray]:
    if "features" not in summary:
        raise RealismError(f"the features of {name} hold no realism subset: rerun its quality_features job with "
                           "quality.realism.enabled")
    return np.asarray(summary["features"], dtype=np.float32), np.asarray(summary["labels"], dtype=np.int64)


def prdc_at_equal_n(real: np.ndarray, fake: np.ndarray, nearest_k: int, seed: int) -> dict[str, float] | None:
    """Precision, recall, density and coverage of ``fake`` against ``real`` subsampled (seeded) to the size of
    ``fake`` (or ``fake`` to that of ``real``); None when fewer than ``nearest_k + 1`` images."""
    n = min(len(real), len(fake))
    if n <= nearest_k:
        return None
    gen = rng(seed, "prdc")
    real = real[np.sort(gen.choice(len(real), n, replace=False))] if len(real) > n else real
    fake = fake[np.sort(gen.choice(len(fake), n, replace=False))] if len(fake) > n else fake
    with contextlib.redirect_stdout(io.StringIO()):  # prdc prints the set sizes
        out = compute_prdc(real_features=real, fake_features=fake, nearest_k=nearest_k)
    return {k: float(v) for k, v in out.items()}


def kid(a: np.ndarray, b: np.ndarray, subset_size: int, subsets: int, seed: int) -> tuple[float, float, int] | None:
    """Unbiased KID (mean, std over subsets, subset size) of two feature sets with torch-fidelity, with subsets of
    ``min(subset_size, len(a), len(b))`` images; None when a side has fewer than 2 images."""
    size = min(subset_size, len(a), len(b))
    if size < 2:
        return None
    out = kid_features_to_metric(torch.from_numpy(np.ascontiguousarray(a)), torch.from_numpy(np.ascontiguousarray(b)),
                                 kid_subsets=subsets, kid_subset_size=size, rng_seed=seed % 2**32, verbose=False)
    return float(out[KEY_METRIC_KID_MEAN]), float(out[KEY_METRIC_KID_STD]), size


def realism_rows(name: str, summary: Mapping[str, Any], reference: Mapping[str, Any], labelled: bool,
                 settings: RealismSettings) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The realism row of one quality set against the training reference, and its per-class rows (see the module
    docstring); ``labelled``: whether the set's labels are classes (then per-class KID and intra-class FID).

    Raises:
        RealismError: a summary holds no realism features, or the two were computed by different networks.
    """
    if str(summary.get("extractor")) != str(reference.get("extractor")):
        raise RealismError(f"{name}'s features come from {summary.get('extractor')!r}, the reference's from "
                           f"{reference.get('extractor')!r}: rerun the quality_features jobs with one network")
    fake, fake_labels = _features(summary, name)
    real, real_labels = _features(reference, "the training reference")
    scores = prdc_at_equal_n(real, fake, settings.nearest_k, settings.seed) or {}
    row: dict[str, Any] = {"source": name, "n_images": len(fake), "n_reference": min(len(real), len(fake)),
                           "nearest_k": settings.nearest_k, **{k: scores.get(k) for k in
                                                                 ("precision", "recall", "density", "coverage")},
                           "labelled": labelled, "extractor": str(summary.get("extractor")),
                           "description": str(summary.get("description") or "") or None}
    per_class = []
    if labelled:
        for c, cls in enumerate(CIFAR10_CLASSES):
            a, b = fake[fake_labels == c], real[real_labels == c]
            kid_out = kid(a, b, settings.kid_subset_size, settings.kid_subsets, settings.seed + c)
            fid = (frechet_distance(a.astype(np.float64), b.astype(np.float64))
                   if min(len(a), len(b)) >= settings.min_per_class else None)
            per_class.append({"source": name, "class": cls, "n_images": len(a), "n_reference": len(b),
                              "kid": kid_out[0] if kid_out else None, "kid_std": kid_out[1] if kid_out else None,
                              "kid_subset_size": kid_out[2] if kid_out else None, "intra_fid": fid})
    kids = [r["kid"] for r in per_class if r["kid"] is not None]
    fids = [r["intra_fid"] for r in per_class if r["intra_fid"] is not None]
    sizes = [r["kid_subset_size"] for r in per_class if r["kid_subset_size"]]
    row.update(kid_mean=float(np.mean(kids)) if kids else None, kid_classes=len(kids),
               kid_subset_size=min(sizes) if sizes else None,
               intra_fid_mean=float(np.mean(fids)) if fids else None, intra_fid_classes=len(fids))
    return row, per_class
