import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from synthcal.data import DataFormatError
from synthcal.gan.dump import dump_teacher, import_authors_dump, latent, read_dump, sample_generator, to_uint8
from synthcal.gan.loop import Trainer, TrainingData
from synthcal.gan.losses import (
    PixelWeight,
    discriminator_distillation_loss,
    feature_distillation,
    generator_distillation_loss,
    generator_hinge,
    hinge_fake,
    hinge_real,
    pixel_distillation,
)
from synthcal.gan.networks import Discriminator, Generator, load_released, one_hot, released_config
from synthcal.gan.teachers import TeacherError, load_stylegan2_ada, load_torchscript
from synthcal.seeding import seed_int

from helpers import gan

AUTHORS_G_KEYS = ["project.0.weight", "project.1.weight", "project.1.bias", "project.1.running_mean",
                  "project.1.running_var", "project.1.num_batches_tracked", "fc.0.weight", "fc.1.weight",
                  "fc.1.bias", "fc.1.running_mean", "fc.1.running_var", "fc.1.num_batches_tracked"]
AUTHORS_D_KEYS = [f"netD.{i}.0.{k}" for i in range(4) for k in ("bias", "weight_orig", "weight_u", "weight_v")] + [
    "project.0.weight_orig", "project.0.weight_u", "project.0.weight_v", "output.weight"]


# ---------------------------------------------------------------------------------------------------- networks
def test_networks_have_the_papers_sizes_and_the_authors_keys():
    g, d = Generator(), Discriminator()
    assert sum(p.numel() for p in g.parameters()) == 2_054_368
    assert sum(p.numel() for p in d.parameters()) == 3_415_178
    keys = list(g.state_dict())
    assert keys[:12] == AUTHORS_G_KEYS
    for block in (1, 2, 3):
        assert f"upsample{block}.1.weight" in keys and f"upsample{block}.2.running_var" in keys
    assert keys[-1] == "img.0.weight" and not any(k.endswith(".bias") and k.startswith("upsample") and ".1." in k
                                                     for k in keys)
    assert sorted(d.state_dict()) == sorted(AUTHORS_D_KEYS)
    logits, features = d(torch.zeros(2, 3, 32, 32), one_hot(torch.tensor([1, 2])))
    assert logits.shape == (2, 1)
    assert [tuple(f.shape[1:]) for f in features] == [(128, 16, 16), (128, 8, 8), (256, 4, 4), (512, 2, 2)]


def test_generator_depends_on_noise_then_label():
    torch.manual_seed(0)
    g = Generator(ngf=32, z_dim=16, project_dim=8).eval()
    z = torch.randn(2, 16)
    a = g(z, one_hot(torch.tensor([0, 0])))
    b = g(z, one_hot(torch.tensor([5, 5])))
    assert a.shape == (2, 3, 32, 32) and a.abs().max() <= 1
    assert not torch.allclose(a, b)  # the label changes the image
    assert g.fc[0].weight.shape[1] == 8 + 10  # projected noise (8) concatenated with the one-hot (10)


def test_released_format_roundtrip(tmp_path):
    torch.manual_seed(1)
    g = Generator(ngf=32, z_dim=16, project_dim=8).eval()
    torch.save(g.state_dict(), tmp_path / "generator.pt")
    cfg = released_config(g, ndf=16, lambdas={})
    assert sorted(cfg) == sorted(["c_dim", "z_dim", "ngf", "ndf", "lambda_pixel", "lambda_ganG", "lambda_ganD",
                                  "project_dim", "nc"])
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    loaded = load_released(tmp_path)
    by_file = load_released(tmp_path / "generator.pt")  # the rule inputs name the file
    z, c = torch.randn(3, 16), one_hot(torch.tensor([1, 2, 3]))
    with torch.no_grad():
        assert torch.equal(loaded(z, c), g(z, c)) and torch.equal(by_file(z, c), g(z, c))
    (tmp_path / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="config.json not found"):
        load_released(tmp_path)


# ------------------------------------------------------------------------------------------------------ losses
def test_hinge_terms_by_hand():
    t = torch.tensor([0.5, 2.0, -1.0])
    assert hinge_real(t).item() == pytest.approx((0.5 + 0.0 + 2.0) / 3)
    assert hinge_fake(t).item() == pytest.approx((1.5 + 3.0 + 0.0) / 3)
    assert generator_hinge(t).item() == pytest.approx(-0.5)


def test_feature_and_pixel_distillation_by_hand():
    s = [torch.full((1, 1, 2, 2), v) for v in (1.0, 2.0, 3.0, 4.0)]
    t = [torch.zeros(1, 1, 2, 2)] * 4
    # 1/16*1 + 1/8*2 + 1/4*3 + 1*4 = 0.0625 + 0.25 + 0.75 + 4
    assert feature_distillation(s, t).item() == pytest.approx(5.0625)
    assert pixel_distillation(torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5, 0.5]])).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="4 feature maps"):
        feature_distillation(s[:3], t[:3])


