# Shared helpers: config validation, the experiment grid, paths and per-model parameters.
from argparse import Namespace
from pathlib import Path
from urllib.parse import urlparse

from snakemake.exceptions import WorkflowError

from synthcal.codedeps import script_fingerprint
from synthcal.config import (
    FILTER_NAMES,
    ConfigError,
    check_local_paths,
    filter_bases,
    filtered_source,
    is_per_model,
    normalization,
    teacher_dump_settings,
    validate_config,
)

try:
    validate_config(config)
    check_local_paths(config)
except ConfigError as exc:
    raise WorkflowError(f"invalid configuration: {exc}") from None


ROOT = Path(workflow.basedir)
MODELS = config["experiment"]["models"]
TEACHER = config["teacher"]
TEACHER_NAME = TEACHER["name"]
DSG = config["distylegan"]
SOURCES = config["experiment"]["sources"]
ALGORITHMS = config["experiment"]["algorithms"]
AA = config["quantization"]["accuracy_aware"]
AA_MODELS = [m for m in MODELS if m in AA["models"]]
QUALITY = config["quality"]
REPS = [""] + [f".r{r}" for r in range(1, config["repeats"])]  # repeat r > 0 uses seed + r
RES = "results"
FILTER_BASES = filter_bases(config)
#: GAN training runs (folder under results/ -> label in logs and figures)
TRAINING_RUNS = {"teacher/trained": "teacher (conditional GAN)", "distylegan": "DiStyleGAN"}


wildcard_constraints:
    model="[A-Za-z0-9_]+",
    source="[A-Za-z0-9_]+",
    algorithm="[a-z_]+",
    filename="[A-Za-z0-9_.-]+",
    rep=r"(|\.r[0-9]+)",


def script_code(script):
    """The `code` parameter of a job, from synthcal.codedeps. It holds one hash per file the script runs (the script
    and the library modules it imports at module level, transitively), each of the code without comments and
    docstrings, so that an edit of behaviour reruns the job and a comment does not (`python -m synthcal.codedeps`
    lists them)."""
    return script_fingerprint(ROOT / "workflow_scripts" / script, ROOT)


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
    """(url, sha256, config key of the weights entry) of the catalogue entry whose URL ends in the file name."""
    for name, entry in config["models"].items():
        if entry["weights"]["url"] and weights_filename(entry) == wildcards.filename:
            return entry["weights"]["url"], entry["weights"]["sha256"], f"models.{name}.weights"
    raise WorkflowError(f"no model in config downloads a file named {wildcards.filename}")


def cifar10_input(wildcards):
    """The local CIFAR-10 copy named in config, else the downloaded canonical archive."""
    local = config["data"]["cifar10"]["local_path"]
    return local if local else "resources/downloads/cifar-10-python.tar.gz"


def rep_index(wildcards):
    """Repeat number of a job: 0 for the plain paths, r for the '.r<r>' ones."""
    rep = getattr(wildcards, "rep", "")
    return int(rep[2:]) if rep else 0


def rep_seed(wildcards):
    return config["seed"] + rep_index(wildcards)


def calibration_folder(wildcards):
    """The calibration folder a (model, source, repeat) is calibrated on (per-model sources: one per model)."""
    rep = getattr(wildcards, "rep", "")
    if is_per_model(wildcards.source, config):
        return f"{RES}/calibration/{wildcards.source}{rep}/{multi_branch_twin(wildcards.model)}"
    return f"{RES}/calibration/{wildcards.source}{rep}"


def multi_branch_twin(model):
    """The model whose per-model calibration folder ``model`` uses: a fused model shares the folder of its
    multi-branch twin (same architecture and weights, fuse off), since BN inversion distils from the multi-branch
    form either way; any other model uses its own."""
    entry = config["models"][model]
    if entry["fuse"]:
        for name, other in config["models"].items():
            if not other["fuse"] and other["arch"] == entry["arch"] and other["weights"] == entry["weights"]:
                return name
    return model


