"""The offline teacher's helper: a frozen pretrained classifier inside the discriminator and in the generator's loss
(teacher.trained.discriminator projected, feature_network, classifier_weight)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from synthcal.config import ConfigError, load_config, merge, validate_config
from synthcal.gan.loop import Trainer, TrainingData
from synthcal.gan.networks import FeatureNetwork, ProjectedDiscriminator, one_hot

from helpers import REPO, gan

TINY_GAN = dict(batch_size=20, ngf=16, ndf=8, z_dim=16, project_dim=8, checkpoint_every=1)


class ColourClassifier(nn.Module):
    """A fixed 'pretrained' classifier with two stages: class k is the nearest of ten fixed mean colours."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.stage1 = nn.Conv2d(3, 8, 3, 1, 1)
        self.stage2 = nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(8, 8, 1))  # 16x16
        corners = torch.tensor([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=torch.float32) * 1.2 - 0.6
        self.register_buffer("colours", torch.cat([corners, torch.tensor([[0.0, 0.0, 0.0], [0.6, 0.0, -0.6]])]))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.stage2(self.stage1(x))  # the feature maps the discriminator heads see
        mean = x.mean(dim=(2, 3))
        return -10 * ((mean[:, None, :] - self.colours[None]) ** 2).sum(-1)


def _features() -> FeatureNetwork:
    return FeatureNetwork(ColourClassifier(), [0.5] * 3, [0.5] * 3, name="models.colour")


def _real(n: int = 60, seed: int = 0) -> TrainingData:
    rng = np.random.default_rng(seed)
    return TrainingData(rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n))


def _agreement(features: FeatureNetwork, generator: nn.Module, z_dim: int, n: int = 200) -> float:
    torch.manual_seed(1)
    labels = torch.arange(n) % 10
    with torch.no_grad():
        images = generator.eval()(torch.randn(n, z_dim), one_hot(labels))
        return float((features(images)[0].argmax(1) == labels).float().mean())


def test_feature_maps_are_the_stage_outputs_of_at_least_8x8():
    from synthcal.models import build

    resnet = FeatureNetwork(build("akamaster_resnet20"), [0.5] * 3, [0.25] * 3)
    assert resnet.taps == ["layer1", "layer2", "layer3"] and resnet.channels == [16, 32, 64]
    logits, maps = resnet(torch.zeros(2, 3, 32, 32))
    assert logits.shape == (2, 10) and [tuple(m.shape[1:]) for m in maps] == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]
    assert _features().taps == ["stage1", "stage2"]  # the pooled 1x1 map is no tap


def test_the_feature_network_stays_frozen_and_out_of_every_checkpoint(tmp_path):
    features = _features()
    before = copy.deepcopy(features.module.state_dict())
    settings = gan("gan", epochs=2, discriminator="projected", classifier_weight=1.0, **TINY_GAN)
    trainer = Trainer(settings, _real(), device="cpu", checkpoint_dir=tmp_path, progress=False, features=features)
    result = trainer.run()
    after = features.module.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in features.module.parameters())
    assert not features.module.training  # BatchNorm statistics never move
    feature_params = {id(p) for p in features.module.parameters()}
    assert not feature_params & {id(p) for p in result.discriminator.parameters()}
    checkpoint = torch.load(sorted(trainer.run_dir.glob("epoch_*.pt"))[-1], weights_only=False)
    assert not any("stage" in key for key in checkpoint["discriminator"])  # only the trainable heads
    assert trainer.helper == {"name": "models.colour", "sha256": features.digest(), "mean": [0.5] * 3, "std": [0.5] * 3}
    # another network (one weight changed) is another training run: its checkpoints are not resumed
    other = _features()
    with torch.no_grad():
        other.module.stage1.bias[0] += 1
    assert Trainer(settings, _real(), device="cpu", checkpoint_dir=tmp_path, progress=False,
                   features=other).fingerprint != trainer.fingerprint


def test_a_feature_network_fed_or_built_otherwise_never_resumes_the_checkpoints_of_another(tmp_path):
    """The run's identity holds the feature network's normalisation and the code that builds it, not only its
    weights: the same weights fed another normalisation, or built by edited code, train afresh."""
    from synthcal.gan.train import feature_identity

    settings = gan("gan", epochs=1, discriminator="projected", **TINY_GAN)
    features = _features()
    identity = feature_identity(features, {"mean": [0.5] * 3, "std": [0.5] * 3, "code": {"nets.py": "aaaa"}})

    def run(network, helper):
        return Trainer(settings, _real(), device="cpu", checkpoint_dir=tmp_path, progress=False, features=network,
                       features_identity=helper).run().resumed_from

    assert run(features, identity) is None and run(_features(), identity) == 1  # the same: resumed
    renormalised = FeatureNetwork(ColourClassifier(), [0.4] * 3, [0.5] * 3, name="models.colour")
    assert run(renormalised, feature_identity(renormalised, {"mean": [0.4] * 3, "std": [0.5] * 3,
                                                             "code": {"nets.py": "aaaa"}})) is None
    assert run(features, {**identity, "code": {"nets.py": "bbbb"}}) is None  # its factory's code changed


