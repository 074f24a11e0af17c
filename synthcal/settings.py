"""Every setting a job runs with, typed once, with one (de)serialisation from the planner to the job.

Each settings type is a frozen dataclass of the knobs of one config section (``SECTIONS``: schema paths; ``<name>``
stands for a catalogue entry), plus values derived from other keys (``DERIVED``: field -> schema path, such as the
seed). The defaults of the knobs live in the schema alone: a settings type declares none, or the schema's
(``tests/test_settings.py`` fails on a default that differs or on a field the schema lacks). The planner builds a
settings object from the validated configuration and passes :func:`to_params` of it as the rule's ``settings``
parameter (JSON-able: a change reruns the job); the job's script rebuilds it with :func:`from_params`. Nothing here
imports more than the standard library, so planning a run stays light.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class BNInversionSettings:
    """ZeroQ-style distillation of calibration images from a model's BatchNorm statistics."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("bn_inversion",)
    iterations: int
    lr: float
    batch_size: int
    ce_weight: float  # 0: pure ZeroQ; > 0: also pull each image towards its assigned label


@dataclass(frozen=True)
class FractalSettings:
    """The IFS fractal generator (its other constants are the method's, in synthcal.sources.fractal)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("fractal",)
    points: int
    chains: int
    fill_rate: float
    colorizer_dir: str | None  # Zhang et al.'s Caffe colorizer files; colours are random without them


@dataclass(frozen=True)
class NoiseSettings:
    """Pixel noise: uniform on 0..255, or Gaussian around 127.5 with ``std`` (None when uniform)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("noise",)
    distribution: str
    std: float | None


