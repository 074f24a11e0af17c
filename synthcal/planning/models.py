"""Models: where each classifier's file comes from (a local path, a download, or the train provider), what a job
that loads one reads, its FP32 IR, and the code a job runs when it builds one (its architecture's or its factory's
modules: part of the job's fingerprint, so that editing them reruns exactly the jobs that build that model).

Rules: ``train_classifier``, ``convert_model``, ``channel_alignment`` (``rules/models.smk``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from synthcal.architectures import PYTORCH_FORMATS, architecture_files
from synthcal.codedeps import code_fingerprint, factory_files, library_modules, module_fingerprint
from synthcal.costs import classifier_training_minutes
from synthcal.planning import paths
from synthcal.planning.grid import Grid
from synthcal.settings import ClassifierTraining, from_section


def file_name(url: str) -> str:
    """The file name of a URL (where a download lands)."""
    return Path(urlparse(url).path).name


class ModelsPlan:
    """The classifiers of the catalogue that the run uses (see the module docstring)."""

    def __init__(self, grid: Grid, root: str | Path) -> None:
        self.grid, self.config = grid, grid.config
        self.root = Path(root)  # the workflow's folder: what the code fingerprints are relative to

    def weights_file(self, name: str) -> str | None:
        """A model's file (a checkpoint, or the .onnx, .xml or .pt2): trained by the workflow, the local path from
        config, or where its URL is downloaded to; None for a python factory without checkpoint."""
        weights = self.grid.model(name)["weights"]
        if weights.get("train") is not None:
            return paths.fill(paths.TRAINED_WEIGHTS, model=self.trained_owner(name))
        if weights["path"]:
            return weights["path"]
        return f"resources/weights/{file_name(weights['url'])}" if weights["url"] else None

    def files(self, name: str) -> dict[str, str]:
        """What a job that loads the model reads: its file, and an IR's .bin."""
        path = self.weights_file(name)
        if path is None:
            return {}
        files = {"weights": path}
        if self.grid.model(name)["format"] == "openvino":
            files["weights_bin"] = str(Path(path).with_suffix(".bin"))
        return files

    def checksum(self, name: str) -> str | None:
        """The checksum a local file must match: its own, optional (a download was checked by the download rule)."""
        weights = self.grid.model(name)["weights"]
        return weights["checksum"] if weights["path"] else None

    def classifier(self, name: str) -> dict[str, Any]:
        """The :class:`synthcal.classifiers.Classifier` fields of a model but its file (a job's input)."""
        entry = self.grid.model(name)
        return {"format": entry["format"], "arch": entry["arch"], "factory": entry["factory"],
                "python_path": entry["python_path"], "fuse": entry["fuse"], "name": f"models.{name}"}

    def code(self, name: str) -> dict[str, str]:
        """The fingerprint of the code a job runs when it builds the model beyond its own imports: a built-in
        architecture's module (and RepVGG's fusion), or a python factory's module with the modules of its tree it
        imports; {} for ONNX, IR and export models (their files are inputs)."""
        entry = self.grid.model(name)
        if entry["format"] == "builtin":
            files = architecture_files(entry["arch"], entry["fuse"])
            files += [m for f in files for m in library_modules(f, self.root)]  # what the modules import
            return code_fingerprint(set(files), self.root) if files else {}
        if entry["format"] == "python":
            return self.factory_code(entry["factory"], entry["python_path"])
        return {}

    def factory_code(self, factory: str, python_path: str | None) -> dict[str, str]:
        """The fingerprint of a user's factory (a model's or the python teacher's): its module and the modules of its
        tree and of the library it imports (:func:`synthcal.codedeps.factory_files`), named relative to
        ``python_path`` or the workflow's folder where they are inside them."""
        bases = [Path(b).resolve() for b in (python_path, self.root) if b]
        out = {}
        for path in factory_files(factory, python_path):
            base = next((b for b in bases if path.is_relative_to(b)), None)
            out[path.relative_to(base).as_posix() if base else str(path)] = module_fingerprint(path)
        return dict(sorted(out.items()))

    def used(self) -> list[str]:
        """Models whose IR the run builds: the experiment's and the judge (the teacher's feature network is read as
        a checkpoint, not converted)."""
        judge = self.config["quality"]["judge"] if self.config["quality"]["enabled"] else None
        return list(dict.fromkeys(self.grid.models + ([judge] if judge else [])))

    # ------------------------------------------------------------------------------------------ the train provider
    def trained_owner(self, name: str) -> str:
        """The model whose ``train`` job trains ``name``'s weights: a fused RepVGG shares its multi-branch twin's."""
        return self.grid.multi_branch_twin(name)

    def trained_models(self) -> list[str]:
        """Models of the catalogue whose weights the workflow trains, once per owner (the rule's wildcard)."""
        return sorted({self.trained_owner(n) for n, e in self.config["models"].items()
                       if e["weights"].get("train") is not None})

    def training_settings(self, name: str) -> ClassifierTraining:
        """The training settings of a trained model (its seed null: the top-level seed)."""
        train = self.grid.model(name)["weights"]["train"]
        return from_section(ClassifierTraining, train, seed=self.grid.seed if train["seed"] is None else train["seed"])

    def training_runtime(self, name: str) -> int:
        """Wall-time limit (minutes) of a classifier training (:func:`synthcal.costs.classifier_training_minutes`)."""
        train = self.grid.model(name)["weights"]["train"]
        images = 10 * train["images_per_class"] if train["images_per_class"] else 50_000
        return classifier_training_minutes(self.grid.model(name)["arch"], train["epochs"], images)

    def training_threads(self, name: str) -> int:
        return self.grid.model(name)["weights"]["train"]["threads"]

    # ------------------------------------------------------------------------------------------ IRs
    @staticmethod
    def ir(name: str) -> dict[str, str]:
        """A model's FP32 IR (``xml``, ``bin``): what quantization, evaluation and label agreement read."""
        return {"xml": paths.fill(paths.FP32_XML, model=name), "bin": paths.fill(paths.FP32_BIN, model=name)}

    def filter_inputs(self, model: str) -> dict[str, str]:
        """What a job that scores images with a model reads: its file, or its FP32 IR where it has no PyTorch module
        (confidence and energy need logits only)."""
        if self.grid.model(model)["format"] in PYTORCH_FORMATS:
            return self.files(model)
        return {"fp32": self.ir(model)["xml"]}
