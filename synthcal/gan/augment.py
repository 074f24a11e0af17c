"""DiffAugment (Zhao et al., 2020): differentiable colour, translation and cutout augmentation of the images a
GAN discriminator sees, real and generated alike, so that the discriminator cannot memorise the training images.

An :class:`Augmentation` draws its random parameters once (per sample, from a seeded generator) and then applies
the *same* transformation to every batch it is given: in a discriminator step the real and the generated batch
are transformed identically. Gradients flow through every operation. Nothing here runs at sampling time: only the
training steps call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """``"color,translation,cutout"`` -> a tuple of operations; empty or None -> no augmentation."""
    ops = tuple(p.strip() for p in (policy or "").split(",") if p.strip())
    unknown = [p for p in ops if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown DiffAugment operation(s) {unknown}; use a comma-separated subset of {POLICIES}")
    return ops


@dataclass
class Augmentation:
    """One draw of DiffAugment parameters for a batch of ``n`` images of ``size`` x ``size``."""

    ops: tuple[str, ...]
    n: int
    size: int
    params: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def draw(cls, ops: tuple[str, ...], n: int, size: int, gen: torch.Generator,
             device: torch.device | str = "cpu") -> Augmentation:
        """Random parameters: brightness, saturation and contrast factors (``color``), shifts of up to 1/8 of the
        image (``translation``), the corner of a half-size square (``cutout``)."""
        def uniform(*shape: int) -> torch.Tensor:
            return torch.rand(*shape, generator=gen, device=device)

        params: dict[str, torch.Tensor] = {}
        if "color" in ops:
            params.update(brightness=uniform(n, 1, 1, 1) - 0.5, saturation=uniform(n, 1, 1, 1) * 2,
                          contrast=uniform(n, 1, 1, 1) + 0.5)
        if "translation" in ops:
            shift = size // 8
            params["shift"] = torch.randint(-shift, shift + 1, (2, n), generator=gen, device=device)
        if "cutout" in ops:
            params["corner"] = torch.randint(0, size - size // 2 + 1, (2, n), generator=gen, device=device)
        return cls(ops, n, size, params)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the drawn transformation to images (n, C, size, size) in [-1, 1]."""
        if len(x) != self.n:
            raise ValueError(f"this augmentation was drawn for {self.n} images, got {len(x)}")
        p = self.params
        if "color" in self.ops:
            x = x + p["brightness"]
            mean = x.mean(dim=1, keepdim=True)
            x = (x - mean) * p["saturation"] + mean
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * p["contrast"] + mean
        if "translation" in self.ops:
            x = _translate(x, p["shift"])
        if "cutout" in self.ops:
            x = x * _cutout_mask(p["corner"], self.size, x)
        return x


def _translate(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Shift each image by (dy, dx) pixels, filling with zeros (mid-grey in [-1, 1])."""
    n, _, h, w = x.shape
    pad = int(shift.abs().max()) if shift.numel() else 0
    padded = F.pad(x, (pad, pad, pad, pad))
    ys = torch.arange(h, device=x.device).view(1, h, 1) + pad - shift[0].view(n, 1, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w) + pad - shift[1].view(n, 1, 1)
    index = torch.arange(n, device=x.device).view(n, 1, 1)
    return padded.permute(0, 2, 3, 1)[index, ys, xs].permute(0, 3, 1, 2)


def _cutout_mask(corner: torch.Tensor, size: int, like: torch.Tensor) -> torch.Tensor:
    """1 everywhere but a half-size square per image (top-left ``corner``), which is 0."""
    n, half = corner.shape[1], size // 2
    grid = torch.arange(size, device=like.device)
    rows = (grid.view(1, size) >= corner[0].view(n, 1)) & (grid.view(1, size) < corner[0].view(n, 1) + half)
    cols = (grid.view(1, size) >= corner[1].view(n, 1)) & (grid.view(1, size) < corner[1].view(n, 1) + half)
    inside = rows.view(n, size, 1) & cols.view(n, 1, size)
    return (~inside).to(like.dtype).unsqueeze(1)
