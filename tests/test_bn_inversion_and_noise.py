import numpy as np
import pytest
import torch
from torch import nn

from synthcal.preprocess import to_model_input
from synthcal.schema import default_settings
from synthcal.settings import NoiseSettings
from synthcal.sources.bn_inversion import BNInversionSettings, NoBatchNormError, bn_inversion, statistics_gap
from synthcal.sources.noise import noise_images

UNIFORM = NoiseSettings("uniform", None)


def test_noise_images():
    u = noise_images(20, 0, UNIFORM)
    assert u.shape == (20, 32, 32, 3) and u.dtype == np.uint8 and u.min() == 0 and u.max() == 255
    assert np.array_equal(u, noise_images(20, 0, UNIFORM)) and not np.array_equal(u, noise_images(20, 1, UNIFORM))
    g = noise_images(20, 0, NoiseSettings("gaussian", 20.0))
    assert abs(g.mean() - 127.5) < 2 and 15 < g.std() < 25
    with pytest.raises(ValueError, match="unknown noise distribution"):
        noise_images(1, 0, NoiseSettings("pink", None))
    with pytest.raises(ValueError, match="needs its std"):
        noise_images(1, 0, NoiseSettings("gaussian", None))


def _tiny_bn_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2),
                        nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 15 * 15, 10))
    with torch.no_grad():  # running statistics of some "training data" that is not noise
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.2, 0.6)
        net[4].running_mean.uniform_(0.0, 1.0)
        net[4].running_var.uniform_(0.1, 0.3)
    return net.eval()


def test_bn_inversion_moves_statistics_towards_the_running_ones():
    net = _tiny_bn_net()
    labels = np.arange(12) % 10
    settings = default_settings(BNInversionSettings, iterations=60, lr=0.1, batch_size=6)
    images, report = bn_inversion(net, labels, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), settings, seed=0,
                                  progress=False)
    assert images.shape == (12, 32, 32, 3) and images.dtype == np.uint8
    assert report["bn_loss_end"] < 0.5 * report["bn_loss_start"]  # the loss decreased
    to_input = lambda u8: torch.from_numpy(to_model_input(u8, (0.5,) * 3, (0.25,) * 3))  # noqa: E731
    start_noise = (np.random.default_rng(0).normal(0.5, 0.25, (12, 32, 32, 3)).clip(0, 1) * 255).astype(np.uint8)
    assert statistics_gap(net, to_input(images)) < statistics_gap(net, to_input(start_noise))
    again, _ = bn_inversion(net, labels, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), settings, seed=0, progress=False)
    assert np.array_equal(images, again)


def test_cross_entropy_term_makes_images_carry_their_labels():
    net = _tiny_bn_net()
    labels = np.array([3, 7] * 5)

    def label_probability(ce_weight):
        settings = default_settings(BNInversionSettings, iterations=80, lr=0.1, batch_size=10, ce_weight=ce_weight)
        images, _ = bn_inversion(net, labels, (0.5,) * 3, (0.25,) * 3, settings, seed=1, progress=False)
        x = torch.from_numpy(to_model_input(images, (0.5,) * 3, (0.25,) * 3))
        with torch.no_grad():
            probs = net(x).softmax(1)
        return probs[torch.arange(len(labels)), torch.from_numpy(labels)].mean().item(), probs.argmax(1).numpy()

    without, _ = label_probability(0.0)
    with_ce, predicted = label_probability(10.0)
    assert with_ce > 2 * without  # the assigned labels became far more likely
    assert (predicted == labels).mean() >= 0.5


def test_models_without_batchnorm_are_rejected():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 30 * 30, 10))
    with pytest.raises(NoBatchNormError, match="no BatchNorm layers"):
        bn_inversion(net, np.arange(2), (0.5,) * 3, (0.25,) * 3, default_settings(BNInversionSettings, iterations=1), seed=0)


def test_noise_and_bn_inversion_calibration_folders(tmp_path):
    from synthcal.calibration import load_calibration_folder
    from synthcal.sources.bn_inversion import bn_inversion_calibration_folder
    from synthcal.sources.noise import noise_calibration_folder

    manifest = noise_calibration_folder(tmp_path / "noise", 3, 1, UNIFORM)
    split, _ = load_calibration_folder(tmp_path / "noise", progress=False)
    assert manifest["count"] == 30 and manifest["std"] is None and manifest["distribution"] == "uniform"
    assert split.labels.tolist() == sorted(split.labels.tolist()) and np.bincount(split.labels).tolist() == [3] * 10
    assert sorted(map(bytes, split.images)) == sorted(map(bytes, noise_images(30, 1, UNIFORM)))

    settings = default_settings(BNInversionSettings, iterations=3, batch_size=10)
    manifest = bn_inversion_calibration_folder(tmp_path / "bn", _tiny_bn_net(), "tiny", 1, (0.5,) * 3, (0.25,) * 3,
                                               settings, seed=0)
    assert manifest["model"] == "tiny" and manifest["count"] == 10 and manifest["labels"] == "assigned (not enforced)"
    assert manifest["iterations"] == 3 and manifest["bn_loss_end"] < manifest["bn_loss_start"]  # it optimised
