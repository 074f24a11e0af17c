"""Every calibration source side by side, each stating its traits once: the configuration's checks and every
planner read them from here (:func:`traits`). Nothing here imports more than the standard library.

A source is one of the plain sources (real CIFAR-10, the teacher under its configured name, DiStyleGAN, fractals,
noise, BN inversion) or a filtered one, ``<base>_<filter>``: a base's images chosen by each model with one of
:data:`FILTERS` (synthcal.sources.filtered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The filters (the suffix of a filtered source ``<base>_<filter>``) and whether a higher score is better.
HIGHER_IS_BETTER = {"confidence": True, "energy": False, "bn_distance": False}
FILTERS = tuple(HIGHER_IS_BETTER)
#: Names that no source (the teacher's ``teacher.name`` included) may take: the other sources and the quality report's
#: reference sets.
RESERVED = ("cifar10", "distylegan", "fractal", "noise", "bn_inversion", "reference", "train_reference")


@dataclass(frozen=True)
class SourceTraits:
    """What a source is, for the planners and the checks.

    * ``rule``: the rule that writes its calibration folders;
    * ``per_model``: one folder per model (the model chooses or distils the images);
    * ``labelled``: its folder labels are the class its images were made for (not arbitrary);
    * ``generator``: the generator its images come from (``teacher``, ``distylegan``) or None;
    * ``needs_batchnorm``: computed from the model's BatchNorm layers in PyTorch (left out for ONNX and IR models);
    * ``quality``: how its image set of the IS/FID report is drawn (synthcal.quality_sets kinds: ``images`` stored,
      ``generator`` sampled, ``fractal``, ``noise`` generated with the source's settings);
    * ``base``, ``filter``: of a filtered source.
    """

    name: str
    rule: str
    per_model: bool
    labelled: bool
    generator: str | None
    needs_batchnorm: bool
    quality: str
    base: str | None = None
    filter: str | None = None


def filter_bases(config: Mapping[str, Any]) -> dict[str, str]:
    """Sources a filter can be applied to, with the kind of pool each is drawn from: the teacher's dump, DiStyleGAN
    (fresh samples) and real CIFAR-10 (the control)."""
    return {config["teacher"]["name"]: "dump", "distylegan": "generator", "cifar10": "images"}


def filtered_source(source: str, config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(base, filter) of a filtered source name such as ``distylegan_energy``; None for other sources."""
    for name in FILTERS:
        base = source.removesuffix(f"_{name}")
        if base != source and base in filter_bases(config):
            return base, name
    return None


def known_sources(config: Mapping[str, Any]) -> list[str]:
    """Calibration sources this configuration can produce."""
    plain = ["cifar10", config["teacher"]["name"], "distylegan", "fractal", "noise", "bn_inversion"]
    return plain + [f"{base}_{name}" for base in filter_bases(config) for name in FILTERS]


def traits(source: str, config: Mapping[str, Any]) -> SourceTraits:
    """The traits of a source of this configuration.

    Raises:
        KeyError: ``source`` is not one this configuration can produce (:func:`known_sources`).
    """
    teacher = config["teacher"]["name"]
    if source == "cifar10":
        return SourceTraits(source, "calibration_cifar10", False, True, None, False, "images")
    if source == teacher:
        return SourceTraits(source, "calibration_teacher", False, True, "teacher", False, "images")
    if source == "distylegan":
        return SourceTraits(source, "calibration_distylegan", False, True, "distylegan", False, "generator")
    if source == "fractal":
        return SourceTraits(source, "calibration_fractal", False, False, None, False, "fractal")
    if source == "noise":
        return SourceTraits(source, "calibration_noise", False, False, None, False, "noise")
    if source == "bn_inversion":  # labels are the targets only with the cross-entropy term
        return SourceTraits(source, "calibration_bn_inversion", True, config["bn_inversion"]["ce_weight"] > 0, None,
                            True, "images")
    found = filtered_source(source, config)
    if found is None:
        raise KeyError(source)
    base, name = found
    of = traits(base, config)
    return SourceTraits(source, "calibration_filtered", True, of.labelled, of.generator, name == "bn_distance",
                        "images", base, name)


def sources_of(config: Mapping[str, Any]) -> list[SourceTraits]:
    """The traits of every configured source (``experiment.sources``), in config order."""
    return [traits(s, config) for s in config["experiment"]["sources"]]
