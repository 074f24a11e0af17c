"""The `trained` teacher provider on a few hundred real images from ../shared (JPEG CIFAR-10)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthcal.data import save_split
from synthcal.gan.dump import read_dump
from synthcal.gan.teachers import make_dump
from synthcal.gan.train import train_run

from helpers import first_train_images, gan

pytestmark = pytest.mark.slow


def test_trained_teacher_on_real_images(shared, tmp_path):
    split = first_train_images(shared / "data" / "cifar10-jpeg.tar.gz", per_class=30)
    assert len(split) == 300
    save_split(tmp_path / "train.npz", split)
    settings = gan(mode="gan", epochs=1, batch_size=30, ngf=32, ndf=32, z_dim=64, project_dim=32,
                             checkpoint_every=1)
    summary = train_run(settings, tmp_path / "train.npz", tmp_path / "teacher", device="cpu",
                        label="teacher (conditional GAN)", progress=False)
    assert summary["epochs"] == 1 and summary["images_per_s"] > 0
    losses = (tmp_path / "teacher" / "losses.csv").read_text().splitlines()
    assert losses[0].startswith("epoch,iterations") and "D_real" in losses[0] and len(losses) == 2
    assert all(np.isfinite(float(v)) for v in losses[1].split(",")[4:])

    manifest = make_dump("trained", tmp_path / "dump", n_per_class=5, seed=0, latent="gaussian", batch_size=16,
                         device="cpu", source=tmp_path / "teacher")
    assert manifest["teacher"]["provider"] == "trained" and manifest["count"] == 50
    z, images, labels, _ = read_dump(tmp_path / "dump")
    assert z.shape == (50, 64) and images.shape == (50, 32, 32, 3)
    assert images.std() > 1.0  # not a constant image
    assert json.loads((tmp_path / "teacher" / "config.json").read_text())["ngf"] == 32
