"""The teacher dump (images + noise vectors + labels) and sampling generators into calibration folders.

Dump layout (``<root>/``): ``<class>/<i>.png`` for global index ``i`` (5 digits), ``noise.npy`` (float32,
``(N, z_dim)``, row ``i`` generated image ``i``), ``labels.npy`` (int64, ``(N,)``) and ``manifest.json`` (teacher
identity and checksum, seed, latent distribution, truncation, counts). Images are grouped by class: indices
``k*n .. (k+1)*n - 1`` are class ``k``.

Every image has its own seed, derived from (seed, index), so an image can be regenerated alone and the dump does
not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from synthcal import CIFAR10_CLASSES
from synthcal.calibration import balanced_labels, select_balanced, write_calibration_folder
from synthcal.data import DataFormatError, Split, decode_image
from synthcal.gan.networks import load_released, one_hot, released_files, resolve_device
from synthcal.io import atomic_path, file_digest, read_json, write_json
from synthcal.seeding import rng

#: A class-conditional generator: (z (B, z_dim), one-hot (B, 10)) -> images (B, 3, 32, 32) in [-1, 1].
GeneratorFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

LATENTS = ("uniform", "gaussian")


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW floats -> uint8 NHWC with the fixed mapping ``floor(x * 127.5 + 128)`` clipped to [0, 255].

    This is NVIDIA's mapping (generate.py) and equals rounding ``(x + 1) / 2 * 255`` to the nearest integer;
    unlike the authors' per-image min-max stretch, it keeps the generator's intensities.
    """
    x = torch.clamp(torch.floor(images.detach().float() * 127.5 + 128.0), 0, 255)
    return x.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def latent(seed: int, index: int, z_dim: int, distribution: str, purpose: str = "latent") -> np.ndarray:
    """The noise vector of image ``index``: uniform on [0, 1) (the authors' ``torch.rand``) or standard normal."""
    gen = rng(seed, purpose, index)
    if distribution == "uniform":
        return gen.random(z_dim, dtype=np.float32)
    if distribution == "gaussian":
        return gen.standard_normal(z_dim, dtype=np.float32)
    raise ValueError(f"unknown latent distribution {distribution!r}; use one of {', '.join(LATENTS)}")


@torch.no_grad()
def generate(generator: GeneratorFn, z: np.ndarray, labels: np.ndarray, batch_size: int,
             device: torch.device | str = "cpu", c_dim: int = 10, desc: str = "generate") -> np.ndarray:
    """Run ``generator`` on (z, labels) in batches; returns uint8 NHWC images."""
    out = np.empty((len(z), 32, 32, 3), dtype=np.uint8)
    for start in tqdm(range(0, len(z), batch_size), desc=desc, unit="batch", mininterval=2.0):
        zb = torch.from_numpy(z[start:start + batch_size]).to(device)
        cb = one_hot(torch.from_numpy(labels[start:start + batch_size]), c_dim)
        images = generator(zb, cb.to(device))
        if tuple(images.shape[1:]) != (3, 32, 32):
            raise ValueError(f"the generator returned images of shape {tuple(images.shape)}, expected (B, 3, 32, 32)")
        out[start:start + len(zb)] = to_uint8(images)
    return out


