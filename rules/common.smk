# Shared helpers: config validation, the experiment grid, paths and per-model parameters.
from pathlib import Path
from urllib.parse import urlparse

from snakemake.exceptions import WorkflowError

from synthcal.config import PER_MODEL_SOURCES, ConfigError, check_local_paths, normalization, validate_config

try:
    validate_config(config)
    check_local_paths(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None


LIB = Path(workflow.basedir) / "synthcal"
MODELS = config["experiment"]["models"]
TEACHER = config["teacher"]
TEACHER_NAME = TEACHER["name"]
DSG = config["distylegan"]
SOURCES = config["experiment"]["sources"]
ALGORITHMS = config["experiment"]["algorithms"]
RES = "results"


wildcard_constraints:
    model="[A-Za-z0-9_]+",
    source="[A-Za-z0-9_]+",
    algorithm="[a-z_]+",
    filename="[A-Za-z0-9_.-]+",


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


def cifar10_input(wildcards):
    """The local CIFAR-10 copy named in config, else the downloaded canonical archive."""
    local = config["data"]["cifar10"]["local_path"]
    return local if local else "resources/downloads/cifar-10-python.tar.gz"


def calibration_folder(wildcards):
    """The calibration folder a (model, source) pair is calibrated on (per-model sources: one per model)."""
    if wildcards.source in PER_MODEL_SOURCES:
        return f"{RES}/calibration/{wildcards.source}/{wildcards.model}"
    return f"{RES}/calibration/{wildcards.source}"


def sample_grids():
    """One sample-grid figure per source (per model for per-model sources)."""
    grids = []
    for source in SOURCES:
        if source in PER_MODEL_SOURCES:
            grids += [f"{RES}/figures/samples/{source}/{model}.png" for model in MODELS]
        else:
            grids.append(f"{RES}/figures/samples/{source}.png")
    return grids


def algorithm_inputs(algorithm):
    def inputs(wildcards):
        grid = [(m, s) for m in MODELS for s in SOURCES]
        return {
            "fp32": [f"{RES}/evaluation/{m}/fp32.json" for m in MODELS],
            "int8": [f"{RES}/evaluation/{m}/{algorithm}/{s}.json" for m, s in grid],
            "quantization": [f"{RES}/quantized/{algorithm}/{s}/{m}/quantization.json" for m, s in grid],
        }

    return inputs



def teacher_dump_inputs(wildcards):
    """What the configured teacher provider reads: a pickle, a TorchScript file, a trained run or a dump folder."""
    provider = TEACHER["provider"]
    if provider == "stylegan2_ada":
        pickle = TEACHER["stylegan2_ada"]["pickle"]
        return {"teacher": pickle["path"] or f"resources/teacher/{Path(urlparse(pickle['url']).path).name}"}
    if provider == "trained":
        return {"teacher": f"{RES}/teacher/trained/generator.pt", "teacher_config": f"{RES}/teacher/trained/config.json"}
    return {"teacher": TEACHER[provider]["path"]}


def distylegan_inputs(wildcards):
    """The student to sample: the released checkpoint named in config, or the one trained by the workflow."""
    folder = DSG["pretrained"] or f"{RES}/distylegan"
    return {"generator": f"{folder}/generator.pt", "generator_config": f"{folder}/config.json"}


def train_settings(section, mode):
    """TrainSettings fields of a training run from its config section (the knobs reach the rule as params)."""
    keys = ["epochs", "batch_size", "ngf", "ndf", "z_dim", "project_dim", "lr_g", "lr_d", "betas",
            "checkpoint_every"]
    if mode == "distill":
        keys += ["gstep", "lambda_pixel", "pixel_schedule", "pixel_decay", "lambda_adv_kd", "lambda_adv_gan",
                 "lambda_gan_d"]
    return {"mode": mode, "seed": config["seed"], **{k: section[k] for k in keys}}


def train_runtime(n_images, epochs, device):
    """Wall-time limit in minutes: measured paper-width throughput (35 img/s on 2 CPU cores), generous on GPU."""
    rate = 30 if device == "cpu" else 1000
    return int(60 + 1.5 * epochs * n_images / rate / 60)


def final_targets():
    """The tables of every configured algorithm (table1a is the default algorithm's, in the paper's shape)."""
    targets = [f"{RES}/tables/{algorithm}_quantization.csv" for algorithm in ALGORITHMS]
    if "default" in ALGORITHMS:
        targets.append(f"{RES}/tables/table1a.csv")
    return targets + sample_grids()
