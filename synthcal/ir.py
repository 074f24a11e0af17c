"""OpenVINO IR helpers shared by conversion, quantization and evaluation: saving, compiling, batched inference and
reading what a quantized IR holds (its FakeQuantize operations and the operations they quantize)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openvino as ov

#: OpenVINO operation types whose inputs NNCF quantizes (the operation types of NNCF 3.4's
#: ``INPUTS_QUANTIZABLE_OPERATIONS`` metatype group): an operation of these types is "quantized" when a quantizer
#: reaches it.
QUANTIZABLE_TYPES = frozenset({
    "Convolution", "GroupConvolution", "ConvolutionBackpropData", "GroupConvolutionBackpropData", "MatMul",
    "BatchNormInference", "Add", "Subtract", "Multiply", "Divide", "Maximum", "Minimum", "AvgPool",
    "AdaptiveAvgPool", "ReduceMean", "MVN", "NormalizeL2", "Interpolate", "Power", "FloorMod", "Less",
    "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalNot", "LogicalAnd", "LogicalOr",
    "LogicalXor", "SquaredDifference", "LSTMSequence", "GRUSequence", "GroupNormalization",
    "ScaledDotProductAttention"})
QUANTIZER_TYPES = frozenset({"FakeQuantize", "FakeConvert"})


class ConversionCheckError(RuntimeError):
    """A converted IR disagrees with the PyTorch model it came from beyond tolerance (nothing is written then)."""


def save_ir(model: ov.Model, xml_path: str | Path, compress_to_fp16: bool = False) -> Path:
    """Save an IR atomically (the .bin first, then the .xml); FP32 weights unless ``compress_to_fp16``."""
    xml_path = Path(xml_path)
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{xml_path.stem}.", suffix=".partial", dir=xml_path.parent) as tmp:
        staged = Path(tmp) / xml_path.name
        ov.save_model(model, staged, compress_to_fp16=compress_to_fp16)
        os.replace(staged.with_suffix(".bin"), xml_path.with_suffix(".bin"))
        os.replace(staged, xml_path)
    return xml_path


def read_model(model: ov.Model | str | Path) -> ov.Model:
    return model if isinstance(model, ov.Model) else ov.Core().read_model(str(model))


def compile_f32(model: ov.Model | str | Path, threads: int | None = None) -> ov.CompiledModel:
    """Compile on CPU with true FP32 inference (no bf16 downcast) and an optional thread limit."""
    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    return ov.Core().compile_model(model if isinstance(model, ov.Model) else str(model), "CPU", config)


def infer_batches(compiled: ov.CompiledModel, batches: Iterable[np.ndarray]) -> np.ndarray:
    """First output of ``compiled`` for each model-ready input batch (N, 3, H, W), concatenated."""
    request = compiled.create_infer_request()
    outputs = [request.infer({0: x})[0].copy() for x in batches]
    if not outputs:
        return np.empty((0, 0), dtype=np.float32)
    return np.concatenate(outputs)


def count_fake_quantize(model: ov.Model | str | Path) -> int:
    """Number of FakeQuantize operations in a model."""
    return int(sum(op.get_type_name() == "FakeQuantize" for op in read_model(model).get_ops()))


def _consumers(node: ov.Node) -> list[ov.Node]:
    return [target.get_node() for output in node.outputs() for target in output.get_target_inputs()]


def quantized_operations(model: ov.Model | str | Path) -> set[str]:
    """Friendly names of the quantized operations: from every quantizer, the first operations of a quantizable
    type (:data:`QUANTIZABLE_TYPES`) reached by following its consumers (NNCF's own count,
    ``get_number_of_quantized_ops``, computed on the OpenVINO model).

    Reverting an operation to floating point removes the quantizers in front of it, so the difference between
    the sets of a model before and after accuracy control is the set of reverted operations.
    """
    found: set[str] = set()
    seen: set[str] = set()
    for op in read_model(model).get_ops():
        if op.get_type_name() not in QUANTIZER_TYPES:
            continue
        pending = _consumers(op)
        while pending:
            node = pending.pop()
            name = node.get_friendly_name()
            if node.get_type_name() in QUANTIZABLE_TYPES:
                found.add(name)
            elif name not in seen:
                seen.add(name)
                pending += _consumers(node)
        seen.clear()
    return found


@dataclass(frozen=True)
class ActivationQuantizer:
    """A FakeQuantize on an activation, as the IR holds it: the output it quantizes (``source`` node's friendly name
    and output ``port``) and its input bounds (one value per tensor, or one per channel)."""

    name: str
    source: str
    port: int
    low: np.ndarray
    high: np.ndarray

    @property
    def per_channel(self) -> bool:
        return self.high.size > 1

    @property
    def signed(self) -> bool:
        return bool((self.low < 0).any())


def _constant_data(output: ov.Output) -> np.ndarray | None:
    """The value of a constant input (through Convert, as compressed weights hold it), else None."""
    node = output.get_node()
    while node.get_type_name() == "Convert":
        node = node.input_value(0).get_node()
    return node.get_data() if node.get_type_name() == "Constant" else None


def activation_quantizers(model: ov.Model | str | Path) -> list[ActivationQuantizer]:
    """The activation FakeQuantize operations of a quantized IR (weight quantizers, whose input is a constant, are
    left out), in the model's topological order."""
    found = []
    for op in read_model(model).get_ops():
        if op.get_type_name() != "FakeQuantize" or _constant_data(op.input_value(0)) is not None:
            continue
        low, high = (_constant_data(op.input_value(i)) for i in (1, 2))
        if low is None or high is None:
            continue
        source = op.input_value(0)
        found.append(ActivationQuantizer(op.get_friendly_name(), source.get_node().get_friendly_name(),
                                         source.get_index(), np.asarray(low, np.float64).ravel(),
                                         np.asarray(high, np.float64).ravel()))
    return found
