"""Per-image predictions of an evaluation, stored beside its summary so that every statistic can be recomputed
without running a model again.

One ``.npz`` per evaluated IR (FP32 per model, INT8 per variant, source and repeat), keyed by test index:

* ``indices``: int32, the position of each image in the test split (``results/data/cifar10/test.npz``);
* ``labels``: int16, its true class;
* ``predictions``: int16, the model's top-1 class, taken from the full-precision logits (so that the stored
  decision is the model's, not one of a rounded copy);
* ``logits``: float16, the logits (enough for margins and calibration checks; not for exact ties).

Accuracy, per-class accuracy, drops, flip rates and their intervals (:mod:`synthcal.statistics`) all derive from
``predictions`` and ``labels``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthcal.io import atomic_path


class PredictionsError(ValueError):
    """A predictions file is missing a field, is inconsistent, or belongs to other test images."""


@dataclass(frozen=True)
class Predictions:
    """The stored predictions of one evaluation (see the module docstring)."""

    indices: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    logits: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.indices)
        if not (len(self.labels) == len(self.predictions) == len(self.logits) == n):
            raise PredictionsError(f"predictions of {n} images have {len(self.labels)} labels, "
                                   f"{len(self.predictions)} predictions and {len(self.logits)} logit rows")

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def correct(self) -> np.ndarray:
        """Per image, whether the prediction is the label (bool)."""
        return self.predictions == self.labels

    def accuracy(self) -> float:
        """Top-1 accuracy in [0, 1]."""
        return float(self.correct.mean()) if len(self) else float("nan")

    def per_class_accuracy(self, n_classes: int) -> np.ndarray:
        """Top-1 accuracy of each class in [0, 1] (NaN for a class without test images)."""
        hits = np.bincount(self.labels, weights=self.correct, minlength=n_classes)
        counts = np.bincount(self.labels, minlength=n_classes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)


def from_logits(logits: np.ndarray, labels: np.ndarray, indices: np.ndarray | None = None) -> Predictions:
    """Predictions of full-precision ``logits`` (N, classes) for images with true ``labels`` (test positions
    ``indices``, default 0..N-1)."""
    logits = np.asarray(logits)
    if logits.ndim != 2 or len(logits) != len(labels):
        raise PredictionsError(f"logits of shape {logits.shape} for {len(labels)} labels")
    indices = np.arange(len(labels)) if indices is None else np.asarray(indices)
    return Predictions(indices.astype(np.int32), np.asarray(labels).astype(np.int16),
                       logits.argmax(1).astype(np.int16), logits.astype(np.float16))


def save_predictions(path: str | Path, predictions: Predictions) -> None:
    """Write ``predictions`` as an uncompressed ``.npz`` (atomically)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, indices=predictions.indices, labels=predictions.labels, predictions=predictions.predictions,
                 logits=predictions.logits)


def load_predictions(path: str | Path) -> Predictions:
    """Read a file written by :func:`save_predictions`.

    Raises:
        PredictionsError: a field is missing (the message names the file).
    """
    with np.load(path, allow_pickle=False) as npz:
        missing = {"indices", "labels", "predictions", "logits"} - set(npz.files)
        if missing:
            raise PredictionsError(f"{path} is not a predictions file: it lacks {', '.join(sorted(missing))}")
        return Predictions(npz["indices"], npz["labels"].astype(np.int64), npz["predictions"].astype(np.int64),
                           npz["logits"])


def aligned(reference: Predictions, other: Predictions, names: tuple[str, str] = ("FP32", "INT8")) -> None:
    """Check that two evaluations scored the same test images with the same labels, in the same order (a paired
    comparison needs it).

    Raises:
        PredictionsError: naming what differs.
    """
    if len(reference) != len(other) or not np.array_equal(reference.indices, other.indices):
        raise PredictionsError(f"the {names[0]} and {names[1]} predictions are of different test images "
                               f"({len(reference)} vs {len(other)}): rerun the older evaluation")
    if not np.array_equal(reference.labels, other.labels):
        raise PredictionsError(f"the {names[0]} and {names[1]} predictions disagree on the test labels: "
                               "they were evaluated on different test splits; rerun the older evaluation")
