"""The teacher dump (images + noise vectors + labels) and sampling generators into calibration folders.

Dump layout (``<root>/``): ``<class>/<i>.png`` for global index ``i`` (5 digits), ``noise.npy`` (float32,
``(N, z_dim)``, row ``i`` generated image ``i``), ``labels.npy`` (int64, ``(N,)``) and ``manifest.json`` (teacher
identity and checksum, seed, latent distribution, truncation, counts). Images are grouped by class: indices
``k*n .. (k+1)*n - 1`` are class ``k``.

Every image has its own seed, derived from (seed, index), so an image can be regenerated alone and the dump does
not depend on the batch size.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from synthcal import CIFAR10_CLASSES
from synthcal.calibration import balanced_labels
from synthcal.data import DataFormatError, Split, decode_image
from synthcal.gan.networks import one_hot
from synthcal.io import atomic_path, read_json, write_json
from synthcal.machine import stamped
from synthcal.seeding import rng

log = logging.getLogger(__name__)

#: A class-conditional generator: (z (B, z_dim), one-hot (B, 10)) -> images (B, 3, 32, 32) in [-1, 1].
GeneratorFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

LATENTS = ("uniform", "gaussian")


class GeneratorOutputError(ValueError):
    """A generator cannot be called as ``G(z, one-hot)`` or returns something other than finite images."""


@dataclass
class OutputRange:
    """What a generator returned over all its batches: the range of its values and the share outside [-1, 1], and
    the warnings these call for (recorded in the manifest and the log)."""

    min: float = float("inf")
    max: float = float("-inf")
    values: int = 0
    outside: int = 0  # values beyond [-1, 1] by more than ``TOLERANCE`` (clipped by the uint8 mapping)
    varies: bool = False  # whether any two images differ
    first: np.ndarray | None = field(default=None, repr=False)

    #: Slack of the [-1, 1] check (tanh outputs reach +-1 exactly; float rounding may pass it).
    TOLERANCE = 1e-3
    #: Share of values outside [-1, 1] above which the range is reported.
    OUTSIDE_SHARE = 0.01

    def add(self, images: torch.Tensor) -> None:
        x = images.detach().float()
        self.min, self.max = min(self.min, float(x.min())), max(self.max, float(x.max()))
        self.values += x.numel()
        self.outside += int((x.abs() > 1 + self.TOLERANCE).sum())
        if not self.varies:
            first = x[0].cpu().numpy() if self.first is None else self.first
            self.first = first
            self.varies = bool((x.cpu().numpy() != first).any())

    @property
    def warnings(self) -> list[str]:
        found = []
        if self.values and self.outside / self.values > self.OUTSIDE_SHARE:
            found.append(f"{100 * self.outside / self.values:.1f} % of the output values lie outside [-1, 1] "
                         f"(range {self.min:.3g} .. {self.max:.3g}) and were clipped to 0 or 255: the dump expects "
                         "images in [-1, 1]")
        if self.values and self.min >= 0 and self.max <= 1:
            found.append(f"every output value lies in [0, 1] (range {self.min:.3g} .. {self.max:.3g}): a generator "
                         "with outputs in [0, 1]? The dump maps [-1, 1] to 0..255, so these images use only the "
                         "upper half of the intensities; rescale its output to [-1, 1] (2 x - 1)")
        if self.values and not self.varies:
            found.append("every image is the same: the generator ignores its noise and its label")
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min, "max": self.max, "share_outside_unit_range": self.outside / max(self.values, 1),
                "warnings": self.warnings}


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
             device: torch.device | str = "cpu", c_dim: int = 10, desc: str = "generate",
             name: str = "the generator") -> tuple[np.ndarray, OutputRange]:
    """Run ``generator`` on (z, labels) in batches; returns uint8 NHWC images and the range of what it returned.

    Raises:
        GeneratorOutputError: naming ``name``, when the call fails, or returns no tensor, a tensor of another shape,
            or values that are not finite (a broken generator never becomes a calibration set). Outputs outside
            [-1, 1], inside [0, 1] or all the same are kept, with a warning logged and recorded (``OutputRange``).
    """
    out = np.empty((len(z), 32, 32, 3), dtype=np.uint8)
    checked = OutputRange()
    for start in tqdm(range(0, len(z), batch_size), desc=desc, unit="batch", mininterval=2.0):
        zb = torch.from_numpy(z[start:start + batch_size]).to(device)
        cb = one_hot(torch.from_numpy(labels[start:start + batch_size]), c_dim).to(device)
        try:
            images = generator(zb, cb)
        except Exception as exc:
            reason = (str(exc).strip().splitlines() or [""])[-1]  # TorchScript prefixes its traceback
            if not reason.startswith(f"{type(exc).__name__}:"):
                reason = f"{type(exc).__name__}: {reason}"
            raise GeneratorOutputError(
                f"{name} fails when called as G(z, one-hot) with z {tuple(zb.shape)} and one-hot {tuple(cb.shape)}: "
                f"{reason}. Check its latent size (z_dim) and that it takes (z, one-hot).") from exc
        if not isinstance(images, torch.Tensor):
            raise GeneratorOutputError(f"{name} returned a {type(images).__name__}, expected a tensor of images "
                                       "(B, 3, 32, 32) in [-1, 1]")
        if tuple(images.shape) != (len(zb), 3, 32, 32):
            raise GeneratorOutputError(f"{name} returned images of shape {tuple(images.shape)} for a batch of "
                                       f"{len(zb)}, expected ({len(zb)}, 3, 32, 32)")
        if not images.is_floating_point() or not bool(torch.isfinite(images).all()):
            bad = "not floats" if not images.is_floating_point() else "not finite (NaN or infinite)"
            raise GeneratorOutputError(f"{name} returned values that are {bad} for images {start}.."
                                       f"{start + len(zb) - 1}; expected finite floats in [-1, 1]")
        checked.add(images)
        out[start:start + len(zb)] = to_uint8(images)
    for warning in checked.warnings:
        log.warning("%s: %s", name, warning)
    return out, checked


def write_dump(root: str | Path, images: np.ndarray, z: np.ndarray, labels: np.ndarray,
               manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Write a dump atomically (see the module docstring); returns the completed manifest."""
    full = stamped({**manifest, "count": int(len(labels)), "z_dim": int(z.shape[1]),
                    "layout": "<class>/<i>.png + noise.npy + labels.npy",
                    "class_counts": {c: int((labels == k).sum()) for k, c in enumerate(CIFAR10_CLASSES)}})
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
                 manifest: Mapping[str, Any], name: str = "the teacher") -> dict[str, Any]:
    """Generate ``n_per_class`` images per class with per-image seeds and write them as a dump (nothing is written
    when the generator fails its checks, :func:`generate`)."""
    labels = balanced_labels(n_per_class, len(CIFAR10_CLASSES))
    z = np.stack([latent(seed, i, z_dim, distribution) for i in range(len(labels))])
    images, checked = generate(generator, z, labels, batch_size, device, desc="teacher", name=name)
    return write_dump(root, images, z, labels, {**manifest, "seed": seed, "latent": distribution,
                                                "n_per_class": n_per_class, "output_range": checked.to_dict()})


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


