"""The second backend (synthcal.brevitas_backend), checked on what it produces: signed inputs where the calibration
minimum is negative, the first and last layers at 8 bits, GPTQ weights that differ from rounding's and lower each
layer's error, a saved model that rebuilds to the same predictions, agreement with NNCF's INT8 at W8A8 and with
OpenVINO running its QCDQ export."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from synthcal.brevitas_backend import (
    EXECUTION,
    export_qcdq,
    load_brevitas,
    predict_logits,
    quantize_brevitas,
    save_brevitas,
    weight_layers,
)
from synthcal.models import build, load_weights, stand_in_checkpoint
from synthcal.schema import default_settings
from synthcal.settings import BrevitasSettings

from helpers import random_images

MEAN, STD = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)


def _model(arch: str, tmp_path, seed: int = 0) -> torch.nn.Module:
    """A built-in architecture with random weights and BatchNorm statistics (inputs of either sign flow through)."""
    return load_weights(build(arch), stand_in_checkpoint(arch, tmp_path / f"{arch}.pt", seed=seed)).eval()


def _settings(**changes) -> BrevitasSettings:
    return default_settings(BrevitasSettings, **{"calibration_images": 40, "batch_size": 20, **changes})


def test_inputs_are_signed_where_their_calibration_minimum_is_negative_and_the_ends_stay_8_bit(tmp_path):
    """MobileNetV2's linear bottlenecks feed signed inputs, the layers after ReLU6 unsigned ones: each input
    quantizer's sign is the sign of its minimum on the calibration images, and its bit width the configured one but
    for the first and last layers."""
    model = _model("mobilenetv2_x0_5", tmp_path)
    quantized, report = quantize_brevitas(model, random_images(60, 1), MEAN, STD, _settings(activation_bits=4,
                                                                                          weight_bits=4), seed=0)
    layers = weight_layers(model)
    assert report["layers"] == len(layers) > 40 and report["first_last_layers"] == [layers[0], layers[-1]]
    signed = report["signed_inputs"]
    assert 0 < sum(signed.values()) < len(signed)  # both kinds occur
    modules = dict(quantized.named_modules())
    for name in layers:
        quantizer = modules[name].input_quant
        assert bool(quantizer.is_signed) == (report["input_minima"][name] < 0) == signed[name], name
        expected = 8 if name in (layers[0], layers[-1]) else 4
        assert int(quantizer.bit_width()) == expected and int(modules[name].weight_quant.bit_width()) == expected
    low, high = report["input_ranges"][layers[1]]
    assert (low < 0) == signed[layers[1]] and high > 0


def test_gptq_changes_the_weights_of_every_layer_and_lowers_each_layers_error(tmp_path):
    model = _model("resnet20", tmp_path)
    images = random_images(80, 2)
    _, rtn = quantize_brevitas(model, images, MEAN, STD, _settings(weight_bits=3), seed=0)
    _, gptq = quantize_brevitas(model, images, MEAN, STD, _settings(weight_bits=3, method="gptq"), seed=0)
    assert rtn["layers_changed_from_rtn"] == 0 and rtn["layer_errors"] == rtn["rtn_layer_errors"]
    assert gptq["layers_changed_from_rtn"] == gptq["layers"]  # not a handful: every layer
    assert gptq["rtn_layer_errors"] == pytest.approx(rtn["layer_errors"])  # the same rounding before GPTQ
    lower = [n for n in gptq["layer_errors"] if gptq["layer_errors"][n] < gptq["rtn_layer_errors"][n]]
    assert len(lower) >= 0.9 * gptq["layers"]
    assert gptq["method"] == "gptq" and gptq["precision"] == "W3A8" and gptq["execution"] == EXECUTION


def test_the_saved_model_rebuilds_to_the_same_predictions_and_the_job_is_deterministic(tmp_path):
    model = _model("resnet20", tmp_path)
    images, test = random_images(60, 3), random_images(30, 4)
    settings = _settings(weight_bits=4, bias_correction=True)
    quantized, report = quantize_brevitas(model, images, MEAN, STD, settings, seed=5)
    again, _ = quantize_brevitas(model, images, MEAN, STD, settings, seed=5)
    logits = predict_logits(quantized, test, MEAN, STD)
    np.testing.assert_array_equal(logits, predict_logits(again, test, MEAN, STD))
    save_brevitas(tmp_path / "brevitas.pt", quantized, settings, report["input_minima"])
    rebuilt = load_brevitas(tmp_path / "brevitas.pt", model)
    np.testing.assert_array_equal(logits, predict_logits(rebuilt, test, MEAN, STD))
    other, _ = quantize_brevitas(model, images, MEAN, STD, settings, seed=6)  # another calibration draw
    assert not np.array_equal(logits, predict_logits(other, test, MEAN, STD))
    with torch.no_grad():
        fp32 = model(torch.from_numpy(((test / 255.0 - 0.5) / 0.25).transpose(0, 3, 1, 2).astype(np.float32)))
    assert not np.allclose(logits, fp32.numpy(), atol=1e-4)  # it is quantized


def test_brevitas_w8a8_agrees_with_nncf_int8_and_with_openvino_running_its_export(tmp_path):
    """Where the backends overlap: the same FP32 model at 8 bits, calibrated on the same images, predicts as NNCF's
    INT8 model does (nearly), their input ranges are of the same size, and OpenVINO running Brevitas' QCDQ export
    predicts as the simulation."""
    import openvino as ov

    from synthcal.convert import convert
    from synthcal.ir import compile_f32
    from synthcal.preprocess import to_model_input
    from synthcal.quantize import quantize_default
    from synthcal.settings import DefaultQuantizationSettings

    weights = stand_in_checkpoint("resnet20", tmp_path / "w.pt", seed=1)
    model = load_weights(build("resnet20"), weights).eval()
    convert("resnet20", weights, tmp_path / "fp32.xml")
    images, test = random_images(100, 5), random_images(200, 6)
    quantized, report = quantize_brevitas(model, images, MEAN, STD, _settings(calibration_images=100), seed=0)
    simulated = predict_logits(quantized, test, MEAN, STD).argmax(1)
    settings = default_settings(DefaultQuantizationSettings, protocol="nncf", subset_size=100, batch_size=20)
    int8, _ = quantize_default(tmp_path / "fp32.xml", images, MEAN, STD, settings, seed=0)
    nncf = compile_f32(int8)(to_model_input(test, MEAN, STD))[0].argmax(1)
    fp32 = compile_f32(tmp_path / "fp32.xml")(to_model_input(test, MEAN, STD))[0].argmax(1)
    assert (simulated == fp32).mean() >= 0.9 and (nncf == fp32).mean() >= 0.9 and (simulated == nncf).mean() >= 0.9
    fq = {op.get_friendly_name(): op for op in int8.get_ops() if op.get_type_name() == "FakeQuantize"}
    first = next(op for name, op in fq.items() if op.input_value(0).get_node().get_type_name() == "Parameter")
    nncf_high = float(first.input_value(2).get_node().get_data().max())
    brevitas_high = report["input_ranges"][weight_layers(model)[0]][1]
    assert 0.5 < brevitas_high / nncf_high < 2.0  # the input layer's range: the same size from either backend
    onnx = export_qcdq(quantized, tmp_path / "q.onnx")
    runtime = ov.Core().compile_model(str(onnx), "CPU")
    executed = runtime(to_model_input(test, MEAN, STD))[0].argmax(1)
    assert (executed == simulated).mean() >= 0.95


@pytest.mark.parametrize("arch", ["resnet20", "akamaster_resnet20", "vgg11_bn", "shufflenetv2_x0_5", "repvgg_a0"])
def test_every_architecture_family_quantizes_layer_by_layer_and_w8a8_stays_close_to_fp32(arch, tmp_path):
    """Each built-in family (plain and option-A shortcuts, VGG, ShuffleNetV2's channel shuffle, RepVGG's branches;
    MobileNetV2 above) quantizes in the layer-wise mode, every weight layer replaced, and at W8A8 the logits stay
    near FP32's (random weights: ShuffleNetV2's small logits move by about a fifth; a wrong scale moves them by
    far more), changed but not wrecked."""
    model = _model(arch, tmp_path)
    images = random_images(24, 3)
    quantized, report = quantize_brevitas(model, images, MEAN, STD, _settings(calibration_images=24), seed=0)
    assert report["layers"] == len(weight_layers(model)) > 5 and report["precision"] == "W8A8"
    fp32 = predict_logits(model, images[:8], MEAN, STD)
    int8 = predict_logits(quantized, images[:8], MEAN, STD)
    assert 0 < np.linalg.norm(int8 - fp32) / np.linalg.norm(fp32) < 0.3
