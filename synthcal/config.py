"""Configuration: validation with one clear message, the files a configuration names, and derived values.

:func:`validate_config` fills the schema's defaults into a config dict (in place; :mod:`synthcal.schema`), fills
the quantization protocol's values and raises :class:`ConfigError` naming the offending key for an unknown key, a
wrong type or an inconsistent entry; :func:`check_local_paths` checks the local files it names before any job runs.

    python -m synthcal.config configs/offline.yaml   # check a configuration (over config.yaml) without running
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from synthcal.algorithms import active, check_algorithms, setting
from synthcal.architectures import ARCHITECTURES
from synthcal.io import ChecksumError, check_checksum_target, file_digest
from synthcal.schema import ConfigError, check_schema, resolve_protocol
from synthcal.sources.registry import FILTERS, filtered_source, known_sources

__all__ = ["ConfigError", "NORMALIZATIONS", "check_local_paths", "load_config", "merge", "normalization",
           "read_yaml", "resolve_fallbacks", "teacher_dump_settings", "validate_config"]

#: Input normalisation presets: (mean, std) of RGB values in [0, 1].
NORMALIZATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # chenyaofo/image-classification-codebase conf/cifar10.conf (the zoo's training recipe)
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    # akamaster/pytorch_resnet_cifar10 trainer.py
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults into ``config`` (in place) and check it; returns ``config``.

    Raises:
        ConfigError: one message naming the first offending key.
    """
    check_schema(config)
    resolve_protocol(config)
    _check_consistency(config)
    return config


def _check_consistency(config: dict[str, Any]) -> None:
    sources = known_sources(config)
    for source in config["experiment"]["sources"]:
        if source not in sources:
            raise ConfigError(f"config key 'experiment.sources' names {source!r}; known sources: "
                              f"{', '.join(sources)} (the teacher's source is named by 'teacher.name'; a filtered "
                              f"source is <base>_<filter>, filter one of {', '.join(FILTERS)})")
    cal = config["calibration"]
    too_big = [k for k in config["experiment"]["calibration_sizes"] if k > cal["n_per_class"]]
    if too_big:
        raise ConfigError(f"config key 'experiment.calibration_sizes' has {too_big}, more images per class than a "
                          f"calibration folder holds ('calibration.n_per_class' = {cal['n_per_class']})")
    check_algorithms(config)
    accuracy_aware = [a for a in active(config) if a.kind == "accuracy_aware"]
    if (cal["cifar10_full_train"] and "cifar10" in config["experiment"]["sources"]
            and any(setting(config, a, "accuracy_aware", "validation") == "holdout" for a in accuracy_aware)):
        raise ConfigError("config key 'calibration.cifar10_full_train' calibrates the cifar10 source on every "
                          "training image, so no real image is left for 'quantization.accuracy_aware.validation: "
                          "holdout'; use validation 'calibration', or cifar10_full_train false")
    for algorithm in accuracy_aware:
        key = ("quantization.accuracy_aware.models" if algorithm.base is None or "models" not in
               config["quantization"]["variants"][algorithm.name] else f"quantization.variants.{algorithm.name}.models")
        for name in algorithm.models or ():
            if name not in config["models"]:
                raise ConfigError(f"config key '{key}' names {name!r}, which is not an entry of 'models'")
    models = config["models"]
    for name in config["experiment"]["models"]:
        if name not in models:
            raise ConfigError(
                f"config key 'experiment.models' names {name!r}, which is not an entry of 'models' "
                f"(defined: {', '.join(sorted(models)) or 'none'})")
    for name, entry in models.items():
        _check_model(name, entry)
    _check_feature_network(config)


def _check_feature_network(config: Mapping[str, Any]) -> None:
    """The network that helps train the teacher: a PyTorch-form 'models' entry, never one of experiment.models."""
    if config["teacher"]["provider"] != "trained":  # an inactive provider's settings are not checked
        return
    trained = config["teacher"]["trained"]
    name, key = trained["feature_network"], "teacher.trained.feature_network"
    needs = trained["discriminator"] == "projected" or trained["classifier_weight"] > 0
    if name is None:
        if needs:
            raise ConfigError(f"config key '{key}' is needed by teacher.trained.discriminator 'projected' and "
                              "teacher.trained.classifier_weight > 0: name a 'models' entry (a pretrained classifier "
                              "that is not one of experiment.models)")
        return
    if name not in config["models"]:
        raise ConfigError(f"config key '{key}' names {name!r}, which is not an entry of 'models' "
                          f"(defined: {', '.join(sorted(config['models'])) or 'none'})")
    if name in config["experiment"]["models"]:
        raise ConfigError(f"config key '{key}' names {name!r}, one of experiment.models: the experiment's "
                          "classifiers measure the teacher's label agreement and are calibrated with its images, so "
                          "the network that trains the teacher must be another one (e.g. akamaster_resnet44)")
    fmt = config["models"][name]["format"]
    if fmt not in ("builtin", "export", "python"):
        raise ConfigError(f"config key '{key}' names {name!r}, a model of format {fmt}: the teacher's training "
                          "needs its PyTorch module (format builtin, export or python)")


