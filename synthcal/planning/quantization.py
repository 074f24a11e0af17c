"""Quantization: the algorithms as data (name -> backend, kind and settings), which (model, source) pairs each runs
on, what a job reads, the settings it runs with, and what it may use.

A variant of the quantized outputs (``results/quantized/<variant>/``) is an algorithm's name or ``size/<k>``, the
calibration-size sweep (the default algorithm on nested subsets of k images per class, every image used).

Rules: ``quantize`` (``rules/quantize.smk``), ``channel_alignment`` (``rules/models.smk``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from synthcal.algorithms import Algorithm, catalogue
from synthcal.architectures import PYTORCH_FORMATS
from synthcal.planning import paths
from synthcal.planning.grid import Grid
from synthcal.planning.models import ModelsPlan
from synthcal.settings import (
    AccuracyAwareSettings,
    BrevitasSettings,
    DefaultQuantizationSettings,
    from_section,
    to_params,
)


class QuantizationPlan:
    """The quantization grid (see the module docstring)."""

    def __init__(self, grid: Grid, models: ModelsPlan) -> None:
        self.grid, self.models, self.config = grid, models, grid.config
        self.quantization = self.config["quantization"]
        self.catalogue = catalogue(self.config)
        self.algorithms: list[str] = list(self.config["experiment"]["algorithms"])
        self.sizes: list[int] = list(self.config["experiment"]["calibration_sizes"])

    def algorithm(self, variant: str) -> Algorithm:
        """The algorithm a variant runs (the sweep's ``size/<k>`` runs the default algorithm)."""
        return self.catalogue["default" if variant.startswith("size/") else variant]

    def variant_models(self, variant: str) -> list[str]:
        """Models of a variant: an algorithm restricted to some models runs on those of the experiment; the brevitas
        backend on those with a PyTorch module."""
        algorithm = self.algorithm(variant)
        return [m for m in self.grid.models if (algorithm.models is None or m in algorithm.models)
                and not self.backend_left_out(m, algorithm)]

    def backend_left_out(self, model: str, algorithm: Algorithm) -> str | None:
        """Why a model cannot run an algorithm's backend, or None."""
        form = self.grid.model(model)["format"]
        if algorithm.backend == "brevitas" and form not in PYTORCH_FORMATS:
            return (f"left out: the brevitas backend quantizes a PyTorch module, and {model} is an {form} model "
                    "(no PyTorch module)")
        return None

    def reps(self, variant: str) -> list[str]:
        """The calibration draws a variant runs: every repeat, or the first ``repeats`` of a variant that limits
        them."""
        limit = self.algorithm(variant).repeats
        return self.grid.reps[:limit] if limit else list(self.grid.reps)

    def pairs(self, variant: str) -> list[tuple[str, str]]:
        """(model, source) pairs a variant runs on (left-out pairs excluded; a variant's own sources only)."""
        sources = self.algorithm(variant).sources
        return [(m, s) for m in self.variant_models(variant) for s in self.grid.model_sources(m)
                if sources is None or s in sources]

    def left_out_rows(self, variant: str) -> list[dict[str, str]]:
        """The (model, source) pairs of a variant's models that are left out, with the reason, for the tables."""
        algorithm = self.algorithm(variant)
        rows = [{"model": m, "arch": self.grid.arch_label(m), "source": s, "note": self.grid.left_out(m, s)}
                for m in self.variant_models(variant) for s in self.grid.sources if self.grid.left_out(m, s)]
        return rows + [{"model": m, "arch": self.grid.arch_label(m), "source": s, "note": why}
                       for m in self.grid.models if (why := self.backend_left_out(m, algorithm))
                       and (algorithm.models is None or m in algorithm.models) for s in self.grid.sources]

    def active(self) -> list[str]:
        """The configured algorithms that have a model to run."""
        return [a for a in self.algorithms if self.pairs(a)]

    def variant_folders(self) -> list[str]:
        """The top folders of ``results/quantized/``: the algorithms of the catalogue and ``size``, the sweep's."""
        return [*self.catalogue, "size"]

    def variant_pattern(self, backend: str | None = None) -> str:
        """The wildcard constraint of ``{variant}``: the configured algorithms (of one backend) and the sweep (NNCF's);
        a pattern that never matches where there are none."""
        names = [n for n, a in self.catalogue.items() if backend is None or a.backend == backend]
        return "|".join(names + ([r"size/[0-9]+"] if backend in (None, "nncf") else [])) or "(?!)"

    def brevitas_settings(self, variant: str) -> BrevitasSettings:
        """``quantization.brevitas`` with a brevitas variant's changes."""
        return from_section(BrevitasSettings, {**self.quantization["brevitas"],
                                               **self.algorithm(variant).changed("brevitas")})

    # ------------------------------------------------------------------------------------------- settings
    def default_settings(self) -> DefaultQuantizationSettings:
        """``quantization.default`` (after the protocol filled the keys left null) and the batch size."""
        return from_section(DefaultQuantizationSettings, self.quantization["default"],
                            batch_size=self.quantization["batch_size"])

    def accuracy_aware_settings(self) -> AccuracyAwareSettings:
        return from_section(AccuracyAwareSettings, self.quantization["accuracy_aware"])

    def alignment_needed(self) -> bool:
        """Whether quantization asks for channel alignment (then each model's verdict is an input)."""
        return bool(self.quantization["default"]["channel_alignment"])

    def alignment_settings(self) -> dict[str, Any]:
        """The settings a model's channel-alignment verdict is computed with (rule parameters): those that shape
        NNCF's graph and pipeline; the calibration subset and batch, which do not, set to fixed values so that
        changing them does not redo the verdict."""
        return to_params(replace(self.default_settings(), subset_size=None, batch_size=1, channel_alignment=True))

    def aa_section(self, variant: str) -> dict[str, Any]:
        """``quantization.accuracy_aware`` as a variant runs it (its changes applied)."""
        return {**self.quantization["accuracy_aware"], **self.algorithm(variant).changed("accuracy_aware")}

    def job(self, variant: str, source: str) -> dict[str, Any]:
        """What a variant's job on a source runs (rule parameters): the algorithm's ``kind`` and backend, its default
        ``settings`` (a variant's changes applied), the accuracy-aware settings and what they validate on, or the
        images per class of the sweep (every image of the nested subset used)."""
        algorithm = self.algorithm(variant)
        if algorithm.backend == "brevitas":
            return {"algorithm": "brevitas", "backend": "brevitas",
                    "settings": to_params(self.brevitas_settings(variant))}
        settings = replace(self.default_settings(), **algorithm.changed("default"))
        job: dict[str, Any] = {"algorithm": algorithm.kind, "backend": algorithm.backend, "per_class": None,
                               "aa_settings": None, "validation": None, "agreement_fraction": None}
        if algorithm.kind == "accuracy_aware":
            section = self.aa_section(variant)
            aa = replace(self.accuracy_aware_settings(), **{k: v for k, v in algorithm.changed("accuracy_aware").items()
                                                           if k in AccuracyAwareSettings.__dataclass_fields__})
            job.update(aa_settings=to_params(aa), validation=self.validation(variant, source))
            if job["validation"] == "agreement":
                job["agreement_fraction"] = section["agreement_fraction"]
        if variant.startswith("size/"):
            settings = replace(settings, subset_size=None)
            job["per_class"] = int(variant.removeprefix("size/"))
        return {**job, "settings": to_params(settings)}

    def validation(self, variant: str, source: str) -> str:
        """What an accuracy-aware job measures its drop on (``quantization.accuracy_aware.validation``): ``auto``
        is the source's own labels where they are classes, else the data-free agreement with the FP32 model."""
        chosen = self.aa_section(variant)["validation"]
        if chosen == "auto":
            return "calibration" if self.grid.traits(source).labelled else "agreement"
        return chosen

    def holdout_needed(self, variant: str, source: str) -> bool:
        return self.algorithm(variant).kind == "accuracy_aware" and self.validation(variant, source) == "holdout"

    def speed_owner(self, algorithm: str) -> str:
        """The algorithm whose speed measurement an algorithm's table reports: a variant's built-in base when the base
        runs too (the same graph, other constants), else its own."""
        base = self.algorithm(algorithm).base
        return base if base is not None and base in self.active() else algorithm

    def speed_measured(self) -> list[str]:
        """The algorithms that get a speed measurement of their own (none for Brevitas: simulated, not executed)."""
        return [a for a in self.active() if self.speed_owner(a) == a and self.algorithm(a).backend == "nncf"]

    def inputs(self, model: str, variant: str, source: str, rep: str) -> dict[str, str]:
        """What a quantization job reads: the FP32 IR, the calibration folder, the held-out split (accuracy-aware
        with holdout validation) and the model's channel-alignment verdict (when alignment is asked for)."""
        inputs = {"xml": paths.fill(paths.FP32_XML, model=model), "bin": paths.fill(paths.FP32_BIN, model=model),
                  "calibration": self.grid.calibration_folder(model, source, rep)}
        if self.holdout_needed(variant, source):
            inputs["holdout"] = paths.HOLDOUT
        if self.alignment_needed():
            inputs["alignment"] = paths.fill(paths.CHANNEL_ALIGNMENT, model=model)
        return inputs

    def brevitas_inputs(self, model: str, variant: str, source: str, rep: str) -> dict[str, str]:
        """What a Brevitas job reads: the model's file (its PyTorch module) and the calibration folder."""
        return {**self.models.files(model), "calibration": self.grid.calibration_folder(model, source, rep)}

    def resources(self, variant: str) -> dict[str, int]:
        """Accuracy-aware quantization validates on every reverted operation: more memory, hours; GPTQ and GPFQ
        pass the calibration images through the model once per layer."""
        algorithm = self.algorithm(variant)
        if algorithm.kind == "accuracy_aware":
            return {"mem_mb": 8000, "runtime": 600}
        if algorithm.backend == "brevitas":
            slow = self.brevitas_settings(variant).method != "rtn"
            return {"mem_mb": 6000, "runtime": 240 if slow else 60}
        return {"mem_mb": 6000, "runtime": 60}

    def record(self, model: str, variant: str, source: str, rep: str) -> dict[str, Any]:
        """What an INT8 evaluation record says of itself (the tables join on it)."""
        record = {"arch": self.grid.arch_label(model), "precision": "int8", "algorithm": self.algorithm(variant).name,
                  "source": source, "repeat": self.grid.rep_index(rep)}
        if variant.startswith("size/"):
            record["images_per_class"] = int(variant.removeprefix("size/"))  # the calibration-size sweep
        if self.algorithm(variant).backend == "brevitas":
            record.update(precision=self.brevitas_settings(variant).precision, simulated=True)
        return record

    def outputs(self, variant: str) -> list[str]:
        """The quantization reports of a variant, every pair and the repeats it runs."""
        return [paths.fill(paths.QUANTIZATION_REPORT, variant=variant, source=s, rep=r, model=m)
                for m, s in self.pairs(variant) for r in self.reps(variant)]
