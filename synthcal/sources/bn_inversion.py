"""The ``bn_inversion`` source: ZeroQ-style BatchNorm inversion ("distilled data"), per model.

Starting from Gaussian noise, :func:`bn_inversion` optimises input images so that the per-channel mean and standard
deviation of every BatchNorm layer's input match the layer's running statistics (Cai et al., ZeroQ, CVPR 2020),
optionally plus a cross-entropy term towards assigned labels so the images carry labels (useful for accuracy-aware
quantization). The images are distilled from one classifier, so this source has one folder per model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from synthcal.calibration import balanced_labels, write_calibration_folder
from synthcal.classifiers import inference_mode
from synthcal.data import Split
from synthcal.seeding import seed_int
from synthcal.settings import BNInversionSettings


class NoBatchNormError(ValueError):
    """BN inversion needs BatchNorm layers to match."""


@dataclass(frozen=True)
class BatchNormLayer:
    """What the statistics need of one BatchNorm: its running mean and variance and its epsilon."""

    running_mean: torch.Tensor
    running_var: torch.Tensor
    eps: float


#: BatchNorm operations of a torch.fx graph (a torch.export program's module) and the positions of their running
#: mean, running variance and epsilon arguments.
_BN_OPS = {torch.ops.aten.batch_norm.default: (3, 4, 7),
           torch.ops.aten._native_batch_norm_legit_no_training.default: (3, 4, 6)}


class _Tap(nn.Module):
    """An identity before one BatchNorm operation of a graph that records its input."""

    def __init__(self, taps: BatchNormTaps, layer: BatchNormLayer) -> None:
        super().__init__()
        self.taps, self.layer = [taps], layer  # in a list: not a submodule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.taps[0].record(self.layer, x)
        return x


class BatchNormTaps:
    """Every BatchNorm of a model and its input at each forward, in execution order (``records``: (layer, input)).

    A torch.nn model's BatchNorm modules are tapped with forward pre-hooks; a torch.fx graph (the module of a
    ``torch.export`` program, whose BatchNorms are graph operations) gets an identity inserted before each
    batch-norm operation. ``layers`` is empty when the model has no BatchNorm.
    """

    def __init__(self, model: nn.Module) -> None:
        self.records: list[tuple[BatchNormLayer | nn.Module, torch.Tensor]] = []
        self.active = True
        modules = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        self.layers: list[BatchNormLayer | nn.Module] = list(modules)
        self.handles = [m.register_forward_pre_hook(lambda module, args: self.record(module, args[0]))
                        for m in modules]
        if not modules and isinstance(model, torch.fx.GraphModule):
            self._tap_graph(model)

    def _tap_graph(self, graph_module: torch.fx.GraphModule) -> None:
        def attribute(node: Any) -> Any:
            value = graph_module
            for part in node.target.split("."):
                value = getattr(value, part)
            return value

        for node in list(graph_module.graph.nodes):
            if node.op != "call_function" or node.target not in _BN_OPS:
                continue
            mean_at, var_at, eps_at = _BN_OPS[node.target]
            layer = BatchNormLayer(attribute(node.args[mean_at]), attribute(node.args[var_at]), float(node.args[eps_at]))
            name = f"_synthcal_bn_tap_{len(self.layers)}"
            graph_module.add_submodule(name, _Tap(self, layer))
            with graph_module.graph.inserting_before(node):
                tapped = graph_module.graph.call_module(name, (node.args[0],))
            node.update_arg(0, tapped)
            self.layers.append(layer)
        graph_module.recompile()

    def record(self, layer: BatchNormLayer | nn.Module, x: torch.Tensor) -> None:
        if self.active:
            self.records.append((layer, x))

    def clear(self) -> None:
        self.records = []

    def remove(self) -> None:
        self.active = False
        for handle in self.handles:
            handle.remove()


def zeroq_distance(mean: torch.Tensor, std: torch.Tensor, layer: BatchNormLayer | nn.Module) -> torch.Tensor:
    """ZeroQ's ``||mean - running_mean||_2 + ||std - sqrt(running_var)||_2`` of one BatchNorm layer, over the last
    (channel) dimension: a scalar for (C,) statistics, one distance per row for (..., C)."""
    running_mean = layer.running_mean.to(mean.dtype)
    running_std = layer.running_var.to(std.dtype).sqrt()
    return (mean - running_mean).norm(dim=-1) + (std - running_std).norm(dim=-1)


class BNStatistics:
    """The BN-statistics loss of a model's last forward, from :class:`BatchNormTaps`."""

    def __init__(self, model: nn.Module) -> None:
        self.taps = BatchNormTaps(model)
        self.layers = self.taps.layers
        if not self.layers:
            self.taps.remove()
            raise NoBatchNormError(
                f"{type(model).__name__} has no BatchNorm layers: BN inversion cannot distill data from it; "
                "use another calibration source for this model")

    def loss(self) -> torch.Tensor:
        """Sum over layers of ||mean - running_mean||_2 + ||std - sqrt(running_var)||_2 (ZeroQ)."""
        total = torch.zeros(())
        for layer, x in self.taps.records:
            dims = [0] + list(range(2, x.dim()))
            mean = x.mean(dim=dims)
            std = torch.sqrt(x.var(dim=dims, unbiased=False) + layer.eps)
            total = total + zeroq_distance(mean, std, layer)
        return total

    def clear(self) -> None:
        self.taps.clear()

    def remove(self) -> None:
        self.taps.remove()


