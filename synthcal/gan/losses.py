"""DiStyleGAN objectives (paper Eq. 1-2; the authors' generation/model/loss.py), as plain functions.

Hinge terms: ``h+(t) = mean(relu(1 - t))`` (a "real" logit), ``h-(t) = mean(relu(1 + t))`` (a "fake" logit), and
the generator's hinge ``-mean(t)``.

* Discriminator (Eq. 2): ``h+(d_T) + h-(d_S) + lambda_ganD * (h+(d_R) + h-(d_rand))`` - teacher images are "real"
  for the distillation pair, real CIFAR-10 images for the GAN pair.
* Generator (Eq. 1): ``L_feat + lambda_1 * L_pix`` on every iteration, plus ``lambda_2 * L_advKD +
  lambda_3 * L_advGAN`` on adversarial iterations (every ``gstep``-th).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: Weights of the four discriminator feature maps (shallow to deep) in the feature-distillation loss.
FEATURE_WEIGHTS = (1 / 16, 1 / 8, 1 / 4, 1.0)


def hinge_real(logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - logits).mean()


def hinge_fake(logits: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 + logits).mean()


def generator_hinge(logits: torch.Tensor) -> torch.Tensor:
    return -logits.mean()


def feature_distillation(student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor],
                         weights: Sequence[float] = FEATURE_WEIGHTS) -> torch.Tensor:
    """Weighted sum of mean absolute differences between the student's and teacher's D feature maps."""
    if len(student) != len(teacher) or len(student) != len(weights):
        raise ValueError(f"need {len(weights)} feature maps each, got {len(student)} and {len(teacher)}")
    return sum(w * (s - t).abs().mean() for w, s, t in zip(weights, student, teacher))  # type: ignore[return-value]


def pixel_distillation(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Mean absolute pixel difference (images in [-1, 1])."""
    return (student - teacher).abs().mean()


def discriminator_distillation_loss(d_teacher: torch.Tensor, d_student: torch.Tensor, d_real: torch.Tensor,
                                    d_random: torch.Tensor, lambda_gan_d: float) -> dict[str, torch.Tensor]:
    """Eq. 2. Returns the terms and ``total``."""
    terms = {"teacher": hinge_real(d_teacher), "student": hinge_fake(d_student),
             "real": hinge_real(d_real), "random": hinge_fake(d_random)}
    terms["total"] = terms["teacher"] + terms["student"] + lambda_gan_d * (terms["real"] + terms["random"])
    return terms


def generator_distillation_loss(f_student: Sequence[torch.Tensor], f_teacher: Sequence[torch.Tensor],
                                x_student: torch.Tensor, x_teacher: torch.Tensor, lambda_pixel: float,
                                d_student: torch.Tensor | None = None, d_random: torch.Tensor | None = None,
                                lambda_adv_kd: float = 0.0, lambda_adv_gan: float = 0.0) -> dict[str, torch.Tensor]:
    """Eq. 1. The adversarial terms are added when their logits are given (adversarial iterations)."""
    terms = {"feature": feature_distillation(f_student, f_teacher), "pixel": pixel_distillation(x_student, x_teacher)}
    total = terms["feature"] + lambda_pixel * terms["pixel"]
    if d_student is not None:
        terms["adv_kd"] = generator_hinge(d_student)
        total = total + lambda_adv_kd * terms["adv_kd"]
    if d_random is not None:
        terms["adv_gan"] = generator_hinge(d_random)
        total = total + lambda_adv_gan * terms["adv_gan"]
    terms["total"] = total
    return terms


@dataclass(frozen=True)
class PixelWeight:
    """Schedule of the pixel-loss weight lambda_1 over generator updates.

    ``"decay"`` is the authors' behaviour: lambda_1 starts at ``initial`` and drops by ``step`` after every
    generator update, floored at 0 (so with 0.2 and 0.01 it is 0 from the 21st update on). ``"constant"`` keeps it.
    """

    initial: float = 0.2
    schedule: str = "decay"
    step: float = 0.01

    def __call__(self, update: int) -> float:
        """Weight for the ``update``-th generator update (0-based, counted over the whole run)."""
        if self.schedule == "constant":
            return self.initial
        if self.schedule == "decay":
            return max(0.0, self.initial - self.step * update)
        raise ValueError(f"unknown pixel-loss schedule {self.schedule!r} (decay or constant)")