@dataclass(frozen=True)
class DefaultQuantizationSettings:
    """Options of ``nncf.quantize`` (``quantization.default``, the protocol's values filled in) and the images per
    calibration item (``quantization.batch_size``)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("quantization.default",)
    DERIVED: ClassVar[dict[str, str]] = {"batch_size": "quantization.batch_size"}
    subset_size: int | None  # None: every calibration image
    preset: str
    target_device: str
    fast_bias_correction: bool
    bias_correction: bool
    channel_alignment: bool
    ignored_types: tuple[str, ...]
    range_estimator: str
    range_statistics: str
    batch_size: int


@dataclass(frozen=True)
class AccuracyAwareSettings:
    """Options of ``nncf.quantize_with_accuracy_control`` (the paper's POT AccuracyAwareQuantization)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("quantization.accuracy_aware",)
    max_drop: float  # in accuracy units ([0, 1]): 0.02 = 2 points
    drop_type: str
    ranking_subset_size: int | None  # None: the calibration images
    max_num_iterations: int | None  # None: unbounded, as POT
    ranking_workers: int | None  # None: half the job's threads, at least 1


@dataclass(frozen=True)
class BrevitasSettings:
    """Quantization below 8 bits with Brevitas (``quantization.brevitas``; a variant with ``backend: brevitas``
    changes some): integer bit widths of weights and of the activations each layer reads, the weights' scale
    granularity, the width of the first and last layers (None: the same as the others), the method that sets the
    weights (``rtn`` round to nearest, ``gptq``, ``gpfq``), bias correction after it, and the calibration images
    (the seeded head of the folder's shuffle) with their batch."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("quantization.brevitas",)
    weight_bits: int
    activation_bits: int
    weight_granularity: str
    first_last_bits: int | None
    method: str
    bias_correction: bool
    calibration_images: int
    batch_size: int

    @property
    def precision(self) -> str:
        """``W<weight bits>A<activation bits>``, e.g. W4A8."""
        return f"W{self.weight_bits}A{self.activation_bits}"

    @property
    def procedure(self) -> str:
        """The method and bias correction, e.g. ``gptq+bc``."""
        return self.method + ("+bc" if self.bias_correction else "")


@dataclass(frozen=True)
class ClassifierTraining:
    """The train weights provider (``models.<name>.weights.train``); ``checkpoint_every`` does not change the
    weights, ``seed`` null in the config is the top-level seed."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("models.<name>.weights.train",)
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int
    checkpoint_every: int
    images_per_class: int | None  # a seeded class-balanced subset of the training split (None: all of it)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0 or self.weight_decay < 0:
            raise ValueError(f"invalid classifier training settings {self}: epochs and batch_size must be at least 1, "
                             "lr above 0, weight_decay at least 0")

    def fingerprint_fields(self) -> dict[str, Any]:
        """What changes the trained weights (not ``checkpoint_every``)."""
        fields = dataclasses.asdict(self)
        fields.pop("checkpoint_every")
        return fields


@dataclass(frozen=True)
class StatisticsSettings:
    """Intervals and verdicts (``statistics``): bootstrap replicates, interval level, the reference source (None: no
    verdicts), the equivalence margin in accuracy points and the bootstrap's seed (null: the top-level seed)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("statistics",)
    resamples: int
    confidence: float
    reference: str | None
    margin_points: float
    seed: int


@dataclass(frozen=True)
class RealismSettings:
    """The realism report (``quality.realism``; the feature jobs' sizes are theirs)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("quality.realism",)
    DERIVED: ClassVar[dict[str, str]] = {"seed": "seed"}
    nearest_k: int
    kid_subset_size: int
    kid_subsets: int
    min_per_class: int
    seed: int


# --------------------------------------------------------------------------------------------------- GAN training
@dataclass(frozen=True)
class LoopSettings:
    """The training loop of a GAN run (``teacher.trained`` or ``distylegan``): epochs, batches, optimizers, the
    generator's moving average, checkpoints and tracking samples. ``images_per_class`` (the teacher only) trains on
    a seeded subset of the real images; every ``track_every`` generator updates a tracking sample is written (0:
    none)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("teacher.trained", "distylegan")
    DERIVED: ClassVar[dict[str, str]] = {"seed": "seed"}
    epochs: int
    batch_size: int
    lr_g: float
    lr_d: float
    betas: tuple[float, float]
    checkpoint_every: int
    channels_last: bool
    ema: float  # decay of the released generator's moving average (0: none)
    seed: int
    images_per_class: int | None = None
    track_every: int = 0
    track_per_class: int = 50


@dataclass(frozen=True)
class GeneratorSettings:
    """The conditional generator (the DiStyleGAN architecture) of a GAN run."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("teacher.trained", "distylegan")
    ngf: int
    z_dim: int
    project_dim: int


@dataclass(frozen=True)
class AdversarialSettings:
    """The objective of the trained teacher: a hinge GAN against a discriminator (``distylegan``, ``projection`` or
    ``projected`` on a frozen feature network), with DiffAugment and the feature network's classifier guidance
    (``classifier_weight``)."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("teacher.trained",)
    ndf: int
    discriminator: str
    diffaugment: str
    classifier_weight: float


@dataclass(frozen=True)
class DistillationSettings:
    """The objective of DiStyleGAN: black-box distillation from the teacher's pairs (pixel and feature losses) and
    GAN terms on real images, as the authors set it."""

    SECTIONS: ClassVar[tuple[str, ...]] = ("distylegan",)
    ndf: int
    gstep: int
    lambda_pixel: float
    pixel_schedule: str
    pixel_decay: float
    lambda_adv_kd: float
    lambda_adv_gan: float
    lambda_gan_d: float


@dataclass(frozen=True)
class GanTraining:
    """A GAN run: its loop, its generator and its objective (adversarial for the teacher, distillation for the
    student); the objective's type is the run's mode."""

    loop: LoopSettings
    generator: GeneratorSettings
    objective: AdversarialSettings | DistillationSettings

    @property
    def mode(self) -> str:
        return "gan" if isinstance(self.objective, AdversarialSettings) else "distill"

    def fingerprint_fields(self) -> dict[str, Any]:
        """Everything that changes the trained weights (``checkpoint_every`` and the tracking samples do not), as one
        flat mapping, so that a changed checkpoint identity can name the setting (``lambda_pixel: 0.2 -> 0.1``)."""
        loop = dataclasses.asdict(self.loop)
        for name in ("checkpoint_every", "track_every", "track_per_class"):
            loop.pop(name)
        loop["betas"] = list(self.loop.betas)
        return {"mode": self.mode, **loop, **dataclasses.asdict(self.generator), **dataclasses.asdict(self.objective)}


def gan_training(section: Mapping[str, Any], mode: str, seed: int) -> GanTraining:
    """The settings of a GAN run from a validated config section (``teacher.trained`` for ``mode`` ``gan``,
    ``distylegan`` for ``distill``) and the top-level seed."""
    objective = AdversarialSettings if mode == "gan" else DistillationSettings
    return GanTraining(from_section(LoopSettings, section, seed=seed), from_section(GeneratorSettings, section),
                       from_section(objective, section))


#: Every settings type whose fields come from the configuration (what tests/test_settings.py checks).
SETTINGS_TYPES = (BNInversionSettings, FractalSettings, NoiseSettings, DefaultQuantizationSettings,
                  AccuracyAwareSettings, BrevitasSettings, ClassifierTraining, StatisticsSettings, RealismSettings, LoopSettings,
                  GeneratorSettings, AdversarialSettings, DistillationSettings)


def from_section(cls: type, section: Mapping[str, Any], **derived: Any) -> Any:
    """A settings object from a validated config section: the fields it names, plus ``derived`` values; fields the
    section lacks keep the type's default (a field the schema has in another section only)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return from_params(cls, {**{k: v for k, v in section.items() if k in names}, **derived})


def to_params(settings: Any) -> Any:
    """A settings object as JSON-able data (nested dataclasses as dicts, tuples as lists): a rule parameter."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        out = {f.name: to_params(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
        if isinstance(settings, GanTraining):
            out["mode"] = settings.mode  # which objective type to rebuild
        return out
    if isinstance(settings, (list, tuple)):
        return [to_params(v) for v in settings]
    return settings


def _convert(hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if value is None:
        return None
    if dataclasses.is_dataclass(hint):
        return from_params(hint, value)
    if origin is tuple:
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        for option in options:
            if dataclasses.is_dataclass(option) or typing.get_origin(option) is tuple:
                return _convert(option, value)
    return value


def from_params(cls: type, data: Mapping[str, Any]) -> Any:
    """The inverse of :func:`to_params`: rebuild a settings object of ``cls`` from rule parameters."""
    if cls is GanTraining:
        objective = AdversarialSettings if data.get("mode") == "gan" else DistillationSettings
        return GanTraining(from_params(LoopSettings, data["loop"]), from_params(GeneratorSettings, data["generator"]),
                           from_params(objective, data["objective"]))
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - fields
    if unknown:
        raise TypeError(f"{cls.__name__} has no setting {', '.join(sorted(unknown))}")
    return cls(**{name: _convert(hints[name], value) for name, value in data.items()})
