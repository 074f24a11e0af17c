"""CIFAR ResNets: the chenyaofo zoo variant (projection shortcut) and akamaster's (option-A shortcut).

Both are the classic 3-stage CIFAR ResNet of He et al. (widths 16/32/64, n BasicBlocks per stage, depth 6n+2).
They differ in how a block changes shape and in the name of the head:

* ``shortcut="B"`` (chenyaofo/pytorch-cifar-models): a 1x1 convolution + BatchNorm projection, stored under
  ``layerX.0.downsample.{0,1}``; the classifier is ``fc``. Inputs use CIFAR-10 mean/std.
* ``shortcut="A"`` (akamaster/pytorch_resnet_cifar10): parameter-free; take every second pixel and zero-pad the
  channel axis by ``planes // 4`` on each side; the classifier is ``linear``. Inputs use ImageNet mean/std.

The module and parameter names are chosen so that the published checkpoints load with ``strict=True``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Shortcut = Literal["A", "B"]


def _conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


class _ZeroPadSubsample(nn.Module):
    """Option-A shortcut: spatial subsampling by 2 and symmetric zero padding of the channel axis."""

    def __init__(self, pad: int) -> None:
        super().__init__()
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus shortcut, then ReLU."""

    def __init__(self, in_planes: int, planes: int, stride: int, shortcut: Shortcut) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_planes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        reshapes = stride != 1 or in_planes != planes
        self.downsample: nn.Module | None = None
        self.shortcut: nn.Module | None = None
        if reshapes and shortcut == "B":
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )
        elif reshapes:
            self.shortcut = _ZeroPadSubsample(planes // 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        elif self.shortcut is not None:
            identity = self.shortcut(x)
        else:
            identity = x
        return self.relu(out + identity)


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32x32 inputs.

    Args:
        depth: 20, 32, 44, 56, 110, ... (``(depth - 2) % 6 == 0``).
        shortcut: ``"B"`` for the chenyaofo zoo, ``"A"`` for akamaster's checkpoints.
        num_classes: size of the classifier output.
    """

    def __init__(self, depth: int, shortcut: Shortcut = "B", num_classes: int = 10) -> None:
        super().__init__()
        if (depth - 2) % 6 != 0 or depth < 8:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, ...), got {depth}")
        blocks = (depth - 2) // 6
        self.conv1 = _conv3x3(3, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        in_planes = 16
        for stage, (planes, stride) in enumerate(((16, 1), (32, 2), (64, 2)), start=1):
            layers = []
            for i in range(blocks):
                layers.append(BasicBlock(in_planes, planes, stride if i == 0 else 1, shortcut))
                in_planes = planes
            self.add_module(f"layer{stage}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self._head = "fc" if shortcut == "B" else "linear"
        self.add_module(self._head, nn.Linear(64, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = torch.flatten(self.avgpool(x), 1)
        return getattr(self, self._head)(x)
