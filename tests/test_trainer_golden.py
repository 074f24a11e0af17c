"""The GAN trainer keeps computing what it computed: three generator steps of each training mode, their losses and
the digests of the weights they reach, against a golden record written before the trainer was split by objective
(tests/data/trainer_golden.json; ``python tests/test_trainer_golden.py --write`` rewrites it, on purpose only).

Losses must match to 1e-6; the weight digests exactly on the machine that wrote the record (another CPU's kernels
may round differently, so elsewhere only the losses are compared)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

from synthcal.gan.loop import Trainer, TrainingData  # noqa: E402
from synthcal.gan.networks import FeatureNetwork  # noqa: E402
from synthcal.machine import machine_info  # noqa: E402
from synthcal.models import build  # noqa: E402

from helpers import GAN_BASE, gan, random_images  # noqa: E402

GOLDEN = Path(__file__).parent / "data" / "trainer_golden.json"
SMALL = {"epochs": 1, "batch_size": 4, "ngf": 16, "ndf": 8, "z_dim": 16, "project_dim": 8, "seed": 7}
#: The modes: distillation, and the plain conditional GAN with each discriminator, EMA, DiffAugment and the
#: classifier guidance of a frozen feature network.
MODES = {
    "distill": {"mode": "distill", "gstep": 1},
    "gan_distylegan": {"mode": "gan", "discriminator": "distylegan"},
    "gan_projection_ema_diffaugment": {"mode": "gan", "discriminator": "projection", "ema": 0.9,
                                       "diffaugment": "color,translation,cutout"},
    "gan_projected_guided": {"mode": "gan", "discriminator": "projected", "classifier_weight": 1.0},
}


def _digest(module: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def run_mode(name: str) -> dict:
    """Train one mode for three generator steps (12 images at batch 4) and record its losses and weights."""
    values = {**GAN_BASE, **SMALL, **MODES[name]}
    mode, seed = values.pop("mode"), values.pop("seed")
    settings = gan(mode, seed, **values)
    images, labels = random_images(12, 1), np.arange(12) % 10
    real = TrainingData(images, labels)
    teacher = TrainingData(random_images(12, 2), labels, np.random.default_rng(3).standard_normal(
        (12, SMALL["z_dim"])).astype(np.float32)) if settings.mode == "distill" else None
    features = None
    if values["discriminator"] == "projected" or values["classifier_weight"]:
        torch.manual_seed(0)
        features = FeatureNetwork(build("akamaster_resnet20"), [0.5] * 3, [0.25] * 3, name="models.helper")
    trainer = Trainer(settings, real, teacher, device="cpu", progress=False, features=features)
    result = trainer.run()
    row = {k: v for k, v in result.history[-1].items() if k not in ("seconds", "images_per_s")}
    return {"losses": row, "generator": _digest(result.generator), "discriminator": _digest(result.discriminator)}


def _same_machine(recorded: dict) -> bool:
    here = machine_info()
    return recorded.get("cpu") == here["cpu"] and recorded.get("versions", {}).get("torch") == here["versions"]["torch"]


@pytest.mark.parametrize("name", list(MODES))
def test_three_steps_of_each_mode_compute_what_they_did(name):
    golden = json.loads(GOLDEN.read_text())
    record = run_mode(name)
    expected = golden["modes"][name]
    assert record["losses"].keys() == expected["losses"].keys()
    for key, value in expected["losses"].items():
        assert record["losses"][key] == pytest.approx(value, abs=1e-6), key
    if _same_machine(golden["machine"]):
        assert (record["generator"], record["discriminator"]) == (expected["generator"], expected["discriminator"])


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_trainer_golden.py --write   (rewrites the golden record)")
    GOLDEN.write_text(json.dumps({"machine": machine_info(), "modes": {m: run_mode(m) for m in MODES}}, indent=2)
                      + "\n")
    print(f"wrote {GOLDEN}")
