"""The train weights provider: a built-in classifier trained, checkpointed, resumed only by its own identity."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from synthcal.data import Split, load_split, save_split
from synthcal.models import build, load_weights
from synthcal.models.training import ClassifierTraining, TrainingDiverged, accuracy, train_weights
from synthcal.schema import default_settings

from helpers import random_images

MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    labels = np.arange(120) % 10
    images = random_images(120, 0)
    images[:, :4, :4] = (labels[:, None, None, None] * 25).astype(np.uint8)  # a learnable corner
    save_split(root / "train.npz", Split(images[:100], labels[:100]))
    save_split(root / "test.npz", Split(images[100:], labels[100:]))
    return root / "train.npz", root / "test.npz"


def _train(splits, out, **settings):
    defaults = {"epochs": 2, "batch_size": 25, "lr": 0.05, "seed": 1}
    training = default_settings(ClassifierTraining, **{**defaults, **settings})
    return train_weights("shufflenetv2_x0_5", *splits, MEAN, STD, training, out,
                         progress=False)


def test_trained_weights_record_their_test_accuracy_and_resume_to_the_same_weights(splits, tmp_path, caplog):
    summary = _train(splits, tmp_path / "a")
    weights = load_weights(build("shufflenetv2_x0_5"), tmp_path / "a" / "weights.pt")
    assert summary["test_accuracy"] == pytest.approx(accuracy(weights, load_split(splits[1]), MEAN, STD))
    assert json.loads((tmp_path / "a" / "training.json").read_text())["weights_sha256"] == summary["weights_sha256"]
    assert [row["epoch"] for row in summary["history"]] == [1, 2] and summary["images_per_s"] > 0
    # an interrupted run (its last checkpoint lost) resumes from epoch 1 and reaches bitwise the same weights
    run_dir = next((tmp_path / "a" / "checkpoints").iterdir())
    (run_dir / "epoch_0002.pt").unlink()
    with caplog.at_level(logging.INFO):
        resumed = _train(splits, tmp_path / "a")
    assert "resuming from" in caplog.text and "epoch_0001.pt" in caplog.text
    assert resumed["weights_sha256"] == summary["weights_sha256"]
    # other settings train afresh, in their own folder, and the log says what changed
    caplog.clear()
    with caplog.at_level(logging.INFO):
        other = _train(splits, tmp_path / "a", lr=0.02)
    assert "lr: 0.05 -> 0.02" in caplog.text and "training from epoch 1" in caplog.text
    assert other["weights_sha256"] != summary["weights_sha256"]
    assert len(list((tmp_path / "a" / "checkpoints").iterdir())) == 2


def test_a_diverging_learning_rate_stops_with_a_clear_error(splits, tmp_path):
    with pytest.raises(TrainingDiverged, match=r"the training diverged; lower the learning rate \(lr 1e\+30\)"):
        _train(splits, tmp_path / "b", lr=1e30)
    assert not (tmp_path / "b" / "weights.pt").exists()
    with pytest.raises(ValueError, match="epochs and batch_size must be at least 1"):
        default_settings(ClassifierTraining, epochs=0)
