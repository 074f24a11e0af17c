"""Filtered sources (synthcal.sources.filtered): scores, selection, the BN-statistics distance, and nested subsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from synthcal.calibration import nested_subset
from synthcal.sources.filtered import FILTERS, HIGHER_IS_BETTER, score_images, select_best

# with mean 0 and std 1/255 the model input is the raw pixel value, so a stand-in can read an image's id
IDENTITY = ((0.0, 0.0, 0.0), (1 / 255, 1 / 255, 1 / 255))


class _LookUp(nn.Module):
    """A stand-in classifier whose logits for image ``i`` (pixel (0, 0) red = i) are row ``i`` of a table."""

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("table", table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.table[x[:, 0, 0, 0].round().long()]


def _id_images(n: int) -> np.ndarray:
    images = np.zeros((n, 32, 32, 3), dtype=np.uint8)
    images[:, 0, 0, 0] = np.arange(n)
    return images


def test_filters_keep_the_expected_images_of_a_scored_pool():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 6)  # a pool of 6 per class
    table = torch.from_numpy(rng.normal(0, 3, (60, 10)))
    scores = score_images(_LookUp(table), _id_images(60), labels, *IDENTITY, batch_size=7, progress=False)
    logits = table.numpy()
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    confidence = softmax[np.arange(60), labels]
    energy = -np.log(np.exp(logits).sum(1))
    np.testing.assert_allclose(scores.confidence, confidence, rtol=1e-9)
    np.testing.assert_allclose(scores.energy, energy, rtol=1e-9)
    assert np.isnan(scores.bn_distance).all()  # no BatchNorm in the stand-in
    for values, higher in ((confidence, True), (energy, False)):
        expected = np.concatenate([c * 6 + np.argsort(-values[c * 6:(c + 1) * 6] if higher
                                                      else values[c * 6:(c + 1) * 6])[:2] for c in range(10)])
        assert np.array_equal(select_best(values, labels, 2, higher), expected)
    with pytest.raises(ValueError, match="class 0 has 6 pool images, fewer than n_per_class=7"):
        select_best(confidence, labels, 7, True)
    assert FILTERS == ("confidence", "energy", "bn_distance") and HIGHER_IS_BETTER == {
        "confidence": True, "energy": False, "bn_distance": False}


def test_bn_distance_is_each_images_leave_one_out_contribution():
    torch.manual_seed(0)
    conv, bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    model = nn.Sequential(conv, bn, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10)).eval()
    images = np.random.default_rng(1).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    scores = score_images(model, images, np.zeros(6, dtype=int), (0.5,) * 3, (0.25,) * 3, batch_size=6,
                          progress=False)
    x = torch.from_numpy(((images / 255.0 - 0.5) / 0.25).transpose(0, 3, 1, 2)).float()
    with torch.no_grad():
        h = conv(x).double().numpy()  # the BatchNorm's input, (6, 4, 32, 32)
    mu, sigma = bn.running_mean.double().numpy(), np.sqrt(bn.running_var.double().numpy())

    def distance(batch: np.ndarray) -> float:
        mean = batch.mean(axis=(0, 2, 3))
        std = np.sqrt(batch.var(axis=(0, 2, 3)) + bn.eps)
        return float(np.linalg.norm(mean - mu) + np.linalg.norm(std - sigma))

    expected = [distance(h) - distance(np.delete(h, i, axis=0)) for i in range(6)]
    np.testing.assert_allclose(scores.bn_distance, expected, rtol=1e-6, atol=1e-9)


def test_nested_subsets_grow_by_inclusion():
    labels = np.repeat(np.arange(10), 9)[np.random.default_rng(2).permutation(90)]
    subsets = {k: nested_subset(labels, k, seed=5) for k in (1, 3, 9)}
    for k, subset in subsets.items():
        assert np.bincount(labels[subset], minlength=10).tolist() == [k] * 10
    assert set(subsets[1]) <= set(subsets[3]) <= set(subsets[9]) and len(set(subsets[9])) == 90
    assert not np.array_equal(nested_subset(labels, 3, seed=6), subsets[3])  # the seed picks them
