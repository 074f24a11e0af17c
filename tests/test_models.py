import json

import pytest
import torch

from synthcal.models import (
    ARCHITECTURES,
    PAPER_ARCHITECTURES,
    UnknownArchitectureError,
    WeightsError,
    build,
    count_parameters,
    load_weights,
    read_state_dict,
    reparameterize,
)

from helpers import REPO, SHARED, random_weights

GOLDEN = json.loads((REPO / "tests" / "data" / "chenyaofo_state_dict_shapes.json").read_text())["architectures"]


@pytest.mark.parametrize("arch", sorted(GOLDEN))
def test_state_dict_layout_equals_the_zoo(arch):
    """Keys and shapes equal chenyaofo/pytorch-cifar-models', so the published checkpoints load strictly."""
    ours = {k: list(v.shape) for k, v in build(arch).state_dict().items()}
    assert ours == GOLDEN[arch]


@pytest.mark.parametrize("arch, millions", [("resnet20", 0.27), ("vgg16_bn", 15.25), ("mobilenetv2_x1_4", 4.33),
                                            ("shufflenetv2_x2_0", 5.37)])
def test_parameter_counts_match_the_zoo_readme(arch, millions):
    assert round(count_parameters(build(arch)) / 1e6, 2) == millions


def test_every_registered_architecture_builds_and_classifies_into_ten_classes():
    x = torch.randn(2, 3, 32, 32)
    assert set(PAPER_ARCHITECTURES) <= set(ARCHITECTURES)
    for arch in ARCHITECTURES:
        with torch.no_grad():
            assert build(arch).eval()(x).shape == (2, 10), arch


def test_unknown_architecture():
    with pytest.raises(UnknownArchitectureError, match="unknown architecture 'resnet21'.*resnet20"):
        build("resnet21")


def test_zoo_checkpoint_roundtrip_is_strict_and_exact(tmp_path):
    path = random_weights("mobilenetv2_x0_5", tmp_path / "w.pt")
    loaded = load_weights(build("mobilenetv2_x0_5"), path).state_dict()
    saved = torch.load(path, weights_only=True)
    assert loaded.keys() == saved.keys() and all(torch.equal(loaded[k], saved[k]) for k in saved)
    with pytest.raises(WeightsError, match="do not fit"):
        load_weights(build("resnet20"), path)


def test_akamaster_style_checkpoint_with_module_prefix(tmp_path):
    model = build("akamaster_resnet20")
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "best_prec1": 91.0}, tmp_path / "r.th")
    loaded = read_state_dict(tmp_path / "r.th")
    assert set(loaded) == set(model.state_dict())
    assert "linear.weight" in loaded and "fc.weight" not in loaded  # akamaster names its head 'linear'


def test_missing_and_unsafe_weights(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        read_state_dict(tmp_path / "nope.pt")
    torch.save({"model": build("resnet20")}, tmp_path / "pickled_module.pt")  # a whole module: needs code
    with pytest.raises(WeightsError, match="cannot read weights file"):
        read_state_dict(tmp_path / "pickled_module.pt")


def test_option_a_shortcut_has_no_parameters_and_pads_channels():
    a, b = build("akamaster_resnet20"), build("resnet20")
    assert not any("downsample" in k or "shortcut" in k for k in a.state_dict())
    assert any("downsample" in k for k in b.state_dict())
    block = a.layer2[0]
    x = torch.randn(1, 16, 32, 32)
    out = block.shortcut(x)
    assert out.shape == (1, 32, 16, 16)
    assert torch.equal(out[:, 8:24], x[:, :, ::2, ::2]) and not out[:, :8].any() and not out[:, 24:].any()


@pytest.mark.parametrize("arch", ["repvgg_a0", "repvgg_a2"])
def test_repvgg_fusion_is_equivalent(tmp_path, arch):
    path = random_weights(arch, tmp_path / "w.pt", seed=3)
    multi = load_weights(build(arch), path)
    fused = reparameterize(load_weights(build(arch), path))
    keys = fused.state_dict().keys()
    assert any("rbr_reparam" in k for k in keys) and not any("rbr_dense" in k or "rbr_1x1" in k for k in keys)
    assert count_parameters(fused) < count_parameters(multi)
    x = torch.randn(8, 3, 32, 32)
    with torch.no_grad():
        ref, out = multi(x), fused(x)
    assert ref.std() > 1e-3  # outputs depend on the input, so the comparison means something
    assert (out - ref).abs().max() < 1e-4


def test_fuse_rejects_non_repvgg():
    with pytest.raises(ValueError, match="no RepVGG blocks"):
        reparameterize(build("resnet20"))
    assert "rbr_reparam.weight" in "".join(build("repvgg_a0", fuse=True).state_dict())


@pytest.mark.skipif(not (SHARED / "weights" / "akamaster-resnet-cifar10").exists(), reason="../shared absent")
@pytest.mark.parametrize("depth", [20, 32, 44, 56])
def test_real_akamaster_weights_load_strictly(depth):
    path = next((SHARED / "weights" / "akamaster-resnet-cifar10").glob(f"resnet{depth}-*.th"))
    model = load_weights(build(f"akamaster_resnet{depth}"), path)
    assert count_parameters(model) == sum(v.numel() for k, v in read_state_dict(path).items()
                                          if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
