"""Evaluation: every IR's predictions on the test split (FP32 per model, INT8 per variant, source and repeat), the
label agreement of every calibration set with its judge, and the speed of each model's IRs.

Rules: ``evaluate_fp32``, ``evaluate_int8`` (``rules/evaluate.smk``), ``label_agreement``, ``throughput``
(``rules/reports.smk``).
"""

from __future__ import annotations

from typing import Any

from synthcal.planning import paths
from synthcal.planning.grid import Grid
from synthcal.planning.quantization import QuantizationPlan


class EvaluationPlan:
    """What is evaluated and with what (see the module docstring)."""

    def __init__(self, grid: Grid, quantization: QuantizationPlan) -> None:
        self.grid, self.quantization, self.config = grid, quantization, grid.config
        self.quality = self.config["quality"]

    @staticmethod
    def fp32_record(model: str, grid: Grid) -> dict[str, Any]:
        return {"arch": grid.arch_label(model), "precision": "fp32", "algorithm": None, "source": None, "repeat": None}

    # --------------------------------------------------------------------------------------------- test accuracy
    def records(self, algorithm: str) -> dict[str, list[str]]:
        """Evaluation summaries, their per-image predictions and quantization reports of one algorithm's grid, every
        repeat (summaries and predictions in the same order)."""
        pairs = self.quantization.pairs(algorithm)
        models = sorted({m for m, _ in pairs})
        int8 = [(m, s, r) for m, s in pairs for r in self.quantization.reps(algorithm)]
        return {
            "fp32": [paths.fill(paths.EVALUATION_FP32, model=m, ext="json") for m in models],
            "fp32_predictions": [paths.fill(paths.EVALUATION_FP32, model=m, ext="npz") for m in models],
            "int8": [paths.fill(paths.EVALUATION_INT8, model=m, variant=algorithm, source=s, rep=r, ext="json")
                     for m, s, r in int8],
            "int8_predictions": [paths.fill(paths.EVALUATION_INT8, model=m, variant=algorithm, source=s, rep=r,
                                            ext="npz") for m, s, r in int8],
            "quantization": self.quantization.outputs(algorithm),
        }

    def size_sweep(self) -> list[str]:
        """The evaluations of the calibration-size sweep."""
        return [paths.fill(paths.EVALUATION_INT8, model=m, variant=f"size/{k}", source=s, rep=r, ext="json")
                for m in self.grid.models for s in self.grid.sources for k in self.quantization.sizes
                for r in self.grid.reps]

    # --------------------------------------------------------------------------------------------- label agreement
    def judges(self) -> list[str]:
        """The models that judge label agreement: ``quality.judge``, else every experiment model."""
        judge = self.quality["judge"]
        return [judge] if judge else list(self.grid.models)

    def agreement_pairs(self) -> list[tuple[str, str]]:
        """(judge, calibration set) of every label-agreement job: the judge on every calibration set, or without a
        judge each experiment model on the sets it is calibrated with (its own folder of a per-model source)."""
        if self.quality["judge"]:
            return [(self.quality["judge"], name) for name in self.grid.calibration_sets()]
        return [(m, self.grid.set_name(m, s)) for m in self.grid.models for s in self.grid.model_sources(m)]

    def agreement_files(self) -> list[str]:
        return [paths.fill(paths.LABEL_AGREEMENT, judge=j, qset=s) for j, s in self.agreement_pairs()]

    # --------------------------------------------------------------------------------------------- speed
    def speed_records(self, algorithm: str | None = None) -> list[str]:
        """The speed measurements (one per model and measured algorithm, over its INT8 IRs of repeat 0): those an
        algorithm's table reports (its own, or its built-in base's: the same graph; none for a simulated one), or
        every one."""
        measured = self.quantization.speed_measured()
        algorithms = measured if algorithm is None else [a for a in [self.quantization.speed_owner(algorithm)]
                                                         if a in measured]
        return [paths.fill(paths.THROUGHPUT, algorithm=a, model=m) for a in algorithms
                for m in dict.fromkeys(m for m, _ in self.quantization.pairs(a))]

    def speed_irs(self, algorithm: str, model: str) -> list[str]:
        """The INT8 IRs a speed measurement compares with the FP32 one: every source's, repeat 0."""
        return [paths.fill(paths.INT8_XML, variant=algorithm, source=s, rep="", model=model)
                for s in self.grid.model_sources(model)]

    def throughput_runtime(self) -> int:
        """Minutes of a speed measurement: FP32 and every source's INT8 IR, alternating, repeated, with slack."""
        speed = self.config["throughput"]
        return 10 + int(2 * (len(self.grid.sources) + 1) * speed["repeats"] * speed["seconds"] / 60)
