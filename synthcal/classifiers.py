"""Classifiers in any of the usual forms (``models.<name>.format``), and their PyTorch module where there is one
(:mod:`synthcal.convert` makes the FP32 OpenVINO IR of every form, which every rule quantizes and evaluates).

* ``builtin`` - an architecture of :mod:`synthcal.models` and a checkpoint in its layout;
* ``onnx`` - an ONNX file, read by OpenVINO's ONNX frontend;
* ``openvino`` - an OpenVINO IR (``.xml`` with its ``.bin`` beside it);
* ``export`` - a ``torch.export`` program (``.pt2``, ``torch.export.save``);
* ``python`` - a factory ``module:function`` returning a ``torch.nn.Module``, with an optional checkpoint.

Every form is checked against the dataset before it is used: one input of 3x32x32 images (any batch), 10 outputs,
finite logits. A model declared for another input or class count is refused, naming it (:class:`ClassifierError`).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from synthcal.architectures import PYTORCH_FORMATS
from synthcal.codedeps import first_on_path
from synthcal.models import build, load_weights, reparameterize

#: A python model's factory module is loaded by name; its source files are each job's factory_code parameter.
DYNAMIC_IMPORTS = "a python model's factory module: the factory_code parameter (synthcal.codedeps.factory_code)"

#: What a CIFAR-10 classifier takes and returns.
INPUT_SHAPE = (3, 32, 32)
NUM_CLASSES = 10


class ClassifierError(ValueError):
    """A model file or factory is not a usable CIFAR-10 classifier; the message names it and what is expected."""


@dataclass(frozen=True)
class Classifier:
    """One classifier as configured: its format, its file (checkpoint, .onnx, .xml, .pt2; None for a python
    factory without checkpoint), and what the format needs; ``name`` is how messages call it (a config key)."""

    format: str
    path: str | None = None
    arch: str | None = None
    factory: str | None = None
    python_path: str | None = None
    fuse: bool = False
    name: str = "the model"

    @property
    def has_pytorch(self) -> bool:
        return self.format in PYTORCH_FORMATS


def inference_mode(model: nn.Module) -> nn.Module:
    """``model`` in eval mode; a ``torch.export`` program's module is already (it refuses ``eval()``)."""
    try:
        return model.eval()
    except NotImplementedError:
        return model


def import_factory(factory: str, python_path: str | None = None, what: str = "the factory") -> Callable[..., Any]:
    """The function named by ``module:function``, imported with ``python_path`` first on ``sys.path``."""
    module_name, _, function = factory.partition(":")
    try:
        with first_on_path(python_path):
            module = importlib.import_module(module_name)
    except Exception as exc:
        where = f" from {python_path} or the installed packages" if python_path else " from the installed packages"
        raise ClassifierError(f"{what} {factory}: cannot import {module_name}{where} ({type(exc).__name__}: "
                              f"{exc})") from exc
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ClassifierError(f"{what} {factory}: {module_name} has no function {function!r}")
    return fn


def pytorch_module(classifier: Classifier, fuse: bool | None = None) -> nn.Module:
    """The classifier as a PyTorch module in eval mode (``fuse``: RepVGG's deploy form; default: the config's).

    Raises:
        ClassifierError: an ONNX or IR model (it has no PyTorch module), or a file or factory that gives none.
    """
    c = classifier
    fuse = c.fuse if fuse is None else fuse
    if c.format == "builtin":
        model = load_weights(build(c.arch), c.path)
        if fuse:
            reparameterize(model)
    elif c.format == "export":
        model = checked_program(c).module()
    elif c.format == "python":
        model = import_factory(c.factory, c.python_path, f"{c.name}'s factory")()
        if not isinstance(model, nn.Module):
            raise ClassifierError(f"{c.name}'s factory {c.factory} returned a {type(model).__name__}, expected a "
                                  "torch.nn.Module")
        if c.path:
            load_weights(model, c.path)
    else:
        raise ClassifierError(f"{c.name} is an {c.format} model: it has no PyTorch module")
    return inference_mode(model)


def load_program(path: str | Path, name: str = "the model") -> torch.export.ExportedProgram:
    """A ``torch.export`` program saved with ``torch.export.save``."""
    try:
        return torch.export.load(str(path))
    except Exception as exc:
        raise ClassifierError(f"{name}: {path} is not a torch.export program saved with torch.export.save "
                              f"({type(exc).__name__}: {exc})") from exc


def checked_program(c: Classifier) -> torch.export.ExportedProgram:
    """A classifier's ``torch.export`` program, its declared input checked against CIFAR-10's."""
    program = load_program(c.path, c.name)
    user = torch.export.graph_signature.InputKind.USER_INPUT
    inputs = [s.arg.name for s in program.graph_signature.input_specs if s.kind == user]
    if len(inputs) != 1:
        raise ClassifierError(f"{c.name} ({c.path}) takes {len(inputs)} inputs; a classifier takes one batch of "
                              "images")
    node = next(n for n in program.graph.nodes if n.op == "placeholder" and n.name == inputs[0])
    check_declared_input([d if isinstance(d, int) else None for d in node.meta["val"].shape], "inputs", c.name, c.path)
    return program


def check_declared_input(dims: list[int | None], shape_name: str, name: str, path: str | None) -> None:
    """Check a declared input shape (None: dynamic) against CIFAR-10's (B, 3, 32, 32)."""
    if len(dims) != 4 or any(d is not None and d != e for d, e in zip(dims[1:], INPUT_SHAPE)):
        shown = "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"
        raise ClassifierError(f"{name} ({path}) takes {shape_name} of shape {shown}; CIFAR-10 images are "
                              f"(batch, {', '.join(map(str, INPUT_SHAPE))})")


def check_outputs(logits: Any, name: str, n: int) -> None:
    shape = tuple(logits.shape)
    if shape != (n, NUM_CLASSES):
        raise ClassifierError(f"{name} returns outputs of shape {shape} for {n} images; a CIFAR-10 classifier returns "
                              f"({n}, {NUM_CLASSES}): one logit per class")