def _check_model(name: str, entry: Mapping[str, Any]) -> None:
    """One catalogue entry: the keys its ``format`` needs, and no key that it ignores."""
    fmt, weights, key = entry["format"], entry["weights"], f"models.{name}"
    has_file = bool(weights.get("path") or weights.get("url"))
    if fmt == "builtin":
        if not entry["arch"]:
            raise ConfigError(f"config key '{key}.arch' is needed for format builtin (or set '{key}.format')")
        if entry["arch"] not in ARCHITECTURES:
            raise ConfigError(f"config key '{key}.arch': unknown architecture {entry['arch']!r}; "
                              f"known: {', '.join(sorted(ARCHITECTURES))}")
    elif entry["arch"]:
        raise ConfigError(f"config key '{key}.arch' is only for format builtin; this model's format is {fmt}")
    if fmt == "python" and not entry["factory"]:
        raise ConfigError(f"config key '{key}.factory' is needed for format python: module:function returning a "
                          "torch.nn.Module")
    if fmt != "python" and (entry["factory"] or entry["python_path"]):
        raise ConfigError(f"config keys '{key}.factory' and '.python_path' are only for format python")
    if weights.get("train") is not None:
        if fmt != "builtin":
            raise ConfigError(f"config key '{key}.weights.train' trains a built-in architecture; this model's format is "
                              f"{fmt}: give its file as '{key}.weights.path' instead")
        if has_file:
            raise ConfigError(f"config key '{key}.weights' has both 'train' and a 'path' or 'url': keep one (train "
                              "trains the weights here; path or url reads them)")
        has_file = True
    if fmt != "python" and not has_file:
        raise ConfigError(f"config key '{key}.weights' needs a 'path' (local file), a 'url', or 'train' (format "
                          f"builtin) for format {fmt}")
    if fmt == "openvino" and weights.get("url") and not weights.get("path"):
        raise ConfigError(f"config key '{key}.weights.url': an OpenVINO IR is two files; give the local .xml as "
                          f"'{key}.weights.path' (its .bin beside it)")
    if entry["fuse"] and (fmt != "builtin" or not entry["arch"].startswith("repvgg")):
        raise ConfigError(f"config key '{key}.fuse' is only valid for format builtin with a repvgg_* architecture")


def resolve_fallbacks(config: dict[str, Any], base: str | Path = ".") -> list[str]:
    """Where a local copy is named with ``download_if_missing: true`` (CIFAR-10, a model's weights) and is not there,
    drop the local path so that its ``url`` is downloaded instead (in place); returns one notice per fallback taken,
    which the run's plan prints. Without the flag a missing local file is an error (:func:`check_local_paths`)."""
    notices = []
    cifar = config["data"]["cifar10"]
    if cifar["local_path"] and cifar["download_if_missing"] and not (Path(base) / cifar["local_path"]).exists():
        notices.append(f"data.cifar10.local_path {cifar['local_path']} is not there: downloading data.cifar10.url")
        cifar["local_path"] = None
    for name, entry in config["models"].items():
        weights = entry["weights"]
        if (weights.get("path") and weights.get("download_if_missing") and weights.get("url")
                and not (Path(base) / weights["path"]).exists()):
            notices.append(f"models.{name}.weights.path {weights['path']} is not there: downloading "
                           f"models.{name}.weights.url")
            weights["path"] = None
    return notices


