"""Deterministic, resumable GAN training on CPU or CUDA.

Two modes share the loop, checkpointing and logging:

* ``"distill"`` - DiStyleGAN black-box distillation from a teacher dump (z, x_T, y) plus real images for the
  GAN terms (paper Sec. 3.2; :mod:`synthcal.gan.losses`);
* ``"gan"`` - a plain conditional hinge GAN on real images (the ``trained`` teacher provider).

Determinism: every random draw comes from generators seeded by (seed, purpose, epoch), so an epoch's data order
and noise do not depend on what ran before. A checkpoint (every ``checkpoint_every`` epochs and at the end) holds
both networks, both optimizers, the generator-update counter, the loss history and the RNG states.

Checkpoints belong to the code, settings and data that made them: each run writes into its own folder
``<checkpoint_dir>/<fingerprint>/`` (the first 16 hex digits of a hash of the training code, the settings and the
data, with a ``run.json`` naming them), keeps the two newest checkpoints *of that folder* and resumes only from
there, so switching settings and back never deletes or mixes another run's checkpoints, and a change of the code
that computes the training (this module and what it imports, :func:`synthcal.codedeps.module_code`; comments and
docstrings aside) trains afresh. A resumed run reaches bitwise the same weights as an uninterrupted one; the log
says which checkpoint was taken and why others were ignored.

Differences from the authors' code (docs/method.md): seeded everything; the resume
restores the pixel-loss schedule and everything else; teacher features for the feature loss are computed with the
current discriminator (the authors used the ones from before the D update, one step stale); losses are logged as
epoch means rather than the last batch.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from synthcal.calibration import balanced_labels, nested_subset
from synthcal.classifiers import Classifier, checked_program, pytorch_module
from synthcal.codedeps import module_code
from synthcal.data import load_split
from synthcal.gan.augment import Augmentation, parse_policy
from synthcal.gan.dump import read_dump, to_uint8
from synthcal.gan.losses import (
    PixelWeight,
    discriminator_distillation_loss,
    generator_distillation_loss,
    generator_hinge,
    hinge_fake,
    hinge_real,
)
from synthcal.gan.networks import (
    Discriminator,
    FeatureNetwork,
    Generator,
    ProjectedDiscriminator,
    ProjectionDiscriminator,
    one_hot,
    released_config,
    resolve_device,
)
from synthcal.io import atomic_path, write_json
from synthcal.seeding import rng, seed_int

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Hyperparameters of a training run (the authors' DiStyleGAN defaults)."""

    mode: str = "distill"  # "distill" or "gan"
    epochs: int = 150
    batch_size: int = 128
    ngf: int = 256
    ndf: int = 128
    z_dim: int = 512
    project_dim: int = 128
    c_dim: int = 10
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    gstep: int = 10
    lambda_pixel: float = 0.2
    pixel_schedule: str = "decay"
    pixel_decay: float = 0.01
    lambda_adv_kd: float = 0.01
    lambda_adv_gan: float = 0.002
    lambda_gan_d: float = 0.2
    seed: int = 0
    checkpoint_every: int = 10
    grid_per_class: int = 10
    channels_last: bool = False  # memory format of images and convolutions (speed; numerics may differ slightly)
    discriminator: str = "distylegan"  # or "projection", "projected" (synthcal.gan.networks)
    ema: float = 0.0  # decay of an exponential moving average of the generator's weights (0: none)
    diffaugment: str = ""  # DiffAugment policy of the plain GAN, e.g. "color,translation,cutout" (empty: none)
    classifier_weight: float = 0.0  # weight of the feature network's cross-entropy on the generated images (gan)
    track_every: int = 0  # generator updates between tracking samples (0: none); they change no weight
    track_per_class: int = 50  # images per class of a tracking sample
    images_per_class: int | None = None  # train on a seeded subset of the real images (None: all of them)

    def fingerprint_fields(self) -> dict[str, Any]:
        """Everything that changes the trained weights (``checkpoint_every`` and the tracking samples do not)."""
        fields = asdict(self)
        for name in ("checkpoint_every", "grid_per_class", "track_every", "track_per_class"):
            fields.pop(name)
        fields["betas"] = list(self.betas)
        return fields


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


