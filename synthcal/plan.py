"""The experiment plan: every job a validated configuration asks for, its paths and its settings.

The workflow's rules ask a :class:`Plan` (built once from the config in ``rules/common.smk``) what to run: the
(model, source) grid of each quantization variant, the calibration folder a job reads, the image sets of the
quality report, the GAN trainings the sources need, the targets of ``rule all``, the settings each rule passes to
its script, and what a job may use (threads, memory, minutes, GPUs). Nothing here runs a job, so the plan is
tested in milliseconds, without Snakemake.

Paths are relative to the directory Snakemake runs in: outputs under ``results/``, downloads under
``resources/``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from synthcal.classifiers import PYTORCH_FORMATS, factory_source
from synthcal.codedeps import module_fingerprint
from synthcal.config import filter_bases, filtered_source, is_labelled, is_per_model, needs_batchnorm, normalization
from synthcal.costs import classifier_training_minutes, gan_training_minutes, measured
from synthcal.gan.train import TrainSettings
from synthcal.quantize import AccuracyAwareSettings, DefaultQuantizationSettings
from synthcal.sources.bn_inversion import BNInversionSettings

#: Where NVIDIA's stylegan2-ada-pytorch code is downloaded to when teacher.stylegan2_ada.repo is null.
STYLEGAN2_CODE = "resources/stylegan2-ada-pytorch"
#: Quantization variants (``results/quantized/<variant>/``): the two algorithms of the paper and the
#: calibration-size sweep ``size/<k>`` (default algorithm on nested subsets of k images per class).
ALGORITHMS = ("default", "accuracy_aware")
#: The paper's Table 1a / 1b.
PAPER_TABLES = {"default": "table1a", "accuracy_aware": "table1b"}
#: GAN training runs (folder under results/) and how logs and figures name them.
TRAINING_RUNS = {"teacher/trained": "teacher (conditional GAN)", "distylegan": "DiStyleGAN"}


@dataclass(frozen=True)
class Download:
    """A file the workflow downloads: from ``url``, checked against ``checksum`` (``md5:``/``sha256:``/None); ``keys``
    names the config keys of its URL, its checksum and the local copy that replaces it (for error messages)."""

    url: str
    checksum: str | None
    keys: dict[str, str | None]


@dataclass(frozen=True)
class QualitySet:
    """An image set of the IS/FID report (synthcal.quality_sets): its kind, the stored input it is drawn from
    (None for generated sets), the settings of a generated set and what its images are, in words."""

    kind: str
    source: str | None
    settings: dict[str, Any]
    description: str | None


def dataclass_settings(cls: type, section: Mapping[str, Any], **fixed: Any) -> dict[str, Any]:
    """The fields of dataclass ``cls`` that ``section`` sets (plus ``fixed``): settings derived from the dataclass,
    not from a list kept beside it."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {**{k: v for k, v in section.items() if k in names}, **fixed}


def gpus(device: str) -> int:
    """GPUs a job requests (Slurm --gpus; locally limited by the profile's resources): 1 for device cuda[:n].
    ``auto`` requests none, so on a cluster it runs on CPUs."""
    return 1 if str(device).startswith("cuda") else 0