def check_local_paths(config: Mapping[str, Any], base: str | Path = ".") -> None:
    """Check that every local file the experiment uses exists (relative paths: from ``base``), that NVIDIA's code is
    where the stylegan2_ada provider needs it, and that the judge is not the teacher's guide.

    Raises:
        ConfigError: naming the key, the missing path and the fix, so a typo fails at start-up, not hours later.
    """
    cifar = config["data"]["cifar10"]
    # (key, path, what setting the key to null would do instead: None where nothing can replace the file)
    checks: list[tuple[str, str | None, str | None]] = [
        ("data.cifar10.local_path", cifar["local_path"], "set it to null to download data.cifar10.url")]
    bases = {(filtered_source(s, config) or (s,))[0] for s in config["experiment"]["sources"]}
    teacher = config["teacher"]
    uses_teacher = teacher["name"] in bases or ("distylegan" in bases and not config["distylegan"]["pretrained"])
    if uses_teacher:
        provider = teacher["provider"]
        if provider == "stylegan2_ada":
            checks.append(("teacher.stylegan2_ada.pickle.path", teacher["stylegan2_ada"]["pickle"]["path"],
                           "set it to null to download teacher.stylegan2_ada.pickle.url"))
            _check_stylegan2_repo(teacher["stylegan2_ada"]["repo"], Path(base))
        elif provider in ("torchscript", "dump", "export"):
            key = f"teacher.{provider}.path"
            if not teacher[provider]["path"]:
                raise ConfigError(f"config key '{key}' must name a file for teacher.provider '{provider}'")
            checks.append((key, teacher[provider]["path"], None))
        elif provider == "python":
            if not teacher["python"]["factory"]:
                raise ConfigError("config key 'teacher.python.factory' must name module:function for "
                                  "teacher.provider 'python'")
            checks.append(("teacher.python.python_path", teacher["python"]["python_path"], None))
        elif provider == "trained" and teacher["trained"]["feature_network"] in config["models"]:
            checks += _model_paths(config, teacher["trained"]["feature_network"])
    if "distylegan" in bases:
        checks.append(("distylegan.pretrained", config["distylegan"]["pretrained"], None))
    if "fractal" in bases:
        checks.append(("fractal.colorizer_dir", config["fractal"]["colorizer_dir"], None))
    quality = config["quality"]
    if quality["enabled"]:
        checks.append(("quality.inception.path", quality["inception"]["path"],
                       "set it to null to download quality.inception.url" if quality["inception"]["url"] else None))
        if quality["fid_extractor"] != "auto":
            checks.append(("quality.fid_extractor", quality["fid_extractor"], "set it to auto"))
    judge = quality["judge"] if quality["enabled"] else None
    for m in list(config["experiment"]["models"]) + ([judge] if judge in config["models"] else []):
        checks += _model_paths(config, m)
    for key, value, alternative in checks:
        if value and not (Path(base) / value).exists():
            raise ConfigError(f"config key '{key}': {value} does not exist (relative paths start at "
                              f"{Path(base).resolve()}); fix the path" + (f", or {alternative}" if alternative else ""))
    _check_judge(config, Path(base))
    if cifar["local_path"]:
        try:
            check_checksum_target(Path(base) / cifar["local_path"], cifar["checksum"])
        except ChecksumError as exc:
            raise ConfigError(f"config key 'data.cifar10.checksum' {exc}") from None


def _model_paths(config: Mapping[str, Any], name: str) -> list[tuple[str, str | None, str | None]]:
    """The local files of a models entry to check: its weights (and an IR's .bin) and its python_path."""
    entry = config["models"][name]
    path = entry["weights"]["path"]
    download = f"set it to null to download models.{name}.weights.url" if entry["weights"]["url"] else None
    checks = [(f"models.{name}.weights.path", path, download), (f"models.{name}.python_path", entry["python_path"], None)]
    if entry["format"] == "openvino" and path:
        checks.append((f"models.{name}.weights.path (the IR's .bin)", str(Path(path).with_suffix(".bin")), None))
    return checks


def _check_stylegan2_repo(repo: str | None, base: Path) -> None:
    """A user's checkout of NVIDIA's stylegan2-ada-pytorch (dnnlib, torch_utils), which the pickle needs; null
    downloads the code (the fetch_stylegan2_code rule)."""
    fix = "point the key to your checkout of https://github.com/NVlabs/stylegan2-ada-pytorch, or set it to null to " \
          "download NVIDIA's code (teacher.stylegan2_ada.code_url)"
    if not repo:
        return
    folder = base / repo
    missing = [name for name in ("dnnlib", "torch_utils") if not (folder / name).is_dir()]
    if missing:
        state = "does not exist" if not folder.exists() else f"has no {' or '.join(missing)} folder"
        raise ConfigError(f"config key 'teacher.stylegan2_ada.repo': {repo} {state} (NVIDIA's stylegan2-ada-pytorch "
                          f"checkout, needed to load the pickle): {fix}")


def weights_identity(entry: Mapping[str, Any], base: Path = Path(".")) -> str | None:
    """What identifies a model entry's weights: the sha256 of its local file, else its configured sha256 (or
    prefix), else, for trained weights, the architecture and training settings; None when unknown (a download
    without checksum, a factory without checkpoint)."""
    weights = entry["weights"]
    if weights.get("train") is not None:
        train = {k: v for k, v in weights["train"].items() if k not in ("threads", "checkpoint_every")}
        return f"train:{entry['arch']}:{json.dumps(train, sort_keys=True)}"
    if weights.get("path"):
        if (base / weights["path"]).is_file():
            return file_digest(base / weights["path"])
        checksum = weights.get("checksum") or ""
        return checksum.partition(":")[2] if checksum.startswith("sha256:") else None
    return weights.get("sha256") or None