def test_discriminator_objective_by_hand():
    terms = discriminator_distillation_loss(torch.tensor([0.0]), torch.tensor([0.5]), torch.tensor([2.0]),
                                            torch.tensor([-2.0]), lambda_gan_d=0.2)
    # h+(0)=1, h-(0.5)=1.5, h+(2)=0, h-(-2)=0
    assert terms["teacher"].item() == 1.0 and terms["student"].item() == 1.5
    assert terms["total"].item() == pytest.approx(2.5)
    terms = discriminator_distillation_loss(torch.tensor([0.0]), torch.tensor([0.5]), torch.tensor([0.0]),
                                            torch.tensor([0.0]), lambda_gan_d=0.2)
    assert terms["total"].item() == pytest.approx(2.5 + 0.2 * 2)


def test_generator_objective_by_hand():
    f_s = [torch.ones(1, 1, 1, 1)] * 4
    f_t = [torch.zeros(1, 1, 1, 1)] * 4
    x_s, x_t = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    base = generator_distillation_loss(f_s, f_t, x_s, x_t, lambda_pixel=0.2)
    feat = 1 / 16 + 1 / 8 + 1 / 4 + 1
    assert base["total"].item() == pytest.approx(feat + 0.2 * 0.5) and "adv_kd" not in base
    adv = generator_distillation_loss(f_s, f_t, x_s, x_t, 0.2, d_student=torch.tensor([1.0, 3.0]),
                                      d_random=torch.tensor([-4.0]), lambda_adv_kd=0.01, lambda_adv_gan=0.002)
    assert adv["adv_kd"].item() == -2.0 and adv["adv_gan"].item() == 4.0
    assert adv["total"].item() == pytest.approx(feat + 0.1 + 0.01 * -2.0 + 0.002 * 4.0)


def test_pixel_weight_schedules():
    decay = PixelWeight(0.2, "decay", 0.01)
    assert decay(0) == 0.2 and decay(1) == pytest.approx(0.19) and decay(19) == pytest.approx(0.01)
    assert decay(20) == 0.0 and decay(500) == 0.0  # the authors' weight is gone after 20 generator updates
    assert PixelWeight(0.2, "constant")(500) == 0.2
    with pytest.raises(ValueError, match="unknown pixel-loss schedule"):
        PixelWeight(0.2, "linear")(1)


# -------------------------------------------------------------------------------------------------------- dump
def test_uint8_mapping_is_fixed_not_stretched():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]).view(1, 1, 1, 6).expand(1, 3, 1, 6)
    out = to_uint8(x)
    assert out.shape == (1, 1, 6, 3)
    assert out[0, 0, :, 0].tolist() == [0, 64, 128, 191, 255, 255]
    flat = to_uint8(torch.zeros(1, 3, 4, 4))
    assert (flat == 128).all()  # a constant image stays constant (a min-max stretch would not)


def test_latents_are_per_image_and_distribution_specific():
    u = latent(7, 3, 512, "uniform")
    assert u.dtype == np.float32 and 0.0 <= u.min() and u.max() < 1.0
    assert np.array_equal(u, latent(7, 3, 512, "uniform")) and not np.array_equal(u, latent(7, 4, 512, "uniform"))
    g = latent(7, 3, 4096, "gaussian")
    assert g.min() < 0 and abs(g.mean()) < 0.1 and abs(g.std() - 1) < 0.1
    with pytest.raises(ValueError, match="unknown latent"):
        latent(0, 0, 4, "laplace")


def test_dump_is_independent_of_batch_size_and_roundtrips(tmp_path):
    torch.manual_seed(0)
    g = Generator(ngf=16, z_dim=8, project_dim=4).eval()
    m1 = dump_teacher(g, tmp_path / "a", n_per_class=3, seed=5, z_dim=8, distribution="uniform", batch_size=4,
                      device="cpu", manifest={"teacher": {"provider": "test"}})
    dump_teacher(g, tmp_path / "b", n_per_class=3, seed=5, z_dim=8, distribution="uniform", batch_size=30,
                 device="cpu", manifest={"teacher": {"provider": "test"}})
    za, ia, la, ma = read_dump(tmp_path / "a")
    zb, ib, lb, _ = read_dump(tmp_path / "b")
    assert np.array_equal(za, zb) and np.array_equal(la, lb)
    # the same noise gives the same images; float kernels chosen per batch size may move a pixel by one level
    assert np.abs(ia.astype(int) - ib.astype(int)).max() <= 1
    assert m1 == ma and ma["count"] == 30 and ma["latent"] == "uniform" and ma["seed"] == 5
    assert la.tolist() == sorted(la.tolist()) and (tmp_path / "a" / "truck" / "00029.png").exists()
    assert np.array_equal(za[4], latent(5, 4, 8, "uniform"))  # row i is image i's own seeded noise
    with torch.no_grad():  # and image i is what the teacher makes of it
        again = to_uint8(g(torch.from_numpy(za[4:5]), one_hot(torch.tensor([1]))))
    assert np.array_equal(again[0], ia[4])
    zs, images, labels, _ = read_dump(tmp_path / "a", np.array([29, 4]))  # only the chosen images
    assert np.array_equal(zs, za[[29, 4]]) and np.array_equal(images, ia[[29, 4]]) and labels.tolist() == [9, 1]
    (tmp_path / "a" / "horse" / "00021.png").unlink()  # not among the chosen: not read
    assert np.array_equal(read_dump(tmp_path / "a", np.array([4]))[1], ia[[4]])
    with pytest.raises(DataFormatError, match="00021.png is missing"):
        read_dump(tmp_path / "a")


