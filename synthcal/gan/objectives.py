"""What a GAN run optimises, one class per objective; the training loop (:mod:`synthcal.gan.loop`) is the same for
all of them.

* :class:`Distillation` - DiStyleGAN's black-box distillation from the teacher's (z, image, label) triples: pixel and
  feature losses against the teacher's images, adversarial terms of the distillation, and GAN terms on real images
  (paper Sec. 3.2; :mod:`synthcal.gan.losses`), against the student's discriminator;
* :class:`Adversarial` - the trained teacher's conditional hinge GAN on real images, against one of three
  discriminators (DiStyleGAN's, a projection discriminator, or projected heads on a frozen feature network), with
  DiffAugment, and the :class:`ClassifierGuidance` of the frozen feature network.

Each objective owns its discriminator and the discriminator's optimizer; a step runs the discriminator update and
then the generator update through :class:`GeneratorState`, drawing its randomness from the step's generator in a
fixed order (a run is bitwise reproducible).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthcal.gan.augment import Augmentation, parse_policy
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
)
from synthcal.seeding import rng
from synthcal.settings import AdversarialSettings, DistillationSettings, GanTraining

#: Classes of CIFAR-10: the generator's condition.
NUM_CLASSES = 10


def to_float_images(images: torch.Tensor, channels_last: bool = False) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1] (the inverse of :func:`synthcal.gan.dump.to_uint8`, up to rounding), on
    the tensor's device; ``channels_last`` keeps NHWC memory under the NCHW view."""
    x = images.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


@dataclass
class GeneratorState:
    """The generator being trained, its optimizer, its moving average (``ema`` > 0) and its update counter."""

    G: Generator
    opt: torch.optim.Optimizer
    G_ema: Generator | None
    ema: float
    updates: int = 0

    def update(self, loss: torch.Tensor) -> None:
        """One optimizer step of the generator on ``loss``."""
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def updated(self) -> None:
        """After an update: the moving average follows (G_ema <- ema * G_ema + (1 - ema) * G for every parameter;
        buffers, the BatchNorm statistics, copied) and the counter advances."""
        if self.G_ema is not None:
            with torch.no_grad():
                for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters(), strict=True):
                    p_ema.lerp_(p, 1.0 - self.ema)
                for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers(), strict=True):
                    b_ema.copy_(b)
        self.updates += 1

    @property
    def released(self) -> Generator:
        """The generator a run releases and samples from: the moving average when ``ema`` > 0."""
        return self.G_ema if self.G_ema is not None else self.G


class Objective:
    """The part of a run that differs by what is optimised: the discriminator, its optimizer and the step."""

    discriminator: nn.Module
    opt: torch.optim.Optimizer

    def build(self, settings: GanTraining, device: torch.device) -> nn.Module:
        """Create the discriminator (after the generator, from the same seeded random stream); returns it."""
        raise NotImplementedError

    def make_optimizer(self, settings: GanTraining) -> None:
        loop = settings.loop
        self.opt = torch.optim.Adam(self.discriminator.parameters(), lr=loop.lr_d, betas=loop.betas)

    def items(self, real: int) -> int:
        """How many items an epoch goes through (the teacher's pairs, or the real images)."""
        return real

    def start_epoch(self, epoch: int) -> None:
        """Draw the epoch's order of the objective's own data, if it has any."""

    def step(self, g: GeneratorState, i: int, x_r: torch.Tensor, c_r: torch.Tensor,
             gen: torch.Generator) -> dict[str, torch.Tensor]:
        """One discriminator and one generator update on the ``i``-th batch of real images ``x_r`` (labels
        ``c_r``, one-hot); returns the loss terms as tensors (no host synchronisation per step)."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {"discriminator": self.discriminator.state_dict(), "optimizer_d": self.opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt.load_state_dict(state["optimizer_d"])


@dataclass
class TeacherPairs:
    """The teacher's dump as tensors on the training device: images (uint8 NHWC), labels and noise vectors."""

    images: torch.Tensor
    labels: torch.Tensor
    z: torch.Tensor