def to_float_images(images: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1] (the inverse of :func:`synthcal.gan.dump.to_uint8`, up to rounding), on
    the tensor's device; ``channels_last`` keeps NHWC memory under the NCHW view."""
    x = images.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def _index_stream(n: int, length: int, seed: int, purpose: str, epoch: int) -> np.ndarray:
    """``length`` indices into ``range(n)``: concatenated seeded permutations (cycling when n < length)."""
    parts, k = [], 0
    while sum(len(p) for p in parts) < length:
        parts.append(rng(seed, purpose, epoch, k).permutation(n))
        k += 1
    return np.concatenate(parts)[:length]


def fixed_noise(settings: TrainSettings, device: torch.device,
                purpose: str = "fixed-grid") -> tuple[torch.Tensor, torch.Tensor]:
    """The fixed (z, labels) of the per-epoch sample grid: ``grid_per_class`` per class, class-major."""
    n = settings.grid_per_class
    z = rng(settings.seed, purpose).standard_normal((settings.c_dim * n, settings.z_dim)).astype(np.float32)
    labels = balanced_labels(n, settings.c_dim)
    return torch.from_numpy(z).to(device), torch.from_numpy(labels).to(device)


class Trainer:
    """One training run; call :meth:`run`."""

    def __init__(self, settings: TrainSettings, real: TrainingData, teacher: TrainingData | None = None,
                 device: str = "auto", checkpoint_dir: str | Path | None = None,
                 on_epoch_end: Callable[[int, Generator, dict[str, float]], None] | None = None,
                 progress: bool = True, code: dict[str, str] | None = None,
                 features: FeatureNetwork | None = None) -> None:
        """``code``: the fingerprint of the training code (default: :func:`synthcal.codedeps.module_code` of this
        module), part of the checkpoints' identity. ``features``: the frozen pretrained classifier of the
        ``projected`` discriminator and of the ``classifier_weight`` loss; its weights are part of the identity."""
        if settings.mode not in ("distill", "gan"):
            raise ValueError(f"unknown training mode {settings.mode!r}")
        if settings.discriminator not in ("distylegan", "projection", "projected"):
            raise ValueError(f"unknown discriminator {settings.discriminator!r} (distylegan, projection or projected)")
        helped = settings.discriminator == "projected" or settings.classifier_weight > 0
        if helped and features is None:
            raise ValueError("the projected discriminator and the classifier loss need a feature network")
        if helped and settings.mode != "gan":
            raise ValueError("a feature network helps the plain conditional GAN (the teacher), not the distillation")
        self.features = features
        if not 0.0 <= settings.ema < 1.0:
            raise ValueError(f"ema is a decay in [0, 1), got {settings.ema}")
        self.augment = parse_policy(settings.diffaugment)
        if self.augment and settings.mode == "distill":
            raise ValueError("DiffAugment is for the plain conditional GAN (the teacher), not the distillation")
        if settings.mode == "distill":
            if teacher is None or teacher.z is None:
                raise ValueError("distillation needs a teacher dump with noise vectors")
            if teacher.z.shape[1] != settings.z_dim:
                raise ValueError(f"the teacher dump's noise has {teacher.z.shape[1]} dimensions but the student's "
                                 f"z_dim is {settings.z_dim}; set distylegan.z_dim to {teacher.z.shape[1]}")
        self.settings, self.real, self.teacher = settings, real, teacher
        self.device = resolve_device(device)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else None
        self.on_epoch_end = on_epoch_end
        self.progress = progress
        # the data, held once as tensors on the training device; batches are gathered there
        self._real = (torch.from_numpy(real.images).to(self.device), torch.from_numpy(real.labels).to(self.device))
        self._teacher = None if teacher is None or teacher.z is None else (
            torch.from_numpy(teacher.images).to(self.device), torch.from_numpy(teacher.labels).to(self.device),
            torch.from_numpy(np.ascontiguousarray(teacher.z, dtype=np.float32)).to(self.device))
        main = teacher if settings.mode == "distill" else real
        assert main is not None
        self.iterations = len(main.labels) // settings.batch_size
        if self.iterations == 0:
            raise ValueError(f"batch_size {settings.batch_size} exceeds the {len(main.labels)} training images")
        self.code = dict(code) if code is not None else module_code(__file__)
        self.helper = {"name": features.name, "sha256": features.digest()} if features is not None else None
        self.fingerprint = hashlib.sha256(json.dumps(
            {"settings": settings.fingerprint_fields(), "real": real.digest(),
             "teacher": teacher.digest() if teacher is not None else None, "code": self.code,
             **({"feature_network": self.helper} if self.helper else {})},
            sort_keys=True).encode()).hexdigest()
        self.pixel_weight = PixelWeight(settings.lambda_pixel, settings.pixel_schedule, settings.pixel_decay)

    # ----------------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        s = self.settings
        torch.manual_seed(seed_int(s.seed, "init"))
        self.G = Generator(s.ngf, s.z_dim, s.c_dim, s.project_dim).to(self.device)
        if self.features is not None:
            self.features.to(self.device)
        if s.discriminator == "projected":
            self.D = ProjectedDiscriminator(self.features, s.ndf, s.c_dim).to(self.device)
        elif s.discriminator == "projection":
            self.D = ProjectionDiscriminator(s.ndf, s.c_dim).to(self.device)
        else:
            self.D = Discriminator(s.ndf, s.c_dim, s.project_dim).to(self.device)
        if s.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        # the exponential moving average of the generator's weights, the generator a run releases when ema > 0
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if s.ema else None
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=s.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=s.betas)
        self.g_updates = 0
        self.history: list[dict[str, float]] = []

    @property
    def run_dir(self) -> Path | None:
        """This run's checkpoint folder: one per settings-and-data fingerprint."""
        return self.checkpoint_dir / self.fingerprint[:16] if self.checkpoint_dir else None

    def _checkpoints(self) -> list[Path]:
        if self.run_dir is None or not self.run_dir.exists():
            return []
        return sorted(self.run_dir.glob("epoch_*.pt"))

    def _identity(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "settings": self.settings.fingerprint_fields(),
                "real": self.real.digest(), "teacher": self.teacher.digest() if self.teacher is not None else None,
                "code": self.code, "feature_network": self.helper}

    def _save_checkpoint(self, epoch: int) -> None:
        if self.run_dir is None:
            return
        if not (self.run_dir / "run.json").exists():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.run_dir / "run.json") as tmp:
                tmp.write_text(json.dumps(self._identity(), indent=2) + "\n")
        state = {
            "epoch": epoch, "fingerprint": self.fingerprint, "g_updates": self.g_updates, "history": self.history,
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "generator_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "optimizer_g": self.opt_g.state_dict(), "optimizer_d": self.opt_d.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        }
        with atomic_path(self.run_dir / f"epoch_{epoch:04d}.pt") as tmp:
            torch.save(state, tmp)
        for old in self._checkpoints()[:-2]:  # keep this run's two newest
            old.unlink()
        log.info("checkpoint: epoch %d -> %s", epoch, self.run_dir)

    def _explain_other_runs(self) -> None:
        """Log the checkpoints that are not this run's, and why they are not resumed from."""
        assert self.checkpoint_dir is not None and self.run_dir is not None
        if not self.checkpoint_dir.exists():
            return
        mine = self._identity()
        for entry in sorted(self.checkpoint_dir.iterdir()):
            if entry == self.run_dir:
                continue
            if entry.is_file() and entry.name.startswith("epoch_"):
                log.info("ignoring checkpoint %s: written before checkpoints were kept per settings", entry)
                continue
            if not entry.is_dir() or not (entry / "run.json").exists():
                continue
            try:
                other = json.loads((entry / "run.json").read_text())
            except ValueError:
                continue
            changed = [f"{k}: {v} -> {mine['settings'].get(k)}" for k, v in other.get("settings", {}).items()
                       if mine["settings"].get(k) != v]
            changed += [f"{what} data changed" for what in ("real", "teacher") if other.get(what) != mine[what]]
            if "code" not in other:
                changed.append("written before checkpoints recorded their code")
            else:
                theirs = other["code"]
                changed += [f"code of {path} changed" for path in sorted(set(theirs) | set(self.code))
                            if theirs.get(path) != self.code.get(path)]
            n = len(list(entry.glob("epoch_*.pt")))
            log.info("ignoring %d checkpoint(s) of another run in %s (%s)", n, entry.name,
                     "; ".join(changed) or "different settings")

    def _try_resume(self) -> int:
        """Load the newest readable checkpoint of this run's folder; returns the first epoch still to train."""
        if self.checkpoint_dir is None:
            return 1
        self._explain_other_runs()
        for path in reversed(self._checkpoints()):
            try:
                state = torch.load(path, map_location=self.device, weights_only=False)
            except Exception as exc:  # a torn file from a crash: try the previous one
                log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
                continue
            if state.get("fingerprint") != self.fingerprint:
                log.warning("ignoring checkpoint %s: its fingerprint is not this run's", path)
                continue
            self.G.load_state_dict(state["generator"])
            self.D.load_state_dict(state["discriminator"])
            if self.G_ema is not None:
                self.G_ema.load_state_dict(state["generator_ema"])
            self.opt_g.load_state_dict(state["optimizer_g"])
            self.opt_d.load_state_dict(state["optimizer_d"])
            self.g_updates = int(state["g_updates"])
            self.history = list(state["history"])
            torch.set_rng_state(state["rng"]["torch"].cpu())
            np.random.set_state(state["rng"]["numpy"])
            random.setstate(state["rng"]["python"])
            if state["rng"]["cuda"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(state["rng"]["cuda"])
            log.info("resuming from %s (epoch %d of %d done)", path, state["epoch"], self.settings.epochs)
            return int(state["epoch"]) + 1
        log.info("no checkpoint of this code, these settings and data in %s: training from epoch 1", self.run_dir)
        return 1

    # ----------------------------------------------------------------------------------------------------------
    def _distill_step(self, i: int, z: torch.Tensor, x_t: torch.Tensor, c: torch.Tensor, x_r: torch.Tensor,
                      c_r: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        s, G, D = self.settings, self.G, self.D
        z_rand = torch.randn(len(c_r), s.z_dim, generator=gen, device=self.device)
        # D step: teacher images are "real" against the student's; real CIFAR-10 against random-noise students
        with torch.no_grad():
            x_s, x_rand = G(z, c), G(z_rand, c_r)
        d_loss = discriminator_distillation_loss(D(x_t, c)[0], D(x_s, c)[0], D(x_r, c_r)[0], D(x_rand, c_r)[0],
                                                 s.lambda_gan_d)
        self.opt_d.zero_grad(set_to_none=True)
        d_loss["total"].backward()
        self.opt_d.step()
        # G step
        D.requires_grad_(False)
        x_s = G(z, c)
        d_s, f_s = D(x_s, c)
        with torch.no_grad():
            f_t = D(x_t, c)[1]
        adversarial = (i + 1) % s.gstep == 0
        d_random = None
        if adversarial:
            z_gan = torch.randn(len(c_r), s.z_dim, generator=gen, device=self.device)
            d_random = D(G(z_gan, c_r), c_r)[0]
        lam = self.pixel_weight(self.g_updates)
        g_loss = generator_distillation_loss(f_s, f_t, x_s, x_t, lam, d_student=d_s if adversarial else None,
                                             d_random=d_random, lambda_adv_kd=s.lambda_adv_kd,
                                             lambda_adv_gan=s.lambda_adv_gan)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss["total"].backward()
        self.opt_g.step()
        D.requires_grad_(True)
        self.update_ema()
        self.g_updates += 1
        out = {f"D_{k}": v.detach() for k, v in d_loss.items()}  # tensors: no host synchronisation per step
        out.update({f"G_{k}": v.detach() for k, v in g_loss.items()})
        out["lambda_pixel"] = torch.tensor(lam)
        return out

    def _augmentation(self, n: int, gen: torch.Generator) -> Callable[[torch.Tensor], torch.Tensor]:
        """The step's DiffAugment transformation (identity without a policy)."""
        if not self.augment:
            return lambda x: x
        return Augmentation.draw(self.augment, n, 32, gen, self.device)

    def update_ema(self) -> None:
        """G_ema <- ema * G_ema + (1 - ema) * G for every parameter; buffers (BatchNorm statistics) copied."""
        if self.G_ema is None:
            return
        with torch.no_grad():
            for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
                p_ema.lerp_(p, 1.0 - self.settings.ema)
            for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
                b_ema.copy_(b)

    def _gan_step(self, x_r: torch.Tensor, c_r: torch.Tensor, gen: torch.Generator) -> dict[str, float]:
        s, G, D = self.settings, self.G, self.D
        z = torch.randn(len(c_r), s.z_dim, generator=gen, device=self.device)
        with torch.no_grad():
            x_fake = G(z, c_r)
        augment = self._augmentation(len(c_r), gen)  # the same transformation for the real and the fake batch
        d_real, d_fake = hinge_real(D(augment(x_r), c_r)[0]), hinge_fake(D(augment(x_fake), c_r)[0])
        d_total = d_real + d_fake
        self.opt_d.zero_grad(set_to_none=True)
        d_total.backward()
        self.opt_d.step()
        D.requires_grad_(False)
        z = torch.randn(len(c_r), s.z_dim, generator=gen, device=self.device)
        x_gen = self._augmentation(len(c_r), gen)(G(z, c_r))
        class_logits = None
        if isinstance(D, ProjectedDiscriminator):  # one pass of the frozen network gives D's maps and its logits
            class_logits, maps = self.features(x_gen)
            g_adv = generator_hinge(D.discriminate(maps, c_r)[0])
        else:
            g_adv = generator_hinge(D(x_gen, c_r)[0])
        terms = {"G_adversarial": g_adv.detach()}
        g_total = g_adv
        if s.classifier_weight:  # the frozen classifier should recognise the class each (augmented) image was made for
            if class_logits is None:
                class_logits = self.features(x_gen)[0]
            g_class = F.cross_entropy(class_logits, c_r.argmax(1))
            g_total = g_total + s.classifier_weight * g_class
            terms["G_classifier"] = g_class.detach()
        self.opt_g.zero_grad(set_to_none=True)
        g_total.backward()
        self.opt_g.step()
        D.requires_grad_(True)
        self.update_ema()
        self.g_updates += 1
        self._track()
        return {"D_real": d_real.detach(), "D_fake": d_fake.detach(), "D_total": d_total.detach(),
                "G_total": g_total.detach(), **terms}

    def _track(self) -> None:
        """Every ``track_every`` generator updates, the released generator's images for a fixed tracking noise
        (``track_per_class`` per class) into ``<run>/track/step_<updates>.npz``: what a training curve is drawn
        from (label agreement, FID against steps). They change no weight."""
        every = self.settings.track_every
        if not every or self.g_updates % every or self.run_dir is None:
            return
        track = replace(self.settings, grid_per_class=self.settings.track_per_class)
        samples = fixed_samples(self.released, track, self.device, purpose="track")
        save_samples(self.run_dir / "track" / f"step_{self.g_updates:06d}.npz", samples)

    # ----------------------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        with deterministic(self.device):
            return self._run()

    def _run(self) -> TrainResult:
        s = self.settings
        self._build()
        start_epoch = self._try_resume()
        resumed = start_epoch - 1 if start_epoch > 1 else None
        n_real = len(self.real.labels)
        remaining = max(0, s.epochs - start_epoch + 1) * self.iterations * s.batch_size
        bar = tqdm(total=remaining, unit="img", unit_scale=True, desc=f"train {s.mode}", disable=not self.progress,
                   mininterval=2.0, smoothing=0.05)
        for epoch in range(start_epoch, s.epochs + 1):
            self.G.train()
            self.D.train()
            gen = torch.Generator(device=self.device).manual_seed(seed_int(s.seed, "noise", epoch))
            real_idx = _index_stream(n_real, self.iterations * s.batch_size, s.seed, "real-order", epoch)
            if s.mode == "distill":
                assert self.teacher is not None
                teach_idx = rng(s.seed, "teacher-order", epoch).permutation(len(self.teacher.labels))
            sums: dict[str, torch.Tensor] = {}
            counts: dict[str, int] = {}
            t0 = time.perf_counter()
            real_images, real_labels = self._real
            for i in range(self.iterations):
                rb = torch.from_numpy(np.sort(real_idx[i * s.batch_size:(i + 1) * s.batch_size])).to(self.device)
                x_r = to_float_images(real_images[rb], s.channels_last)
                c_r = one_hot(real_labels[rb], s.c_dim)
                if s.mode == "distill":
                    assert self._teacher is not None
                    teacher_images, teacher_labels, teacher_z = self._teacher
                    tb = torch.from_numpy(np.sort(teach_idx[i * s.batch_size:(i + 1) * s.batch_size])).to(self.device)
                    x_t = to_float_images(teacher_images[tb], s.channels_last)
                    terms = self._distill_step(i, teacher_z[tb], x_t, one_hot(teacher_labels[tb], s.c_dim), x_r, c_r,
                                               gen)
                else:
                    terms = self._gan_step(x_r, c_r, gen)
                for k, v in terms.items():  # adversarial terms exist on every gstep-th iteration only
                    sums[k] = sums[k] + v if k in sums else v
                    counts[k] = counts.get(k, 0) + 1
                bar.update(s.batch_size)
                if i % 50 == 0:  # the only host synchronisation inside an epoch
                    bar.set_postfix(epoch=epoch, D=f"{float(terms['D_total']):.3f}", G=f"{float(terms['G_total']):.3f}")
            row = {k: float(v) / counts[k] for k, v in sums.items()}
            seconds = time.perf_counter() - t0
            row = {"epoch": epoch, "iterations": self.iterations, "seconds": round(seconds, 3),
                   "images_per_s": round(self.iterations * s.batch_size / seconds, 2), **row}
            self.history.append(row)
            log.info("epoch %d/%d: %s", epoch, s.epochs,
                     ", ".join(f"{k} {v:.4g}" for k, v in row.items() if k != "epoch"))
            if epoch % s.checkpoint_every == 0 or epoch == s.epochs:
                self._save_checkpoint(epoch)
            if self.on_epoch_end is not None:
                self.on_epoch_end(epoch, self.released, row)
        bar.close()
        self.G.eval()
        return TrainResult(self.released, self.D, self.history, resumed)

    @property
    def released(self) -> Generator:
        """The generator a run releases and samples from: the moving average when ``ema`` > 0."""
        return self.G_ema if self.G_ema is not None else self.G


@torch.no_grad()
def fixed_samples(generator: Generator, settings: TrainSettings, device: torch.device,
                  purpose: str = "fixed-grid") -> dict[str, np.ndarray]:
    """The generator's images (eval mode) for the fixed grid noise of :func:`fixed_noise`: ``images`` (uint8 NHWC)
    and ``labels``, the numbers the sample-grid figures are drawn from."""
    z, labels = fixed_noise(settings, device, purpose)
    was_training = generator.training
    generator.eval()
    images = to_uint8(generator(z, one_hot(labels, settings.c_dim)))
    generator.train(was_training)
    return {"images": images, "labels": labels.cpu().numpy()}


def save_samples(path: str | Path, samples: dict[str, np.ndarray]) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **samples)


def feature_network(helper: dict[str, Any], path: str | None) -> FeatureNetwork:
    """The frozen :class:`FeatureNetwork` of a training job from its plan entry (:meth:`synthcal.plan.Plan.
    feature_network`: the model's classifier fields, mean and std) and the model's file."""
    classifier = Classifier(**{**helper["classifier"], "path": path})
    # an exported program's module() is one flat graph: unflattened, its blocks are modules again (and hookable)
    module = (torch.export.unflatten(checked_program(classifier)) if classifier.format == "export"
              else pytorch_module(classifier))
    return FeatureNetwork(module, helper["mean"], helper["std"], name=f"models.{helper['model']}")


def train_run(settings: TrainSettings, real_npz: str | Path, out_dir: str | Path, *, dump_dir: str | Path | None = None,
              device: str = "auto", label: str = "DiStyleGAN", progress: bool = True,
              features: FeatureNetwork | None = None) -> dict[str, Any]:
    """Train (``settings.mode``: ``distill`` from ``dump_dir``, or ``gan``) and write the run's files into
    ``out_dir``: ``generator.pt`` + ``config.json`` (the authors' release format, see
    :func:`synthcal.gan.networks.load_released`), ``training.json`` (settings, device, timings), ``losses.csv``
    (per-epoch means) and ``samples.npz`` (the fixed-noise samples after the last epoch; figures are drawn from
    these files by their own rule). Checkpoints and per-epoch samples go to ``out_dir/training/<fingerprint>/``; a
    rerun with the same settings and data resumes there.
    """
    out = Path(out_dir)
    real_split = load_split(real_npz)
    if settings.images_per_class:  # a seeded class-balanced subset (a quick check, the smoke configuration)
        real_split = real_split.subset(np.sort(nested_subset(real_split.labels, settings.images_per_class,
                                                             settings.seed, purpose="training-subset")))
    real = TrainingData(real_split.images, real_split.labels)
    teacher = None
    if settings.mode == "distill":
        if dump_dir is None:
            raise ValueError("distillation needs the teacher dump")
        z, images, labels, _ = read_dump(dump_dir)
        teacher = TrainingData(images, labels, z)
    dev = resolve_device(device)
    trainer: Trainer

    def on_epoch_end(epoch: int, generator: Generator, row: dict[str, float]) -> None:
        assert trainer.run_dir is not None
        save_samples(trainer.run_dir / "samples" / f"epoch_{epoch:04d}.npz", fixed_samples(generator, settings, dev))

    trainer = Trainer(settings, real, teacher, device=device, checkpoint_dir=out / "training",
                      on_epoch_end=on_epoch_end, progress=progress, features=features)
    result = trainer.run()
    generator = result.generator.cpu().eval()
    with atomic_path(out / "generator.pt") as tmp:
        torch.save(generator.state_dict(), tmp)
    lambdas = {"pixel": settings.lambda_pixel, "adv_kd": settings.lambda_adv_kd, "gan_d": settings.lambda_gan_d}
    write_json(out / "config.json", released_config(generator, settings.ndf, lambdas))
    seconds = sum(row["seconds"] for row in result.history)
    n_images = sum(row["iterations"] for row in result.history) * settings.batch_size
    summary = {"label": label, "settings": asdict(settings), "code": trainer.code, "device": str(dev),
               "feature_network": trainer.helper, "epochs": settings.epochs,
               "resumed_after_epoch": result.resumed_from, "checkpoints": str(trainer.run_dir),
               "train_seconds": round(seconds, 2), "images_per_s": round(n_images / seconds, 2) if seconds else None,
               "generator_parameters": sum(p.numel() for p in generator.parameters()),
               "torch_threads": torch.get_num_threads()}
    write_json(out / "training.json", summary)
    write_history(result.history, out / "losses.csv")
    save_samples(out / "samples.npz", fixed_samples(generator, settings, torch.device("cpu")))
    return summary


def write_history(history: list[dict[str, float]], path: str | Path) -> None:
    """The per-epoch loss log as CSV (columns: union of all rows' keys, in first-seen order)."""
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