def test_import_of_the_authors_layout(tmp_path):
    rng = np.random.default_rng(0)
    batch = torch.rand(20, 6)  # the authors saved rows of the batch tensor: views into one storage
    for k in range(10):
        folder = tmp_path / f"class_{k}"
        folder.mkdir()
        for i in (0, 11):  # the index runs on within a class (batch * B + j)
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"image_{i}.png")
            torch.save(batch[2 * k + (i > 0)], folder / f"noise_{i}.pt")
    (tmp_path / ".DS_Store").write_text("")  # hidden files are not part of the layout
    z, images, labels = import_authors_dump(tmp_path)
    assert labels.tolist() == np.repeat(np.arange(10), 2).tolist() and images.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(z, batch.numpy())
    assert np.array_equal(images[3], np.asarray(Image.open(tmp_path / "class_1" / "image_11.png")))


def test_sampling_is_seeded_and_class_sorted():
    torch.manual_seed(0)
    g = Generator(ngf=16, z_dim=8, project_dim=4).eval()
    a, za, _ = sample_generator(g, 2, seed=1, z_dim=8, batch_size=7)
    b, _, _ = sample_generator(g, 2, seed=1, z_dim=8, batch_size=3)
    c, _, _ = sample_generator(g, 2, seed=2, z_dim=8, batch_size=3)
    assert np.array_equal(a.images, b.images) and not np.array_equal(a.images, c.images)
    assert a.labels.tolist() == [k for k in range(10) for _ in range(2)]
    assert za.std() > 0.5  # Gaussian noise for the student


# ----------------------------------------------------------------------------------------------------- teachers
def test_stylegan2_ada_without_checkout_or_pickle_says_what_to_do(tmp_path):
    with pytest.raises(TeacherError, match=r"git clone https://github.com/NVlabs/stylegan2-ada-pytorch.*"
                                           r"'teacher\.stylegan2_ada\.repo'"):
        load_stylegan2_ada(tmp_path / "cifar10.pkl", None)
    with pytest.raises(TeacherError, match="has no dnnlib/ and torch_utils/"):
        load_stylegan2_ada(tmp_path / "cifar10.pkl", tmp_path)
    (tmp_path / "dnnlib").mkdir()
    (tmp_path / "torch_utils").mkdir()
    with pytest.raises(TeacherError, match=r"download https://nvlabs-fi-cdn\.nvidia\.com/.*/cifar10\.pkl.*"
                                           r"'teacher\.stylegan2_ada\.pickle\.path'"):
        load_stylegan2_ada(tmp_path / "cifar10.pkl", tmp_path)


def test_torchscript_teacher(tmp_path):
    torch.manual_seed(0)
    g = Generator(ngf=16, z_dim=8, project_dim=4).eval()
    z, c = torch.randn(2, 8), one_hot(torch.tensor([3, 4]))
    torch.jit.trace(g, (z, c)).save(str(tmp_path / "g.pt"))
    teacher = load_torchscript(tmp_path / "g.pt", z_dim=8)
    with torch.no_grad():
        assert torch.allclose(teacher.generate(z, c), g(z, c), atol=1e-6)
    with pytest.raises(TeacherError, match="does not exist"):
        load_torchscript(tmp_path / "missing.pt", 8)


def test_teacher_file_is_checked_against_the_configured_checksum(tmp_path):
    from synthcal.gan.teachers import make_dump
    from synthcal.io import ChecksumError, file_digest

    torch.manual_seed(0)
    g = Generator(ngf=16, z_dim=8, project_dim=4).eval()
    torch.jit.trace(g, (torch.randn(2, 8), one_hot(torch.tensor([3, 4])))).save(str(tmp_path / "g.pt"))
    kwargs = dict(n_per_class=1, seed=0, latent="gaussian", batch_size=10, device="cpu", source=tmp_path / "g.pt",
                  z_dim=8)
    with pytest.raises(ChecksumError, match="torchscript teacher"):
        make_dump("torchscript", tmp_path / "bad", checksum="sha256:" + "0" * 64, **kwargs)
    assert not (tmp_path / "bad").exists()
    digest = file_digest(tmp_path / "g.pt")
    manifest = make_dump("torchscript", tmp_path / "dump", checksum=digest[:16], **kwargs)
    assert manifest["teacher"]["sha256"] == digest and manifest["count"] == 10