def _same_weights(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    if a.startswith("train:") or b.startswith("train:"):
        return a == b
    return a.startswith(b) or b.startswith(a)


def _check_judge(config: Mapping[str, Any], base: Path) -> None:
    """The network that judges label agreement (quality.judge, else each experiment model) must not have the
    weights of the network that guided the teacher (teacher.trained.feature_network), compared by checksum."""
    judge = config["quality"]["judge"]
    if judge is not None and judge not in config["models"]:
        raise ConfigError(f"config key 'quality.judge' names {judge!r}, which is not an entry of 'models' "
                          f"(defined: {', '.join(sorted(config['models'])) or 'none'})")
    teacher = config["teacher"]
    guide = teacher["trained"]["feature_network"] if teacher["provider"] == "trained" else None
    if guide is None or guide not in config["models"]:
        return
    guide_id = weights_identity(config["models"][guide], base)
    judges = [("quality.judge", judge)] if judge else [("experiment.models", m) for m in config["experiment"]["models"]]
    for key, name in judges:
        if name == guide or _same_weights(weights_identity(config["models"][name], base), guide_id):
            raise ConfigError(
                f"config key '{key}' names {name!r}, whose weights are those of the network that guided the teacher "
                f"({guide!r}, teacher.trained.feature_network; same checksum): label agreement judged by the guide "
                "rewards the prototypes it taught. Set 'quality.judge' to a network of another family and recipe "
                "(e.g. a models entry with weights.train)")


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML config file as a dict.

    Raises:
        ConfigError: the file is missing, is not valid YAML (naming the file, line and column) or is not a mapping.
    """
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML ({problem}); fix the file there (indentation, a missing "
                          "closing bracket or quote)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds keys at the top level, not a {type(data).__name__}")
    return data


def load_config(*paths: str | Path) -> dict[str, Any]:
    """Read YAML files (later ones override earlier ones, dicts merged recursively) and validate."""
    merged: dict[str, Any] = {}
    for path in paths:
        merge(merged, read_yaml(path))
    return validate_config(merged)


def main(argv: list[str] | None = None) -> int:
    """``python -m synthcal.config [FILE ...]``: check config files as the workflow will (over config.yaml): YAML
    syntax (with file and line, which Snakemake's own message for --configfile lacks), the schema, consistency and
    local files. Prints the first problem, or that the configuration is valid."""
    import sys

    files = list(argv if argv is not None else sys.argv[1:])
    if files[:1] in (["-h"], ["--help"]):
        print(main.__doc__)
        return 0
    base = Path(__file__).resolve().parents[1] / "config.yaml"
    try:
        config = load_config(*([base] if base.exists() else []), *files)
        resolve_fallbacks(config)
        check_local_paths(config)
    except ConfigError as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 1
    print(f"valid: {' + '.join(str(f) for f in ([base] if base.exists() else []) + files)}")
    return 0


def merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict update, as snakemake applies ``--configfile`` over ``configfile:`` (lists are replaced)."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def teacher_dump_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the configured teacher provider's dump depends on, and nothing else: the ``teacher_dump``
    rule's params, so that editing an inactive provider's key (``teacher.torchscript.z_dim`` with provider
    ``trained``, say) reruns nothing. Keyword arguments of :func:`synthcal.gan.teachers.make_dump`."""
    teacher = config["teacher"]
    provider = teacher["provider"]
    if provider == "dump":  # imported as it is
        return {"provider": provider}
    settings = {"provider": provider, "n_per_class": teacher["n_per_class"], "seed": config["seed"],
                "latent": teacher["latent"], "batch_size": teacher["batch_size"], "device": teacher["device"]}
    if provider == "stylegan2_ada":
        sg = teacher["stylegan2_ada"]
        # a local pickle is checked against its own optional checksum; a download was checked by the download rule
        settings.update(repo=sg["repo"], truncation_psi=sg["truncation_psi"],
                        checksum=sg["pickle"]["checksum"] if sg["pickle"]["path"] else None)
    elif provider in ("torchscript", "export"):
        settings["z_dim"] = teacher[provider]["z_dim"]
    elif provider == "python":
        settings.update(z_dim=teacher["python"]["z_dim"], factory=teacher["python"]["factory"],
                        python_path=teacher["python"]["python_path"])
    return settings


def normalization(entry: Mapping[str, Any]) -> tuple[list[float], list[float]]:
    """(mean, std) of a model entry's ``normalization`` (preset name or explicit values)."""
    norm = entry["normalization"]
    if isinstance(norm, str):
        mean, std = NORMALIZATIONS[norm]
        return list(mean), list(std)
    return [float(v) for v in norm["mean"]], [float(v) for v in norm["std"]]


if __name__ == "__main__":
    raise SystemExit(main())
