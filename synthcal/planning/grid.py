"""The experiment's axes, which every stage planner shares: models, calibration sources (with their traits, from
:mod:`synthcal.sources.registry`), repeats, which (model, source) pairs run, and where a pair's calibration folder
is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthcal.architectures import PYTORCH_FORMATS
from synthcal.config import normalization
from synthcal.planning import paths
from synthcal.sources.registry import SourceTraits, traits


class Grid:
    """What a validated configuration runs, across stages."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        experiment = config["experiment"]
        self.models: list[str] = list(experiment["models"])
        self.sources: list[str] = list(experiment["sources"])
        self.teacher_name: str = config["teacher"]["name"]
        #: repeat suffixes of the paths: "" for repeat 0, ".r<k>" for repeat k (seed + k)
        self.reps: list[str] = [""] + [f".r{r}" for r in range(1, config["repeats"])]
        self.seed = int(config["seed"])

    # --------------------------------------------------------------------------------------------- repeats
    @staticmethod
    def rep_index(rep: str) -> int:
        """Repeat number of a path suffix: 0 for "", k for ".r<k>"."""
        return int(rep[2:]) if rep else 0

    def rep_seed(self, rep: str) -> int:
        return self.seed + self.rep_index(rep)

    # --------------------------------------------------------------------------------------------- models
    def model(self, name: str) -> Mapping[str, Any]:
        return self.config["models"][name]

    def mean_std(self, name: str) -> tuple[list[float], list[float]]:
        """(mean, std) of a model entry's ``normalization`` (a preset name or explicit values)."""
        return normalization(self.model(name))

    def arch_label(self, name: str) -> str:
        """What the tables' ``arch`` column says of a model: its built-in architecture, else its format (and
        factory)."""
        entry = self.model(name)
        if entry["format"] == "builtin":
            return entry["arch"]
        return f"python {entry['factory']}" if entry["format"] == "python" else entry["format"]

    def multi_branch_twin(self, name: str) -> str:
        """The model whose per-model calibration folder ``name`` uses: a fused model shares the folder of its
        multi-branch twin (same architecture and weights, fuse off), since BN inversion and the filters compute
        from the multi-branch form either way; any other model uses its own."""
        entry = self.model(name)
        if entry["fuse"]:
            for other_name, other in self.config["models"].items():
                if not other["fuse"] and other["arch"] == entry["arch"] and other["weights"] == entry["weights"]:
                    return other_name
        return name

    def fusion_pairs(self) -> list[tuple[str, str]]:
        """(multi-branch, fused) model pairs of the experiment: same architecture and weights, fuse off and on."""
        return [(self.multi_branch_twin(m), m) for m in self.models
                if self.multi_branch_twin(m) != m and self.multi_branch_twin(m) in self.models]

    # --------------------------------------------------------------------------------------------- sources
    def traits(self, source: str) -> SourceTraits:
        return traits(source, self.config)

    def is_per_model(self, source: str) -> bool:
        return self.traits(source).per_model

    def left_out(self, model: str, source: str) -> str | None:
        """Why a (model, source) cannot run, or None: the sources that need a PyTorch module with BatchNorm
        (BN inversion, the bn_distance filter) for a model that is an ONNX file or an OpenVINO IR."""
        fmt = self.model(model)["format"]
        if fmt not in PYTORCH_FORMATS and self.traits(source).needs_batchnorm:
            return (f"left out: {source} needs a PyTorch model with BatchNorm layers, and {model} is an {fmt} "
                    "model (no PyTorch module)")
        return None

    def model_sources(self, model: str) -> list[str]:
        """The sources that run for a model (in config order)."""
        return [s for s in self.sources if not self.left_out(model, s)]

    def pairs(self) -> list[tuple[str, str]]:
        """Every (model, source) of the experiment that runs."""
        return [(m, s) for m in self.models for s in self.model_sources(m)]

    def generators_used(self) -> dict[str, bool]:
        """Which generators the configured sources draw from (themselves or filtered): the teacher, DiStyleGAN; the
        teacher is needed by DiStyleGAN too unless a released DiStyleGAN is sampled."""
        uses = {self.traits(s).generator for s in self.sources}
        uses_student = "distylegan" in uses
        return {"teacher": "teacher" in uses or (uses_student and not self.config["distylegan"]["pretrained"]),
                "distylegan": uses_student}

    # --------------------------------------------------------------------------------------------- folders
    def calibration_folder(self, model: str, source: str, rep: str = "") -> str:
        """The calibration folder a (model, source, repeat) is calibrated on (per-model sources: one per model)."""
        if self.is_per_model(source):
            return paths.fill(paths.CALIBRATION_PER_MODEL, source=source, rep=rep, model=self.multi_branch_twin(model))
        return paths.fill(paths.CALIBRATION, source=source, rep=rep)

    def set_name(self, model: str, source: str) -> str:
        """The name of a (model, source)'s calibration set of repeat 0: ``source``, or ``source/model`` for a
        per-model source (the multi-branch twin's for a fused model)."""
        return f"{source}/{self.multi_branch_twin(model)}" if self.is_per_model(source) else source

    def set_folder(self, name: str) -> str:
        """The folder of a calibration set named as :meth:`calibration_sets` names it, repeat 0."""
        source, _, model = name.partition("/")
        return self.calibration_folder(model, source)

    def per_model_sets(self, source: str) -> list[str]:
        """``source/model`` names of a per-model source's folders for the experiment's models (twins once, models
        the source is left out for skipped)."""
        return [f"{source}/{m}" for m in dict.fromkeys(self.multi_branch_twin(m) for m in self.models)
                if not self.left_out(m, source)]

    def calibration_sets(self) -> list[str]:
        """Every calibration folder of repeat 0 by name: one sample grid each, one quality set each."""
        sets: list[str] = []
        for source in self.sources:
            sets += self.per_model_sets(source) if self.is_per_model(source) else [source]
        return sets

    def set_labelled(self, name: str) -> bool:
        """Whether a calibration set's labels are classes (``source`` or ``source/model``)."""
        return self.traits(name.partition("/")[0]).labelled