def test_the_projected_discriminator_is_conditional_and_trains_only_its_heads():
    torch.manual_seed(0)
    d = ProjectedDiscriminator(_features(), ndf=4)
    x = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_()
    a, heads = d(x, one_hot(torch.tensor([0, 0])))
    b, _ = d(x, one_hot(torch.tensor([1, 1])))
    assert a.shape == (2, 1) and len(heads) == 2 and not torch.allclose(a, b)
    a.sum().backward()  # the gradient reaches the images through the frozen network (what trains the generator)
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_the_classifier_loss_makes_the_generator_draw_the_conditioned_class():
    """The conditional output depends on the label in the way the helper asks: after a short run the frozen
    classifier recognises the class each image was generated for (chance is 10 %); without the loss it does not."""
    agreement = {}
    for weight in (0.0, 1.0):
        features = _features()
        settings = gan("gan", epochs=10, discriminator="projected", classifier_weight=weight, lr_g=0.002,
                                 **TINY_GAN)
        result = Trainer(settings, _real(100), device="cpu", progress=False, features=features).run()
        agreement[weight] = _agreement(features, result.generator, settings.generator.z_dim)
    assert agreement[0.0] < 0.25 and agreement[1.0] > 0.45, agreement


def test_tracking_samples_change_no_weight(tmp_path):
    real = _real()
    base = gan("gan", epochs=1, discriminator="projection", **TINY_GAN)
    plain = Trainer(base, real, device="cpu", checkpoint_dir=tmp_path / "a", progress=False).run()
    tracked_settings = gan("gan", epochs=1, discriminator="projection", track_every=1, track_per_class=2, **TINY_GAN)
    trainer = Trainer(tracked_settings, real, device="cpu", checkpoint_dir=tmp_path / "b", progress=False)
    tracked = trainer.run()
    sa, sb = plain.generator.state_dict(), tracked.generator.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    files = sorted((trainer.run_dir / "track").glob("step_*.npz"))
    assert [f.name for f in files] == [f"step_{i:06d}.npz" for i in range(1, trainer.iterations + 1)]
    with np.load(files[-1]) as last:
        assert last["images"].shape == (20, 32, 32, 3) and list(last["labels"][:3]) == [0, 0, 1]


def test_the_dump_manifest_names_the_network_that_helped_train_the_teacher(tmp_path):
    from synthcal.data import Split, save_split
    from synthcal.gan.teachers import make_dump
    from synthcal.gan.train import train_run

    real = _real()
    save_split(tmp_path / "train.npz", Split(real.images, real.labels))
    features = _features()
    settings = gan("gan", epochs=1, discriminator="projected", **TINY_GAN)
    train_run(settings, tmp_path / "train.npz", tmp_path / "teacher", device="cpu", progress=False,
              features=features)
    manifest = make_dump("trained", tmp_path / "dump", n_per_class=2, seed=0, latent="gaussian", batch_size=8,
                         device="cpu", source=tmp_path / "teacher")
    assert manifest["teacher"]["feature_network"] == {"name": "models.colour", "sha256": features.digest(),
                                                      "mean": [0.5] * 3, "std": [0.5] * 3}
    assert manifest["teacher"]["discriminator"] == "projected"


def _config(**trained) -> dict:
    config = load_config(REPO / "config.yaml")
    return merge(config, {"teacher": {"provider": "trained", "name": "cgan", "trained": trained},
                          "experiment": {"models": ["akamaster_resnet20"], "sources": ["cgan"]}})


def test_the_feature_network_is_never_an_experiment_model_and_needs_a_pytorch_form():
    validate_config(_config(discriminator="projected", feature_network="akamaster_resnet44"))
    with pytest.raises(ConfigError, match=r"'teacher.trained.feature_network' names 'akamaster_resnet20', one of "
                                          r"experiment.models"):
        validate_config(_config(discriminator="projected", feature_network="akamaster_resnet20"))
    with pytest.raises(ConfigError, match=r"'teacher.trained.feature_network' is needed"):
        validate_config(_config(discriminator="projection", classifier_weight=0.5))
    with pytest.raises(ConfigError, match=r"names 'nope', which is not an entry of 'models'"):
        validate_config(_config(discriminator="projected", feature_network="nope"))
    onnx = merge(_config(discriminator="projected", feature_network="mine"),
                 {"models": {"mine": {"format": "onnx", "weights": {"path": "m.onnx"}}}})
    with pytest.raises(ConfigError, match=r"a model of format onnx: the teacher's training needs its PyTorch module"):
        validate_config(onnx)
    inactive = merge(_config(discriminator="projected", feature_network="akamaster_resnet20"),
                     {"teacher": {"provider": "torchscript", "torchscript": {"path": "g.pt", "z_dim": 8}}})
    validate_config(inactive)  # another provider is active: the trained teacher's settings are not in use


