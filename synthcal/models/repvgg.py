"""RepVGG-A for 32x32 inputs, laid out like chenyaofo/pytorch-cifar-models, with structural reparameterization.

Training form (what the zoo checkpoints hold): every block sums a 3x3 conv-BN branch (``rbr_dense``), a 1x1
conv-BN branch (``rbr_1x1``) and, when input and output shapes match, an identity BatchNorm (``rbr_identity``),
then applies ReLU. :func:`reparameterize` folds the three branches into one 3x3 convolution with bias
(``rbr_reparam``), the "deploy" form, which computes the same function up to float rounding.

CIFAR changes to the ImageNet network: stage 0 and stage 1 use stride 1.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: (blocks per stage 1-4, width multipliers) of the RepVGG-A family.
VARIANTS: dict[str, tuple[tuple[int, int, int, int], tuple[float, float, float, float]]] = {
    "a0": ((2, 4, 14, 1), (0.75, 0.75, 0.75, 2.5)),
    "a1": ((2, 4, 14, 1), (1.0, 1.0, 1.0, 2.5)),
    "a2": ((2, 4, 14, 1), (1.5, 1.5, 1.5, 2.75)),
}


def _conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    branch = nn.Sequential()
    branch.add_module("conv", nn.Conv2d(in_ch, out_ch, kernel, stride, padding, bias=False))
    branch.add_module("bn", nn.BatchNorm2d(out_ch))
    return branch


def _fold_bn(kernel: torch.Tensor, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (kernel', bias') such that conv(x, kernel') + bias' == bn(conv(x, kernel)) in eval mode."""
    std = (bn.running_var + bn.eps).sqrt()
    scale = bn.weight / std
    return kernel * scale.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * scale


class RepVGGBlock(nn.Module):
    """One RepVGG block; multi-branch until :meth:`reparameterize` is called."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.in_ch, self.out_ch, self.stride = in_ch, out_ch, stride
        self.nonlinearity = nn.ReLU()
        self.rbr_identity: nn.BatchNorm2d | None = nn.BatchNorm2d(in_ch) if in_ch == out_ch and stride == 1 else None
        self.rbr_dense: nn.Sequential | None = _conv_bn(in_ch, out_ch, 3, stride, 1)
        self.rbr_1x1: nn.Sequential | None = _conv_bn(in_ch, out_ch, 1, stride, 0)
        self.rbr_reparam: nn.Conv2d | None = None

    @property
    def fused(self) -> bool:
        return self.rbr_reparam is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.rbr_reparam is not None:
            return self.nonlinearity(self.rbr_reparam(x))
        assert self.rbr_dense is not None and self.rbr_1x1 is not None
        out = self.rbr_dense(x) + self.rbr_1x1(x)
        if self.rbr_identity is not None:
            out = out + self.rbr_identity(x)
        return self.nonlinearity(out)

    @torch.no_grad()
    def equivalent_kernel_bias(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The 3x3 kernel and bias of the single convolution equal to the sum of the three branches."""
        assert self.rbr_dense is not None and self.rbr_1x1 is not None
        kernel, bias = _fold_bn(self.rbr_dense.conv.weight, self.rbr_dense.bn)
        k1, b1 = _fold_bn(self.rbr_1x1.conv.weight, self.rbr_1x1.bn)
        kernel = kernel + F.pad(k1, [1, 1, 1, 1])
        bias = bias + b1
        if self.rbr_identity is not None:
            eye = torch.zeros_like(kernel)
            eye[torch.arange(self.in_ch), torch.arange(self.in_ch), 1, 1] = 1.0
            ki, bi = _fold_bn(eye, self.rbr_identity)
            kernel, bias = kernel + ki, bias + bi
        return kernel, bias

    @torch.no_grad()
    def reparameterize(self) -> None:
        """Replace the branches by one 3x3 convolution with bias (deploy form). Idempotent."""
        if self.fused:
            return
        kernel, bias = self.equivalent_kernel_bias()
        conv = nn.Conv2d(self.in_ch, self.out_ch, 3, self.stride, 1, bias=True).to(kernel.device)
        conv.weight.copy_(kernel)
        assert conv.bias is not None
        conv.bias.copy_(bias)
        self.rbr_reparam = conv
        self.rbr_dense = self.rbr_1x1 = self.rbr_identity = None


class RepVGG(nn.Module):
    """RepVGG-A0/A1/A2 for CIFAR (``variant`` in :data:`VARIANTS`)."""

    def __init__(self, variant: str = "a2", num_classes: int = 10) -> None:
        super().__init__()
        blocks, widths = VARIANTS[variant]
        in_ch = min(64, int(64 * widths[0]))
        self.stage0 = RepVGGBlock(3, in_ch, stride=1)
        for idx, (n, base, mult, stride) in enumerate(zip(blocks, (64, 128, 256, 512), widths, (1, 2, 2, 2)), start=1):
            out_ch = int(base * mult)
            stage = []
            for i in range(n):
                stage.append(RepVGGBlock(in_ch, out_ch, stride if i == 0 else 1))
                in_ch = out_ch
            self.add_module(f"stage{idx}", nn.Sequential(*stage))
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(in_ch, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage0(x)
        x = self.stage4(self.stage3(self.stage2(self.stage1(x))))
        return self.linear(torch.flatten(self.gap(x), 1))


def reparameterize(model: nn.Module) -> nn.Module:
    """Fold every :class:`RepVGGBlock` of ``model`` into its deploy form, in place; returns ``model``.

    Raises:
        ValueError: if ``model`` contains no RepVGG block (``fuse: true`` on another architecture).
    """
    blocks = [m for m in model.modules() if isinstance(m, RepVGGBlock)]
    if not blocks:
        raise ValueError(f"fuse=True needs a RepVGG model; {type(model).__name__} has no RepVGG blocks to fuse")
    model.eval()
    for block in blocks:
        block.reparameterize()
    return model
