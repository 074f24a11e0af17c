"""The GAN stages of the workflow as plain functions: teacher dump, training runs, sampling to calibration folders.

A training run writes into ``out_dir``: ``generator.pt`` + ``config.json`` (the authors' release format, loadable
with :func:`synthcal.gan.networks.load_released`), ``training.json`` (settings, device, timings), ``losses.csv``
(per-epoch means), ``loss_curves.png`` and ``samples.png`` (the fixed-noise grid after the last epoch). Its working
folder ``out_dir/training/`` keeps the checkpoints and one sample grid per epoch; a rerun with the same settings
and data resumes from the newest checkpoint there.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from synthcal.calibration import write_calibration_folder
from synthcal.data import load_split
from synthcal.figures import loss_curves, sample_grid
from synthcal.gan import teachers
from synthcal.gan.dump import (
    calibration_from_dump,
    dump_teacher,
    import_authors_dump,
    sample_generator,
    to_uint8,
    write_dump,
)
from synthcal.gan.networks import Generator, load_released, one_hot, released_config, released_files
from synthcal.gan.train import Trainer, TrainingData, TrainSettings, fixed_noise, resolve_device, write_history
from synthcal.io import atomic_path, file_digest, verify_checksum, write_json

log = logging.getLogger(__name__)

__all__ = ["make_dump", "train_run", "sample_to_calibration", "calibration_from_dump"]


def make_dump(provider: str, out_dir: str | Path, *, n_per_class: int, seed: int, latent: str, batch_size: int,
              device: str = "auto", source: str | Path | None = None, repo: str | Path | None = None,
              truncation_psi: float = 1.0, z_dim: int = 512, checksum: str | None = None) -> dict[str, Any]:
    """Write the teacher dump with the configured provider.

    Args:
        provider: ``stylegan2_ada`` (``source`` = pickle, ``repo`` = checkout), ``torchscript`` (``source`` = .pt
            file, ``z_dim`` its latent size), ``trained`` (``source`` = training output folder or its
            ``generator.pt``) or ``dump`` (``source`` = a dump in the authors' layout, imported as it is).
        checksum: expected checksum of the teacher file (``[algo:]hex``), verified before use; the manifest
            records the file's sha256 either way.
    """
    if provider == "dump":
        if source is None or not Path(source).is_dir():
            raise teachers.TeacherError(f"authors' dump folder {source} does not exist; set 'teacher.dump.path'")
        z, images, labels = import_authors_dump(source)
        digest = hashlib.sha256(z.tobytes() + images.tobytes() + labels.tobytes()).hexdigest()
        return write_dump(out_dir, images, z, labels, {
            "teacher": {"provider": "dump", "path": str(source), "sha256_of_arrays": digest},
            "seed": None, "latent": "as imported", "n_per_class": None, "truncation_psi": None})
    dev = resolve_device(device)
    if provider == "stylegan2_ada":
        teacher = teachers.load_stylegan2_ada(source, repo, truncation_psi, dev)
        checked = Path(source)  # type: ignore[arg-type]
    elif provider == "torchscript":
        assert source is not None
        teacher = teachers.load_torchscript(source, z_dim, dev)
        checked = Path(source)
    elif provider == "trained":
        assert source is not None
        teacher = teachers.load_trained(source, dev)
        checked = released_files(source)[1]
    else:
        raise ValueError(f"unknown teacher provider {provider!r}")
    verified = verify_checksum(checked, checksum, what=f"{provider} teacher")
    sha256 = verified.split(":", 1)[1] if verified and verified.startswith("sha256:") else file_digest(checked)
    identity = {**teacher.identity, "sha256": sha256, "z_dim": teacher.z_dim}
    return dump_teacher(teacher.generate, out_dir, n_per_class, seed, teacher.z_dim, latent, batch_size, dev,
                        {"teacher": identity, "truncation_psi": truncation_psi if provider == "stylegan2_ada" else None,
                         "device": str(dev)})


@torch.no_grad()
def _grid(generator: Generator, settings: TrainSettings, device: torch.device, path: Path, title: str) -> None:
    z, labels = fixed_noise(settings, device)
    was_training = generator.training
    generator.eval()
    images = to_uint8(generator(z, one_hot(labels, settings.c_dim)))
    generator.train(was_training)
    sample_grid(images, labels.cpu().numpy(), path, per_class=settings.grid_per_class, title=title)


def train_run(settings: TrainSettings, real_npz: str | Path, out_dir: str | Path, *, dump_dir: str | Path | None = None,
              device: str = "auto", label: str = "DiStyleGAN", progress: bool = True) -> dict[str, Any]:
    """Train (``settings.mode``: ``distill`` from ``dump_dir``, or ``gan``) and write the run's files."""
    out = Path(out_dir)
    work = out / "training"
    real_split = load_split(real_npz)
    real = TrainingData(real_split.images, real_split.labels)
    teacher = None
    if settings.mode == "distill":
        from synthcal.gan.dump import read_dump

        if dump_dir is None:
            raise ValueError("distillation needs the teacher dump")
        z, images, labels, _ = read_dump(dump_dir)
        teacher = TrainingData(images, labels, z)
    dev = resolve_device(device)

    def on_epoch_end(epoch: int, generator: Generator, row: dict[str, float]) -> None:
        _grid(generator, settings, dev, work / "samples" / f"epoch_{epoch:04d}.png", f"{label}, epoch {epoch}")

    result = Trainer(settings, real, teacher, device=device, checkpoint_dir=work / "checkpoints",
                     on_epoch_end=on_epoch_end, progress=progress).run()
    generator = result.generator.cpu().eval()
    with atomic_path(out / "generator.pt") as tmp:
        torch.save(generator.state_dict(), tmp)
    lambdas = {"pixel": settings.lambda_pixel, "adv_kd": settings.lambda_adv_kd, "gan_d": settings.lambda_gan_d}
    write_json(out / "config.json", released_config(generator, settings.ndf, lambdas))
    seconds = sum(row["seconds"] for row in result.history)
    images = sum(row["iterations"] for row in result.history) * settings.batch_size
    summary = {"label": label, "settings": asdict(settings), "device": str(dev), "epochs": settings.epochs,
               "resumed_after_epoch": result.resumed_from, "train_seconds": round(seconds, 2),
               "images_per_s": round(images / seconds, 2) if seconds else None,
               "generator_parameters": sum(p.numel() for p in generator.parameters()),
               "torch_threads": torch.get_num_threads()}
    write_json(out / "training.json", summary)
    write_history(result.history, out / "losses.csv")
    loss_curves(result.history, out / "loss_curves.png", title=f"{label} losses ({settings.mode})")
    _grid(generator, settings, torch.device("cpu"), out / "samples.png", f"{label}, after {settings.epochs} epochs")
    return summary


def sample_to_calibration(generator_dir: str | Path, root: str | Path, *, source: str, n_per_class: int, seed: int,
                          batch_size: int = 500, device: str = "auto") -> dict[str, Any]:
    """Sample ``n_per_class`` images per class (Gaussian z, seeded) from a released-format generator (its folder
    or its ``generator.pt``)."""
    dev = resolve_device(device)
    generator = load_released(generator_dir, map_location=dev).to(dev)
    split, _ = sample_generator(generator, n_per_class, seed, generator.z_dim, batch_size, dev, purpose=source)
    return write_calibration_folder(root, split, {
        "source": source, "seed": seed, "n_per_class": n_per_class, "generator": str(generator_dir),
        "generator_sha256": file_digest(released_files(generator_dir)[1]), "latent": "gaussian",
        "mapping": "floor(x*127.5+128) clipped (fixed, no per-image stretch)"})