class Distillation(Objective):
    """DiStyleGAN's objective (see the module docstring); ``gstep`` sets how often the adversarial terms count."""

    def __init__(self, settings: DistillationSettings, teacher: TeacherPairs, z_dim: int, seed: int,
                 batch_size: int, channels_last: bool = False) -> None:
        if teacher.z.shape[1] != z_dim:
            raise ValueError(f"the teacher dump's noise has {teacher.z.shape[1]} dimensions but the student's "
                             f"z_dim is {z_dim}; set distylegan.z_dim to {teacher.z.shape[1]}")
        self.settings, self.teacher, self.z_dim, self.seed = settings, teacher, z_dim, seed
        self.batch_size, self.channels_last = batch_size, channels_last
        self.pixel_weight = PixelWeight(settings.lambda_pixel, settings.pixel_schedule, settings.pixel_decay)
        self.order = np.arange(len(teacher.labels))

    def build(self, settings: GanTraining, device: torch.device) -> nn.Module:
        self.device = device
        self.discriminator = Discriminator(self.settings.ndf, NUM_CLASSES, settings.generator.project_dim).to(device)
        return self.discriminator

    def items(self, real: int) -> int:
        return len(self.teacher.labels)

    def start_epoch(self, epoch: int) -> None:
        self.order = rng(self.seed, "teacher-order", epoch).permutation(len(self.teacher.labels))

    def step(self, g: GeneratorState, i: int, x_r: torch.Tensor, c_r: torch.Tensor,
             gen: torch.Generator) -> dict[str, torch.Tensor]:
        s, G, D, b = self.settings, g.G, self.discriminator, self.batch_size
        tb = torch.from_numpy(np.sort(self.order[i * b:(i + 1) * b])).to(self.device)
        z, x_t = self.teacher.z[tb], to_float_images(self.teacher.images[tb], self.channels_last)
        c = one_hot(self.teacher.labels[tb], NUM_CLASSES)
        z_rand = torch.randn(len(c_r), self.z_dim, generator=gen, device=self.device)
        # D step: teacher images are "real" against the student's; real CIFAR-10 against random-noise students
        with torch.no_grad():
            x_s, x_rand = G(z, c), G(z_rand, c_r)
        d_loss = discriminator_distillation_loss(D(x_t, c)[0], D(x_s, c)[0], D(x_r, c_r)[0], D(x_rand, c_r)[0],
                                                 s.lambda_gan_d)
        self.opt.zero_grad(set_to_none=True)
        d_loss["total"].backward()
        self.opt.step()
        # G step
        D.requires_grad_(False)
        x_s = G(z, c)
        d_s, f_s = D(x_s, c)
        with torch.no_grad():
            f_t = D(x_t, c)[1]
        adversarial = (i + 1) % s.gstep == 0
        d_random = None
        if adversarial:
            z_gan = torch.randn(len(c_r), self.z_dim, generator=gen, device=self.device)
            d_random = D(G(z_gan, c_r), c_r)[0]
        lam = self.pixel_weight(g.updates)
        g_loss = generator_distillation_loss(f_s, f_t, x_s, x_t, lam, d_student=d_s if adversarial else None,
                                             d_random=d_random, lambda_adv_kd=s.lambda_adv_kd,
                                             lambda_adv_gan=s.lambda_adv_gan)
        g.update(g_loss["total"])
        D.requires_grad_(True)
        g.updated()
        out = {f"D_{k}": v.detach() for k, v in d_loss.items()}
        out.update({f"G_{k}": v.detach() for k, v in g_loss.items()})
        out["lambda_pixel"] = torch.tensor(lam)
        return out


