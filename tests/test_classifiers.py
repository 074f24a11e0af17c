"""Classifiers and generators in the usual forms (synthcal.classifiers, synthcal.gan.teachers): the same weights
give the same IR logits through every form, and models that are not CIFAR-10 classifiers are refused by name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from synthcal.classifiers import Classifier, ClassifierError, pytorch_module
from synthcal.convert import check_batch, convert, logits_model
from synthcal.ir import compile_f32
from synthcal.models import build, load_weights
from synthcal.schema import default_settings

from helpers import export_onnx, export_program, random_weights, write_factory

onnx = pytest.importorskip("onnx", reason="torch.onnx.export needs the onnx package (pip install onnx)")


@pytest.fixture(scope="module")
def forms(tmp_path_factory) -> dict[str, Classifier]:
    """One random ResNet-20 in every form: built-in, ONNX, IR, .pt2 and a Python factory with a checkpoint."""
    tmp = tmp_path_factory.mktemp("forms")
    weights = random_weights("resnet20", tmp / "w.pt", seed=4)
    model = load_weights(build("resnet20"), weights)
    convert("resnet20", weights, tmp / "ir" / "model.xml")
    folder = write_factory(tmp / "src", """
        from synthcal.models import build

        def resnet():
            return build("resnet20")
    """)
    return {
        "builtin": Classifier("builtin", str(weights), arch="resnet20", name="models.builtin"),
        "onnx": Classifier("onnx", str(export_onnx(model, tmp / "m.onnx")), name="models.onnx"),
        "openvino": Classifier("openvino", str(tmp / "ir" / "model.xml"), name="models.openvino"),
        "export": Classifier("export", str(export_program(model, tmp / "m.pt2")), name="models.export"),
        "python": Classifier("python", str(weights), factory="user_nets:resnet", python_path=folder,
                             name="models.python"),
    }


def test_every_form_gives_the_same_fp32_ir(forms, tmp_path):
    batch = check_batch(8, 1).numpy()
    outputs, reports = {}, {}
    for name, classifier in forms.items():
        reports[name] = convert(classifier, xml_path=tmp_path / name / "fp32.xml", batch_size=8)
        model = compile_f32(tmp_path / name / "fp32.xml")
        assert str(model.input(0).get_partial_shape()) == "[?,3,32,32]", name  # a dynamic batch of CIFAR images
        outputs[name] = model(batch)[0]
    for name, out in outputs.items():
        np.testing.assert_allclose(out, outputs["builtin"], atol=2e-5, err_msg=name)
        assert out.argmax(1).tolist() == outputs["builtin"].argmax(1).tolist()
    # the IR is checked against PyTorch where there is a PyTorch module; ONNX and IR models are the reference
    assert {n for n, r in reports.items() if r.max_abs_diff_ir is not None} == {"builtin", "export", "python"}
    assert reports["onnx"].format == "onnx" and reports["python"].parameters == reports["builtin"].parameters
    for name in ("onnx", "openvino"):
        with pytest.raises(ClassifierError, match=f"models.{name} is an {name} model: it has no PyTorch module"):
            pytorch_module(forms[name])


def test_bn_inversion_and_the_bn_distance_run_on_an_exported_program_as_on_the_module(forms):
    """A torch.export program's BatchNorms are graph operations, not modules; they are tapped in the graph, and
    distilling from the program gives exactly the images of the module."""
    from synthcal.sources.bn_inversion import BNInversionSettings, bn_inversion
    from synthcal.sources.filtered import score_images

    settings = default_settings(BNInversionSettings, iterations=4, batch_size=10)
    labels = np.arange(10)
    a, report_a = bn_inversion(pytorch_module(forms["builtin"]), labels, (0.5,) * 3, (0.25,) * 3, settings, seed=0,
                               progress=False)
    b, report_b = bn_inversion(pytorch_module(forms["export"]), labels, (0.5,) * 3, (0.25,) * 3, settings, seed=0,
                               progress=False)
    assert report_a["bn_layers"] == report_b["bn_layers"] == 21 and np.array_equal(a, b)
    images = np.random.default_rng(0).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    scores = [score_images(pytorch_module(forms[f]), images, np.arange(20) % 10, (0.5,) * 3, (0.25,) * 3, 10,
                           progress=False) for f in ("builtin", "export")]
    np.testing.assert_allclose(scores[0].bn_distance, scores[1].bn_distance, rtol=1e-9)
    assert np.isfinite(scores[0].bn_distance).all()


def test_an_onnx_model_is_scored_from_its_ir(forms, tmp_path):
    """confidence and energy need logits only: for a model without a PyTorch module they come from its IR; the
    BN distance is undefined (NaN), which is why that filter is left out for such models."""
    from synthcal.sources.filtered import score_images

    convert(forms["onnx"], xml_path=tmp_path / "fp32.xml")
    images = np.random.default_rng(1).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    ir = score_images(logits_model(forms["onnx"], tmp_path / "fp32.xml"), images, np.arange(12) % 10, (0.5,) * 3,
                      (0.25,) * 3, 6, progress=False)
    torch_scores = score_images(pytorch_module(forms["builtin"]), images, np.arange(12) % 10, (0.5,) * 3,
                                (0.25,) * 3, 6, progress=False)
    np.testing.assert_allclose(ir.energy, torch_scores.energy, atol=1e-4)
    assert np.isnan(ir.bn_distance).all()


class _Wide(nn.Module):
    """A classifier for other data: ``classes`` outputs, or a first layer that needs ``size``x``size`` inputs."""

    def __init__(self, classes: int = 10, size: int = 32) -> None:
        super().__init__()
        self.size = size
        self.fc = nn.Linear(3 * size * size, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


@pytest.mark.parametrize("form", ["onnx", "export", "python"])
@pytest.mark.parametrize("classes, size, message", [
    (100, 32, r"has 100 outputs; a CIFAR-10 classifier has 10|returns outputs of shape \(2, 100\)"),
    (10, 64, r"takes inputs of shape \(\?, 3, 64, 64\)|fails on CIFAR-10 images of shape \(\d+, 3, 32, 32\)"),
])
def test_a_model_for_other_data_is_refused_naming_its_key(tmp_path, form, classes, size, message):
    model = _Wide(classes, size).eval()
    if form == "onnx":
        c = Classifier("onnx", str(export_onnx(model, tmp_path / "m.onnx", (1, 3, size, size))), name="models.mine")
    elif form == "export":
        c = Classifier("export", str(export_program(model, tmp_path / "m.pt2", (2, 3, size, size))), name="models.mine")
    else:
        folder = write_factory(tmp_path / "src", f"""
            import torch
            from torch import nn

            def wide():
                return nn.Sequential(nn.Flatten(), nn.Linear(3 * {size} * {size}, {classes}))
        """, name=f"wide_{classes}_{size}")
        c = Classifier("python", None, factory=f"wide_{classes}_{size}:wide", python_path=folder, name="models.mine")
    with pytest.raises(ClassifierError, match=message) as info:
        convert(c, xml_path=tmp_path / "out" / "fp32.xml")
    assert "models.mine" in str(info.value)
    assert not (tmp_path / "out" / "fp32.xml").exists()


def test_broken_factories_are_refused_naming_them(tmp_path):
    folder = write_factory(tmp_path, """
        def not_a_module():
            return 42
    """, name="bad_nets")
    with pytest.raises(ClassifierError, match="factory bad_nets:not_a_module returned a int, expected a torch.nn.Module"):
        pytorch_module(Classifier("python", factory="bad_nets:not_a_module", python_path=folder, name="models.x"))
    with pytest.raises(ClassifierError, match="bad_nets has no function 'missing'"):
        pytorch_module(Classifier("python", factory="bad_nets:missing", python_path=folder, name="models.x"))
    with pytest.raises(ClassifierError, match="cannot import no_such_module"):
        pytorch_module(Classifier("python", factory="no_such_module:f", name="models.x"))
    (tmp_path / "not.pt2").write_bytes(b"not a program")
    with pytest.raises(ClassifierError, match=r"not\.pt2 is not a torch.export program"):
        convert(Classifier("export", str(tmp_path / "not.pt2"), name="models.x"), xml_path=tmp_path / "x.xml")


# --------------------------------------------------------------------------------------------------- generators
class _Generator(nn.Module):
    z_dim = 8

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(8 + 10, 3 * 32 * 32)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.fc(torch.cat([z, c], 1))).view(-1, 3, 32, 32)


def test_an_exported_generator_dumps_exactly_what_torchscript_gives(tmp_path):
    from synthcal.gan.networks import one_hot
    from synthcal.gan.teachers import TeacherError, load_export, make_dump

    g = _Generator().eval()
    z, c = torch.randn(2, 8), one_hot(torch.tensor([1, 2]))
    torch.jit.trace(g, (z, c)).save(str(tmp_path / "g.ts"))
    program = torch.export.export(g, (z, c), dynamic_shapes=({0: torch.export.Dim("b")}, {0: torch.export.Dim("b")}))
    torch.export.save(program, str(tmp_path / "g.pt2"))
    kw = dict(n_per_class=3, seed=1, latent="gaussian", batch_size=7, device="cpu")
    script = make_dump("torchscript", tmp_path / "ts", source=tmp_path / "g.ts", z_dim=8, **kw)
    exported = make_dump("export", tmp_path / "ex", source=tmp_path / "g.pt2", z_dim=None, **kw)  # z_dim read
    assert exported["z_dim"] == script["z_dim"] == 8 and exported["teacher"]["provider"] == "export"
    assert np.array_equal(np.load(tmp_path / "ts/noise.npy"), np.load(tmp_path / "ex/noise.npy"))
    for png in (tmp_path / "ts").glob("*/*.png"):
        assert png.read_bytes() == (tmp_path / "ex" / png.relative_to(tmp_path / "ts")).read_bytes(), png
    with pytest.raises(TeacherError, match=r"takes latents of size 8, but 'teacher.export.z_dim' is 16"):
        load_export(tmp_path / "g.pt2", z_dim=16)


def test_a_python_generator_factory_dumps_with_its_source_recorded(tmp_path):
    from synthcal.gan.teachers import make_dump

    folder = write_factory(tmp_path / "src", """
        import torch
        from torch import nn

        class G(nn.Module):
            z_dim = 6

            def __init__(self):
                super().__init__()
                torch.manual_seed(0)
                self.fc = nn.Linear(16, 3 * 32 * 32)

            def forward(self, z, c):
                return torch.tanh(self.fc(torch.cat([z, c], 1))).view(-1, 3, 32, 32)

        def generator():
            return G()
    """, name="user_gan")
    manifest = make_dump("python", tmp_path / "dump", n_per_class=2, seed=0, latent="gaussian", batch_size=5,
                         device="cpu", factory="user_gan:generator", python_path=folder, z_dim=None)
    assert manifest["z_dim"] == 6 and manifest["teacher"]["factory"] == "user_gan:generator"
    assert manifest["teacher"]["sha256"] and manifest["output_range"]["warnings"] == []
    assert json.loads((tmp_path / "dump/manifest.json").read_text())["count"] == 20