def write_dump(root: str | Path, images: np.ndarray, z: np.ndarray, labels: np.ndarray,
               manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write a dump atomically (see the module docstring); returns the completed manifest."""
    full = dict(manifest)
    full.update(count=int(len(labels)), z_dim=int(z.shape[1]), layout="<class>/<i>.png + noise.npy + labels.npy",
                class_counts={c: int((labels == k).sum()) for k, c in enumerate(CIFAR10_CLASSES)})
    with atomic_path(root) as tmp:
        for name in CIFAR10_CLASSES:
            (tmp / name).mkdir(parents=True)
        for i in tqdm(range(len(labels)), desc="write dump", unit="img", mininterval=2.0):
            Image.fromarray(images[i]).save(tmp / CIFAR10_CLASSES[labels[i]] / f"{i:05d}.png", format="PNG")
        np.save(tmp / "noise.npy", z.astype(np.float32))
        np.save(tmp / "labels.npy", labels.astype(np.int64))
        write_json(tmp / "manifest.json", full)
    return full


def dump_teacher(generator: GeneratorFn, root: str | Path, n_per_class: int, seed: int, z_dim: int,
                 distribution: str, batch_size: int, device: torch.device | str,
                 manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Generate ``n_per_class`` images per class with per-image seeds and write them as a dump."""
    labels = balanced_labels(n_per_class, len(CIFAR10_CLASSES))
    z = np.stack([latent(seed, i, z_dim, distribution) for i in range(len(labels))])
    images = generate(generator, z, labels, batch_size, device, desc="teacher")
    return write_dump(root, images, z, labels, {**manifest, "seed": seed, "latent": distribution,
                                                "n_per_class": n_per_class})


def read_dump_arrays(root: str | Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """A dump's noise vectors, labels and manifest, checked against each other (no image decoded)."""
    root = Path(root)
    for name in ("noise.npy", "labels.npy", "manifest.json"):
        if not (root / name).exists():
            raise DataFormatError(f"{root} is not a teacher dump: {name} is missing")
    z, labels = np.load(root / "noise.npy"), np.load(root / "labels.npy")
    manifest = read_json(root / "manifest.json")
    if len(z) != len(labels) or manifest.get("count") != len(labels):
        raise DataFormatError(f"{root}: noise ({len(z)}), labels ({len(labels)}) and manifest "
                              f"({manifest.get('count')}) disagree; delete the dump and rerun")
    return z, labels, manifest


def read_dump(root: str | Path, indices: np.ndarray | None = None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
    """Read a dump: (z float32, images uint8 NHWC, labels int64, manifest), all of it or only ``indices``
    (only those images are decoded)."""
    root = Path(root)
    z, labels, manifest = read_dump_arrays(root)
    indices = np.arange(len(labels)) if indices is None else np.asarray(indices)
    images = np.empty((len(indices), 32, 32, 3), dtype=np.uint8)
    for k, i in enumerate(tqdm(indices, desc="read dump", unit="img", mininterval=2.0)):
        path = root / CIFAR10_CLASSES[labels[i]] / f"{i:05d}.png"
        if not path.exists():
            raise DataFormatError(f"{path} is missing from the teacher dump; delete the dump and rerun")
        images[k] = decode_image(path.read_bytes(), str(path))
    return z[indices], images, labels[indices], manifest


def import_authors_dump(src: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a dump in the authors' published layout: ``class_<k>/image_<i>.png`` + ``noise_<i>.pt``.

    The noise files may hold a view into a whole batch (the authors saved rows of the batch tensor) and may have
    been written on a GPU; both are handled. Returns (z, images, labels), sorted by class then image index.
    """
    src = Path(src)
    folders = sorted((p for p in src.iterdir() if p.is_dir() and p.name.startswith("class_")),
                     key=lambda p: int(p.name.split("_")[-1]))
    if not folders:
        raise DataFormatError(f"{src} has no class_<k>/ folders (the authors' dump layout)")
    zs, images, labels = [], [], []
    for folder in folders:
        k = int(folder.name.split("_")[-1])
        entries = sorted(folder.glob("image_*.png"), key=lambda p: int(p.stem.split("_", 1)[1]))
        for png in tqdm(entries, desc=f"import {folder.name}", unit="img", mininterval=2.0):
            idx = png.stem.split("_", 1)[1]
            noise_path = folder / f"noise_{idx}.pt"
            if not noise_path.exists():
                raise DataFormatError(f"{png} has no matching {noise_path.name}")
            noise = torch.load(noise_path, map_location="cpu", weights_only=True)
            zs.append(noise.detach().reshape(-1).clone().float().numpy())
            images.append(decode_image(png.read_bytes(), str(png)))
            labels.append(k)
    z = np.stack(zs)
    return z, np.stack(images), np.asarray(labels, dtype=np.int64)


def sample_generator(generator: GeneratorFn, n_per_class: int, seed: int, z_dim: int, batch_size: int,
                     device: torch.device | str = "cpu", purpose: str = "student") -> tuple[Split, np.ndarray]:
    """``n_per_class`` images per class from Gaussian noise with per-image seeds; returns (split, z)."""
    labels = balanced_labels(n_per_class, len(CIFAR10_CLASSES))
    z = np.stack([latent(seed, i, z_dim, "gaussian", purpose=purpose) for i in range(len(labels))])
    return Split(generate(generator, z, labels, batch_size, device, desc=f"sample {purpose}"), labels), z


def calibration_from_dump(dump_root: str | Path, root: str | Path, source: str, n_per_class: int,
                          seed: int) -> dict[str, Any]:
    """The teacher's calibration source: ``n_per_class`` dump images per class chosen with ``seed``."""
    chosen = select_balanced(read_dump_arrays(dump_root)[1], n_per_class, seed, purpose=source)
    _, images, labels, manifest = read_dump(dump_root, chosen)
    subset = Split(images, labels)
    return write_calibration_folder(root, subset, {
        "source": source, "seed": seed, "n_per_class": n_per_class, "origin": str(dump_root),
        "teacher": manifest.get("teacher"), "dump_indices": chosen.tolist()})


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
