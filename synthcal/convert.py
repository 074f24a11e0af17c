"""PyTorch -> OpenVINO IR (FP32) conversion, checked against PyTorch on a seeded batch."""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import openvino as ov
import torch
from torch import nn

from synthcal.models import build, load_weights, reparameterize

INPUT_SHAPE = [-1, 3, 32, 32]


class ConversionCheckError(RuntimeError):
    """The converted model (or the fused RepVGG) disagrees with the PyTorch reference beyond tolerance."""


@dataclass
class ConversionReport:
    """What :func:`convert` measured, written next to the IR as JSON."""

    arch: str
    fused: bool
    parameters: int
    check_batch: int
    max_abs_diff_ir: float
    argmax_agreement_ir: float
    max_abs_diff_fuse: float | None
    tolerance: float

    def to_dict(self) -> dict:
        return asdict(self)


def check_batch(n: int, seed: int) -> torch.Tensor:
    """A seeded standard-normal batch of normalised-input shape (n, 3, 32, 32)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=gen)


def load_classifier(arch: str, weights: str | Path | None, fuse: bool = False, batch: torch.Tensor | None = None,
                    fuse_tolerance: float = 1e-4) -> tuple[nn.Module, float | None]:
    """Build ``arch``, load ``weights`` (strict), and optionally fuse a RepVGG.

    With ``fuse`` and a ``batch`` the fused model is compared with the multi-branch one; returns
    (model in eval mode, max |difference| or None).

    Raises:
        ConversionCheckError: the fused outputs differ by more than ``fuse_tolerance``.
    """
    model = build(arch)
    if weights is not None:
        load_weights(model, weights)
    model.eval()
    diff = None
    if fuse:
        reference = model(batch) if batch is not None else None
        reparameterize(model)
        if reference is not None:
            with torch.no_grad():
                diff = float((model(batch) - reference).abs().max())
            if diff > fuse_tolerance:
                raise ConversionCheckError(
                    f"fused {arch} differs from its multi-branch form by {diff:.3g} > {fuse_tolerance:g}")
    return model, diff


def to_openvino(model: nn.Module) -> ov.Model:
    """Trace ``model`` into an ``ov.Model`` with a dynamic batch, input [-1, 3, 32, 32]."""
    model.eval()
    with torch.no_grad():
        return ov.convert_model(model, example_input=torch.zeros(1, 3, 32, 32), input=[INPUT_SHAPE])


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


def compile_f32(model: ov.Model | str | Path, threads: int | None = None) -> ov.CompiledModel:
    """Compile on CPU with true FP32 inference (no bf16 downcast) and an optional thread limit."""
    config: dict[str, object] = {"INFERENCE_PRECISION_HINT": "f32"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = int(threads)
    return ov.Core().compile_model(model if isinstance(model, ov.Model) else str(model), "CPU", config)


def convert(arch: str, weights: str | Path | None, xml_path: str | Path, *, fuse: bool = False, seed: int = 0,
            batch_size: int = 16, tolerance: float = 1e-3, fuse_tolerance: float = 1e-4,
            threads: int | None = None) -> ConversionReport:
    """Build and load a classifier, convert it to an FP32 IR at ``xml_path`` and check it.

    The IR and PyTorch are run on the same seeded batch; the report holds the largest absolute logit difference.

    Raises:
        ConversionCheckError: the difference exceeds ``tolerance`` (nothing is written then).
    """
    batch = check_batch(batch_size, seed)
    model, fuse_diff = load_classifier(arch, weights, fuse=fuse, batch=batch, fuse_tolerance=fuse_tolerance)
    with torch.no_grad():
        reference = model(batch).numpy()
    ov_model = to_openvino(model)
    result = compile_f32(ov_model, threads)(batch.numpy())[0]
    diff = float(np.abs(result - reference).max())
    agreement = float((result.argmax(1) == reference.argmax(1)).mean())
    if not np.isfinite(diff) or diff > tolerance:
        raise ConversionCheckError(
            f"OpenVINO IR of {arch} differs from PyTorch by {diff:.3g} > tolerance {tolerance:g}")
    save_ir(ov_model, xml_path)
    return ConversionReport(arch=arch, fused=fuse, parameters=sum(p.numel() for p in model.parameters()),
                            check_batch=batch_size, max_abs_diff_ir=diff, argmax_agreement_ir=agreement,
                            max_abs_diff_fuse=fuse_diff, tolerance=tolerance)
