"""What a configured run will cost, before it starts, from measured per-unit costs.

The costs live in one data file, ``synthcal/costs.yaml`` (:func:`measured`), which three readers share: the estimate
printed when the workflow is parsed (:func:`estimate`, :func:`format_estimate`; also under ``--dry-run``), the
jobs' runtime limits (:func:`gan_training_minutes`, :func:`classifier_training_minutes`: Slurm's wall time) and the
generated table of ``docs/costs.md`` (:func:`cost_table_markdown`). A figure that was never measured (a GPU, an
architecture never timed, a model of your own) is reported as not measured, never guessed.

The estimate counts every job of the configured grid from scratch (jobs already done are skipped by Snakemake, so a
rerun costs less) and assumes the stages run one after another, each using ``cores`` CPUs for jobs of their
``threads``: a stage's wall time is the larger of its longest job and its CPU time divided by ``cores``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

#: The stages of the pipeline, in order, as the estimate reports them.
STAGES = ("data", "models", "teacher", "distillation", "calibration", "quantization", "evaluation", "reports")


@functools.cache
def measured() -> dict[str, Any]:
    """The measured per-unit costs (``synthcal/costs.yaml``)."""
    return yaml.safe_load(resources.files("synthcal").joinpath("costs.yaml").read_text())


@dataclass
class Jobs:
    """Jobs of one rule in one stage: how many, the wall seconds of each (None: not measured) and their threads."""

    stage: str
    rule: str
    count: int
    seconds: float | None
    threads: int = 1
    why: str = ""


@dataclass
class StageEstimate:
    """A stage's jobs and its wall time on the given cores (None when a job's cost was never measured)."""

    stage: str
    jobs: int = 0
    seconds: float = 0.0
    unmeasured: list[str] = field(default_factory=list)


def per_architecture(kind: str, key: str | None) -> float | None:
    """A per-architecture cost (``costs.yaml``'s ``per_architecture.<kind>``) or None when not measured."""
    return measured()["per_architecture"].get(kind, {}).get(key) if key else None


def gan_rate(run: str, device: str, ngf: int, ndf: int, batch_size: int) -> float | None:
    """Training images per second of a GAN run: the measured width, or the nearest one scaled by (ngf / its
    ngf) squared; None on a GPU or where no width of the run was measured."""
    rates = measured()["gan_training_images_per_s"].get(run, {}).get("cpu" if device in ("cpu", "auto") else "gpu")
    if not rates:
        return None
    widths = {tuple(int(v) for v in key.split("x")): rate for key, rate in rates.items()}
    exact = widths.get((ngf, ndf, batch_size))
    if exact:
        return float(exact)
    (near_ngf, _, _), rate = min(widths.items(), key=lambda kv: abs(math.log(kv[0][0] / ngf)))
    return float(rate) * (near_ngf / ngf) ** 2


def gan_training_minutes(run: str, device: str, ngf: int, ndf: int, batch_size: int, images: int,
                         epochs: int) -> int:
    """Wall-time limit of a GAN training job: 1.5 times the estimate plus an hour; a day per 100 epochs where the
    rate was never measured (a GPU)."""
    rate = gan_rate(run, device, ngf, ndf, batch_size)
    if rate is None:
        return 60 + 24 * 60 * max(1, math.ceil(epochs / 100))
    return int(60 + 1.5 * epochs * images / rate / 60)


def classifier_training_minutes(arch: str, epochs: int, images: int) -> int:
    """Wall-time limit of a classifier training: 1.5 times the estimate at the measured rate of its architecture
    (the slowest measured where it was not), plus half an hour."""
    rates = measured()["per_architecture"]["classifier_training_images_per_s"]
    rate = rates.get(arch, min(rates.values()))
    return int(30 + 1.5 * epochs * images / rate / 60)


def stage_estimates(jobs: Iterable[Jobs], cores: int) -> list[StageEstimate]:
    """Group jobs by stage and estimate each stage's wall time on ``cores``."""
    out = {stage: StageEstimate(stage) for stage in STAGES}
    cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    longest: dict[str, float] = dict.fromkeys(STAGES, 0.0)
    start = measured()["seconds"]["job_start"]
    for job in jobs:
        if job.count <= 0:
            continue
        stage = out[job.stage]
        stage.jobs += job.count
        if job.seconds is None:
            stage.unmeasured.append(f"{job.rule}{f' ({job.why})' if job.why else ''}")
            continue
        each = job.seconds + start
        cpu[job.stage] += job.count * each * min(job.threads, cores)
        longest[job.stage] = max(longest[job.stage], each)
    for name, stage in out.items():
        stage.seconds = max(longest[name], cpu[name] / max(cores, 1))
    return [s for s in out.values() if s.jobs]


def duration(seconds: float) -> str:
    """Seconds as a short human duration: 45 s, 12 min, 3.4 h, 2.1 days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def format_estimate(stages: list[StageEstimate], cores: int, warn_hours: float | None = None,
                    notices: Iterable[str] = ()) -> str:
    """The plan printed before a run: jobs and estimated wall time per stage and in all, what was not measured, a
    warning above ``warn_hours`` with the quickest way to a first result, and the configuration's notices."""
    lines = [f"synthcal: the configured run, {sum(s.jobs for s in stages)} jobs from scratch, estimated for {cores} "
             f"core{'s' * (cores != 1)} from synthcal/costs.yaml (measured on 2 CPU cores):"]
    total = 0.0
    for stage in stages:
        unmeasured = f" + not measured: {', '.join(dict.fromkeys(stage.unmeasured))}" if stage.unmeasured else ""
        lines.append(f"  {stage.stage:<13}{stage.jobs:>5} jobs  {duration(stage.seconds):>9}{unmeasured}")
        total += stage.seconds
    partial = any(s.unmeasured for s in stages)
    lines.append(f"  {'total':<13}{sum(s.jobs for s in stages):>5} jobs  {duration(total):>9}"
                 + (" + what was not measured" if partial else ""))
    lines += [f"  note: {n}" for n in notices]
    if warn_hours is not None and total > warn_hours * 3600:
        biggest = max(stages, key=lambda s: s.seconds)
        lines.append(f"  This run is estimated at {duration(total)}, above cost.warn_hours = {warn_hours:g} "
                     f"({biggest.stage} alone {duration(biggest.seconds)}): for a first result in minutes run "
                     "`snakemake --cores 2 --configfile configs/smoke.yaml`; `snakemake -n` shows this plan without "
                     "running anything.")
    return "\n".join(lines)


def cost_table_markdown() -> str:
    """The per-architecture costs of ``costs.yaml`` as a Markdown table (the generated part of docs/costs.md)."""
    table = measured()["per_architecture"]
    archs = sorted({a for values in table.values() for a in values})
    labels = {"convert_seconds": "convert (s)", "evaluate_fp32_seconds_per_10000": "FP32 eval, 10k (s)",
              "evaluate_int8_seconds_per_10000": "INT8 eval, 10k (s)", "quantize_overhead_seconds": "quantize, fixed (s)",
              "quantize_seconds_per_1000_images": "quantize, per 1k images (s)",
              "accuracy_aware_factor": "accuracy-aware / default",
              "bn_inversion_seconds_per_image_iteration": "BN inversion, per image-iteration (s)",
              "label_agreement_seconds_per_1000": "label agreement, per 1k (s)",
              "classifier_training_images_per_s": "training (images/s)",
              "brevitas_seconds_per_100_images": "Brevitas, per 100 images (s)",
              "brevitas_method_seconds_per_100_images": "GPTQ/GPFQ, per 100 images (s)",
              "evaluate_brevitas_seconds_per_10000": "simulated eval, 10k (s)"}
    rows = ["| architecture | " + " | ".join(labels.get(k, k) for k in table) + " |",
            "|---|" + "---:|" * len(table)]
    rows += [f"| {arch} | " + " | ".join(f"{values[arch]:g}" if arch in values else "-" for values in table.values())
             + " |" for arch in archs]
    rows.append("")
    rows.append("(-: not measured.)")
    gan = measured()["gan_training_images_per_s"]
    rows += ["", "| GAN training (images/s) | device | ngf x ndf x batch | rate |", "|---|---|---|---:|"]
    for run, devices in gan.items():
        for device, widths in devices.items():
            rows += [f"| {run} | {device} | {width} | {rate:g} |" for width, rate in widths.items()]
    rows += ["| any | gpu | any | not measured |", "", "| step | images/s |", "|---|---:|"]
    rows += [f"| {re.sub('_', ' ', k)} | {v:g} |" for k, v in measured()["images_per_s"].items()]
    return "\n".join(rows)


def arch_key(entry: Mapping[str, Any]) -> str | None:
    """The per-architecture cost key of a models entry (``<arch>`` or ``<arch>_fused``); None for formats whose
    cost was never measured (ONNX, IR, export, python)."""
    if entry.get("format", "builtin") != "builtin" or not entry.get("arch"):
        return None
    return f"{entry['arch']}_fused" if entry.get("fuse") else entry["arch"]


def variant_factor(settings: Mapping[str, Any]) -> float:
    """How much longer than the default algorithm's a quantization with these settings (rule parameters) takes:
    the measured factors of the range estimator and of full bias correction (``variant_factors`` in costs.yaml)."""
    factors = measured()["variant_factors"]
    factor = factors["range_estimator"].get(settings["range_estimator"], 1.0)
    if settings["bias_correction"] and not settings["fast_bias_correction"]:
        factor *= factors["full_bias_correction"]
    return factor


def brevitas_seconds(settings: Mapping[str, Any], arch: str | None) -> float | None:
    """A Brevitas job's seconds (rule parameters ``settings``): calibration and rounding per 100 images, plus, for
    GPTQ or GPFQ, a pass of the calibration images per layer (``brevitas`` in costs.yaml); None where not measured."""
    per_100 = per_architecture("brevitas_seconds_per_100_images", arch)
    if per_100 is None:
        return None
    seconds = per_100 * settings["calibration_images"] / 100
    if settings["method"] != "rtn":
        method = per_architecture("brevitas_method_seconds_per_100_images", arch)
        seconds = None if method is None else seconds + method * settings["calibration_images"] / 100
    return seconds


#: CIFAR-10's split sizes, which the estimate assumes.
TRAIN_IMAGES, TEST_IMAGES = 50_000, 10_000


def planned_jobs(plan: Any) -> list[Jobs]:
    """Every job a :class:`synthcal.planning.Plan` asks for, with its measured cost (see the module docstring)."""
    config, costs = plan.config, measured()
    grid, quantization, evaluation, reports = plan.grid, plan.quantization, plan.evaluation, plan.reports
    rate = costs["images_per_s"]
    reps = len(grid.reps)
    jobs: list[Jobs] = []
    add = jobs.append

    def arch(name: str) -> str | None:
        return arch_key(grid.model(name))

    # data
    add(Jobs("data", "download", len(plan.data.downloads()), None, 1, "depends on the network"))
    if plan.data.stylegan2_code_needed():
        add(Jobs("data", "fetch_stylegan2_code", 1, None, 1, "depends on the network"))
    add(Jobs("data", "prepare_cifar10", 1, (TRAIN_IMAGES + TEST_IMAGES) / rate["prepare_cifar10"], 1))
    if any(quantization.holdout_needed(a, s) for a in quantization.active() for s in grid.sources):
        add(Jobs("data", "holdout_cifar10", 1, costs["seconds"]["table"], 1))
    # models: the experiment's and the judge as IRs; the teacher's feature network is read as a checkpoint
    helper = plan.teacher.feature_network() if plan.teacher.trains() else None
    converted = plan.models.used()
    for name in converted:
        add(Jobs("models", "convert_model", 1, per_architecture("convert_seconds", arch(name)), 2, name))
    trained = {plan.models.trained_owner(n) for n in converted + ([helper["model"]] if helper else [])
               if grid.model(n)["weights"].get("train") is not None}
    for name in sorted(trained):
        entry = grid.model(name)
        train = entry["weights"]["train"]
        speed = per_architecture("classifier_training_images_per_s", entry["arch"])
        images = 10 * train["images_per_class"] if train["images_per_class"] else TRAIN_IMAGES
        add(Jobs("models", "train_classifier", 1, None if speed is None else
                 train["epochs"] * (images + TEST_IMAGES / 10) / speed, train["threads"], name))
    if quantization.alignment_needed():
        for name in dict.fromkeys(m for a in quantization.active() for m, _ in quantization.pairs(a)):
            add(Jobs("models", "channel_alignment", 1, per_architecture("quantize_overhead_seconds", arch(name)), 2,
                     name))
    # the GAN chain
    teacher = config["teacher"]
    for run, planner, stage, images in (
            ("teacher/trained", plan.teacher, "teacher", plan.teacher.training_images() if plan.teacher.trains() else 0),
            ("distylegan", plan.distillation, "distillation", plan.distillation.n_dump)):
        if run not in plan.training_runs():
            continue
        s = planner.settings()
        device = planner.section["device"]
        speed = gan_rate(run, device, s.generator.ngf, s.objective.ndf, s.loop.batch_size)
        add(Jobs(stage, "teacher_train" if run == "teacher/trained" else "distylegan_train", 1,
                 None if speed is None else s.loop.epochs * images / speed, planner.section["threads"],
                 "" if speed is not None else f"{device}, not measured"))
        add(Jobs(stage, "training_figures", 1, costs["seconds"]["figure"], 1))
    if plan.teacher.used():
        cpu_dump = teacher["provider"] == "trained" and teacher["device"] in ("cpu", "auto")
        add(Jobs("teacher", "teacher_dump", 1, 10 * teacher["n_per_class"] / rate["teacher_dump_cpu"] if cpu_dump
                 else None, teacher["threads"], "" if cpu_dump else f"{teacher['provider']} provider"))
        add(Jobs("teacher", "teacher_gate", 1, costs["seconds"]["table"], 1))
    # calibration folders
    folder_images = 10 * config["calibration"]["n_per_class"]
    for source in grid.sources:
        traits = grid.traits(source)
        if source == "bn_inversion":
            bn = config["bn_inversion"]
            for name in grid.per_model_sets(source):
                model = name.partition("/")[2]
                each = per_architecture("bn_inversion_seconds_per_image_iteration", arch(model))
                add(Jobs("calibration", traits.rule, reps, None if each is None else
                         each * 10 * bn["n_per_class"] * bn["iterations"], bn["threads"], model))
        elif traits.per_model:
            add(Jobs("calibration", traits.rule, reps * len(grid.per_model_sets(source)), None, 2,
                     "filtering never timed"))
        elif source == "fractal":
            add(Jobs("calibration", traits.rule, reps, folder_images / rate["fractal_generation"],
                     config["fractal"]["threads"]))
        elif source == "distylegan":
            add(Jobs("calibration", traits.rule, reps,
                     folder_images / rate["distylegan_sampling_cpu"] + folder_images / rate["calibration_folder"],
                     config["distylegan"]["threads"]))
        else:  # cifar10 and the teacher's dump: read and write images
            add(Jobs("calibration", traits.rule, reps, folder_images / rate["calibration_folder"], 1))
    add(Jobs("calibration", "sample_grid", len(grid.calibration_sets()), costs["seconds"]["figure"], 1))
    # quantization and evaluation
    bn_images = 10 * config["bn_inversion"]["n_per_class"]
    threads = config["quantization"]["threads"]
    variants = [(a, a) for a in quantization.active()] + [(f"size/{k}", "default") for k in quantization.sizes]
    for variant, algorithm in variants:
        kind = quantization.algorithm(variant).kind
        settings = quantization.job(variant, grid.sources[0])["settings"]
        runs = len(quantization.reps(variant))
        if kind == "brevitas":
            for model, _ in quantization.pairs(algorithm):
                add(Jobs("quantization", f"quantize ({variant})", runs, brevitas_seconds(settings, arch(model)),
                         threads, model))
                add(Jobs("evaluation", "evaluate_brevitas", runs,
                         per_architecture("evaluate_brevitas_seconds_per_10000", arch(model)),
                         config["evaluation"]["threads"], model))
            continue
        subset = settings["subset_size"]
        for model, source in (quantization.pairs(algorithm) if not variant.startswith("size/") else
                              [(m, s) for m in grid.models for s in grid.sources]):
            images = bn_images if source == "bn_inversion" else folder_images
            if variant.startswith("size/"):
                images = 10 * int(variant.removeprefix("size/"))
            elif subset:
                images = min(images, subset)
            overhead = per_architecture("quantize_overhead_seconds", arch(model))
            per_1000 = per_architecture("quantize_seconds_per_1000_images", arch(model))
            factor = 1.0 if kind == "default" else per_architecture("accuracy_aware_factor", arch(model))
            factor = None if factor is None else factor * variant_factor(settings)
            each = None if None in (overhead, per_1000, factor) else (overhead + per_1000 * images / 1000) * factor
            add(Jobs("quantization", f"quantize ({variant.split('/')[0]})", runs, each, threads, model))
            add(Jobs("evaluation", "evaluate_int8", runs, per_architecture("evaluate_int8_seconds_per_10000",
                                                                         arch(model)), config["evaluation"]["threads"]))
    for name in grid.models:
        add(Jobs("evaluation", "evaluate_fp32", 1, per_architecture("evaluate_fp32_seconds_per_10000", arch(name)),
                 config["evaluation"]["threads"], name))
    for judge, set_name in evaluation.agreement_pairs():
        images = bn_images if set_name.startswith("bn_inversion") else folder_images
        each = per_architecture("label_agreement_seconds_per_1000", arch(judge))
        add(Jobs("evaluation", "label_agreement", 1, None if each is None else each * images / 1000,
                 config["evaluation"]["threads"], judge))
    # reports
    speed = config["throughput"]
    for algorithm in quantization.speed_measured():
        for model in dict.fromkeys(m for m, _ in quantization.pairs(algorithm)):
            irs = 1 + len(grid.model_sources(model))
            add(Jobs("reports", "throughput", 1, 2 * irs * speed["repeats"] * speed["seconds"] + 10,
                     speed["threads"]))
    quality = config["quality"]
    if quality["enabled"] and quality["backend"] == "openvino":
        add(Jobs("reports", "convert_extractor", 1, 30.0, quality["threads"]))
    if quality["enabled"]:
        add(Jobs("reports", "report_image_quality", 1, costs["seconds"]["table"], 1))
        device_ok = quality["backend"] == "openvino" or quality["device"] == "cpu"
        for name in reports.feature_sets():
            n = reports.quality_images(name)
            if name.startswith("bn_inversion"):
                n = min(n, bn_images)
            add(Jobs("reports", "quality_features", 1, n / rate["quality_features"] if device_ok else None,
                     quality["threads"], "" if device_ok else "torch backend on a GPU"))
        if reports.realism_enabled():
            n = min(quality["realism"]["n_images"], quality["n_images"])
            add(Jobs("reports", "report_realism", 1,
                     len(reports.quality_sets()) * costs["seconds"]["realism_per_1000_images"] * (n / 1000) ** 2, 2))
    tables = 2 * len(quantization.active()) - sum(1 for a in quantization.active() if not reports.paper_table(a))
    add(Jobs("reports", "tables", tables + 1 + bool(grid.fusion_pairs()) + bool(quantization.sizes)  # 1: data matters
             + bool(reports.simulated()),
             costs["seconds"]["table"], 1))
    add(Jobs("reports", "report_tables and report_predictors", 2, costs["seconds"]["figure"], 1))
    add(Jobs("reports", "all", 1, 0.0, 1))
    return jobs


def estimate(plan: Any, cores: int) -> list[StageEstimate]:
    """The stages of a plan's run on ``cores`` CPUs (:func:`planned_jobs`, :func:`stage_estimates`)."""
    return stage_estimates(planned_jobs(plan), cores)