def per_model_sets(source):
    """``source/model`` names of a per-model source's folders for the experiment's models (twins once)."""
    return [f"{source}/{m}" for m in dict.fromkeys(multi_branch_twin(m) for m in MODELS)]


def filter_pool_kind(base):
    """Where a filtered source's pool comes from: the teacher's dump, DiStyleGAN, or the real training set."""
    return {TEACHER_NAME: "dump", "distylegan": "generator"}.get(base, "images")


def filter_pool_input(wildcards):
    kind = filter_pool_kind(wildcards.base)
    if kind == "dump":
        return {"pool": f"{RES}/teacher/dump"}
    if kind == "generator":
        return {"pool": distylegan_inputs(wildcards)["generator"]}
    return {"pool": f"{RES}/data/cifar10/train.npz"}


def holdout_inputs(wildcards):
    return {"holdout": f"{RES}/data/cifar10/holdout.npz"} if AA["validation"] == "holdout" else {}


def grid(algorithm):
    """(model, source) pairs an algorithm runs on."""
    models = AA_MODELS if algorithm == "accuracy_aware" else MODELS
    return [(m, s) for m in models for s in SOURCES]


def sample_grids():
    """One sample-grid figure per source (per model for per-model sources)."""
    return [f"{RES}/figures/samples/{name}.png" for name in quality_sets()]


def algorithm_inputs(algorithm):
    """Evaluation and quantization records of one algorithm's grid, every repeat."""
    pairs = grid(algorithm)
    return {
        "fp32": sorted({f"{RES}/evaluation/{m}/fp32.json" for m, _ in pairs}),
        "int8": [f"{RES}/evaluation/{m}/{algorithm}/{s}{r}.json" for m, s in pairs for r in REPS],
        "quantization": [f"{RES}/quantized/{algorithm}/{s}{r}/{m}/quantization.json" for m, s in pairs for r in REPS],
    }


def paper_table(algorithm):
    return {"default": "table1a", "accuracy_aware": "table1b"}[algorithm]


def quality_sets():
    """Image sets of the IS/FID report: every source (per model for per-model ones), and the real reference."""
    sets = []
    for source in SOURCES:
        sets += per_model_sets(source) if is_per_model(source, config) else [source]
    return sets


def quality_weights(wildcards):
    """torch-fidelity's Inception weights (IS and FID) when configured: local path or download."""
    inception = QUALITY["inception"]
    if inception["path"]:
        return {"inception": inception["path"]}
    if inception["url"]:
        return {"inception": f"resources/inception/{Path(urlparse(inception['url']).path).name}"}
    return {}


def quality_network(wildcards):
    """What the feature jobs run: the OpenVINO IR of the feature network, or its PyTorch weights."""
    if QUALITY["backend"] == "openvino":
        return {"extractor": f"{RES}/models/inception/extractor.xml"}
    return quality_weights(wildcards)


def quality_set_spec(wildcards):
    """(kind, stored input or None, settings, description) of a quality set (synthcal.quality_sets): real test
    images for the FID reference and real training images for cifar10 (never the same image), the teacher's dump,
    samples of DiStyleGAN, fractals and noise generated with the calibration source's settings, and the per-model
    BN-inversion folders."""
    qset = wildcards.qset
    if qset == "reference":
        return "images", f"{RES}/data/cifar10/test.npz", {}, "real CIFAR-10 test images"
    if qset == "cifar10":
        return "images", f"{RES}/data/cifar10/train.npz", {}, "real CIFAR-10 training images"
    if qset == TEACHER_NAME:
        return "images", f"{RES}/teacher/dump", {}, f"the teacher's dump ({TEACHER['provider']} provider)"
    if qset == "distylegan":
        return "generator", distylegan_inputs(wildcards)["generator"], {}, "DiStyleGAN samples (Gaussian latents)"
    if qset == "fractal":
        settings = {k: config["fractal"][k] for k in ("points", "chains", "fill_rate", "colorizer_dir")}
        return "fractal", None, settings, None
    if qset == "noise":
        settings = {"distribution": config["noise"]["distribution"],
                    "std": config["noise"]["std"] if config["noise"]["distribution"] == "gaussian" else None}
        return "noise", None, settings, None
    return "images", f"{RES}/calibration/{qset}", {}, f"the {qset} calibration folder"