def statistics_gap(model: nn.Module, x: torch.Tensor) -> float:
    """The BN-statistics loss of a batch ``x`` (model inputs), without gradients."""
    stats = BNStatistics(model)
    try:
        with torch.no_grad():
            model(x)
            return float(stats.loss())
    finally:
        stats.remove()


def bn_inversion(model: nn.Module, labels: np.ndarray, mean: Sequence[float], std: Sequence[float],
                 settings: BNInversionSettings, seed: int, progress: bool = True) -> tuple[np.ndarray, dict]:
    """Distil one image per entry of ``labels`` from ``model``; returns (uint8 NHWC images, report).

    Inputs are optimised in the model's normalised space with Adam, projected after every step onto the range of
    valid images ([0, 1] before normalisation), and finally mapped to uint8.
    """
    model = inference_mode(model).requires_grad_(False)
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    low, high = (0 - mean_t) / std_t, (1 - mean_t) / std_t
    stats = BNStatistics(model)
    gen = torch.Generator().manual_seed(seed_int(seed, "bn-inversion"))
    images = np.empty((len(labels), 32, 32, 3), dtype=np.uint8)
    first, last = [], []
    start = time.perf_counter()
    batches = range(0, len(labels), settings.batch_size)
    bar = tqdm(total=len(batches) * settings.iterations, desc="bn inversion", unit="step", disable=not progress,
               mininterval=2.0)
    try:
        for b in batches:
            target = torch.from_numpy(labels[b:b + settings.batch_size]).long()
            x = torch.randn(len(target), 3, 32, 32, generator=gen).clamp_(low, high).requires_grad_(True)
            optimizer = torch.optim.Adam([x], lr=settings.lr)
            for it in range(settings.iterations):
                stats.clear()
                logits = model(x)
                loss = stats.loss()
                if it == 0:
                    first.append(float(loss.detach()))
                if settings.ce_weight > 0:
                    loss = loss + settings.ce_weight * F.cross_entropy(logits, target)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    x.clamp_(low, high)
                bar.update(1)
            stats.clear()
            with torch.no_grad():
                model(x)
                last.append(float(stats.loss()))
                pixels = (x * std_t + mean_t).clamp(0, 1).mul(255).round().to(torch.uint8)
            images[b:b + len(target)] = pixels.permute(0, 2, 3, 1).numpy()
    finally:
        bar.close()
        stats.remove()
    report = {"bn_layers": len(stats.layers), "bn_loss_start": float(np.mean(first)),
              "bn_loss_end": float(np.mean(last)), "seconds": round(time.perf_counter() - start, 2),
              "iterations": settings.iterations, "lr": settings.lr, "batch_size": settings.batch_size,
              "ce_weight": settings.ce_weight}
    return images, report


def bn_inversion_calibration_folder(root: str | Path, model: nn.Module, model_name: str, n_per_class: int,
                                    mean: Sequence[float], std: Sequence[float], settings: BNInversionSettings,
                                    seed: int) -> dict:
    """The per-model ``bn_inversion`` source: ``n_per_class`` images per assigned label distilled from ``model``
    (:func:`bn_inversion`), written as a calibration folder whose manifest carries the distillation report."""

    labels = balanced_labels(n_per_class)
    images, report = bn_inversion(model, labels, mean, std, settings, seed)
    labelling = "assigned" + (" (cross-entropy term)" if settings.ce_weight > 0 else " (not enforced)")
    return write_calibration_folder(root, Split(images, labels), {
        "source": "bn_inversion", "model": model_name, "seed": seed, "n_per_class": n_per_class,
        "description": "BN inversion of the calibrated model (ZeroQ-style distilled data)", "labels": labelling, **report})