def test_the_teacher_job_reads_the_feature_network_and_its_settings_reach_the_job():
    from synthcal.planning import Plan

    plan = Plan(validate_config(_config(discriminator="projected", feature_network="akamaster_resnet44",
                                        classifier_weight=0.3)))
    helper = plan.teacher.feature_network()
    assert helper["model"] == "akamaster_resnet44" and helper["classifier"]["arch"] == "akamaster_resnet44"
    assert helper["code"] and all(k.startswith("synthcal/") for k in helper["code"])  # its architecture's code
    assert plan.teacher.train_inputs() == {"feature_weights": "resources/weights/resnet44-014dd654.th"}
    objective = plan.teacher.settings().objective
    assert objective.discriminator == "projected" and objective.classifier_weight == 0.3
    assert Plan(validate_config(_config())).teacher.train_inputs() == {}  # no feature network, nothing to read


def test_the_tracking_curve_reads_agreement_and_fid_from_the_samples(resnet20_ir, tmp_path):
    """Agreement is the classifier's accuracy against the generated-for labels; FID is against the reference, on
    every fid_every-th sample and the last; the figure holds those numbers."""
    from synthcal.config import NORMALIZATIONS
    from synthcal.evaluate import predict
    from synthcal.figures import tracking_curves_figure
    from synthcal.gan.tracking import tracking_curve
    from synthcal.ir import compile_f32
    from synthcal.quality import Extractor, quality_features

    from helpers import random_images

    mean, std = NORMALIZATIONS["cifar10"]
    images = random_images(40, seed=3)
    predicted = predict(compile_f32(resnet20_ir[1]), images, mean, std).argmax(1)
    track = tmp_path / "track"
    track.mkdir()
    for step, labels in ((100, predicted), (200, (predicted + 1) % 10), (300, np.where(np.arange(40) < 10, predicted,
                                                                                          (predicted + 1) % 10))):
        np.savez(track / f"step_{step:06d}.npz", images=images if step != 300 else images[::-1].copy(),
                 labels=labels if step != 300 else labels[::-1].copy())
    np.savez(track / "notes.npz", x=np.zeros(1))  # not a tracking sample
    colour = Extractor("mean colour", False, "numpy",
                       lambda batch: (np.concatenate([batch.mean(axis=(2, 3)), batch.std(axis=(2, 3))], 1), None))
    reference = quality_features(random_images(40, seed=4), colour, 50, 1)
    rows = tracking_curve(track, resnet20_ir[1], mean, std, extractor=colour, reference=reference, fid_every=2)
    assert [r["step"] for r in rows] == [100, 200, 300]
    assert [r["agreement"] for r in rows] == [1.0, 0.0, 0.25]
    assert rows[0]["fid"] is None and rows[1]["fid"] is not None
    assert rows[2]["fid"] == pytest.approx(rows[1]["fid"], abs=0.01)  # the same images in another order
    fig = tracking_curves_figure({"run": rows})
    left, right = fig.axes
    assert list(left.lines[0].get_ydata()) == [100.0, 0.0, 25.0]
    assert list(right.lines[0].get_xdata()) == [200, 300]
    with pytest.raises(FileNotFoundError, match="track_every > 0"):
        tracking_curve(tmp_path / "empty", resnet20_ir[1], mean, std)


@pytest.mark.parametrize("form", ["builtin", "export"])
def test_a_feature_network_from_a_checkpoint_or_an_exported_program_gives_the_same_maps(tmp_path, form):
    """The helper loads from the models entry's file, whatever its PyTorch form, with the same taps and values."""
    from synthcal.gan.train import feature_network
    from synthcal.models import build, load_weights

    from helpers import export_program, random_weights

    weights = random_weights("akamaster_resnet20", tmp_path / "w.pt")
    path = weights if form == "builtin" else export_program(load_weights(build("akamaster_resnet20"), weights),
                                                            tmp_path / "m.pt2")
    helper = {"model": "mine", "mean": [0.5] * 3, "std": [0.25] * 3,
              "classifier": {"format": form, "arch": "akamaster_resnet20" if form == "builtin" else None,
                             "factory": None, "python_path": None, "fuse": False, "name": "models.mine"}}
    features = feature_network(helper, str(path))
    expected = FeatureNetwork(load_weights(build("akamaster_resnet20"), weights), [0.5] * 3, [0.25] * 3)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    (logits, maps), (want_logits, want_maps) = features(x), expected(x)
    assert features.taps == ["layer1", "layer2", "layer3"] and features.name == "models.mine"
    assert torch.allclose(logits, want_logits, atol=1e-5)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(maps, want_maps, strict=True))
    assert all(not p.requires_grad for p in features.module.parameters())