def quality_images(wildcards):
    """The stored images a quality set is drawn from (none for generated sets)."""
    source = quality_set_spec(wildcards)[1]
    return {"source": source} if source else {}


def fusion_pairs():
    """(multi-branch, fused) model pairs of the experiment: same architecture and weights, fuse off and on."""
    return [(multi_branch_twin(m), m) for m in MODELS if multi_branch_twin(m) != m and multi_branch_twin(m) in MODELS]



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
            "checkpoint_every", "ema", "channels_last"]
    if mode == "distill":
        keys += ["gstep", "lambda_pixel", "pixel_schedule", "pixel_decay", "lambda_adv_kd", "lambda_adv_gan",
                 "lambda_gan_d"]
    else:
        keys += ["discriminator", "diffaugment"]
    return {"mode": mode, "seed": config["seed"], **{k: section[k] for k in keys}}


def gpus(device):
    """GPUs a job requests (Slurm --gpus; locally limited by the profile's resources): 1 for device cuda[:n]."""
    return 1 if str(device).startswith("cuda") else 0


def train_runtime(n_images, epochs, device):
    """Wall-time limit in minutes: measured paper-width throughput (35 img/s on 2 CPU cores), generous on GPU.

    ``auto`` requests no GPU (see ``gpus``), so on a cluster it runs on CPUs and is sized like ``cpu``.
    """
    rate = 1000 if gpus(device) else 30
    return int(60 + 1.5 * epochs * n_images / rate / 60)


def speed_records(algorithm=None):
    """The speed measurements (one per model and algorithm, over its INT8 IRs of repeat 0)."""
    algorithms = [algorithm] if algorithm else [a for a in ALGORITHMS if grid(a)]
    return [f"{RES}/reports/throughput/{a}/{m}.json" for a in algorithms
            for m in dict.fromkeys(m for m, _ in grid(a))]


def generators_used():
    """Which generators the configured sources draw from (themselves or filtered): the teacher, DiStyleGAN."""
    bases = {(filtered_source(s, config) or (s,))[0] for s in SOURCES}
    uses_student = "distylegan" in bases
    return {"teacher": TEACHER_NAME in bases or (uses_student and not DSG["pretrained"]), "distylegan": uses_student}


def training_runs():
    """The GAN training runs the configured sources need (keys of TRAINING_RUNS)."""
    runs = []
    if TEACHER["provider"] == "trained" and generators_used()["teacher"]:
        runs.append("teacher/trained")
    if generators_used()["distylegan"] and not DSG["pretrained"]:
        runs.append("distylegan")
    return runs


def final_targets():
    """Tables of every configured algorithm (with the paper's Table 1a/1b), reports, figures and sample grids."""
    algorithms = [a for a in ALGORITHMS if grid(a)]
    targets = [f"{RES}/tables/{a}_quantization.csv" for a in algorithms]
    targets += [f"{RES}/tables/{paper_table(a)}.csv" for a in algorithms]
    targets += [f"{RES}/tables/throughput.csv", f"{RES}/reports/label_agreement.csv",
                f"{RES}/figures/accuracy_drop.png"]
    targets += [f"{RES}/{run}/{name}.png" for run in training_runs() for name in ("loss_curves", "samples")]
    if generators_used()["teacher"]:
        targets.append(f"{RES}/teacher/gate.json")  # the dump's quality gate
    if QUALITY["enabled"]:
        targets += [f"{RES}/reports/image_quality.csv", f"{RES}/tables/table2.csv", f"{RES}/figures/drop_vs_fid.png"]
    if fusion_pairs():
        targets.append(f"{RES}/tables/repvgg_fusion.csv")
    if config["experiment"]["calibration_sizes"]:
        targets += [f"{RES}/tables/calibration_size.csv", f"{RES}/figures/drop_vs_calibration_size.png"]
    return targets + sample_grids()
