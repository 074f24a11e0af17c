import numpy as np
import openvino as ov
import pytest
import torch

from synthcal.convert import ConversionCheckError, check_batch, convert
from synthcal.ir import compile_f32
from synthcal.models import load_classifier

from helpers import random_weights


def test_convert_writes_fp32_ir_with_dynamic_batch_that_matches_pytorch(tmp_path):
    weights = random_weights("resnet20", tmp_path / "w.pt")
    report = convert("resnet20", weights, tmp_path / "ir" / "fp32.xml", seed=1, batch_size=8)
    assert report.max_abs_diff_ir < 1e-4 and report.argmax_agreement_ir == 1.0
    assert sorted(p.name for p in (tmp_path / "ir").iterdir()) == ["fp32.bin", "fp32.xml"]  # no staging leftovers
    model = ov.Core().read_model(str(tmp_path / "ir" / "fp32.xml"))
    shape = model.inputs[0].partial_shape
    assert shape[0].is_dynamic and [shape[i].get_length() for i in (1, 2, 3)] == [3, 32, 32]
    # FP32 weights (compress_to_fp16=False): no f16 constants, ~4 bytes per parameter (BN folding removes a few)
    const_types = {op.get_output_element_type(0).get_type_name() for op in model.get_ops()
                   if op.get_type_name() == "Constant"}
    assert "f16" not in const_types and "f32" in const_types
    assert (tmp_path / "ir" / "fp32.bin").stat().st_size > 0.9 * 4 * report.parameters
    # any batch size runs, and the IR computes the PyTorch function on fresh inputs too
    torch_model, _ = load_classifier("resnet20", weights)
    x = torch.randn(5, 3, 32, 32)
    with torch.no_grad():
        ref = torch_model(x).numpy()
    out = compile_f32(tmp_path / "ir" / "fp32.xml", threads=1)(x.numpy())[0]
    np.testing.assert_allclose(out, ref, atol=1e-4)


def test_fused_repvgg_conversion_reports_both_differences(tmp_path):
    weights = random_weights("repvgg_a0", tmp_path / "w.pt")
    report = convert("repvgg_a0", weights, tmp_path / "f" / "fp32.xml", fuse=True, batch_size=4)
    assert report.fused and report.max_abs_diff_fuse is not None and report.max_abs_diff_fuse < 1e-4
    ops = {op.get_type_name() for op in ov.Core().read_model(str(tmp_path / "f" / "fp32.xml")).get_ops()}
    assert "Convolution" in ops


def test_conversion_check_failure_writes_nothing(tmp_path, monkeypatch):
    weights = random_weights("resnet20", tmp_path / "w.pt")
    import synthcal.convert as conv

    real = conv.to_openvino

    def broken(model):  # an IR that computes something else: the last layer's bias shifted
        with torch.no_grad():
            model.fc.bias += 1.0
        return real(model)

    monkeypatch.setattr(conv, "to_openvino", broken)
    with pytest.raises(ConversionCheckError, match="differs from PyTorch by 1"):
        convert("resnet20", weights, tmp_path / "bad" / "fp32.xml", batch_size=4)
    assert not (tmp_path / "bad" / "fp32.xml").exists()


def test_check_batch_is_seeded():
    assert torch.equal(check_batch(3, 7), check_batch(3, 7))
    assert not torch.equal(check_batch(3, 7), check_batch(3, 8))
