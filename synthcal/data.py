"""CIFAR-10 acquisition and image folders.

Every supported input layout is normalised to one on-disk form, a :class:`Split` stored as an ``.npz`` file
(``images``: uint8 ``(N, 32, 32, 3)`` RGB, ``labels``: int64 ``(N,)``, ``classes``: class names in label order).

Supported CIFAR-10 inputs (:func:`load_cifar10`):

* the canonical ``cifar-10-python.tar.gz`` archive, or its extracted ``cifar-10-batches-py/`` folder;
* an image-folder tree ``{train,test}/<class>/*.{png,jpg,jpeg}`` (optionally below one top folder), as a
  folder or as a ``.tar``/``.tar.gz``/``.tgz``/``.zip`` archive (e.g. ``../shared/data/cifar10-jpeg.tar.gz``).
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from synthcal import CIFAR10_CLASSES
from synthcal.io import atomic_path, check_checksum_target, verify_checksum

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
IMAGE_SIZE = 32


class DataFormatError(ValueError):
    """The input does not have a supported layout, or an image in it cannot be used."""


@dataclass(frozen=True)
class Split:
    """A labelled image set: uint8 NHWC RGB images, int64 labels and the class names in label order."""

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...] = CIFAR10_CLASSES

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise ValueError(f"images must be uint8 (N, H, W, 3), got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (len(self.images),):
            raise ValueError(f"labels shape {self.labels.shape} does not match {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, indices: np.ndarray) -> Split:
        """The images and labels at ``indices``."""
        return Split(self.images[indices], self.labels[indices], self.classes)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {name: int(counts[i]) for i, name in enumerate(self.classes)}


def save_split(path: str | Path, split: Split) -> None:
    """Store a split as an uncompressed ``.npz`` (atomic)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, images=split.images, labels=split.labels.astype(np.int64),
                     classes=np.array(split.classes))


def load_split(path: str | Path) -> Split:
    """Read a split written by :func:`save_split`."""
    with np.load(path, allow_pickle=False) as npz:
        return Split(npz["images"], npz["labels"].astype(np.int64), tuple(str(c) for c in npz["classes"]))


# --------------------------------------------------------------------------------------------------------------
# Canonical CIFAR-10 python archive
# --------------------------------------------------------------------------------------------------------------

_CANONICAL_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CANONICAL_TEST = ("test_batch",)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR-10 batches that refuses every global except numpy's array reconstruction."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # bytes written by Python 3 with protocol <= 2
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch file")


def _read_canonical_batch(raw: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except Exception as exc:
        raise DataFormatError(f"cannot read CIFAR-10 batch {name}: {exc}") from exc
    if data.ndim != 2 or data.shape[1] != 3 * IMAGE_SIZE * IMAGE_SIZE or len(labels) != len(data):
        raise DataFormatError(f"CIFAR-10 batch {name} has unexpected shape {data.shape}")
    if len(labels) and (labels.min() < 0 or labels.max() >= len(CIFAR10_CLASSES)):
        raise DataFormatError(f"CIFAR-10 batch {name} has labels {int(labels.min())}..{int(labels.max())}, expected "
                              f"0..{len(CIFAR10_CLASSES) - 1}")
    return data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1).copy(), labels


