"""A GAN training job: the trained teacher (a conditional GAN on real images) or DiStyleGAN (distilled from the
teacher's dump), from its data to the files the workflow reads (:func:`train_run`).

The loop is :mod:`synthcal.gan.loop`, what it optimises :mod:`synthcal.gan.objectives`, its checkpoints
:mod:`synthcal.checkpoints`. Differences from the authors' code (docs/method.md): seeded everything; the resume
restores the pixel-loss schedule and everything else; teacher features for the feature loss are computed with the
current discriminator (the authors used the ones from before the D update, one step stale); losses are logged as
epoch means rather than the last batch.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthcal.calibration import nested_subset
from synthcal.classifiers import Classifier, checked_program, pytorch_module
from synthcal.data import load_split
from synthcal.gan.dump import read_dump
from synthcal.gan.loop import Trainer, TrainingData, fixed_samples, save_samples
from synthcal.gan.networks import FeatureNetwork, Generator, released_config, resolve_device
from synthcal.io import atomic_path, write_json
from synthcal.machine import package_versions
from synthcal.settings import DistillationSettings, GanTraining


def feature_network(helper: Mapping[str, Any], path: str | None) -> FeatureNetwork:
    """The frozen :class:`FeatureNetwork` of a training job from its plan entry (the model's classifier fields, mean
    and std) and the model's file."""
    classifier = Classifier(**{**helper["classifier"], "path": path})
    # an exported program's module() is one flat graph: unflattened, its blocks are modules again (and hookable)
    module = (torch.export.unflatten(checked_program(classifier)) if classifier.format == "export"
              else pytorch_module(classifier))
    return FeatureNetwork(module, helper["mean"], helper["std"], name=f"models.{helper['model']}")


def feature_identity(features: FeatureNetwork, helper: Mapping[str, Any]) -> dict[str, Any]:
    """What the run's checkpoints must match of its feature network: its name, the digest of its weights, the
    normalisation it is fed with and the fingerprint of its code (factory or architecture modules)."""
    return {"name": features.name, "sha256": features.digest(), "mean": [float(v) for v in helper["mean"]],
            "std": [float(v) for v in helper["std"]], "code": dict(helper.get("code") or {})}


def train_run(settings: GanTraining, real_npz: str | Path, out_dir: str | Path, *, dump_dir: str | Path | None = None,
              device: str = "auto", label: str = "DiStyleGAN", progress: bool = True,
              features: FeatureNetwork | None = None,
              features_identity: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Train (``distill`` from ``dump_dir``, or the teacher's ``gan``) and write the run's files into ``out_dir``:
    ``generator.pt`` + ``config.json`` (the authors' release format, see :func:`synthcal.gan.networks.load_released`),
    ``training.json`` (settings, device, timings, versions), ``losses.csv`` (per-epoch means) and ``samples.npz`` (the
    fixed-noise samples after the last epoch; figures are drawn from these files by their own rule). Checkpoints and
    per-epoch samples go to ``out_dir/training/<fingerprint>/``; a rerun of the same identity resumes there."""
    out = Path(out_dir)
    real_split = load_split(real_npz)
    loop = settings.loop
    if loop.images_per_class:  # a seeded class-balanced subset (a quick check, the smoke configuration)
        real_split = real_split.subset(np.sort(nested_subset(real_split.labels, loop.images_per_class, loop.seed,
                                                             purpose="training-subset")))
    real = TrainingData(real_split.images, real_split.labels)
    teacher = None
    if isinstance(settings.objective, DistillationSettings):
        if dump_dir is None:
            raise ValueError("distillation needs the teacher dump")
        z, images, labels, _ = read_dump(dump_dir)
        teacher = TrainingData(images, labels, z)
    dev = resolve_device(device)
    trainer: Trainer

    def on_epoch_end(epoch: int, generator: Generator, row: dict[str, float]) -> None:
        assert trainer.run_dir is not None
        save_samples(trainer.run_dir / "samples" / f"epoch_{epoch:04d}.npz", fixed_samples(generator, loop.seed, dev))

    trainer = Trainer(settings, real, teacher, device=device, checkpoint_dir=out / "training",
                      on_epoch_end=on_epoch_end, progress=progress, features=features,
                      features_identity=features_identity)
    result = trainer.run()
    generator = result.generator.cpu().eval()
    with atomic_path(out / "generator.pt") as tmp:
        torch.save(generator.state_dict(), tmp)
    objective = settings.objective
    lambdas = ({"pixel": objective.lambda_pixel, "adv_kd": objective.lambda_adv_kd, "gan_d": objective.lambda_gan_d}
               if isinstance(objective, DistillationSettings) else {})
    write_json(out / "config.json", released_config(generator, objective.ndf, lambdas))
    seconds = sum(row["seconds"] for row in result.history)
    n_images = sum(row["iterations"] for row in result.history) * loop.batch_size
    summary = {"label": label, "mode": settings.mode, "settings": asdict(settings), "code": trainer.code,
               "device": str(dev), "feature_network": trainer.helper, "epochs": loop.epochs,
               "resumed_after_epoch": result.resumed_from, "checkpoints": str(trainer.run_dir),
               "train_seconds": round(seconds, 2), "images_per_s": round(n_images / seconds, 2) if seconds else None,
               "generator_parameters": sum(p.numel() for p in generator.parameters()),
               "torch_threads": torch.get_num_threads(), "versions": package_versions()}
    write_json(out / "training.json", summary)
    write_history(result.history, out / "losses.csv")
    save_samples(out / "samples.npz", fixed_samples(generator, loop.seed, torch.device("cpu")))
    return summary


def write_history(history: list[dict[str, float]], path: str | Path) -> None:
    """The per-epoch loss log as CSV (columns: union of all rows' keys, in first-seen order)."""
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)