_AUTHORS_FILE = re.compile(r"^(image|noise)_(\d+)\.(png|pt)$")


def _authors_noise(path: Path, z_dim: int | None) -> np.ndarray:
    """One noise vector of the authors' dump (``noise_<i>.pt``), checked: a finite float tensor of ``z_dim`` values
    (a row of the batch tensor the authors saved, possibly a view written on a GPU)."""
    try:
        noise = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise DataFormatError(f"cannot read noise file {path}: {type(exc).__name__}: {exc}. Expected a tensor "
                              "saved with torch.save (the authors' dump layout)") from exc
    if not isinstance(noise, torch.Tensor):
        raise DataFormatError(f"noise file {path} holds a {type(noise).__name__}, expected a tensor of the "
                              "teacher's latent vector (torch.save of one row of z)")
    if not noise.is_floating_point() or noise.dim() > 2 or (noise.dim() == 2 and noise.shape[0] != 1):
        raise DataFormatError(f"noise file {path} holds a {noise.dtype} tensor of shape {tuple(noise.shape)}, "
                              "expected one latent vector: floats of shape (z_dim,) or (1, z_dim)")
    z = noise.detach().reshape(-1).clone().float().numpy()
    if z_dim is not None and len(z) != z_dim:
        raise DataFormatError(f"noise file {path} holds {len(z)} values, the dump's other noise files {z_dim}: "
                              "every noise vector of a dump has the teacher's latent size")
    if not np.isfinite(z).all():
        raise DataFormatError(f"noise file {path} holds values that are not finite (NaN or infinite)")
    return z


