"""Calibration: every source's folders (per repeat, per model for the per-model sources), what each source's job
reads and the settings its images depend on, and the sample grids.

Rules: ``calibration_<source>``, ``holdout_cifar10``, ``sample_grid`` (``rules/calibration.smk``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthcal.planning import paths
from synthcal.planning.distillation import DistillationPlan
from synthcal.planning.grid import Grid
from synthcal.planning.models import ModelsPlan
from synthcal.settings import BNInversionSettings, FractalSettings, NoiseSettings, from_section, to_params
from synthcal.sources.registry import FILTERS, filter_bases


class CalibrationPlan:
    """The calibration folders (see the module docstring)."""

    def __init__(self, grid: Grid, models: ModelsPlan, distillation: DistillationPlan) -> None:
        self.grid, self.models, self.distillation, self.config = grid, models, distillation, grid.config
        self.calibration = self.config["calibration"]

    def n_per_class(self) -> int:
        return self.calibration["n_per_class"]

    def cifar10_per_class(self) -> int | None:
        """Images per class of the cifar10 folder: the whole training set with ``cifar10_full_train`` (the authors'
        notebook, None), else ``n_per_class``."""
        return None if self.calibration["cifar10_full_train"] else self.n_per_class()

    def fractal(self) -> FractalSettings:
        return from_section(FractalSettings, self.config["fractal"])

    def noise(self) -> NoiseSettings:
        """The noise's settings: only the active option's (its std only when it is Gaussian)."""
        noise = self.config["noise"]
        return NoiseSettings(noise["distribution"], noise["std"] if noise["distribution"] == "gaussian" else None)

    def bn_inversion(self) -> BNInversionSettings:
        return from_section(BNInversionSettings, self.config["bn_inversion"])

    def colorizer_files(self) -> list[str]:
        """The fractal colouriser's files (Zhang et al.'s model), inputs of the fractal jobs when configured: their
        edits regenerate the fractals."""
        folder = self.config["fractal"]["colorizer_dir"]
        if not folder:
            return []
        return sorted(str(p) for p in Path(folder).iterdir() if p.is_file())

    # --------------------------------------------------------------------------------------------- filtered sources
    def filter_bases(self) -> list[str]:
        return list(filter_bases(self.config))

    @staticmethod
    def filters() -> tuple[str, ...]:
        return FILTERS

    def filter_pool(self, base: str) -> tuple[str, str]:
        """(kind, input) of a filtered source's pool: the teacher's dump, DiStyleGAN, or the real training set."""
        kind = filter_bases(self.config)[base]
        inputs = {"dump": paths.TEACHER_DUMP, "generator": self.distillation.files()["generator"],
                  "images": paths.CIFAR10_TRAIN}
        return kind, inputs[kind]

    def filter_inputs(self, model: str, base: str) -> dict[str, str]:
        """What a filtering job reads: the pool, and the model (its file, or its FP32 IR)."""
        return {"pool": self.filter_pool(base)[1], **self.models.filter_inputs(model)}

    def filter_device(self, base: str) -> str | None:
        return self.config["distylegan"]["device"] if self.filter_pool(base)[0] == "generator" else None

    # --------------------------------------------------------------------------------------------- the holdout
    def holdout_seeds(self) -> list[int]:
        """The seeds of every cifar10 folder, whose images the held-out split leaves out."""
        return [self.grid.rep_seed(r) for r in self.grid.reps]

    # --------------------------------------------------------------------------------------------- sample grids
    def sample_grids(self) -> list[str]:
        return [paths.fill(paths.SAMPLE_GRID, name=name) for name in self.grid.calibration_sets()]

    def settings_of(self, source: str) -> dict[str, Any]:
        """The settings a generated source's images depend on (rule parameters), for its calibration rule and its
        quality set alike."""
        if source == "fractal":
            return to_params(self.fractal())
        if source == "noise":
            return to_params(self.noise())
        raise ValueError(f"source {source!r} has no generation settings")
