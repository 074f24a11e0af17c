"""The training loop of a GAN run, the same for every objective (:mod:`synthcal.gan.objectives`).

Determinism: every random draw comes from generators seeded by (seed, purpose, epoch), so an epoch's data order and
noise do not depend on what ran before; weights are initialised from the seed, the generator before the
discriminator. A checkpoint (every ``checkpoint_every`` epochs and at the end) holds both networks, both optimizers,
the generator-update counter, the loss history and the RNG states; it belongs to the run's identity
(:func:`run_identity`: the settings that change the weights, the data, the training code and the frozen feature
network), built once, and :class:`synthcal.checkpoints.RunCheckpoints` resumes only what that identity wrote. A
resumed run reaches bitwise the same weights as an uninterrupted one; the log says which checkpoint was taken and
why others were ignored.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from synthcal.calibration import balanced_labels
from synthcal.checkpoints import RunCheckpoints
from synthcal.codedeps import module_code
from synthcal.gan.dump import to_uint8
from synthcal.gan.networks import Discriminator, FeatureNetwork, Generator, one_hot, resolve_device
from synthcal.gan.objectives import (
    NUM_CLASSES,
    Adversarial,
    Distillation,
    GeneratorState,
    Objective,
    TeacherPairs,
    to_float_images,
)
from synthcal.io import atomic_path
from synthcal.seeding import rng, seed_int
from synthcal.settings import AdversarialSettings, GanTraining

log = logging.getLogger(__name__)

#: Images per class of the fixed-noise sample grid after each epoch.
GRID_PER_CLASS = 10


@dataclass
class TrainingData:
    """uint8 NHWC images with int labels; ``z`` (float32) for the teacher pairs of distillation."""

    images: np.ndarray
    labels: np.ndarray
    z: np.ndarray | None = None

    def digest(self) -> str:
        h = hashlib.sha256()
        for arr in (self.images, self.labels, self.z):
            if arr is not None:
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()


@dataclass
class TrainResult:
    generator: Generator
    discriminator: Discriminator
    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from: int | None = None


def run_identity(settings: GanTraining, real: TrainingData, teacher: TrainingData | None,
                 code: Mapping[str, str], features: Mapping[str, Any] | None) -> dict[str, Any]:
    """What a run's checkpoints belong to: the settings that change the weights, digests of the data, the training
    code's fingerprint and the frozen feature network's identity (its weights, normalisation and code)."""
    identity = {"settings": settings.fingerprint_fields(), "real": real.digest(),
                "teacher": teacher.digest() if teacher is not None else None, "code": dict(code)}
    if features:
        identity["feature_network"] = dict(features)
    return identity


@contextlib.contextmanager
def deterministic(device: torch.device) -> Iterator[None]:
    """Deterministic kernels while training (bitwise-reproducible for a given device and thread count)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = False, True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = previous[2], previous[3]


def _index_stream(n: int, length: int, seed: int, purpose: str, epoch: int) -> np.ndarray:
    """``length`` indices into ``range(n)``: concatenated seeded permutations (cycling when n < length)."""
    parts, k = [], 0
    while sum(len(p) for p in parts) < length:
        parts.append(rng(seed, purpose, epoch, k).permutation(n))
        k += 1
    return np.concatenate(parts)[:length]