class Plan:
    """What a validated configuration runs (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        experiment = config["experiment"]
        self.models: list[str] = list(experiment["models"])
        self.sources: list[str] = list(experiment["sources"])
        self.algorithms: list[str] = list(experiment["algorithms"])
        self.sizes: list[int] = list(experiment["calibration_sizes"])
        self.teacher = config["teacher"]
        self.teacher_name: str = self.teacher["name"]
        self.distylegan = config["distylegan"]
        self.quality = config["quality"]
        self.accuracy_aware = config["quantization"]["accuracy_aware"]
        #: repeat suffixes of the paths: "" for repeat 0, ".r<k>" for repeat k (seed + k)
        self.reps: list[str] = [""] + [f".r{r}" for r in range(1, config["repeats"])]

    # ------------------------------------------------------------------------------------------- the grid
    def variant_models(self, variant: str) -> list[str]:
        """Models of a quantization variant: accuracy-aware runs only on its listed models."""
        if variant == "accuracy_aware":
            return [m for m in self.models if m in self.accuracy_aware["models"]]
        return self.models

    def grid(self, variant: str) -> list[tuple[str, str]]:
        """(model, source) pairs a quantization variant runs on (those :meth:`left_out` excluded)."""
        return [(m, s) for m in self.variant_models(variant) for s in self.sources if not self.left_out(m, s)]

    def pairs(self) -> list[tuple[str, str]]:
        """Every (model, source) of the experiment that runs (label agreement, the speed measurement)."""
        return [(m, s) for m in self.models for s in self.sources if not self.left_out(m, s)]

    def left_out(self, model: str, source: str) -> str | None:
        """Why a (model, source) cannot run, or None: the sources that need a PyTorch module with BatchNorm
        (BN inversion, the bn_distance filter) for a model that is an ONNX file or an OpenVINO IR."""
        fmt = self.model(model)["format"]
        if fmt not in PYTORCH_FORMATS and needs_batchnorm(source, self.config):
            return (f"left out: {source} needs a PyTorch model with BatchNorm layers, and {model} is an {fmt} "
                    "model (no PyTorch module)")
        return None

    def model_sources(self, model: str) -> list[str]:
        """The sources that run for a model (in config order)."""
        return [s for s in self.sources if not self.left_out(model, s)]

    def left_out_rows(self, variant: str) -> list[dict[str, str]]:
        """The (model, source) pairs of a variant's models that are left out, with the reason, for the tables."""
        return [{"model": m, "arch": self.arch_label(m), "source": s, "note": self.left_out(m, s)}
                for m in self.variant_models(variant) for s in self.sources if self.left_out(m, s)]

    def active_algorithms(self) -> list[str]:
        """The configured algorithms that have a model to run."""
        return [a for a in self.algorithms if self.grid(a)]

    @staticmethod
    def rep_index(rep: str) -> int:
        """Repeat number of a path suffix: 0 for "", k for ".r<k>"."""
        return int(rep[2:]) if rep else 0

    def rep_seed(self, rep: str) -> int:
        return int(self.config["seed"]) + self.rep_index(rep)

    # ------------------------------------------------------------------------------------------- models
    def model(self, name: str) -> Mapping[str, Any]:
        return self.config["models"][name]

    def mean_std(self, name: str) -> tuple[list[float], list[float]]:
        return normalization(self.model(name))

    def weights_file(self, name: str) -> str | None:
        """A model's file (a checkpoint, or the .onnx, .xml or .pt2): the local path from config, or where its URL
        is downloaded to; None for a python factory without checkpoint."""
        weights = self.model(name)["weights"]
        if weights.get("train") is not None:
            return f"results/models/{self.trained_owner(name)}/trained/weights.pt"
        if weights["path"]:
            return weights["path"]
        return f"resources/weights/{_file_name(weights['url'])}" if weights["url"] else None

    def trained_owner(self, name: str) -> str:
        """The model whose ``train`` job trains ``name``'s weights: a fused RepVGG shares its multi-branch twin's."""
        return self.multi_branch_twin(name)

    def trained_models(self) -> list[str]:
        """Models (of the catalogue) whose weights the workflow trains, once per owner."""
        return sorted({self.trained_owner(n) for n, e in self.config["models"].items()
                       if e["weights"].get("train") is not None})

    def classifier_training_runtime(self, name: str) -> int:
        """Wall-time limit (minutes) of a classifier training (:func:`synthcal.costs.classifier_training_minutes`)."""
        train = self.model(name)["weights"]["train"]
        images = 10 * train["images_per_class"] if train["images_per_class"] else 50_000
        return classifier_training_minutes(self.model(name)["arch"], train["epochs"], images)

    def training_settings(self, name: str) -> dict[str, Any]:
        """:class:`synthcal.models.training.ClassifierTraining` fields of a trained model (seed null = ``seed``)."""
        train = dict(self.model(name)["weights"]["train"])
        train.pop("threads")
        if train["seed"] is None:
            train["seed"] = int(self.config["seed"])
        return train

    def model_files(self, name: str) -> dict[str, str]:
        """What a job that loads the model reads: its file, and an IR's .bin."""
        path = self.weights_file(name)
        if path is None:
            return {}
        files = {"weights": path}
        if self.model(name)["format"] == "openvino":
            files["weights_bin"] = str(Path(path).with_suffix(".bin"))
        return files

    def filter_inputs(self, model: str, base: str) -> dict[str, str]:
        """What a filtering job reads: the pool, and the model (its file, or its FP32 IR where it has no PyTorch
        module: confidence and energy need logits only)."""
        inputs = {"pool": self.filter_pool(base)[1]}
        if self.model(model)["format"] in PYTORCH_FORMATS:
            return {**inputs, **self.model_files(model)}
        return {**inputs, "fp32": f"results/models/{model}/fp32.xml"}

    def arch_label(self, name: str) -> str:
        """What the tables' ``arch`` column says of a model: its built-in architecture, else its format (and
        factory)."""
        entry = self.model(name)
        if entry["format"] == "builtin":
            return entry["arch"]
        return f"python {entry['factory']}" if entry["format"] == "python" else entry["format"]

    def classifier(self, name: str) -> dict[str, Any]:
        """The :class:`synthcal.classifiers.Classifier` fields of a model but its file (a job's input)."""
        entry = self.model(name)
        return {"format": entry["format"], "arch": entry["arch"], "factory": entry["factory"],
                "python_path": entry["python_path"], "fuse": entry["fuse"], "name": f"models.{name}"}

    def factory_code(self, name: str) -> dict[str, str]:
        """The fingerprint of a python factory's source file (its edits rerun what it computes), else {}."""
        entry = self.model(name)
        if entry["format"] != "python":
            return {}
        source = factory_source(entry["factory"], entry["python_path"])
        return {str(source): module_fingerprint(source)} if source else {}

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

    # ------------------------------------------------------------------------------------------- sources
    def is_per_model(self, source: str) -> bool:
        return is_per_model(source, self.config)

    def calibration_folder(self, model: str, source: str, rep: str = "") -> str:
        """The calibration folder a (model, source, repeat) is calibrated on (per-model sources: one per model)."""
        if self.is_per_model(source):
            return f"results/calibration/{source}{rep}/{self.multi_branch_twin(model)}"
        return f"results/calibration/{source}{rep}"

    def set_folder(self, name: str) -> str:
        """The folder of a calibration set named as :meth:`calibration_sets` names it (``source`` or
        ``source/model``), repeat 0."""
        source, _, model = name.partition("/")
        return self.calibration_folder(model, source)

    def per_model_sets(self, source: str) -> list[str]:
        """``source/model`` names of a per-model source's folders for the experiment's models (twins once, models
        the source is left out for skipped)."""
        return [f"{source}/{m}" for m in dict.fromkeys(self.multi_branch_twin(m) for m in self.models)
                if not self.left_out(m, source)]

    def calibration_sets(self) -> list[str]:
        """Every calibration folder of repeat 0 by name (per model for per-model sources): one sample grid each,
        one quality set each."""
        sets: list[str] = []
        for source in self.sources:
            sets += self.per_model_sets(source) if self.is_per_model(source) else [source]
        return sets

    def source_settings(self, source: str) -> dict[str, Any]:
        """The settings a generated source's images depend on (fractal, noise), for its calibration rule and its
        quality set alike; only the active option's (the noise's std only when it is Gaussian)."""
        if source == "fractal":
            return {k: self.config["fractal"][k] for k in ("points", "chains", "fill_rate", "colorizer_dir")}
        if source == "noise":
            noise = self.config["noise"]
            return {"distribution": noise["distribution"],
                    "std": noise["std"] if noise["distribution"] == "gaussian" else None}
        raise ValueError(f"source {source!r} has no generation settings")

    def filter_bases(self) -> list[str]:
        return list(filter_bases(self.config))

    def filter_pool(self, base: str) -> tuple[str, str]:
        """(kind, input) of a filtered source's pool: the teacher's dump, DiStyleGAN, or the real training set."""
        kind = filter_bases(self.config)[base]
        paths = {"dump": "results/teacher/dump", "generator": self.distylegan_files()["generator"],
                 "images": "results/data/cifar10/train.npz"}
        return kind, paths[kind]

    def bn_inversion_settings(self) -> dict[str, Any]:
        """:class:`synthcal.sources.bn_inversion.BNInversionSettings` fields from ``bn_inversion``."""
        return dataclass_settings(BNInversionSettings, self.config["bn_inversion"])

    def generators_used(self) -> dict[str, bool]:
        """Which generators the configured sources draw from (themselves or filtered): the teacher, DiStyleGAN."""
        bases = {(filtered_source(s, self.config) or (s,))[0] for s in self.sources}
        uses_student = "distylegan" in bases
        return {"teacher": self.teacher_name in bases or (uses_student and not self.distylegan["pretrained"]),
                "distylegan": uses_student}

    # ------------------------------------------------------------------------------------------- GAN chain
    def teacher_files(self) -> dict[str, str]:
        """What the configured teacher provider reads: a pickle, a .pt2 or TorchScript file, a trained run or a
        dump (a python factory reads no file: its source is in :meth:`teacher_code`)."""
        provider = self.teacher["provider"]
        if provider == "stylegan2_ada":
            pickle = self.teacher["stylegan2_ada"]["pickle"]
            return {"teacher": pickle["path"] or f"resources/teacher/{_file_name(pickle['url'])}",
                    "repo": self.teacher["stylegan2_ada"]["repo"] or STYLEGAN2_CODE}
        if provider == "trained":
            return {"teacher": "results/teacher/trained/generator.pt",
                    "teacher_config": "results/teacher/trained/config.json",
                    "teacher_training": "results/teacher/trained/training.json"}
        if provider == "python":
            return {}
        return {"teacher": self.teacher[provider]["path"]}

    def teacher_code(self) -> dict[str, str]:
        """The fingerprint of a python teacher factory's source file (its edits redo the dump), else {}."""
        if self.teacher["provider"] != "python":
            return {}
        source = factory_source(self.teacher["python"]["factory"], self.teacher["python"]["python_path"])
        return {str(source): module_fingerprint(source)} if source else {}

    def distylegan_files(self) -> dict[str, str]:
        """The student to sample: the released checkpoint named in config, or the one trained by the workflow."""
        folder = self.distylegan["pretrained"] or "results/distylegan"
        return {"generator": f"{folder}/generator.pt", "generator_config": f"{folder}/config.json"}

    def training_runs(self) -> list[str]:
        """The GAN training runs the configured sources need (keys of :data:`TRAINING_RUNS`)."""
        runs = []
        if self.teacher["provider"] == "trained" and self.generators_used()["teacher"]:
            runs.append("teacher/trained")
        if self.generators_used()["distylegan"] and not self.distylegan["pretrained"]:
            runs.append("distylegan")
        return runs

    def train_settings(self, run: str) -> dict[str, Any]:
        """:class:`synthcal.gan.train.TrainSettings` fields of a training run from its config section."""
        if run == "teacher/trained":
            return dataclass_settings(TrainSettings, self.teacher["trained"], mode="gan", seed=self.config["seed"])
        section = {k: v for k, v in self.distylegan.items() if k not in ("discriminator", "diffaugment")}
        return dataclass_settings(TrainSettings, section, mode="distill", seed=self.config["seed"])

    def feature_network(self, run: str) -> dict[str, Any] | None:
        """The frozen pretrained classifier that helps a training run (teacher.trained.feature_network), as what the
        job needs to load it: ``classifier`` (:meth:`classifier` fields), ``mean``/``std``; None if the run has none."""
        name = self.teacher["trained"]["feature_network"] if run == "teacher/trained" else None
        if name is None:
            return None
        mean, std = self.mean_std(name)
        return {"model": name, "classifier": self.classifier(name), "mean": mean, "std": std,
                "code": self.factory_code(name)}

    def train_inputs(self, run: str) -> dict[str, str]:
        """What a training job reads beside its data: the feature network's file (``feature_*`` keys)."""
        helper = self.feature_network(run)
        if helper is None:
            return {}
        return {f"feature_{key}": path for key, path in self.model_files(helper["model"]).items()}

    def train_resources(self, run: str) -> dict[str, int]:
        """mem_mb, runtime (minutes) and gpu of a training job."""
        settings = self.train_settings(run)
        if run == "teacher/trained":
            device, mem = self.teacher["device"], 8000
            images = 10 * settings["images_per_class"] if settings["images_per_class"] else 50000
        else:
            device, images, mem = self.distylegan["device"], 10 * self.teacher["n_per_class"], 12000
        minutes = gan_training_minutes(run, device, settings["ngf"], settings["ndf"], settings["batch_size"], images,
                                       settings["epochs"])
        return {"mem_mb": mem, "runtime": minutes, "gpu": gpus(device)}

    # ------------------------------------------------------------------------------------------- quantization
    def default_settings(self) -> dict[str, Any]:
        """:class:`synthcal.quantize.DefaultQuantizationSettings` fields (after the protocol filled the keys left
        null), ``batch_size`` included."""
        quantization = self.config["quantization"]
        return dataclass_settings(DefaultQuantizationSettings, quantization["default"],
                                  batch_size=quantization["batch_size"])

    def alignment_needed(self) -> bool:
        """Whether quantization asks for channel alignment (then each model's verdict is an input)."""
        return bool(self.config["quantization"]["default"]["channel_alignment"])

    def alignment_settings(self) -> dict[str, Any]:
        """The settings a model's channel-alignment verdict is computed with: those that shape NNCF's graph and
        pipeline (not the calibration subset or batch)."""
        settings = self.default_settings()
        return {k: settings[k] for k in ("preset", "target_device", "fast_bias_correction", "range_estimator",
                                         "range_statistics", "ignored_types")}

    def accuracy_aware_settings(self) -> dict[str, Any]:
        return dataclass_settings(AccuracyAwareSettings, self.accuracy_aware)

    def quantization_job(self, variant: str) -> dict[str, Any]:
        """What a quantization variant runs: ``algorithm``, the default algorithm's ``settings``, the accuracy-aware
        settings and validation data (accuracy_aware), or the images per class of the sweep (``size/<k>``: every
        image of the nested subset used)."""
        settings = self.default_settings()
        if variant == "accuracy_aware":
            return {"algorithm": "accuracy_aware", "settings": settings, "per_class": None,
                    "aa_settings": self.accuracy_aware_settings(), "validation": self.accuracy_aware["validation"]}
        if variant.startswith("size/"):
            return {"algorithm": "default", "settings": {**settings, "subset_size": None},
                    "per_class": int(variant.removeprefix("size/")), "aa_settings": None, "validation": None}
        return {"algorithm": "default", "settings": settings, "per_class": None, "aa_settings": None,
                "validation": None}

    def quantize_inputs(self, model: str, variant: str, source: str, rep: str) -> dict[str, str]:
        """What a quantization job reads: the FP32 IR, the calibration folder, the held-out split (accuracy-aware
        with holdout validation) and the model's channel-alignment verdict (when alignment is asked for)."""
        inputs = {"xml": f"results/models/{model}/fp32.xml", "bin": f"results/models/{model}/fp32.bin",
                  "calibration": self.calibration_folder(model, source, rep)}
        if self.holdout_needed(variant):
            inputs["holdout"] = "results/data/cifar10/holdout.npz"
        if self.alignment_needed():
            inputs["alignment"] = f"results/models/{model}/channel_alignment.json"
        return inputs

    def holdout_needed(self, variant: str) -> bool:
        return variant == "accuracy_aware" and self.accuracy_aware["validation"] == "holdout"

    def quantization_resources(self, variant: str) -> dict[str, int]:
        """Accuracy-aware quantization validates on every reverted operation: more memory, hours."""
        return {"mem_mb": 8000, "runtime": 600} if variant == "accuracy_aware" else {"mem_mb": 6000, "runtime": 60}

    def int8_record(self, model: str, variant: str, source: str, rep: str) -> dict[str, Any]:
        """What an INT8 evaluation record says of itself (the tables join on it)."""
        job = self.quantization_job(variant)
        record = {"arch": self.arch_label(model), "precision": "int8", "algorithm": job["algorithm"],
                  "source": source, "repeat": self.rep_index(rep)}
        if job["per_class"]:
            record["images_per_class"] = job["per_class"]  # the calibration-size sweep
        return record

    # ------------------------------------------------------------------------------------------- records
    def algorithm_inputs(self, algorithm: str) -> dict[str, list[str]]:
        """Evaluation summaries, their per-image predictions and quantization records of one algorithm's grid, every
        repeat (summaries and predictions in the same order)."""
        pairs = self.grid(algorithm)
        fp32 = sorted({f"results/evaluation/{m}/fp32" for m, _ in pairs})
        int8 = [f"results/evaluation/{m}/{algorithm}/{s}{r}" for m, s in pairs for r in self.reps]
        return {
            "fp32": [f"{f}.json" for f in fp32], "fp32_predictions": [f"{f}.npz" for f in fp32],
            "int8": [f"{f}.json" for f in int8], "int8_predictions": [f"{f}.npz" for f in int8],
            "quantization": [f"results/quantized/{algorithm}/{s}{r}/{m}/quantization.json"
                             for m, s in pairs for r in self.reps],
        }

    def notices(self) -> list[str]:
        """What the configuration leaves out that a user may not expect (printed with the cost estimate)."""
        out = []
        reference = self.config["statistics"]["reference"]
        if reference is not None and reference not in self.sources:
            out.append(f"statistics.reference {reference!r} is not in experiment.sources: the tables carry intervals "
                       "but no verdicts (add it to the sources, or name another reference)")
        return out

    def statistics_settings(self) -> dict[str, Any]:
        """:class:`synthcal.statistics.StatisticsSettings` fields from ``statistics`` (its seed defaults to ``seed``)."""
        section = self.config["statistics"]
        return {**section, "seed": self.config["seed"] if section["seed"] is None else section["seed"]}

    def table_inputs(self, algorithm: str) -> dict[str, list[str]]:
        """The records a table of ``algorithm`` aggregates: evaluations, quantization reports and speed."""
        return {**self.algorithm_inputs(algorithm), "speed": self.speed_records(algorithm)}

    def speed_records(self, algorithm: str | None = None) -> list[str]:
        """The speed measurements (one per model and algorithm, over its INT8 IRs of repeat 0)."""
        algorithms = [algorithm] if algorithm else self.active_algorithms()
        return [f"results/reports/throughput/{a}/{m}.json" for a in algorithms
                for m in dict.fromkeys(m for m, _ in self.grid(a))]

    def size_sweep_inputs(self) -> list[str]:
        return [f"results/evaluation/{m}/size/{k}/{s}{r}.json" for m in self.models for s in self.sources
                for k in self.sizes for r in self.reps]

    def throughput_runtime(self) -> int:
        """Minutes of a speed measurement: FP32 and every source's INT8 IR, alternating, repeated, with slack."""
        speed = self.config["throughput"]
        return 10 + int(2 * (len(self.sources) + 1) * speed["repeats"] * speed["seconds"] / 60)

    # ------------------------------------------------------------------------------------------- label agreement
    def judges(self) -> list[str]:
        """The models that judge label agreement: ``quality.judge``, else every experiment model."""
        judge = self.quality["judge"]
        return [judge] if judge else list(self.models)

    def agreement_pairs(self) -> list[tuple[str, str]]:
        """(judge, calibration set) of every label-agreement job: the judge on every calibration set, or without a
        judge each experiment model on the sets it is calibrated with (its own folder of a per-model source)."""
        if self.quality["judge"]:
            return [(self.quality["judge"], name) for name in self.calibration_sets()]
        return [(m, f"{s}/{self.multi_branch_twin(m)}" if self.is_per_model(s) else s)
                for m in self.models for s in self.model_sources(m)]

    @staticmethod
    def agreement_file(judge: str, set_name: str) -> str:
        return f"results/reports/label_agreement/{judge}/{set_name}.json"

    def agreement_files(self) -> list[str]:
        return [self.agreement_file(j, s) for j, s in self.agreement_pairs()]

    def gate_agreement_files(self) -> list[str]:
        """The label agreement of the teacher's dump with every judge (the teacher's gate)."""
        return [self.agreement_file(j, self.teacher_name) for j in self.judges()]

    # ------------------------------------------------------------------------------------------- quality
    def quality_sets(self) -> list[str]:
        """Image sets of the IS/FID report: every calibration source (per model for per-model ones)."""
        return self.calibration_sets()

    def cell_sets(self) -> list[list[str]]:
        """[model, source, quality set name] of every pair that runs: the set whose measures describe the cell's
        calibration images (``source/model`` for a per-model source, its multi-branch twin's for a fused model)."""
        return [[m, s, f"{s}/{self.multi_branch_twin(m)}" if self.is_per_model(s) else s] for m, s in self.pairs()]

    def realism_enabled(self) -> bool:
        return bool(self.quality["enabled"] and self.quality["realism"]["enabled"])

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

    def set_labelled(self, name: str) -> bool:
        """Whether a quality set's labels are classes (``source`` or ``source/model``)."""
        return is_labelled(name.partition("/")[0], self.config)

    def realism_settings(self) -> dict[str, Any]:
        """:class:`synthcal.realism.RealismSettings` fields."""
        realism = self.quality["realism"]
        return {k: realism[k] for k in ("nearest_k", "kid_subset_size", "kid_subsets", "min_per_class")} | {
            "seed": int(self.config["seed"])}

    def quality_set(self, name: str) -> QualitySet:
        """A quality set (synthcal.quality_sets): real test images for the FID reference and real training images
        for cifar10 (never the same image), the teacher's dump, samples of DiStyleGAN, fractals and noise
        generated with the calibration source's settings, and the per-model folders (BN inversion, filtered)."""
        if name == "reference":
            return QualitySet("images", "results/data/cifar10/test.npz", {}, "real CIFAR-10 test images")
        if name == "train_reference":
            return QualitySet("images", "results/data/cifar10/train.npz", {"subset": "realism_reference"},
                              "real CIFAR-10 training images (the realism reference)")
        if name == "cifar10":
            return QualitySet("images", "results/data/cifar10/train.npz", {}, "real CIFAR-10 training images")
        if name == self.teacher_name:
            return QualitySet("images", "results/teacher/dump", {},
                              f"the teacher's dump ({self.teacher['provider']} provider)")
        if name == "distylegan":
            return QualitySet("generator", self.distylegan_files()["generator"], {},
                              "DiStyleGAN samples (Gaussian latents)")
        if name in ("fractal", "noise"):
            return QualitySet(name, None, self.source_settings(name), None)
        return QualitySet("images", f"results/calibration/{name}", {}, f"the {name} calibration folder")

    def quality_inputs(self, name: str) -> dict[str, str]:
        """What a quality set's feature job reads: the stored images it is drawn from (if any) and the network."""
        source = self.quality_set(name).source
        return {**({"source": source} if source else {}), **self.quality_network()}

    def quality_network(self) -> dict[str, str]:
        """What the feature jobs run: the OpenVINO IR of the feature network, or its PyTorch weights."""
        if self.quality["backend"] == "openvino":
            return {"extractor": "results/models/inception/extractor.xml"}
        return self.inception_weights()

    def inception_weights(self) -> dict[str, str]:
        """torch-fidelity's Inception weights (IS and FID) when configured: the local path or the download."""
        inception = self.quality["inception"]
        if inception["path"]:
            return {"inception": inception["path"]}
        if inception["url"]:
            return {"inception": f"resources/inception/{_file_name(inception['url'])}"}
        return {}

    def inception_checksum(self) -> str | None:
        """The checksum a local copy of the Inception weights must match (its own, optional); None for a download,
        which the download rule checked."""
        inception = self.quality["inception"]
        return inception["checksum"] if inception["path"] else None

    def quality_images(self, name: str) -> int:
        if name == "train_reference":
            return self.quality["realism"]["n_reference"]
        return self.quality["n_reference"] if name == "reference" else self.quality["n_images"]

    def quality_resources(self) -> dict[str, int]:
        """Memory for N images' features (float64 pool features and logits), minutes at the measured rate."""
        n = max(self.quality["n_images"], self.quality["n_reference"])
        rate = measured()["images_per_s"]["quality_features"]
        return {"mem_mb": 4000 + n // 10, "runtime": 30 + int(1.5 * n / rate / 60)}

    # ------------------------------------------------------------------------------------------- downloads
    def downloads(self) -> dict[str, Download]:
        """Every file the configuration downloads, by destination: CIFAR-10 without a local copy, the checkpoints
        of the experiment's models without a local path, NVIDIA's pickle, torch-fidelity's Inception weights."""
        found: dict[str, Download] = {}
        cifar = self.config["data"]["cifar10"]
        if not cifar["local_path"]:
            found["resources/downloads/cifar-10-python.tar.gz"] = Download(
                cifar["url"], f"md5:{cifar['md5']}",
                {"url": "data.cifar10.url", "checksum": "data.cifar10.md5", "local": "data.cifar10.local_path"})
        judge = [self.quality["judge"]] if self.quality["enabled"] and self.quality["judge"] else []
        for name in dict.fromkeys(self.models + judge):
            weights = self.model(name)["weights"]
            if not weights["path"] and weights.get("train") is None:
                found.setdefault(self.weights_file(name), Download(
                    weights["url"], f"sha256:{weights['sha256']}" if weights["sha256"] else None,
                    {k: f"models.{name}.weights.{v}" for k, v in (("url", "url"), ("checksum", "sha256"),
                                                                   ("local", "path"))}))
        pickle = self.teacher["stylegan2_ada"]["pickle"]
        if self.teacher["provider"] == "stylegan2_ada" and not pickle["path"]:
            found[self.teacher_files()["teacher"]] = Download(
                pickle["url"], f"sha256:{pickle['sha256']}" if pickle["sha256"] else None,
                {k: f"teacher.stylegan2_ada.pickle.{v}" for k, v in (("url", "url"), ("checksum", "sha256"),
                                                                     ("local", "path"))})
        inception = self.quality["inception"]
        if self.quality["enabled"] and inception["url"] and not inception["path"]:
            found[self.inception_weights()["inception"]] = Download(
                inception["url"], f"sha256:{inception['sha256']}" if inception["sha256"] else None,
                {k: f"quality.inception.{v}" for k, v in (("url", "url"), ("checksum", "sha256"), ("local", "path"))})
        return found

    def download(self, path: str) -> dict[str, Any]:
        """The parameters of one download (url, checksum, keys), by destination."""
        return dataclasses.asdict(self.downloads()[path])

    def download_pattern(self) -> str:
        """A wildcard constraint matching exactly the destinations below ``resources/`` (none: never matches)."""
        return "|".join(re.escape(p.removeprefix("resources/")) for p in self.downloads()) or "(?!)"

    # ------------------------------------------------------------------------------------------- targets
    def final_targets(self) -> list[str]:
        """Tables of every configured algorithm (with the paper's Table 1a/1b), reports, figures and sample grids."""
        algorithms = self.active_algorithms()
        targets = [f"results/tables/{a}_quantization.csv" for a in algorithms]
        targets += [f"results/tables/{PAPER_TABLES[a]}.csv" for a in algorithms]
        targets += ["results/tables/throughput.csv", "results/reports/label_agreement.csv",
                    "results/figures/accuracy_drop.png", "results/figures/per_class_drop.png",
                    "results/tables/drop_predictors.csv", "results/figures/drop_predictors.png"]
        targets += [f"results/{run}/{name}.png" for run in self.training_runs() for name in ("loss_curves", "samples")]
        if self.generators_used()["teacher"]:
            targets.append("results/teacher/gate.json")  # the dump's quality gate
        if self.quality["enabled"]:
            targets += ["results/reports/image_quality.csv", "results/tables/table2.csv",
                        "results/figures/drop_vs_fid.png"]
        if self.realism_enabled():
            targets += ["results/reports/realism.csv", "results/reports/realism_per_class.csv"]
        if self.fusion_pairs():
            targets.append("results/tables/repvgg_fusion.csv")
        if self.sizes:
            targets += ["results/tables/calibration_size.csv", "results/figures/drop_vs_calibration_size.png"]
        return targets + [f"results/figures/samples/{name}.png" for name in self.calibration_sets()]


def _file_name(url: str) -> str:
    return Path(urlparse(url).path).name