# ---------------------------------------------------------------------------------------- teachers, checked
def _authors_dump(root: Path, classes=range(10), per_class: int = 2, z_dim: int = 6) -> Path:
    rng = np.random.default_rng(0)
    for k in classes:
        folder = root / f"class_{k}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"image_{i}.png")
            torch.save(torch.rand(z_dim), folder / f"noise_{i}.pt")
    return root


@pytest.mark.parametrize("breakage, message", [
    (lambda d: __import__("shutil").rmtree(d / "class_9"), r"has no class_9: a teacher dump needs images of every class"),
    (lambda d: (d / "class_10").mkdir(), r"class_10 is not a class folder of the authors' layout: expected class_0"),
    (lambda d: torch.save(torch.rand(7), d / "class_3" / "noise_1.pt"),
     r"class_3/noise_1\.pt holds 7 values, the dump's other noise files 6"),
    (lambda d: (d / "class_2" / "image_1.png").rename(d / "class_2" / "image_x.png"),
     r"class_2/image_x\.png is not a file of the authors' dump layout: expected image_<i>\.png"),
    (lambda d: torch.save({"z": torch.rand(6)}, d / "class_4" / "noise_0.pt"),
     r"class_4/noise_0\.pt holds a dict, expected a tensor"),
    (lambda d: (d / "class_5" / "noise_1.pt").unlink(), r"class_5/image_1\.png has no matching noise_1\.pt"),
    (lambda d: (d / "class_6" / "image_0.png").unlink(), r"class_6/noise_0\.pt has no matching image_0\.png"),
    (lambda d: torch.save(torch.full((6,), float("nan")), d / "class_7" / "noise_0.pt"),
     r"class_7/noise_0\.pt holds values that are not finite"),
    (lambda d: (d / "class_8" / "image_0.png").write_bytes(b"not a png"), r"cannot decode image .*class_8/image_0\.png"),
    (lambda d: Image.new("RGB", (64, 64)).save(d / "class_1" / "image_0.png"), r"class_1/image_0\.png is 64x64"),
])
def test_a_broken_authors_dump_is_refused_naming_the_file_and_no_dump_is_left(tmp_path, breakage, message):
    from synthcal.gan.teachers import make_dump

    src = _authors_dump(tmp_path / "authors")
    breakage(src)
    with pytest.raises(DataFormatError, match=message):
        make_dump("dump", tmp_path / "dump", source=src)
    assert not (tmp_path / "dump").exists() and not list(tmp_path.glob(".dump.*"))


