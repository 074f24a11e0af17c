"""PyTorch -> OpenVINO IR (FP32) conversion, checked against PyTorch on a seeded batch."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import openvino as ov
import torch
from torch import nn

from synthcal.ir import ConversionCheckError, compile_f32, save_ir
from synthcal.models import load_classifier

INPUT_SHAPE = [-1, 3, 32, 32]


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


def to_openvino(model: nn.Module) -> ov.Model:
    """Trace ``model`` into an ``ov.Model`` with a dynamic batch, input [-1, 3, 32, 32]."""
    model.eval()
    with torch.no_grad():
        return ov.convert_model(model, example_input=torch.zeros(1, 3, 32, 32), input=[INPUT_SHAPE])


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
