"""Training a built-in CIFAR-10 classifier on the training split: the ``train`` weights provider of the workflow
(``models.<name>.weights.train``), for models whose trained weights cannot be downloaded (a fragile depthwise model
offline, a judge network of another family than the teacher's guide), and the tools that train one by hand.

The recipe is the zoo's, shortened to what 2 CPU cores afford: SGD with Nesterov momentum 0.9, weight decay 5e-4,
a cosine learning rate over all steps, random crops (4-pixel padding) and horizontal flips, inputs normalised with
the model's mean and std. Every random choice follows ``seed``: an epoch's order and augmentation depend only on
(seed, epoch), so a run resumed from a checkpoint reaches the same weights as an uninterrupted one.

Checkpoints (:class:`synthcal.checkpoints.RunCheckpoints`) belong to the code, the settings, the architecture and
the training data that wrote them. A loss that stops being finite (a learning rate that diverges) stops the run
with an error naming the setting, never a silently broken model.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from synthcal.calibration import nested_subset
from synthcal.checkpoints import RunCheckpoints
from synthcal.codedeps import module_code
from synthcal.data import Split, load_split
from synthcal.io import atomic_path, file_digest, write_json
from synthcal.machine import stamped
from synthcal.models import build, count_parameters
from synthcal.seeding import rng, seed_int
from synthcal.settings import ClassifierTraining

log = logging.getLogger(__name__)


class TrainingDiverged(RuntimeError):
    """The training loss is no longer finite; the message names the setting to change."""


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


def _data_digest(split: Split) -> str:
    h = hashlib.sha256()
    for arr in (split.images, split.labels):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def train_classifier(model: nn.Module, train: Split, mean: Sequence[float], std: Sequence[float],
                     settings: ClassifierTraining, test: Split | None = None, progress: bool = True,
                     checkpoints: RunCheckpoints | None = None) -> list[dict[str, float]]:
    """Train ``model`` in place; returns one row per epoch (mean training loss, seconds, images/s, test accuracy
    when ``test`` is given). With ``checkpoints``, resumes from the newest checkpoint of the same identity and
    saves every ``checkpoint_every`` epochs and at the end.

    Raises:
        TrainingDiverged: the loss of a step is not finite.
    """
    torch.manual_seed(seed_int(settings.seed, "classifier-init"))
    m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    steps = len(train) // settings.batch_size
    if steps == 0:
        raise ValueError(f"batch_size {settings.batch_size} exceeds the {len(train)} training images")
    optimizer = torch.optim.SGD(model.parameters(), lr=settings.lr, momentum=0.9, nesterov=True,
                                weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.epochs * steps)
    history: list[dict[str, float]] = []
    start_epoch = 1
    state = checkpoints.resume() if checkpoints is not None else None
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        history, start_epoch = list(state["history"]), int(state["epoch"]) + 1
    bar = tqdm(total=max(0, settings.epochs - start_epoch + 1) * steps * settings.batch_size, unit="img",
               unit_scale=True, desc="train classifier", disable=not progress, mininterval=2.0)
    for epoch in range(start_epoch, settings.epochs + 1):
        model.train()
        gen = rng(settings.seed, "classifier-epoch", epoch)
        order = gen.permutation(len(train))
        total, start = 0.0, time.perf_counter()
        for i in range(steps):
            idx = np.sort(order[i * settings.batch_size:(i + 1) * settings.batch_size])
            loss = F.cross_entropy(model(_batch(train.images[idx], m, s, gen)), torch.from_numpy(train.labels[idx]))
            if not torch.isfinite(loss):
                raise TrainingDiverged(
                    f"the training loss is {float(loss)} at epoch {epoch}, step {i + 1}: the training diverged; "
                    f"lower the learning rate (lr {settings.lr}) or raise the batch size ({settings.batch_size})")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach())
            bar.update(settings.batch_size)
        seconds = time.perf_counter() - start
        row = {"epoch": epoch, "loss": total / steps, "seconds": round(seconds, 1),
               "images_per_s": round(steps * settings.batch_size / seconds, 1)}
        if test is not None:
            row["test_accuracy"] = accuracy(model, test, mean, std)
        history.append(row)
        log.info("epoch %d/%d: %s", epoch, settings.epochs, ", ".join(f"{k} {v:.4g}" for k, v in row.items()))
        if checkpoints is not None and (epoch % settings.checkpoint_every == 0 or epoch == settings.epochs):
            checkpoints.save(epoch, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                     "schedule": schedule.state_dict(), "history": history})
    bar.close()
    return history


def train_weights(arch: str, train_npz: str | Path, test_npz: str | Path, mean: Sequence[float],
                  std: Sequence[float], settings: ClassifierTraining, out_dir: str | Path,
                  progress: bool = True) -> dict[str, Any]:
    """The ``train`` weights provider: train ``arch`` on the training split and write ``out_dir/weights.pt`` (a
    bare state_dict in the architecture's layout) and ``out_dir/training.json`` (settings, per-epoch history, the
    FP32 top-1 on the test split in PyTorch, cost, the weights' sha256); checkpoints go to
    ``out_dir/checkpoints/<fingerprint>/``."""
    out = Path(out_dir)
    train, test = load_split(train_npz), load_split(test_npz)
    if settings.images_per_class:
        train = train.subset(np.sort(nested_subset(train.labels, settings.images_per_class, settings.seed,
                                                   purpose="training-subset")))
    model = build(arch)
    identity = {"settings": settings.fingerprint_fields(), "arch": arch, "mean": list(mean), "std": list(std),
                "data": _data_digest(train), "code": module_code(__file__)}
    checkpoints = RunCheckpoints(out / "checkpoints", identity)
    history = train_classifier(model, train, mean, std, settings, progress=progress, checkpoints=checkpoints)
    test_accuracy = accuracy(model, test, mean, std)
    weights = out / "weights.pt"
    with atomic_path(weights) as tmp:
        torch.save(model.eval().state_dict(), tmp)
    trained = [row for row in history if "images_per_s" in row]
    summary = {"arch": arch, "settings": asdict(settings), "fingerprint": checkpoints.fingerprint,
               "history": history, "test_accuracy": test_accuracy, "n_test": len(test), "n_train": len(train),
               "train_seconds": round(sum(r["seconds"] for r in trained), 1),
               "images_per_s": round(float(np.median([r["images_per_s"] for r in trained])), 1) if trained else None,
               "parameters": count_parameters(model), "torch_threads": torch.get_num_threads(),
               "weights_sha256": file_digest(weights)}
    write_json(out / "training.json", stamped(summary))
    log.info("%s trained %d epochs: FP32 top-1 %.2f%% on %d test images (PyTorch)", arch, settings.epochs,
             test_accuracy, len(test))
    return summary