class ClassifierGuidance:
    """The frozen feature network's cross-entropy towards the class each generated image was made for, weighted."""

    def __init__(self, features: FeatureNetwork, weight: float) -> None:
        self.features, self.weight = features, weight

    def loss(self, class_logits: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(class_logits, c.argmax(1))


class Adversarial(Objective):
    """The trained teacher's objective (see the module docstring)."""

    def __init__(self, settings: AdversarialSettings, z_dim: int, features: FeatureNetwork | None = None) -> None:
        if settings.discriminator not in ("distylegan", "projection", "projected"):
            raise ValueError(f"unknown discriminator {settings.discriminator!r} (distylegan, projection or projected)")
        if (settings.discriminator == "projected" or settings.classifier_weight > 0) and features is None:
            raise ValueError("the projected discriminator and the classifier loss need a feature network")
        self.settings, self.z_dim, self.features = settings, z_dim, features
        self.augment = parse_policy(settings.diffaugment)
        self.guidance = ClassifierGuidance(features, settings.classifier_weight) \
            if features is not None and settings.classifier_weight else None

    def build(self, settings: GanTraining, device: torch.device) -> nn.Module:
        self.device = device
        s = self.settings
        if self.features is not None:
            self.features.to(device)
        if s.discriminator == "projected":
            self.discriminator = ProjectedDiscriminator(self.features, s.ndf, NUM_CLASSES).to(device)
        elif s.discriminator == "projection":
            self.discriminator = ProjectionDiscriminator(s.ndf, NUM_CLASSES).to(device)
        else:
            self.discriminator = Discriminator(s.ndf, NUM_CLASSES, settings.generator.project_dim).to(device)
        return self.discriminator

    def _augmentation(self, n: int, gen: torch.Generator) -> Callable[[torch.Tensor], torch.Tensor]:
        """The step's DiffAugment transformation (identity without a policy)."""
        if not self.augment:
            return lambda x: x
        return Augmentation.draw(self.augment, n, 32, gen, self.device)

    def step(self, g: GeneratorState, i: int, x_r: torch.Tensor, c_r: torch.Tensor,
             gen: torch.Generator) -> dict[str, torch.Tensor]:
        G, D = g.G, self.discriminator
        z = torch.randn(len(c_r), self.z_dim, generator=gen, device=self.device)
        with torch.no_grad():
            x_fake = G(z, c_r)
        augment = self._augmentation(len(c_r), gen)  # the same transformation for the real and the fake batch
        d_real, d_fake = hinge_real(D(augment(x_r), c_r)[0]), hinge_fake(D(augment(x_fake), c_r)[0])
        d_total = d_real + d_fake
        self.opt.zero_grad(set_to_none=True)
        d_total.backward()
        self.opt.step()
        D.requires_grad_(False)
        z = torch.randn(len(c_r), self.z_dim, generator=gen, device=self.device)
        x_gen = self._augmentation(len(c_r), gen)(G(z, c_r))
        class_logits = None
        if isinstance(D, ProjectedDiscriminator):  # one pass of the frozen network gives D's maps and its logits
            assert self.features is not None
            class_logits, maps = self.features(x_gen)
            g_adv = generator_hinge(D.discriminate(maps, c_r)[0])
        else:
            g_adv = generator_hinge(D(x_gen, c_r)[0])
        terms = {"G_adversarial": g_adv.detach()}
        g_total = g_adv
        if self.guidance is not None:  # the frozen classifier should recognise the class each image was made for
            if class_logits is None:
                class_logits = self.guidance.features(x_gen)[0]
            g_class = self.guidance.loss(class_logits, c_r)
            g_total = g_total + self.guidance.weight * g_class
            terms["G_classifier"] = g_class.detach()
        g.update(g_total)
        D.requires_grad_(True)
        g.updated()
        return {"D_real": d_real.detach(), "D_fake": d_fake.detach(), "D_total": d_total.detach(),
                "G_total": g_total.detach(), **terms}