class _Scripted(torch.nn.Module):
    """Stand-ins of broken generators, scripted as a user's TorchScript file would be."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        base = (z[:, :3] + c[:, :3])[:, :, None, None].expand(-1, 3, 32, 32)
        if self.mode == "nan":
            return base * float("nan")
        if self.mode == "five":
            return torch.full((z.shape[0], 3, 32, 32), 5.0)
        if self.mode == "unit":
            return torch.sigmoid(base)
        if self.mode == "small":
            return base[:, :, :16, :16]
        return torch.tanh(base)


@pytest.mark.parametrize("mode, z_dim, message", [
    ("nan", 8, r"returned values that are not finite \(NaN or infinite\) for images 0\.\.9"),
    ("small", 8, r"returned images of shape \(10, 3, 16, 16\) for a batch of 10, expected \(10, 3, 32, 32\)"),
    ("ok", 2, r"fails when called as G\(z, one-hot\) with z \(10, 2\).*Check its latent size"),
])
def test_a_broken_generator_is_refused_and_no_dump_is_left(tmp_path, mode, z_dim, message):
    from synthcal.gan.dump import GeneratorOutputError
    from synthcal.gan.teachers import make_dump

    torch.jit.script(_Scripted(mode)).save(str(tmp_path / "g.pt"))
    with pytest.raises(GeneratorOutputError, match=message) as info:
        make_dump("torchscript", tmp_path / "dump", n_per_class=2, seed=0, latent="gaussian", batch_size=10,
                  device="cpu", source=tmp_path / "g.pt", z_dim=z_dim)
    assert str(tmp_path / "g.pt") in str(info.value)  # the message names the file
    assert not (tmp_path / "dump").exists() and not list(tmp_path.glob(".dump.*"))


@pytest.mark.parametrize("mode, warning", [
    ("five", "100.0 % of the output values lie outside [-1, 1]"),
    ("unit", "every output value lies in [0, 1]"),
])
def test_a_generator_out_of_range_is_kept_with_a_warning_in_log_and_manifest(tmp_path, caplog, mode, warning):
    from synthcal.gan.teachers import make_dump

    torch.jit.script(_Scripted(mode)).save(str(tmp_path / "g.pt"))
    with caplog.at_level(logging.WARNING, logger="synthcal.gan.dump"):
        manifest = make_dump("torchscript", tmp_path / "dump", n_per_class=2, seed=0, latent="gaussian",
                             batch_size=10, device="cpu", source=tmp_path / "g.pt", z_dim=8)
    assert any(warning in w for w in manifest["output_range"]["warnings"])
    assert warning in caplog.text and str(tmp_path / "g.pt") in caplog.text
    if mode == "five":
        assert "every image is the same" in caplog.text
        assert manifest["output_range"]["min"] == manifest["output_range"]["max"] == 5.0
    else:
        assert "every image is the same" not in caplog.text
    recorded = json.loads((tmp_path / "dump" / "manifest.json").read_text())["output_range"]
    assert recorded["warnings"] == manifest["output_range"]["warnings"]


def test_a_good_generator_gets_no_warning(tmp_path, caplog):
    from synthcal.gan.teachers import make_dump

    torch.jit.script(_Scripted("ok")).save(str(tmp_path / "g.pt"))
    with caplog.at_level(logging.WARNING, logger="synthcal.gan.dump"):
        manifest = make_dump("torchscript", tmp_path / "dump", n_per_class=2, seed=0, latent="gaussian",
                             batch_size=10, device="cpu", source=tmp_path / "g.pt", z_dim=8)
    assert manifest["output_range"]["warnings"] == [] and not caplog.records
    assert -1 <= manifest["output_range"]["min"] < 0 < manifest["output_range"]["max"] <= 1


def test_other_broken_files_are_refused_naming_them(tmp_path):
    """A pickle without a generator, a released generator whose config or weights are broken, a classifier
    checkpoint with NaN: each stops with one message naming the file."""
    import pickle

    from synthcal.models import WeightsError, read_state_dict

    repo = tmp_path / "repo"
    (repo / "dnnlib").mkdir(parents=True)
    (repo / "torch_utils").mkdir()
    with open(tmp_path / "x.pkl", "wb") as fh:
        pickle.dump({"D": 1}, fh)
    with pytest.raises(TeacherError, match=r"x\.pkl holds no 'G_ema' generator \(found \['D'\]\)"):
        load_stylegan2_ada(tmp_path / "x.pkl", repo)
    with open(tmp_path / "y.pkl", "wb") as fh:
        pickle.dump({"G_ema": [1, 2]}, fh)
    with pytest.raises(TeacherError, match=r"'G_ema' entry of .*y\.pkl is a list"):
        load_stylegan2_ada(tmp_path / "y.pkl", repo)

    torch.manual_seed(0)
    g = Generator(ngf=16, z_dim=8, project_dim=4)
    run = tmp_path / "released"
    run.mkdir()
    torch.save(g.state_dict(), run / "generator.pt")
    (run / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON"):
        load_released(run)
    (run / "config.json").write_text(json.dumps({**released_config(g, 8, {}), "ngf": 32}))
    with pytest.raises(ValueError, match=r"generator\.pt does not hold the generator .*config\.json describes"):
        load_released(run)
    (run / "config.json").write_text(json.dumps({**released_config(g, 8, {}), "ngf": "16"}))
    with pytest.raises(ValueError, match=r"ngf = '16'; expected positive integers"):
        load_released(run)
    (run / "config.json").write_text(json.dumps(released_config(g, 8, {})))
    state = g.state_dict()
    state["img.0.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, run / "generator.pt")
    with pytest.raises(ValueError, match=r"generator\.pt holds values that are not finite in img\.0\.weight"):
        load_released(run)

    weights = {"conv.weight": torch.ones(2, 2), "fc.bias": torch.tensor([1.0, float("inf")])}
    torch.save(weights, tmp_path / "w.pt")
    with pytest.raises(WeightsError, match=r"w\.pt holds values that are not finite .* in fc\.bias"):
        read_state_dict(tmp_path / "w.pt")


# ----------------------------------------------------------------------------------------------------- training
def _tiny_data(seed=0, n_teacher=80, n_real=90, z_dim=16):
    rng = np.random.default_rng(seed)
    real = TrainingData(rng.integers(0, 256, (n_real, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, n_real))
    teacher = TrainingData(rng.integers(0, 256, (n_teacher, 32, 32, 3), dtype=np.uint8),
                           np.repeat(np.arange(10), n_teacher // 10), rng.random((n_teacher, z_dim), dtype=np.float32))
    return real, teacher


TINY = dict(batch_size=16, ngf=16, ndf=8, z_dim=16, project_dim=8, gstep=2, checkpoint_every=1)


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class Killed(Exception):
    """Stands for a job killed at its time limit."""


def kill_after_first_epoch(epoch, generator, row):
    if epoch == 1:
        raise Killed


@pytest.mark.parametrize("channels_last", [False, True])
def test_interrupted_training_resumes_to_the_same_weights(tmp_path, channels_last):
    real, teacher = _tiny_data()
    settings = gan(epochs=3, channels_last=channels_last, **TINY)
    full = Trainer(settings, real, teacher, device="cpu", checkpoint_dir=tmp_path / "a", progress=False).run()

    with pytest.raises(Killed):
        Trainer(settings, real, teacher, device="cpu", checkpoint_dir=tmp_path / "b",
                on_epoch_end=kill_after_first_epoch, progress=False).run()
    resumed = Trainer(settings, real, teacher, device="cpu", checkpoint_dir=tmp_path / "b", progress=False).run()
    assert resumed.resumed_from == 1 and full.resumed_from is None
    assert _same(full.generator, resumed.generator) and _same(full.discriminator, resumed.discriminator)
    drop = ("seconds", "images_per_s")
    assert [{k: v for k, v in r.items() if k not in drop} for r in full.history] == \
           [{k: v for k, v in r.items() if k not in drop} for r in resumed.history]
    # a checkpoint of other settings is ignored, not resumed from
    other = Trainer(gan(epochs=3, **{**TINY, "lambda_pixel": 0.1}), real, teacher, device="cpu",
                    checkpoint_dir=tmp_path / "b", progress=False).run()
    assert other.resumed_from is None


def test_a_settings_change_never_costs_the_new_runs_checkpoints(tmp_path, caplog):
    """Settings A trained to the end, then settings B killed after its first checkpoint, then resumed: B continues
    from its own checkpoint (A's newer-numbered ones neither win nor delete it) and ends bitwise where an
    uninterrupted B run ends; A's checkpoints are kept."""
    real, teacher = _tiny_data()
    a = gan(epochs=3, **TINY)
    b = gan(epochs=3, **{**TINY, "lambda_pixel": 0.1})
    Trainer(a, real, teacher, device="cpu", checkpoint_dir=tmp_path / "ck", progress=False).run()

    with pytest.raises(Killed):
        Trainer(b, real, teacher, device="cpu", checkpoint_dir=tmp_path / "ck", on_epoch_end=kill_after_first_epoch,
                progress=False).run()
    with caplog.at_level(logging.INFO, logger="synthcal.checkpoints"):
        resumed = Trainer(b, real, teacher, device="cpu", checkpoint_dir=tmp_path / "ck", progress=False).run()
    assert resumed.resumed_from == 1
    uninterrupted = Trainer(b, real, teacher, device="cpu", checkpoint_dir=tmp_path / "fresh", progress=False).run()
    assert _same(resumed.generator, uninterrupted.generator)
    assert _same(resumed.discriminator, uninterrupted.discriminator)
    runs = {p.name: sorted(c.name for c in p.glob("epoch_*.pt")) for p in (tmp_path / "ck").iterdir()}
    assert sorted(runs.values()) == [["epoch_0002.pt", "epoch_0003.pt"]] * 2  # each run keeps its own two newest
    log = caplog.text
    assert "resuming from" in log and "epoch_0001.pt" in log
    assert "ignoring 2 checkpoint(s) of another run" in log and "lambda_pixel: 0.2 -> 0.1" in log


def test_checkpoints_of_other_code_are_ignored_and_say_why(tmp_path, caplog):
    """A run resumes only from checkpoints its own code wrote: the same settings and data with another code
    fingerprint train from epoch 1, the log names the module whose code changed, and the same code resumes."""
    real, teacher = _tiny_data()
    settings = gan(epochs=2, **TINY)
    old = {"synthcal/gan/losses.py": "aaaaaaaaaaaa", "synthcal/gan/loop.py": "bbbbbbbbbbbb"}
    Trainer(settings, real, teacher, device="cpu", checkpoint_dir=tmp_path, progress=False, code=old).run()
    new = {**old, "synthcal/gan/losses.py": "cccccccccccc"}
    with caplog.at_level(logging.INFO, logger="synthcal.checkpoints"):
        fresh = Trainer(settings, real, teacher, device="cpu", checkpoint_dir=tmp_path, progress=False, code=new).run()
    assert fresh.resumed_from is None
    assert "code of synthcal/gan/losses.py changed" in caplog.text and "loop.py changed" not in caplog.text
    again = Trainer(settings, real, teacher, device="cpu", checkpoint_dir=tmp_path, progress=False, code=new).run()
    assert again.resumed_from == 2
    # by default the fingerprint is that of the training module and what it imports, without docstrings
    default = Trainer(settings, real, teacher, device="cpu", progress=False).code
    assert {"synthcal/gan/loop.py", "synthcal/gan/objectives.py", "synthcal/gan/losses.py",
            "synthcal/gan/networks.py"} <= set(default)
    assert "synthcal/logs.py" not in default and "synthcal/figures.py" not in default


def _toy_teacher(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """A teacher whose image is a function of (z, y): a flat colour per class, brightened by the first latent."""
    colours = torch.from_numpy(np.random.default_rng(3).uniform(-0.8, 0.8, (10, 3)).astype(np.float32))
    scale = 0.6 + 0.4 * torch.tanh(z[:, :1])
    return (c @ colours * scale)[:, :, None, None].expand(-1, -1, 32, 32)


def _distance_to_teacher(generator, z, labels):
    with torch.no_grad():
        c = one_hot(labels)
        return float((generator.eval()(z, c) - _toy_teacher(z, c)).abs().mean())


def test_training_is_seeded_and_learns_from_the_teacher():
    """Distillation moves the student towards the teacher: on a dump made by a teacher that maps (z, y) to an
    image, the student's images for the dump's own (z, y) get much closer to the teacher's within a few epochs,
    and closer than those of a student trained on the same images shuffled away from their noise and labels (the
    pairing is what it learns). The pixel loss falls; the same seed gives the same weights."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 16)
    z = rng.standard_normal((160, 16)).astype(np.float32)
    zt, yt = torch.from_numpy(z), torch.from_numpy(labels)
    images = to_uint8(_toy_teacher(zt, one_hot(yt)))
    real = TrainingData(rng.integers(0, 256, (160, 32, 32, 3), dtype=np.uint8), labels.copy())
    paired = TrainingData(images, labels, z)
    shuffled = TrainingData(images[rng.permutation(160)], labels, z)
    settings = gan(seed=1, epochs=10, pixel_schedule="constant", lambda_pixel=1.0, lr_g=2e-3, **TINY)
    a = Trainer(settings, real, paired, device="cpu", progress=False).run()
    b = Trainer(settings, real, paired, device="cpu", progress=False).run()
    c = Trainer(gan(seed=2, epochs=10, pixel_schedule="constant", lambda_pixel=1.0, lr_g=2e-3, **TINY), real, paired,
                device="cpu", progress=False).run()
    assert _same(a.generator, b.generator) and not _same(a.generator, c.generator)
    torch.manual_seed(seed_int(1, "init"))
    before = _distance_to_teacher(Generator(ngf=16, z_dim=16, project_dim=8), zt, yt)
    after = _distance_to_teacher(a.generator, zt, yt)
    mismatched = _distance_to_teacher(Trainer(settings, real, shuffled, device="cpu", progress=False).run().generator,
                                      zt, yt)
    assert after < 0.6 * before and after < 0.7 * mismatched, (before, after, mismatched)
    pixel = [row["G_pixel"] for row in a.history]
    assert pixel[-1] < 0.6 * pixel[0] and a.history[0]["lambda_pixel"] == pytest.approx(1.0)


def test_the_pixel_weight_decays_per_generator_update_as_the_authors():
    real, teacher = _tiny_data()
    row = Trainer(gan(epochs=1, seed=1, **TINY), real, teacher, device="cpu", progress=False).run().history[0]
    assert row["iterations"] == 5 and row["lambda_pixel"] == pytest.approx(0.2 - 0.01 * 2)  # mean over updates 0..4
    assert {"G_feature", "G_pixel", "G_adv_kd", "G_adv_gan", "D_teacher", "D_real"} <= set(row)


def test_distillation_rejects_a_dump_with_another_latent_size():
    real, teacher = _tiny_data(z_dim=12)
    with pytest.raises(ValueError, match="set distylegan.z_dim to 12"):
        Trainer(gan(epochs=1, **TINY), real, teacher, device="cpu")



def test_train_run_writes_the_release_format_and_its_figures_are_drawn_from_it(tmp_path):
    from synthcal.data import Split, save_split
    from synthcal.figures import training_figures
    from synthcal.gan.dump import write_dump
    from synthcal.gan.loop import fixed_samples
    from synthcal.gan.train import train_run
    from synthcal.sources.distylegan import sample_to_calibration

    real, teacher = _tiny_data()
    save_split(tmp_path / "train.npz", Split(real.images, real.labels))
    write_dump(tmp_path / "dump", teacher.images, teacher.z, teacher.labels, {"teacher": {"provider": "test"}})
    settings = gan(epochs=2, **TINY)
    summary = train_run(settings, tmp_path / "train.npz", tmp_path / "run", dump_dir=tmp_path / "dump",
                        device="cpu", progress=False)
    run = tmp_path / "run"
    for name in ("generator.pt", "config.json", "training.json", "losses.csv", "samples.npz"):
        assert (run / name).stat().st_size > 0, name
    assert not list(run.glob("*.png"))  # drawing is a separate step (the training_figures rule)
    checkpoints = Path(summary["checkpoints"])
    assert checkpoints.parent == run / "training" and (checkpoints / "run.json").exists()
    assert sorted(p.name for p in (checkpoints / "samples").iterdir()) == ["epoch_0001.npz", "epoch_0002.npz"]
    assert len((run / "losses.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    assert summary["images_per_s"] > 0 and summary["epochs"] == 2
    generator = load_released(run)
    assert generator.ngf == 16 and generator.z_dim == 16
    with np.load(run / "samples.npz") as npz:  # the released generator's fixed-noise samples
        expected = fixed_samples(generator, settings.loop.seed, torch.device("cpu"))
        assert np.array_equal(npz["images"], expected["images"]) and np.array_equal(npz["labels"], expected["labels"])
    training_figures(run / "losses.csv", run / "samples.npz", tmp_path / "curves.png", tmp_path / "grid.png", "test")
    assert Image.open(tmp_path / "grid.png").size[1] > 10 * 32 and Image.open(tmp_path / "curves.png").size[0] > 500
    manifest = sample_to_calibration(run, tmp_path / "cal", source="distylegan", n_per_class=3, seed=0,
                                     batch_size=8, device="cpu")
    assert manifest["count"] == 30 and manifest["latent"] == "gaussian"
    assert len(list((tmp_path / "cal").glob("*/*.png"))) == 30


# ------------------------------------------------------------------------------------------- offline teacher
def test_projection_discriminator_depends_on_the_label_and_trains_its_class_embedding():
    from synthcal.gan.networks import ProjectionDiscriminator

    torch.manual_seed(0)
    d = ProjectionDiscriminator(ndf=4)
    x = torch.randn(2, 3, 32, 32)
    a, b = d(x, one_hot(torch.tensor([0, 0])))[0], d(x, one_hot(torch.tensor([1, 1])))[0]
    assert a.shape == (2, 1) and not torch.allclose(a, b)  # the same images, two labels, two outputs
    # the label enters as <embed(y), h>: the gradient reaches the embeddings of the classes in the batch
    d(x, one_hot(torch.tensor([1, 0])))[0].sum().backward()
    grad = d.embed.weight_orig.grad
    assert grad is not None and grad[:, 0].abs().sum() > 0 and grad[:, 1].abs().sum() > 0


def test_the_ema_generator_is_the_hand_computed_average_after_two_steps():
    real, _ = _tiny_data()
    settings = gan("gan", epochs=1, ema=0.9, discriminator="projection", **TINY)
    trainer = Trainer(settings, real, device="cpu", progress=False)
    trainer._build()
    G = trainer.g.G
    initial = {k: v.clone() for k, v in G.state_dict().items()}
    gen = torch.Generator().manual_seed(0)
    images = trainer._real[0][:16].permute(0, 3, 1, 2).float().div(127.5).sub(1)
    labels = one_hot(trainer._real[1][:16])
    trainer.objective.step(trainer.g, 0, images, labels, gen)
    after_one = {k: v.clone() for k, v in G.state_dict().items()}
    trainer.objective.step(trainer.g, 1, images, labels, gen)
    after_two = G.state_dict()
    params = {name for name, _ in G.named_parameters()}
    for name, value in trainer.g.G_ema.state_dict().items():
        if name in params:  # ema_2 = 0.9 * (0.9 * w_0 + 0.1 * w_1) + 0.1 * w_2
            expected = 0.9 * (0.9 * initial[name] + 0.1 * after_one[name]) + 0.1 * after_two[name]
            assert torch.allclose(value, expected, atol=1e-6), name
        else:  # BatchNorm statistics are copied
            assert torch.equal(value, after_two[name]), name
    assert trainer.released is trainer.g.G_ema and trainer.g.updates == 2


def test_diffaugment_transforms_real_and_fake_alike_and_stays_out_of_sampling():
    from synthcal.gan.augment import Augmentation, parse_policy

    ops = parse_policy("color,translation,cutout")
    aug = Augmentation.draw(ops, 6, 32, torch.Generator().manual_seed(1))
    x = torch.rand(6, 3, 32, 32, requires_grad=True)
    assert torch.equal(aug(x), aug(x.detach().clone()))  # one draw, one transformation, whatever the batch
    aug(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # differentiable
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        parse_policy("color,flip")

    # in a discriminator step the real and the generated batch get the same translation and cutout: with constant
    # images, the zero (padding and cut-out) pixels sit at the same places
    real, _ = _tiny_data()
    seen = []
    trainer = Trainer(gan("gan", epochs=1, diffaugment="translation,cutout", **TINY), real,
                      device="cpu", progress=False)
    trainer._build()
    trainer.objective.discriminator.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    ones = torch.ones(16, 3, 32, 32)
    weight = trainer.g.G.img[0].weight  # a constant generator (still connected to G's weights), for the check
    trainer.g.G.forward = lambda z, c: torch.ones(len(z), 3, 32, 32) * 0.5 + 0 * weight.sum()
    trainer.objective.step(trainer.g, 0, ones, one_hot(torch.arange(16) % 10), torch.Generator().manual_seed(0))
    real_in, fake_in = seen[0], seen[1]
    assert torch.equal(real_in == 0, fake_in == 0) and (real_in == 0).any()
    assert not torch.equal(seen[2] == 0, real_in == 0)  # the generator step draws its own transformation
    # sampling runs the generator alone: no augmentation
    settings = gan("gan", epochs=1, diffaugment="color,translation,cutout", **TINY)
    generator = Trainer(settings, real, device="cpu", progress=False).run().generator
    from synthcal.gan.loop import fixed_noise, fixed_samples

    z, labels = fixed_noise(0, settings.generator.z_dim, torch.device("cpu"))
    direct = to_uint8(generator.eval()(z, one_hot(labels)))
    assert np.array_equal(fixed_samples(generator, 0, torch.device("cpu"))["images"], direct)
