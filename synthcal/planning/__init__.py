"""The experiment plan: what a validated configuration runs, stage by stage, and every path it writes.

The workflow's rules (built once in ``rules/common.smk`` as ``PLAN``) ask one planner per stage what goes in, what
comes out and with which settings, as a rule file reads: ``rules/models.smk`` asks ``PLAN.models``,
``rules/quantize.smk`` ``PLAN.quantization``, and so on.

* :mod:`~synthcal.planning.grid` - the experiment's axes: models, sources (their traits), repeats, folders;
* :mod:`~synthcal.planning.data` - downloads and CIFAR-10;
* :mod:`~synthcal.planning.models` - classifiers' files, the train provider, the code that builds a model;
* :mod:`~synthcal.planning.teacher`, :mod:`~synthcal.planning.distillation` - the GAN chain;
* :mod:`~synthcal.planning.calibration` - calibration folders and their settings;
* :mod:`~synthcal.planning.quantization` - the algorithms as data, jobs, inputs, resources;
* :mod:`~synthcal.planning.evaluation` - predictions, label agreement, speed;
* :mod:`~synthcal.planning.reports` - tables, image quality, realism, figures;
* :mod:`~synthcal.planning.paths` - every path, spelled once.

Nothing here runs a job or imports more than the standard library, pyyaml and jsonschema (planning must be fast:
every ``snakemake`` start and dry run parses it), so the plan is tested in milliseconds, without Snakemake.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthcal.planning import paths
from synthcal.planning.calibration import CalibrationPlan
from synthcal.planning.data import DataPlan
from synthcal.planning.distillation import DistillationPlan
from synthcal.planning.evaluation import EvaluationPlan
from synthcal.planning.grid import Grid
from synthcal.planning.models import ModelsPlan
from synthcal.planning.quantization import QuantizationPlan
from synthcal.planning.reports import ReportsPlan
from synthcal.planning.teacher import TeacherPlan

__all__ = ["Plan", "paths"]


class Plan:
    """Every stage's planner for one validated configuration (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], root: str | Path | None = None) -> None:
        self.config = config
        self.grid = Grid(config)
        self.models = ModelsPlan(self.grid, root or Path(__file__).resolve().parents[2])
        self.data = DataPlan(self.grid, self.models)
        self.teacher = TeacherPlan(self.grid, self.models, self.data)
        self.distillation = DistillationPlan(self.grid)
        self.calibration = CalibrationPlan(self.grid, self.models, self.distillation)
        self.quantization = QuantizationPlan(self.grid, self.models)
        self.evaluation = EvaluationPlan(self.grid, self.quantization)
        self.reports = ReportsPlan(self.grid, self.data, self.distillation, self.calibration, self.quantization,
                                   self.evaluation)

    def training_runs(self) -> dict[str, str]:
        """The GAN training runs the configured sources need: ``{run folder under results/: label}``."""
        runs = {}
        if self.teacher.trains():
            runs["teacher/trained"] = "teacher (conditional GAN)"
        if self.distillation.trains():
            runs["distylegan"] = "DiStyleGAN"
        return runs

    def notices(self) -> list[str]:
        """What the configuration leaves out that a user may not expect (printed with the cost estimate)."""
        out = []
        reference = self.config["statistics"]["reference"]
        if reference is not None and reference not in self.grid.sources:
            out.append(f"statistics.reference {reference!r} is not in experiment.sources: the tables carry intervals "
                       "but no verdicts (add it to the sources, or name another reference)")
        return out

    def final_targets(self) -> list[str]:
        """Tables, reports, figures, the GAN runs' figures, the teacher's gate and the sample grids."""
        targets = self.reports.targets()
        targets += [paths.fill(p, run=run) for run in self.training_runs()
                    for p in (paths.LOSS_CURVES, paths.SAMPLES_FIGURE)]
        if self.teacher.used():
            targets.append(paths.TEACHER_GATE)  # the dump's quality gate
        return targets + self.calibration.sample_grids()
