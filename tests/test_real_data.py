"""The offline configuration on the real inputs in ../shared: JPEG CIFAR-10 and akamaster's ResNet-20."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from helpers import REPO
from workflow_helpers import snakemake

pytestmark = pytest.mark.slow


def test_offline_config_reproduces_resnet20_on_jpeg_cifar10(shared, tmp_path):
    """FP32 ~81% (lossy JPEG copy; 91.8% on canonical CIFAR-10) and an INT8 drop of at most 1 point."""
    offline = yaml.safe_load((REPO / "configs" / "offline.yaml").read_text())
    # the same configuration, with ../shared made absolute so that it runs in a temporary directory
    offline["data"]["cifar10"]["local_path"] = str(shared / "data" / "cifar10-jpeg.tar.gz")
    weights = offline["models"]["akamaster_resnet20"]["weights"]
    weights["path"] = str(shared / "weights" / "akamaster-resnet-cifar10" / "resnet20-12fca82f.th")
    # the cifar10 source with default quantization: the GAN chain takes half an hour (see test_gan_real.py), the
    # FID network is checked on real images in test_quality.py
    offline["experiment"].update(sources=["cifar10"], algorithms=["default"])
    offline["quality"] = {"enabled": False}
    offline["throughput"] = {"threads": 2, "seconds": 0.5, "repeats": 1}
    (tmp_path / "offline.yaml").write_text(yaml.safe_dump(offline))
    snakemake(tmp_path, "--cores", "2", "--configfile", str(tmp_path / "offline.yaml"), timeout=1800)

    table = pd.read_csv(tmp_path / "results/tables/default_quantization.csv")
    assert len(table) == 1
    row = table.iloc[0]
    assert row.model == "akamaster_resnet20" and row.source == "cifar10"
    assert row.n_calibration == 5000 and row.subset_size == 5000
    assert 80.0 <= row.fp32_accuracy <= 82.0
    assert row.drop_points <= 1.0
    assert row.int8_accuracy > 75.0  # really quantized, and still a classifier
    data = json.loads((tmp_path / "results/data/cifar10/manifest.json").read_text())
    assert data["lossy_jpeg"] and data["checksum"].startswith("sha256:23f88bfe")
    assert data["train"]["count"] == 50000 and data["test"]["count"] == 10000
    q = json.loads((tmp_path / "results/quantized/default/cifar10/akamaster_resnet20/quantization.json").read_text())
    assert q["fake_quantize_ops"] > 0
