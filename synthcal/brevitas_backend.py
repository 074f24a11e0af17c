"""The second quantization backend: Brevitas, for precisions below INT8 (W4A8, W4A4, W3A8, ...) that OpenVINO's CPU
plugin does not run, and for the methods that learn the weights from the calibration images (GPTQ, GPFQ) or correct
the biases after them.

The model is quantized layer by layer (Brevitas' ``layerwise_quantize``): every convolution and linear layer gets
quantized weights (one scale per output channel by default, set once from the weights and frozen, so that a method
that changes the weights rounds them on a fixed grid) and quantizes the activations it reads. Layer by layer, not by
tracing the graph: akamaster's option-A shortcuts (a slice and zero padding) cannot be traced through a quantized
tensor, and every built-in architecture quantizes this way. An input quantizer is signed if and only if the minimum
of that input over the calibration images is negative (POT's rule; MobileNetV2's linear bottlenecks feed signed
inputs), recorded per layer. The first and last layers keep ``first_last_bits`` (8, common practice).

The procedure, on the calibration images (the seeded head of the folder's shuffle, as NNCF's subset): the
activation scales are calibrated (Brevitas' default statistic, the 99.999th percentile of each input's absolute
value), then ``gptq``/``gpfq`` set the weights layer by layer (``rtn``: plain rounding), then bias correction (when
asked) removes each layer's mean output error. The artefact records what happened: the per-layer relative output
error of the final weights and of plain rounding's on calibration images, and how many layers' weights differ from
plain rounding's.

The result is simulated (fake quantization in PyTorch), not executed: its evaluation is PyTorch's, its speed
unknown. An all-8-bit model can also be exported as QCDQ ONNX and run by OpenVINO (:func:`openvino_agreement`).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import brevitas
import brevitas.nn as qnn
import numpy as np
import torch
import torch.nn.functional as F
from brevitas.core.scaling import ParameterFromStatsFromParameterScaling
from brevitas.export import export_onnx_qcdq
from brevitas.graph.calibrate import bias_correction_mode, calibration_mode
from brevitas.graph.gpfq import gpfq_mode
from brevitas.graph.gptq import gptq_mode
from brevitas.graph.quantize import layerwise_quantize
from brevitas.quant import (
    Int8ActPerTensorFloat,
    Int8WeightPerChannelFloat,
    Int8WeightPerTensorFloat,
    Uint8ActPerTensorFloat,
)
from torch import nn
from tqdm import tqdm

from synthcal.calibration import calibration_order
from synthcal.io import atomic_path
from synthcal.preprocess import to_model_input
from synthcal.settings import BrevitasSettings

#: What Brevitas quantizes, and its quantized counterpart.
LAYERS = {nn.Conv2d: qnn.QuantConv2d, nn.Linear: qnn.QuantLinear}
#: Images whose layer inputs measure each layer's output error (a probe, not the whole calibration set).
PROBE_IMAGES = 64
#: What an evaluation of a Brevitas model says it is.
EXECUTION = "simulated (Brevitas fake quantization in PyTorch)"


def weight_layers(module: nn.Module) -> list[str]:
    """Names of the layers Brevitas quantizes, in module order (the first is the input layer, the last the
    classifier)."""
    return [name for name, m in module.named_modules() if isinstance(m, tuple(LAYERS))]


def _batches(x: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size]


def layer_inputs(module: nn.Module, x: torch.Tensor, batch_size: int, keep: bool = False
                 ) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """(the minimum of each quantized layer's input over ``x``, and with ``keep`` the inputs themselves) of the FP32
    ``module``."""
    minima: dict[str, float] = {}
    kept: dict[str, list[torch.Tensor]] = {}
    hooks = []
    for name, layer in module.named_modules():
        if isinstance(layer, tuple(LAYERS)):
            def hook(_, inputs, name=name):
                minima[name] = min(minima.get(name, float("inf")), float(inputs[0].min()))
                if keep:
                    kept.setdefault(name, []).append(inputs[0].detach())
            hooks.append(layer.register_forward_pre_hook(hook))
    try:
        with torch.no_grad():
            for batch in _batches(x, batch_size):
                module(batch)
    finally:
        for h in hooks:
            h.remove()
    return minima, {name: torch.cat(parts) for name, parts in kept.items()}


def quant_module(module: nn.Module, settings: BrevitasSettings, minima: dict[str, float]) -> nn.Module:
    """A layer-wise quantized copy of ``module`` (see the module docstring): ``minima`` (each layer's input
    minimum on the calibration images) makes its input quantizer signed or unsigned."""
    layers = weight_layers(module)
    missing = [name for name in layers if name not in minima]
    if missing:
        raise ValueError(f"no calibration input reached the layers {missing[:3]}: they never run in forward()")
    edges = {layers[0], layers[-1]} if settings.first_last_bits is not None else set()
    weight_base = (Int8WeightPerChannelFloat if settings.weight_granularity == "per_channel"
                   else Int8WeightPerTensorFloat).let(scaling_impl=ParameterFromStatsFromParameterScaling)

    def bits(name: str, width: int) -> int:
        return settings.first_last_bits if name in edges else width

    def weight_quant(name: str) -> type:
        return weight_base.let(bit_width=bits(name, settings.weight_bits))

    def input_quant(name: str) -> type:
        base = Int8ActPerTensorFloat if minima[name] < 0 else Uint8ActPerTensorFloat
        return base.let(bit_width=bits(name, settings.activation_bits))

    kwargs = {"weight_quant": lambda module, name: weight_quant(name),  # Brevitas calls these with each layer
              "input_quant": lambda module, name: input_quant(name),
              "bias_quant": None, "return_quant_tensor": False}
    quantized = layerwise_quantize(copy.deepcopy(module).eval(),
                                   compute_layer_map={k: (v, kwargs) for k, v in LAYERS.items()})
    return quantized.eval()


def _quant_weights(quantized: nn.Module) -> dict[str, torch.Tensor]:
    return {name: m.quant_weight().value.detach().clone() for name, m in quantized.named_modules()
            if isinstance(m, tuple(LAYERS.values()))}


def layer_errors(module: nn.Module, weights: dict[str, torch.Tensor], inputs: dict[str, torch.Tensor]
                 ) -> dict[str, float]:
    """Each layer's relative output error ``|W_q x - W x|^2 / |W x|^2`` on its FP32 inputs ``x`` (biases aside),
    for quantized weights ``weights``."""
    errors = {}
    layers = dict(module.named_modules())
    for name, w_q in weights.items():
        layer, x = layers[name], inputs[name]
        if isinstance(layer, nn.Conv2d):
            def out(w, layer=layer, x=x):
                return F.conv2d(x, w, None, layer.stride, layer.padding, layer.dilation, layer.groups)
        else:
            def out(w, x=x):
                return F.linear(x, w)
        with torch.no_grad():
            reference = out(layer.weight)
            errors[name] = float(((out(w_q) - reference) ** 2).sum() / (reference ** 2).sum().clamp_min(1e-30))
    return errors


def _run_method(quantized: nn.Module, method: str, x: torch.Tensor, batch_size: int) -> None:
    """GPTQ or GPFQ: layer by layer, a pass of the calibration images each (Brevitas' documented loop)."""
    mode = {"gptq": gptq_mode, "gpfq": gpfq_mode}[method]
    with torch.no_grad(), mode(quantized, create_weight_orig=False) as algorithm:
        model = algorithm.model
        for _ in tqdm(range(algorithm.num_layers), desc=method, unit="layer", mininterval=5.0):
            for batch in _batches(x, batch_size):
                model(batch)
            algorithm.update()


def quantize_brevitas(module: nn.Module, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
                      settings: BrevitasSettings, seed: int) -> tuple[nn.Module, dict[str, Any]]:
    """Quantize ``module`` (an FP32 PyTorch classifier) on calibration ``images`` (uint8 NHWC): (the quantized
    module, its report). See the module docstring for the procedure and what the report records."""
    torch.manual_seed(seed)
    module = module.eval()
    order = calibration_order(len(images), seed)[:settings.calibration_images]
    x = torch.from_numpy(to_model_input(images[order], mean, std))
    start = time.perf_counter()
    minima, _ = layer_inputs(module, x, settings.batch_size)
    quantized = quant_module(module, settings, minima)
    with torch.no_grad(), calibration_mode(quantized):
        for batch in _batches(x, settings.batch_size):
            quantized(batch)
    rounded = _quant_weights(quantized)
    if settings.method != "rtn":
        _run_method(quantized, settings.method, x, settings.batch_size)
    final = _quant_weights(quantized)
    if settings.bias_correction:
        with torch.no_grad(), bias_correction_mode(quantized):
            for batch in _batches(x, settings.batch_size):
                quantized(batch)
    seconds = time.perf_counter() - start
    _, probe = layer_inputs(module, x[:PROBE_IMAGES], settings.batch_size, keep=True)
    errors, rtn_errors = layer_errors(module, final, probe), layer_errors(module, rounded, probe)
    layers = weight_layers(module)
    report = {
        "algorithm": "brevitas", "backend": "brevitas", "execution": EXECUTION,
        "settings": asdict(settings), "precision": settings.precision, "method": settings.procedure,
        "n_calibration": int(len(images)), "subset_size": int(len(order)), "batch_size": settings.batch_size,
        "calibration_indices": order.tolist(), "seed": seed, "layers": len(layers),
        "first_last_layers": [layers[0], layers[-1]] if settings.first_last_bits is not None else [],
        "signed_inputs": {name: minima[name] < 0 for name in layers},
        "input_minima": {name: minima[name] for name in layers},
        "input_ranges": input_ranges(quantized),
        "layer_errors": errors, "rtn_layer_errors": rtn_errors,
        "layers_changed_from_rtn": sum(not torch.equal(rounded[n], final[n]) for n in rounded),
        "seconds": round(seconds, 3), "brevitas_version": brevitas.__version__, "torch_version": torch.__version__,
    }
    return quantized, report


def input_ranges(quantized: nn.Module) -> dict[str, list[float]]:
    """Each quantized layer's input range [low, high] after calibration: the quantizer's scale times its integer
    range (what an INT8 FakeQuantize's bounds say), for comparison with NNCF's."""
    ranges = {}
    for name, m in quantized.named_modules():
        if isinstance(m, tuple(LAYERS.values())) and m.input_quant.is_quant_enabled:
            scale = float(m.input_quant.scale().detach().reshape(-1)[0])
            bits = int(m.input_quant.bit_width())
            signed = bool(m.input_quant.is_signed)
            low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)
            ranges[name] = [scale * low, scale * high]
    return ranges


def save_brevitas(path: str | Path, quantized: nn.Module, settings: BrevitasSettings,
                  minima: dict[str, float]) -> None:
    """Write a quantized model as ``brevitas.pt`` (atomically): its state and what rebuilds it from the FP32 module
    (:func:`load_brevitas`)."""
    with atomic_path(path) as tmp:
        torch.save({"state_dict": quantized.state_dict(), "settings": asdict(settings), "input_minima": minima,
                    "brevitas_version": brevitas.__version__}, tmp)


def load_brevitas(path: str | Path, module: nn.Module) -> nn.Module:
    """The quantized model of ``path``, rebuilt on the FP32 ``module`` it was made from."""
    state = torch.load(path, map_location="cpu", weights_only=False)
    quantized = quant_module(module, BrevitasSettings(**state["settings"]), state["input_minima"])
    with torch.no_grad(), calibration_mode(quantized):  # initialise the scale parameters before loading them
        quantized(torch.zeros(1, 3, 32, 32))
    saved = state["state_dict"]
    for name, layer in quantized.named_modules():  # bias correction gave bias-free layers a bias
        if isinstance(layer, tuple(LAYERS.values())) and layer.bias is None and f"{name}.bias" in saved:
            layer.bias = nn.Parameter(torch.zeros_like(saved[f"{name}.bias"]))
    missing, unexpected = quantized.load_state_dict(saved, strict=False)
    if missing or unexpected:
        raise ValueError(f"{path} does not fit the model it is loaded on: missing {missing[:3]}, unexpected "
                         f"{unexpected[:3]}")
    return quantized.eval()


def predict_logits(quantized: nn.Module, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
                   batch_size: int = 200, desc: str = "evaluate") -> np.ndarray:
    """The simulated model's logits on uint8 NHWC ``images`` (float32, (N, classes))."""
    out = []
    with torch.no_grad():
        for start in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=5.0):
            x = torch.from_numpy(to_model_input(images[start:start + batch_size], mean, std))
            out.append(quantized(x).float().numpy())
    return np.concatenate(out)


def export_qcdq(quantized: nn.Module, path: str | Path) -> Path:
    """The quantized model as QCDQ ONNX (QuantizeLinear/Clip/DequantizeLinear around each quantized tensor, the
    form OpenVINO reads into INT8 operations), with a dynamic batch."""
    with atomic_path(path) as tmp:
        export_onnx_qcdq(quantized, torch.zeros(1, 3, 32, 32), export_path=str(tmp), dynamo=False, input_names=["x"],
                         dynamic_axes={"x": {0: "batch"}})
    return Path(path)


def eight_bit(settings: BrevitasSettings) -> bool:
    """Whether every layer is 8-bit (then OpenVINO can run the QCDQ export)."""
    return settings.weight_bits == settings.activation_bits == 8 and settings.first_last_bits in (8, None)
