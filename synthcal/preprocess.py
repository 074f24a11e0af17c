"""Image preprocessing shared by calibration, quantization and evaluation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def to_model_input(images: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """uint8 NHWC RGB images -> float32 NCHW, scaled to [0, 1] and normalised per channel.

    This is torchvision's ``ToTensor()`` + ``Normalize(mean, std)``, the preprocessing the zoo models and the
    paper's notebooks use; it stays outside the IR so every calibration source is fed identically.
    """
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 (N, H, W, 3) images, got {images.dtype} {images.shape}")
    x = images.astype(np.float32) / np.float32(255.0)
    x = (x - np.asarray(mean, dtype=np.float32)) / np.asarray(std, dtype=np.float32)
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
