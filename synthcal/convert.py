"""A classifier in any form (synthcal.classifiers) -> FP32 OpenVINO IR, checked on a seeded batch: against PyTorch
where there is a PyTorch module, and against CIFAR-10's shapes (10 finite logits per image) always."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import openvino as ov
import torch
from torch import nn

from synthcal.classifiers import (
    INPUT_SHAPE,
    NUM_CLASSES,
    Classifier,
    ClassifierError,
    check_declared_input,
    check_outputs,
    checked_program,
    inference_mode,
    pytorch_module,
)
from synthcal.ir import ConversionCheckError, compile_f32, read_model, save_ir
from synthcal.models import load_classifier

__all__ = ["ConversionCheckError", "ConversionReport", "IRLogits", "check_batch", "convert", "logits_model",
           "openvino_model", "to_openvino"]


def to_openvino(model: nn.Module) -> ov.Model:
    """Trace a PyTorch classifier into an ``ov.Model`` with a dynamic batch, input [-1, 3, 32, 32]."""
    inference_mode(model)
    with torch.no_grad():
        return ov.convert_model(model, example_input=torch.zeros(1, *INPUT_SHAPE), input=[[-1, *INPUT_SHAPE]])


def openvino_model(classifier: Classifier, module: nn.Module | None = None) -> tuple[ov.Model, nn.Module | None]:
    """The classifier as an OpenVINO model with input [-1, 3, 32, 32] (not yet checked against PyTorch), and its
    PyTorch module where there is one (``module``: one already loaded, e.g. a fused RepVGG checked against its
    multi-branch form).

    Raises:
        ClassifierError: the model takes other inputs than CIFAR-10 images, or has not 10 outputs.
    """
    c = classifier
    if c.format in ("builtin", "python"):
        module = module if module is not None else pytorch_module(c)
        with torch.no_grad():
            try:
                probe = module(torch.zeros(2, *INPUT_SHAPE))
            except Exception as exc:
                raise ClassifierError(f"{c.name} fails on CIFAR-10 images of shape (2, 3, 32, 32): "
                                      f"{type(exc).__name__}: {exc}") from exc
        check_outputs(probe, c.name, 2)
        return to_openvino(module), module
    if c.format == "export":
        program = checked_program(c)
        model, module = ov.convert_model(program), program.module()
    else:
        try:
            model = ov.convert_model(c.path) if c.format == "onnx" else read_model(c.path)
        except Exception as exc:
            raise ClassifierError(f"{c.name}: {c.path} cannot be read as an {c.format} model "
                                  f"({type(exc).__name__}: {exc})") from exc
        if len(model.inputs) != 1:
            raise ClassifierError(f"{c.name} ({c.path}) has {len(model.inputs)} inputs; a classifier takes one batch "
                                  "of images")
        shape = model.input(0).get_partial_shape()
        dims = [d.get_length() if d.is_static else None for d in shape] if shape.rank.is_static else []
        check_declared_input(dims, "inputs", c.name, c.path)
        module = None
    out = model.output(0).get_partial_shape()
    if out.rank.is_static and out[-1].is_static and out[-1].get_length() != NUM_CLASSES:
        raise ClassifierError(f"{c.name} ({c.path}) has {out[-1].get_length()} outputs; a CIFAR-10 classifier has "
                              f"{NUM_CLASSES}, one per class")
    try:
        model.reshape({model.input(0): ov.PartialShape([-1, *INPUT_SHAPE])})
    except Exception as exc:
        raise ClassifierError(f"{c.name} ({c.path}) cannot take a dynamic batch of 3x32x32 images "
                              f"({type(exc).__name__}: {exc}); export it with a dynamic batch dimension") from exc
    return model, module


class IRLogits(nn.Module):
    """A classifier's FP32 IR as a module that returns logits (for scores that need logits only: the confidence
    and energy filters of models without a PyTorch module)."""

    def __init__(self, xml_path: str | Path, threads: int | None = None) -> None:
        super().__init__()
        self.compiled = [compile_f32(xml_path, threads)]  # in a list: not a torch attribute

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.compiled[0](x.detach().numpy())[0].copy())


def logits_model(classifier: Classifier, fp32_xml: str | Path, threads: int | None = None) -> nn.Module:
    """The classifier as a module that computes its logits: its PyTorch module (multi-branch form) where there is
    one, else its FP32 IR."""
    return pytorch_module(classifier, fuse=False) if classifier.has_pytorch else IRLogits(fp32_xml, threads)


@dataclass
class ConversionReport:
    """What :func:`convert` measured, written next to the IR as JSON (``max_abs_diff_ir`` None: no PyTorch module
    to compare with, the IR is the model)."""

    format: str
    arch: str | None
    fused: bool
    parameters: int | None
    check_batch: int
    max_abs_diff_ir: float | None
    argmax_agreement_ir: float | None
    max_abs_diff_fuse: float | None
    tolerance: float

    def to_dict(self) -> dict:
        return asdict(self)


def check_batch(n: int, seed: int) -> torch.Tensor:
    """A seeded standard-normal batch of normalised-input shape (n, 3, 32, 32)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, 32, 32, generator=gen)


