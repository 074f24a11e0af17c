"""Training a CIFAR-10 classifier on a prepared split, for checks that need trained weights where none can be
downloaded (a depthwise model offline; a user's own network for the worked example). Not used by the workflow.

The recipe is the zoo's, shortened: SGD with Nesterov momentum 0.9, weight decay 5e-4, a cosine learning rate,
random crops (4-pixel padding) and horizontal flips, inputs normalised with the model's mean and std. Every random
choice follows ``seed``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from synthcal.data import Split
from synthcal.seeding import rng, seed_int


@dataclass(frozen=True)
class ClassifierTraining:
    """Hyperparameters of :func:`train_classifier`."""

    epochs: int = 5
    batch_size: int = 128
    lr: float = 0.1
    weight_decay: float = 5e-4
    seed: int = 0


def _batch(images: np.ndarray, mean: torch.Tensor, std: torch.Tensor, gen: np.random.Generator | None) -> torch.Tensor:
    """uint8 NHWC -> normalised float NCHW, randomly cropped and flipped when ``gen`` is given."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)
    if gen is not None:
        n = len(x)
        padded = F.pad(x, (4, 4, 4, 4))
        dx, dy = gen.integers(0, 9, n), gen.integers(0, 9, n)
        x = torch.stack([padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32] for i in range(n)])
        flip = torch.from_numpy(gen.random(n) < 0.5)
        x[flip] = x[flip].flip(3)
    return (x - mean) / std


@torch.no_grad()
def accuracy(model: nn.Module, split: Split, mean: Sequence[float], std: Sequence[float],
             batch_size: int = 500) -> float:
    """Top-1 accuracy (%) of ``model`` in eval mode on ``split``."""
    m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    was_training = model.training
    model.eval()
    hits = 0
    for start in range(0, len(split), batch_size):
        logits = model(_batch(split.images[start:start + batch_size], m, s, None))
        hits += int((logits.argmax(1).numpy() == split.labels[start:start + batch_size]).sum())
    model.train(was_training)
    return 100.0 * hits / len(split)


def train_classifier(model: nn.Module, train: Split, mean: Sequence[float], std: Sequence[float],
                     settings: ClassifierTraining, test: Split | None = None,
                     progress: bool = True) -> list[dict[str, float]]:
    """Train ``model`` in place; returns one row per epoch (mean training loss, seconds, test accuracy when
    ``test`` is given)."""
    torch.manual_seed(seed_int(settings.seed, "classifier-init"))
    m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    steps = len(train) // settings.batch_size
    if steps == 0:
        raise ValueError(f"batch_size {settings.batch_size} exceeds the {len(train)} training images")
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=0.9, nesterov=True,
                                weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.epochs * steps)
    history = []
    for epoch in range(1, settings.epochs + 1):
        model.train()
        gen = rng(settings.seed, "classifier-epoch", epoch)
        order = gen.permutation(len(train))
        total, start = 0.0, time.perf_counter()
        for i in tqdm(range(steps), desc=f"epoch {epoch}/{settings.epochs}", disable=not progress, mininterval=2.0):
            idx = np.sort(order[i * settings.batch_size:(i + 1) * settings.batch_size])
            loss = F.cross_entropy(model(_batch(train.images[idx], m, s, gen)), torch.from_numpy(train.labels[idx]))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss)
        row = {"epoch": epoch, "loss": total / steps, "seconds": round(time.perf_counter() - start, 1)}
        if test is not None:
            row["test_accuracy"] = accuracy(model, test, mean, std)
        history.append(row)
    return history
