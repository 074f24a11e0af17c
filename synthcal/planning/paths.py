"""Every path the workflow writes, spelled once: the rules' outputs, the planners' inputs and the tests use these
patterns (``{name}`` are Snakemake wildcards; :func:`fill` fills some or all of them).

Paths are relative to the directory Snakemake runs in: outputs under ``results/``, downloads under ``resources/``.
"""

from __future__ import annotations

import re

RESULTS = "results"

# data
CIFAR10_TRAIN = "results/data/cifar10/train.npz"
CIFAR10_TEST = "results/data/cifar10/test.npz"
CIFAR10_MANIFEST = "results/data/cifar10/manifest.json"
HOLDOUT = "results/data/cifar10/holdout.npz"
DOWNLOAD = "resources/{path}"
CIFAR10_ARCHIVE = "resources/downloads/cifar-10-python.tar.gz"
STYLEGAN2_CODE = "resources/stylegan2-ada-pytorch"

# models
FP32_XML = "results/models/{model}/fp32.xml"
FP32_BIN = "results/models/{model}/fp32.bin"
CONVERSION = "results/models/{model}/conversion.json"
CHANNEL_ALIGNMENT = "results/models/{model}/channel_alignment.json"
TRAINED_WEIGHTS = "results/models/{model}/trained/weights.pt"
TRAINED_SUMMARY = "results/models/{model}/trained/training.json"

# the GAN chain: a training run's folder holds these files (the teacher's under teacher/trained, DiStyleGAN's)
TEACHER_RUN = "results/teacher/trained"
DISTYLEGAN_RUN = "results/distylegan"
RUN_FILE = "results/{run}/{name}"
RUN_FILES = {"generator": "generator.pt", "config": "config.json", "summary": "training.json",
             "losses": "losses.csv", "samples": "samples.npz"}
LOSS_CURVES = "results/{run}/loss_curves.png"
SAMPLES_FIGURE = "results/{run}/samples.png"
TEACHER_DUMP = "results/teacher/dump"
TEACHER_GATE = "results/teacher/gate.json"

# calibration
CALIBRATION = "results/calibration/{source}{rep}"
CALIBRATION_PER_MODEL = "results/calibration/{source}{rep}/{model}"
SAMPLE_GRID = "results/figures/samples/{name}.png"

# quantization and evaluation
INT8_XML = "results/quantized/{variant}/{source}{rep}/{model}/int8.xml"
INT8_BIN = "results/quantized/{variant}/{source}{rep}/{model}/int8.bin"
QUANTIZATION_REPORT = "results/quantized/{variant}/{source}{rep}/{model}/quantization.json"
BREVITAS_MODEL = "results/quantized/{variant}/{source}{rep}/{model}/brevitas.pt"
EVALUATION_FP32 = "results/evaluation/{model}/fp32.{ext}"
EVALUATION_INT8 = "results/evaluation/{model}/{variant}/{source}{rep}.{ext}"
LABEL_AGREEMENT = "results/reports/label_agreement/{judge}/{qset}.json"
THROUGHPUT = "results/reports/throughput/{algorithm}/{model}.json"

# reports
EXTRACTOR_XML = "results/models/inception/extractor.xml"
EXTRACTOR_BIN = "results/models/inception/extractor.bin"
EXTRACTOR_REPORT = "results/models/inception/conversion.json"
FEATURES = "results/reports/features/{qset}.npz"
IMAGE_QUALITY = "results/reports/image_quality.csv"
TABLE2 = "results/tables/table2.csv"
REALISM = "results/reports/realism.csv"
REALISM_PER_CLASS = "results/reports/realism_per_class.csv"
AGREEMENT_TABLE = "results/reports/label_agreement.csv"
THROUGHPUT_TABLE = "results/tables/throughput.csv"
QUANTIZATION_TABLE = "results/tables/{algorithm}_quantization.csv"
QUANTIZATION_RUNS = "results/tables/{algorithm}_quantization_runs.csv"
PER_CLASS_TABLE = "results/tables/{algorithm}_per_class.csv"
PAPER_TABLE = "results/tables/{table}.csv"
PAPER_INTERVALS = "results/tables/{table}_intervals.csv"
FUSION_TABLE = "results/tables/repvgg_fusion.csv"
DATA_MATTERS_TABLE = "results/tables/where_data_matters.csv"
DATA_MATTERS_FIGURE = "results/figures/where_data_matters.png"
BREAKING_POINT_TABLE = "results/tables/breaking_point.csv"
BREAKING_POINT_FIGURE = "results/figures/breaking_point.png"
BACKEND_AGREEMENT = "results/tables/backend_agreement.csv"
SIZE_TABLE = "results/tables/calibration_size.csv"
SIZE_FIGURE = "results/figures/drop_vs_calibration_size.png"
DROP_FIGURE = "results/figures/accuracy_drop.png"
PER_CLASS_FIGURE = "results/figures/per_class_drop.png"
FID_FIGURE = "results/figures/drop_vs_fid.png"
PREDICTORS_TABLE = "results/tables/drop_predictors.csv"
PREDICTORS_CELLS = "results/tables/drop_predictors_cells.csv"
PREDICTORS_FIGURE = "results/figures/drop_predictors.png"

# the library versions the last successful run finished with (synthcal.machine.version_changes)
VERSIONS = "results/versions.json"

# logs and benchmarks: results/logs/<what>.log, results/benchmarks/<rule>/<what>.tsv
LOG = "results/logs/{what}.log"
BENCHMARK = "results/benchmarks/{rule}/{what}.tsv"


def fill(pattern: str, **wildcards: object) -> str:
    """``pattern`` with the given wildcards filled; the others stay wildcards (``fill(CALIBRATION, source="cgan")``
    is the teacher's calibration pattern ``results/calibration/cgan{rep}``)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(wildcards[m.group(1)]) if m.group(1) in wildcards else m.group(0),
                  pattern)


def run_file(run: str, key: str) -> str:
    """A training run's file (``key`` of :data:`RUN_FILES`), e.g. ``run_file("distylegan", "generator")``."""
    return fill(RUN_FILE, run=run, name=RUN_FILES[key])


def log(what: str) -> str:
    return fill(LOG, what=what)


def benchmark(rule: str, what: str) -> str:
    return fill(BENCHMARK, rule=rule, what=what)