def convert(model: Classifier | str, weights: str | Path | None = None, xml_path: str | Path = "fp32.xml", *,
            fuse: bool = False, seed: int = 0, batch_size: int = 16, tolerance: float = 1e-3,
            fuse_tolerance: float = 1e-4, threads: int | None = None) -> ConversionReport:
    """Convert a classifier (a :class:`~synthcal.classifiers.Classifier`, or a built-in architecture's name with
    ``weights`` and ``fuse``) to an FP32 IR at ``xml_path`` and check it on a seeded batch.

    Raises:
        ConversionCheckError: the IR differs from PyTorch by more than ``tolerance``, or returns non-finite logits
            (nothing is written then).
        synthcal.classifiers.ClassifierError: the model is not a CIFAR-10 classifier.
    """
    c = model if isinstance(model, Classifier) else Classifier("builtin", str(weights) if weights else None,
                                                               arch=model, fuse=fuse)
    batch = check_batch(batch_size, seed)
    fuse_diff, module, reference = None, None, None
    if c.format == "builtin":  # a fused RepVGG is checked against its multi-branch form first
        module, fuse_diff = load_classifier(c.arch, c.path, fuse=c.fuse, batch=batch, fuse_tolerance=fuse_tolerance)
    elif c.has_pytorch:
        module = pytorch_module(c)
    if module is not None:  # the reference before the conversion, which traces the module
        with torch.no_grad():
            try:
                reference = module(batch).numpy()
            except Exception as exc:
                raise ClassifierError(f"{c.name} fails on CIFAR-10 images of shape {tuple(batch.shape)}: "
                                      f"{type(exc).__name__}: {exc}") from exc
    ov_model, _ = openvino_model(c, module)
    result = compile_f32(ov_model, threads)(batch.numpy())[0]
    if result.shape != (batch_size, 10) or not np.isfinite(result).all():
        raise ClassifierError(f"{c.name}: the IR returns {result.shape} outputs"
                              f"{'' if np.isfinite(result).all() else ' with non-finite values'} for {batch_size} "
                              "images; expected finite logits of shape (batch, 10)")
    diff = agreement = None
    if reference is not None:
        diff = float(np.abs(result - reference).max())
        agreement = float((result.argmax(1) == reference.argmax(1)).mean())
        if not np.isfinite(diff) or diff > tolerance:
            raise ConversionCheckError(
                f"OpenVINO IR of {c.name} differs from PyTorch by {diff:.3g} > tolerance {tolerance:g}")
    save_ir(ov_model, xml_path)
    parameters = sum(p.numel() for p in module.parameters()) if module is not None else None
    return ConversionReport(format=c.format, arch=c.arch, fused=c.fuse, parameters=parameters,
                            check_batch=batch_size, max_abs_diff_ir=diff, argmax_agreement_ir=agreement,
                            max_abs_diff_fuse=fuse_diff, tolerance=tolerance)
