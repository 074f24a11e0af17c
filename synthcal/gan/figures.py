"""Figures of the GAN stages: class-by-row sample grids (as the paper's Figure 2) and loss curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from synthcal import CIFAR10_CLASSES
from synthcal.io import atomic_path


def sample_grid(images: np.ndarray, labels: np.ndarray, path: str | Path, per_class: int = 10, scale: int = 2,
                classes: Sequence[str] = CIFAR10_CLASSES, title: str | None = None) -> Path:
    """Save a PNG with one row per class (its first ``per_class`` images), labelled with the class name."""
    size, pad, label_w = 32 * scale, 2, 80
    top = 18 if title else 0
    width = label_w + per_class * (size + pad)
    canvas = Image.new("RGB", (width, top + len(classes) * (size + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 3), title, fill="black")
    for row, name in enumerate(classes):
        y = top + row * (size + pad)
        draw.text((4, y + size // 2 - 6), name, fill="black")
        for col, idx in enumerate(np.flatnonzero(labels == row)[:per_class]):
            tile = Image.fromarray(images[idx]).resize((size, size), Image.NEAREST)
            canvas.paste(tile, (label_w + col * (size + pad), y))
    with atomic_path(path, suffix=".png") as tmp:
        canvas.save(tmp, format="PNG")
    return Path(path)


def loss_curves(history: Sequence[dict[str, float]], path: str | Path, title: str = "training losses") -> Path:
    """Save a PNG with the per-epoch mean of every generator and discriminator loss term."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, prefix in zip(axes, ("G_", "D_")):
        keys = sorted({k for row in history for k in row if k.startswith(prefix)})
        for key in keys:
            ax.plot(epochs, [row.get(key, np.nan) for row in history], marker="o", markersize=3,
                    label=key[len(prefix):])
        ax.set_title("generator" if prefix == "G_" else "discriminator")
        ax.set_xlabel("epoch")
        ax.set_ylabel("mean loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return Path(path)
