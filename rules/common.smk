# Shared helpers: config validation, the experiment grid, paths and per-model parameters.
from pathlib import Path
from urllib.parse import urlparse

from snakemake.exceptions import WorkflowError

from synthcal.config import ConfigError, normalization, validate_config

try:
    validate_config(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None


LIB = Path(workflow.basedir) / "synthcal"
MODELS = config["experiment"]["models"]
SOURCES = config["experiment"]["sources"]
ALGORITHMS = config["experiment"]["algorithms"]
RES = "results"


wildcard_constraints:
    model="[A-Za-z0-9_]+",
    source="[A-Za-z0-9_]+",
    algorithm="[a-z_]+",
    filename="[A-Za-z0-9_.\-]+",


def lib(*modules):
    """Library modules a rule's script imports: inputs, so that editing them reruns the rule."""
    return [str(LIB / m) for m in modules]


def model_entry(wildcards):
    return config["models"][wildcards.model]


def model_mean_std(wildcards):
    return normalization(model_entry(wildcards))


def weights_filename(entry):
    return Path(urlparse(entry["weights"]["url"]).path).name


def weights_file(wildcards):
    """A local checkpoint path from config, or the download location of the checkpoint's URL."""
    weights = model_entry(wildcards)["weights"]
    if weights["path"]:
        return weights["path"]
    return f"resources/weights/{weights_filename(model_entry(wildcards))}"


def weights_download(wildcards):
    """(url, sha256, config key) of the catalogue entry whose URL ends in the requested file name."""
    for name, entry in config["models"].items():
        if entry["weights"]["url"] and weights_filename(entry) == wildcards.filename:
            return entry["weights"]["url"], entry["weights"]["sha256"], f"models.{name}.weights.path"
    raise WorkflowError(f"no model in config downloads a file named {wildcards.filename}")


def calibration_folder(wildcards):
    """The calibration folder a (model, source) pair is calibrated on."""
    return f"{RES}/calibration/{wildcards.source}"


def final_targets():
    """The tables of every configured algorithm (table1a is the default algorithm's, in the paper's shape)."""
    targets = [f"{RES}/tables/{algorithm}_quantization.csv" for algorithm in ALGORITHMS]
    if "default" in ALGORITHMS:
        targets.append(f"{RES}/tables/table1a.csv")
    return targets