def import_authors_dump(src: str | Path, num_classes: int = len(CIFAR10_CLASSES)
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a dump in the authors' published layout: ``class_<k>/image_<i>.png`` + ``noise_<i>.pt`` for every class
    ``k`` of CIFAR-10, each image with its noise vector. Returns (z, images, labels), sorted by class then index.

    Everything is checked before anything is returned, and an error names the file or folder and what is
    expected: the class folders (all ten, no other), the file names, an image for every noise file and the reverse,
    each image (a decodable 32x32 picture), each noise file (a finite float tensor, the same size in every file).

    Raises:
        synthcal.data.DataFormatError: the dump does not have this layout.
    """
    src = Path(src)
    if not src.is_dir():
        raise DataFormatError(f"the authors' dump {src} is not a folder of class_<k>/ folders")
    folders: dict[int, Path] = {}
    for entry in sorted(src.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        digits = entry.name.removeprefix("class_")
        if digits == entry.name or not digits.isdigit() or int(digits) >= num_classes:
            raise DataFormatError(f"{entry} is not a class folder of the authors' layout: expected class_0 .. "
                                  f"class_{num_classes - 1} (one per CIFAR-10 class) and nothing else in {src}")
        folders[int(digits)] = entry
    missing = [f"class_{k}" for k in range(num_classes) if k not in folders]
    if missing:
        raise DataFormatError(f"the authors' dump {src} has no {', '.join(missing)}: a teacher dump needs images of "
                              f"every class (class_0 .. class_{num_classes - 1})")
    zs, images, labels = [], [], []
    z_dim = None
    for k in range(num_classes):
        folder = folders[k]
        found: dict[str, dict[int, Path]] = {"image": {}, "noise": {}}
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            match = _AUTHORS_FILE.match(path.name)
            if not match or (match.group(1) == "image") != (match.group(3) == "png"):
                raise DataFormatError(f"{path} is not a file of the authors' dump layout: expected image_<i>.png and "
                                      "noise_<i>.pt, i an integer index")
            found[match.group(1)][int(match.group(2))] = path
        for kind, other in (("image", "noise"), ("noise", "image")):
            lonely = sorted(set(found[kind]) - set(found[other]))
            if lonely:
                suffix = "pt" if other == "noise" else "png"
                raise DataFormatError(f"{found[kind][lonely[0]]} has no matching {other}_{lonely[0]}.{suffix} "
                                      f"({len(lonely)} such file(s) in {folder})")
        if not found["image"]:
            raise DataFormatError(f"{folder} holds no image_<i>.png: a teacher dump needs images of every class")
        for i in tqdm(sorted(found["image"]), desc=f"import {folder.name}", unit="img", mininterval=2.0):
            z = _authors_noise(found["noise"][i], z_dim)
            z_dim = len(z)
            zs.append(z)
            images.append(decode_image(found["image"][i].read_bytes(), str(found["image"][i])))
            labels.append(k)
    return np.stack(zs), np.stack(images), np.asarray(labels, dtype=np.int64)


def sample_generator(generator: GeneratorFn, n_per_class: int, seed: int, z_dim: int, batch_size: int,
                     device: torch.device | str = "cpu", purpose: str = "student",
                     name: str = "the generator") -> tuple[Split, np.ndarray, OutputRange]:
    """``n_per_class`` images per class from Gaussian noise with per-image seeds; returns (split, z, output range),
    checked as :func:`generate` checks."""
    labels = balanced_labels(n_per_class, len(CIFAR10_CLASSES))
    z = np.stack([latent(seed, i, z_dim, "gaussian", purpose=purpose) for i in range(len(labels))])
    images, checked = generate(generator, z, labels, batch_size, device, desc=f"sample {purpose}", name=name)
    return Split(images, labels), z, checked
