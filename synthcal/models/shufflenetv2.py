"""ShuffleNetV2 for 32x32 inputs, laid out like chenyaofo/pytorch-cifar-models.

CIFAR changes to the ImageNet network: the stem convolution has stride 1 and the stem max-pool is removed.
Stage repeats are (4, 8, 4); the stage widths depend on the width multiplier (see :data:`STAGE_CHANNELS`).
"""

from __future__ import annotations

import torch
from torch import nn

#: Output channels of (stem, stage2, stage3, stage4, conv5) per width multiplier.
STAGE_CHANNELS: dict[str, list[int]] = {
    "x0_5": [24, 48, 96, 192, 1024],
    "x1_0": [24, 116, 232, 464, 1024],
    "x1_5": [24, 176, 352, 704, 1024],
    "x2_0": [24, 244, 488, 976, 2048],
}
_REPEATS = (4, 8, 4)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` equal groups."""
    n, c, h, w = x.size()
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


def _depthwise(channels: int, stride: int) -> nn.Conv2d:
    return nn.Conv2d(channels, channels, 3, stride, 1, bias=False, groups=channels)


def _pointwise(in_ch: int, out_ch: int) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, 1, 1, 0, bias=False)


class ShuffleUnit(nn.Module):
    """ShuffleNetV2 unit: split (stride 1) or duplicate (stride 2) the input, transform, concatenate, shuffle."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        half = out_ch // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                _depthwise(in_ch, stride), nn.BatchNorm2d(in_ch),
                _pointwise(in_ch, half), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            )
        else:
            self.branch1 = nn.Sequential()
        self.branch2 = nn.Sequential(
            _pointwise(in_ch if stride > 1 else half, half), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            _depthwise(half, stride), nn.BatchNorm2d(half),
            _pointwise(half, half), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 (CIFAR stem) with the widths of ``STAGE_CHANNELS[width]``."""

    def __init__(self, width: str = "x1_0", num_classes: int = 10) -> None:
        super().__init__()
        chans = STAGE_CHANNELS[width]
        self.conv1 = nn.Sequential(nn.Conv2d(3, chans[0], 3, 1, 1, bias=False), nn.BatchNorm2d(chans[0]), nn.ReLU(inplace=True))
        in_ch = chans[0]
        for name, repeats, out_ch in zip(("stage2", "stage3", "stage4"), _REPEATS, chans[1:4]):
            units = [ShuffleUnit(in_ch, out_ch, 2)] + [ShuffleUnit(out_ch, out_ch, 1) for _ in range(repeats - 1)]
            self.add_module(name, nn.Sequential(*units))
            in_ch = out_ch
        self.conv5 = nn.Sequential(_pointwise(in_ch, chans[4]), nn.BatchNorm2d(chans[4]), nn.ReLU(inplace=True))
        self.fc = nn.Linear(chans[4], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage4(self.stage3(self.stage2(self.conv1(x))))
        return self.fc(self.conv5(x).mean([2, 3]))