def fixed_noise(seed: int, z_dim: int, device: torch.device, per_class: int = GRID_PER_CLASS,
                purpose: str = "fixed-grid") -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed (z, labels) of the per-epoch sample grid: ``per_class`` per class, class-major."""
    z = rng(seed, purpose).standard_normal((NUM_CLASSES * per_class, z_dim)).astype(np.float32)
    labels = balanced_labels(per_class, NUM_CLASSES)
    return torch.from_numpy(z).to(device), torch.from_numpy(labels).to(device)


@torch.no_grad()
def fixed_samples(generator: Generator, seed: int, device: torch.device, per_class: int = GRID_PER_CLASS,
                  purpose: str = "fixed-grid") -> dict[str, np.ndarray]:
    """The generator's images (eval mode) for the fixed noise of :func:`fixed_noise`: ``images`` (uint8 NHWC) and
    ``labels``, the numbers the sample-grid figures are drawn from."""
    z, labels = fixed_noise(seed, generator.z_dim, device, per_class, purpose)
    was_training = generator.training
    generator.eval()
    images = to_uint8(generator(z, one_hot(labels, NUM_CLASSES)))
    generator.train(was_training)
    return {"images": images, "labels": labels.cpu().numpy()}


def save_samples(path: str | Path, samples: dict[str, np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **samples)


class Trainer:
    """One training run; call :meth:`run`."""

    def __init__(self, settings: GanTraining, real: TrainingData, teacher: TrainingData | None = None,
                 device: str = "auto", checkpoint_dir: str | Path | None = None,
                 on_epoch_end: Callable[[int, Generator, dict[str, float]], None] | None = None,
                 progress: bool = True, code: dict[str, str] | None = None,
                 features: FeatureNetwork | None = None, features_identity: Mapping[str, Any] | None = None) -> None:
        """``code``: the fingerprint of the training code (default: :func:`synthcal.codedeps.module_code` of this
        module), part of the checkpoints' identity. ``features``: the frozen pretrained classifier of the
        ``projected`` discriminator and of the classifier guidance; its identity (``features_identity``: weights,
        normalisation, code; by default its name, weights digest and normalisation) is part of the run's."""
        self.settings, self.real, self.teacher = settings, real, teacher
        self.device = resolve_device(device)
        loop = settings.loop
        if not 0.0 <= loop.ema < 1.0:
            raise ValueError(f"ema is a decay in [0, 1), got {loop.ema}")
        self.ema = loop.ema
        if isinstance(settings.objective, AdversarialSettings):
            self.objective: Objective = Adversarial(settings.objective, settings.generator.z_dim, features)
        else:
            if features is not None:
                raise ValueError("a feature network helps the plain conditional GAN (the teacher), not the distillation")
            if teacher is None or teacher.z is None:
                raise ValueError("distillation needs a teacher dump with noise vectors")
            pairs = TeacherPairs(torch.from_numpy(teacher.images).to(self.device),
                                 torch.from_numpy(teacher.labels).to(self.device),
                                 torch.from_numpy(np.ascontiguousarray(teacher.z, dtype=np.float32)).to(self.device))
            self.objective = Distillation(settings.objective, pairs, settings.generator.z_dim, loop.seed,
                                          loop.batch_size, loop.channels_last)
        self.features = features
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.on_epoch_end = on_epoch_end
        self.progress = progress
        # the real images, held once as tensors on the training device; batches are gathered there
        self._real = (torch.from_numpy(real.images).to(self.device), torch.from_numpy(real.labels).to(self.device))
        self.iterations = self.objective.items(len(real.labels)) // loop.batch_size
        if self.iterations == 0:
            raise ValueError(f"batch_size {loop.batch_size} exceeds the {self.objective.items(len(real.labels))} "
                             "training images")
        self.code = dict(code) if code is not None else module_code(__file__)
        self.helper = dict(features_identity) if features_identity else (
            {"name": features.name, "sha256": features.digest(), "mean": features.mean.flatten().tolist(),
             "std": features.std.flatten().tolist()} if features is not None else None)
        self.checkpoints = RunCheckpoints(self.checkpoint_dir, run_identity(settings, real, teacher, self.code,
                                                                            self.helper))
        self.fingerprint = self.checkpoints.fingerprint

    @property
    def run_dir(self) -> Path | None:
        """This run's checkpoint folder: one per identity."""
        return self.checkpoints.run_dir

    def _build(self) -> None:
        s = self.settings
        torch.manual_seed(seed_int(s.loop.seed, "init"))
        G = Generator(s.generator.ngf, s.generator.z_dim, NUM_CLASSES, s.generator.project_dim).to(self.device)
        D = self.objective.build(s, self.device)
        if s.loop.channels_last:
            G.to(memory_format=torch.channels_last)
            D.to(memory_format=torch.channels_last)
        G_ema = copy.deepcopy(G).eval().requires_grad_(False) if self.ema else None
        self.g = GeneratorState(G, torch.optim.Adam(G.parameters(), lr=s.loop.lr_g, betas=s.loop.betas), G_ema,
                                self.ema)
        self.objective.make_optimizer(s)
        self.history: list[dict[str, float]] = []

    def _state(self) -> dict[str, Any]:
        return {"g_updates": self.g.updates, "history": self.history, "generator": self.g.G.state_dict(),
                "generator_ema": self.g.G_ema.state_dict() if self.g.G_ema is not None else None,
                "optimizer_g": self.g.opt.state_dict(), **self.objective.state_dict(),
                "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
                        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}}

    def _resume(self) -> int:
        """Load the newest checkpoint of this run's identity; returns the first epoch still to train."""
        state = self.checkpoints.resume(map_location=self.device)
        if state is None:
            return 1
        self.g.G.load_state_dict(state["generator"])
        if self.g.G_ema is not None:
            self.g.G_ema.load_state_dict(state["generator_ema"])
        self.g.opt.load_state_dict(state["optimizer_g"])
        self.objective.load_state_dict(state)
        self.g.updates = int(state["g_updates"])
        self.history = list(state["history"])
        torch.set_rng_state(state["rng"]["torch"].cpu())
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])
        if state["rng"]["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        return int(state["epoch"]) + 1

    def _track(self) -> None:
        """Every ``track_every`` generator updates, the released generator's images for a fixed tracking noise
        (``track_per_class`` per class) into ``<run>/track/step_<updates>.npz``: what a training curve is drawn
        from (label agreement, FID against steps). They change no weight."""
        every = self.settings.loop.track_every
        if not every or self.g.updates % every or self.run_dir is None:
            return
        samples = fixed_samples(self.g.released, self.settings.loop.seed, self.device,
                                self.settings.loop.track_per_class, purpose="track")
        save_samples(self.run_dir / "track" / f"step_{self.g.updates:06d}.npz", samples)

    def run(self) -> TrainResult:
        with deterministic(self.device):
            return self._run()

    def _run(self) -> TrainResult:
        loop = self.settings.loop
        self._build()
        start_epoch = self._resume()
        resumed = start_epoch - 1 if start_epoch > 1 else None
        n_real = len(self.real.labels)
        remaining = max(0, loop.epochs - start_epoch + 1) * self.iterations * loop.batch_size
        bar = tqdm(total=remaining, unit="img", unit_scale=True, desc=f"train {self.settings.mode}",
                   disable=not self.progress, mininterval=2.0, smoothing=0.05)
        for epoch in range(start_epoch, loop.epochs + 1):
            self.g.G.train()
            self.objective.discriminator.train()
            gen = torch.Generator(device=self.device).manual_seed(seed_int(loop.seed, "noise", epoch))
            real_idx = _index_stream(n_real, self.iterations * loop.batch_size, loop.seed, "real-order", epoch)
            self.objective.start_epoch(epoch)
            sums: dict[str, torch.Tensor] = {}
            counts: dict[str, int] = {}
            t0 = time.perf_counter()
            real_images, real_labels = self._real
            for i in range(self.iterations):
                rb = torch.from_numpy(np.sort(real_idx[i * loop.batch_size:(i + 1) * loop.batch_size])).to(self.device)
                x_r = to_float_images(real_images[rb], loop.channels_last)
                terms = self.objective.step(self.g, i, x_r, one_hot(real_labels[rb], NUM_CLASSES), gen)
                self._track()
                for k, v in terms.items():  # adversarial terms exist on every gstep-th iteration only
                    sums[k] = sums[k] + v if k in sums else v
                    counts[k] = counts.get(k, 0) + 1
                bar.update(loop.batch_size)
                if i % 50 == 0:  # the only host synchronisation inside an epoch
                    bar.set_postfix(epoch=epoch, D=f"{float(terms['D_total']):.3f}", G=f"{float(terms['G_total']):.3f}")
            row = {k: float(v) / counts[k] for k, v in sums.items()}
            seconds = time.perf_counter() - t0
            row = {"epoch": epoch, "iterations": self.iterations, "seconds": round(seconds, 3),
                   "images_per_s": round(self.iterations * loop.batch_size / seconds, 2), **row}
            self.history.append(row)
            log.info("epoch %d/%d: %s", epoch, loop.epochs,
                     ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
            if epoch % loop.checkpoint_every == 0 or epoch == loop.epochs:
                self.checkpoints.save(epoch, self._state())
            if self.on_epoch_end is not None:
                self.on_epoch_end(epoch, self.g.released, row)
        bar.close()
        self.g.G.eval()
        return TrainResult(self.g.released, self.objective.discriminator, self.history, resumed)

    @property
    def released(self) -> Generator:
        return self.g.released