def _canonical_splits(read: Callable[[str], bytes]) -> dict[str, Split]:
    splits = {}
    for split, names in (("train", _CANONICAL_TRAIN), ("test", _CANONICAL_TEST)):
        parts = [_read_canonical_batch(read(n), n) for n in names]
        splits[split] = Split(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return splits


# --------------------------------------------------------------------------------------------------------------
# Image-folder trees
# --------------------------------------------------------------------------------------------------------------

def class_index(name: str, classes: tuple[str, ...] = CIFAR10_CLASSES) -> int:
    """Label of a class folder: a class name (case-insensitive), ``class_<k>`` or ``<k>``."""
    lowered = name.lower()
    if lowered in classes:
        return classes.index(lowered)
    digits = lowered.removeprefix("class_").removeprefix("class-")
    if digits.isdigit() and int(digits) < len(classes):
        return int(digits)
    raise DataFormatError(
        f"class folder {name!r} is not a CIFAR-10 class; expected one of {', '.join(classes)} (or class_<k>)")


def decode_image(raw: bytes, name: str, size: int = IMAGE_SIZE) -> np.ndarray:
    """Decode an image file to uint8 ``(size, size, 3)`` RGB; errors name the file."""
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            rgb = img.convert("RGB")
    except UnidentifiedImageError as exc:
        raise DataFormatError(f"cannot decode image {name}: not an image file PIL can identify (PNG, JPEG, ...). "
                              "Replace or remove this file.") from exc
    except (OSError, ValueError) as exc:
        raise DataFormatError(f"cannot decode image {name}: {exc}. Replace or remove this file.") from exc
    if rgb.size != (size, size):
        raise DataFormatError(f"image {name} is {rgb.size[0]}x{rgb.size[1]}, expected {size}x{size}")
    return np.asarray(rgb, dtype=np.uint8)


def _tree_entries(names: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Group image paths of a ``{train,test}/<class>/<file>`` tree by split: split -> [(class, path)]."""
    entries: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    for name in names:
        parts = PurePosixPath(name).parts
        if len(parts) < 3 or not parts[-1].lower().endswith(IMAGE_SUFFIXES) or parts[-1].startswith("."):
            continue
        split = parts[-3].lower()
        if split in entries:
            entries[split].append((parts[-2], name))
    return entries


def _decode_tree(entries: dict[str, list[tuple[str, str]]], read: Callable[[str], bytes], origin: str) -> dict[str, Split]:
    splits = {}
    for split in ("train", "test"):
        items = sorted(entries[split], key=lambda e: (class_index(e[0]), e[1]))
        if not items:
            raise DataFormatError(f"{origin} has no images under a '{split}/<class>/' folder")
        images = np.empty((len(items), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
        labels = np.empty(len(items), dtype=np.int64)
        for i, (cls, name) in enumerate(tqdm(items, desc=f"decode {split}", unit="img", mininterval=1.0)):
            images[i] = decode_image(read(name), f"{name} in {origin}")
            labels[i] = class_index(cls)
        splits[split] = Split(images, labels)
    return splits


# --------------------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------------------

def _tar_reader(tar: tarfile.TarFile) -> Callable[[str], bytes]:
    members = {m.name: m for m in tar.getmembers() if m.isfile()}

    def read(name: str) -> bytes:
        if name not in members:
            # canonical names are given without their folder
            matches = [m for m in members if PurePosixPath(m).name == name]
            if not matches:
                raise DataFormatError(f"{tar.name} has no member {name}")
            name = matches[0]
        fh = tar.extractfile(members[name])
        assert fh is not None
        return fh.read()

    return read


def detect_layout(path: str | Path) -> str:
    """Return ``"canonical"`` or ``"image-tree"`` for a CIFAR-10 input, or raise :class:`DataFormatError`."""
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"CIFAR-10 input {path} does not exist")
    if path.is_dir():
        names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            names = [m.name for m in tar.getmembers() if m.isfile()]
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    else:
        raise DataFormatError(f"{path} is neither a folder nor a .tar/.tar.gz/.zip archive")
    basenames = {PurePosixPath(n).name for n in names}
    if set(_CANONICAL_TRAIN + _CANONICAL_TEST) <= basenames:
        return "canonical"
    entries = _tree_entries(names)
    if entries["train"] and entries["test"]:
        return "image-tree"
    raise DataFormatError(
        f"{path} is not a CIFAR-10 copy: expected the canonical 'cifar-10-batches-py' batches "
        "(data_batch_1..5, test_batch) or an image tree '{train,test}/<class>/*.png|jpg'")


class Cifar10Copy(NamedTuple):
    """A loaded CIFAR-10 copy: the two splits, the detected layout, and whether its images are lossy JPEGs."""

    splits: dict[str, Split]
    layout: str
    lossy: bool


def load_cifar10(path: str | Path) -> Cifar10Copy:
    """Load CIFAR-10 from any supported layout (see the module docstring)."""
    path = Path(path)
    layout = detect_layout(path)
    if path.is_dir():
        files = {p.relative_to(path).as_posix(): p for p in path.rglob("*") if p.is_file()}
        by_base = {PurePosixPath(n).name: p for n, p in files.items()}

        def read(name: str) -> bytes:
            return (files.get(name) or by_base[name]).read_bytes()

        names: list[str] = list(files)
        splits = _canonical_splits(read) if layout == "canonical" else _decode_tree(_tree_entries(names), read, str(path))
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as tar:
            read = _tar_reader(tar)
            names = [m.name for m in tar.getmembers() if m.isfile()]
            if layout == "canonical":
                splits = _canonical_splits(read)
            else:
                splits = _decode_tree(_tree_entries(names), read, str(path))
    else:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            by_base = {PurePosixPath(n).name: n for n in names}
            splits = (_canonical_splits(lambda n: zf.read(by_base.get(n, n))) if layout == "canonical"
                      else _decode_tree(_tree_entries(names), zf.read, str(path)))
    lossy = layout == "image-tree" and any(n.lower().endswith((".jpg", ".jpeg")) for n in names)
    return Cifar10Copy(splits, layout, lossy)


# --------------------------------------------------------------------------------------------------------------
# Plain class folders (calibration sets)
# --------------------------------------------------------------------------------------------------------------

def iter_class_folder(root: str | Path) -> Iterator[tuple[int, Path]]:
    """Yield (label, image path) for ``root/<class>/<image>``, sorted by label then file name."""
    root = Path(root)
    if not root.is_dir():
        raise DataFormatError(f"image folder {root} does not exist")
    items = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        label = class_index(sub.name)
        items += [(label, f) for f in sorted(sub.iterdir())
                  if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")]
    if not items:
        raise DataFormatError(f"image folder {root} has no images in '<class>/' sub-folders")
    yield from sorted(items, key=lambda it: (it[0], it[1].name))


def read_class_folder(root: str | Path, progress: bool = True) -> Split:
    """Read ``root/<class>/*.png|jpg`` into a :class:`Split` (sorted by label, then file name)."""
    items = list(iter_class_folder(root))
    images = np.empty((len(items), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    labels = np.empty(len(items), dtype=np.int64)
    for i, (label, path) in enumerate(tqdm(items, desc=f"read {Path(root).name}", unit="img",
                                           disable=not progress, mininterval=1.0)):
        images[i] = decode_image(path.read_bytes(), str(path))
        labels[i] = label
    return Split(images, labels)


def write_class_folder(root: str | Path, split: Split, digits: int = 4) -> list[str]:
    """Write a split as lossless PNGs ``root/<class>/<n>.png`` (n counts within each class).

    Returns the written paths relative to ``root``. ``root`` must not exist yet or be empty (the caller
    writes into a temporary folder and renames it, see :func:`synthcal.io.atomic_path`).
    """
    root = Path(root)
    counters = {c: 0 for c in range(len(split.classes))}
    written = []
    for image, label in zip(tqdm(split.images, desc=f"write {root.name}", unit="img", mininterval=1.0), split.labels):
        cls = split.classes[int(label)]
        folder = root / cls
        folder.mkdir(parents=True, exist_ok=True)
        rel = f"{cls}/{counters[int(label)]:0{digits}d}.png"
        Image.fromarray(image).save(root / rel, format="PNG")
        counters[int(label)] += 1
        written.append(rel)
    return written


def prepare_cifar10(source: str | Path, train_path: str | Path, test_path: str | Path,
                    checksum: str | None = None) -> dict:
    """Verify and load a CIFAR-10 copy (any supported layout) and store it as ``train``/``test`` ``.npz``.

    Returns a manifest: origin, layout, checksum and per-class counts of both splits.

    Raises:
        synthcal.io.ChecksumError: ``source`` is a file that does not match ``checksum``.
        DataFormatError: unsupported layout, unknown class folder, undecodable or wrongly sized image.
    """

    source = Path(source)
    check_checksum_target(source, checksum)
    digest = verify_checksum(source, checksum, what="CIFAR-10 copy") if checksum else None
    splits, layout, lossy = load_cifar10(source)
    for name, split in splits.items():
        counts = split.class_counts()
        if min(counts.values()) == 0:
            empty = [c for c, n in counts.items() if n == 0]
            raise DataFormatError(f"{source}: the {name} split has no images of class(es) {', '.join(empty)}")
    save_split(train_path, splits["train"])
    save_split(test_path, splits["test"])
    return {
        "origin": str(source), "layout": layout, "checksum": digest,
        "lossy_jpeg": lossy,
        "train": {"count": len(splits["train"]), "class_counts": splits["train"].class_counts()},
        "test": {"count": len(splits["test"]), "class_counts": splits["test"].class_counts()},
    }

