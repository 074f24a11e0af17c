"""CIFAR-10 classifiers: the paper's chenyaofo zoo architectures and akamaster's CIFAR ResNets.

:func:`build` returns an untrained network whose ``state_dict`` keys and shapes equal those of the published
checkpoints, :func:`load_weights` reads such a checkpoint (``weights_only=True``) and loads it with
``strict=True``, and :func:`reparameterize` folds a RepVGG into its single-branch deploy form.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
from torch import nn

from synthcal.architectures import ARCHITECTURES, PAPER_ARCHITECTURES, architecture_module

__all__ = ["ARCHITECTURES", "PAPER_ARCHITECTURES", "build", "load_classifier", "load_weights", "reparameterize",
           "stand_in_checkpoint", "FusionCheckError", "UnknownArchitectureError", "WeightsError"]

#: The architectures' modules are imported when a model is built (synthcal.architectures), so that a job's code
#: identity holds only the architectures it builds.
DYNAMIC_IMPORTS = "architecture modules: each job's arch_code parameter (synthcal.planning)"


class UnknownArchitectureError(ValueError):
    """Raised by :func:`build` for an architecture name it does not know."""


class WeightsError(RuntimeError):
    """Raised when a checkpoint cannot be read or does not fit the architecture."""


class FusionCheckError(RuntimeError):
    """A fused (deploy-form) RepVGG disagrees with its multi-branch form beyond tolerance."""


def reparameterize(model: nn.Module) -> nn.Module:
    """Fold a RepVGG's branches into its single-branch deploy form, in place (:mod:`synthcal.models.repvgg`)."""
    return importlib.import_module(architecture_module("repvgg_a0")).reparameterize(model)


def build(arch: str, num_classes: int = 10, fuse: bool = False) -> nn.Module:
    """Build an untrained classifier.

    Args:
        arch: a key of :data:`ARCHITECTURES`, e.g. ``"resnet20"`` (chenyaofo zoo) or ``"akamaster_resnet20"``.
        num_classes: classifier outputs (10 for CIFAR-10).
        fuse: return the RepVGG deploy form (only meaningful for ``repvgg_*``; load weights *before* fusing
            with :func:`reparameterize` when the checkpoint is in training form, as the zoo's are).

    Raises:
        UnknownArchitectureError: naming the known architectures.
    """
    try:
        module, cls, args = ARCHITECTURES[arch]
    except KeyError:
        raise UnknownArchitectureError(
            f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}") from None
    model = getattr(importlib.import_module(architecture_module(arch)), cls)(*args, num_classes=num_classes)
    if fuse:
        reparameterize(model)
    return model


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a checkpoint as a flat ``state_dict``.

    Accepts a bare state_dict (chenyaofo zoo) or a dict with a ``"state_dict"`` entry (akamaster), strips a
    ``module.`` prefix left by ``DataParallel``, and loads with ``weights_only=True`` (no code execution).
    """
    path = Path(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} does not exist") from None
    except Exception as exc:  # corrupt file, pickle with code, ...
        raise WeightsError(f"cannot read weights file {path}: {exc}") from exc
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(f"{path} is not a state_dict (a dict of tensors, or a dict with a 'state_dict' entry)")
    nonfinite = [k for k, v in obj.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if nonfinite:
        raise WeightsError(f"weights file {path} holds values that are not finite (NaN or infinite) in "
                           f"{', '.join(nonfinite[:3])}{' ...' if len(nonfinite) > 3 else ''}: the checkpoint is broken")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a checkpoint into ``model`` with ``strict=True``; errors name the file and the mismatching keys."""
    state = read_state_dict(path)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"weights in {path} do not fit {type(model).__name__}: {exc}") from exc
    return model.eval()


def stand_in_checkpoint(arch: str, path: str | Path, seed: int = 0) -> Path:
    """Save a randomly initialised checkpoint of ``arch`` (its published ``state_dict`` layout) whose BatchNorm
    statistics were set on random inputs, for running the grid without the real weights.

    Freshly initialised BatchNorm layers (mean 0, variance 1) make deep nets output near-constant logits; a few
    train-mode passes give input-dependent outputs, as a trained network has.
    """
    torch.manual_seed(seed)
    model = build(arch)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0.0, 0.2)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(32, 3, 32, 32))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return path


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters())


def load_classifier(arch: str, weights: str | Path | None, fuse: bool = False, batch: torch.Tensor | None = None,
                    fuse_tolerance: float = 1e-4) -> tuple[nn.Module, float | None]:
    """Build ``arch``, load ``weights`` (strict), and optionally fuse a RepVGG.

    With ``fuse`` and a ``batch`` the fused model is compared with the multi-branch one; returns
    (model in eval mode, max |difference| or None).

    Raises:
        FusionCheckError: the fused outputs differ by more than ``fuse_tolerance``.
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
                raise FusionCheckError(
                    f"fused {arch} differs from its multi-branch form by {diff:.3g} > {fuse_tolerance:g}")
    return model, diff
