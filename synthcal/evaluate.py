"""Evaluation of OpenVINO IRs: top-1 accuracy on a labelled split, throughput and batch-1 latency."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import openvino as ov
from tqdm import tqdm

from synthcal.convert import compile_f32
from synthcal.data import Split
from synthcal.preprocess import to_model_input


@dataclass
class Timing:
    """Throughput (batch ``batch_size``) and latency (batch 1) of a compiled IR."""

    threads: int
    batch_size: int
    images_per_s: float | None
    latency_ms_median: float | None
    latency_ms_p90: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def predict(compiled: ov.CompiledModel, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
            batch_size: int = 200, desc: str = "evaluate") -> np.ndarray:
    """Logits of ``images`` (uint8 NHWC), computed in batches; shape (N, classes)."""
    starts = tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=1.0)
    return infer_batches(compiled, (to_model_input(images[s : s + batch_size], mean, std) for s in starts))


def infer_batches(compiled: ov.CompiledModel, batches: Iterable[np.ndarray]) -> np.ndarray:
    """First output of ``compiled`` for each model-ready input batch (N, 3, H, W), concatenated."""
    request = compiled.create_infer_request()
    return np.concatenate([request.infer({0: x})[0].copy() for x in batches])


def accuracy_report(logits: np.ndarray, split: Split) -> dict:
    """Top-1 accuracy overall and per class."""
    hits = logits.argmax(1) == split.labels
    per_class = {name: float(hits[split.labels == i].mean()) if np.any(split.labels == i) else None
                 for i, name in enumerate(split.classes)}
    return {"accuracy": float(hits.mean()), "correct": int(hits.sum()), "n_images": int(len(split)),
            "per_class_accuracy": per_class}


def _static(model_path: str | Path, batch: int) -> ov.Model:
    model = ov.Core().read_model(str(model_path))
    model.reshape([batch, 3, 32, 32])
    return model


def measure_timing(model_path: str | Path, threads: int, batch_size: int = 64, seconds: float = 3.0,
                   seed: int = 0) -> Timing:
    """Synchronous throughput at ``batch_size`` and batch-1 latency, each measured for ``seconds``.

    Both use FP32 inference precision (INT8 layers of a quantized IR still run in INT8) and ``threads``
    inference threads. ``seconds=0`` skips the measurement (all values None).
    """
    if seconds <= 0:
        return Timing(threads, batch_size, None, None, None)
    rng = np.random.default_rng(seed)

    def run(batch: int) -> list[float]:
        compiled = compile_f32(_static(model_path, batch), threads)
        request = compiled.create_infer_request()
        x = rng.standard_normal((batch, 3, 32, 32), dtype=np.float32)
        for _ in range(3):  # warm-up
            request.infer({0: x})
        durations: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(durations) < 5:
            t0 = time.perf_counter()
            request.infer({0: x})
            durations.append(time.perf_counter() - t0)
        return durations

    batched = run(batch_size)
    single = np.asarray(run(1)) * 1000.0
    return Timing(threads=threads, batch_size=batch_size,
                  images_per_s=float(batch_size * len(batched) / sum(batched)),
                  latency_ms_median=float(np.median(single)), latency_ms_p90=float(np.percentile(single, 90)))


def evaluate_ir(model_path: str | Path, split: Split, mean: Sequence[float], std: Sequence[float], *,
                threads: int, batch_size: int = 200, timing_batch_size: int = 64,
                timing_seconds: float = 3.0) -> dict:
    """Accuracy of an IR on ``split`` plus its throughput and latency; the dict written per evaluation."""
    compiled = compile_f32(model_path, threads)
    start = time.perf_counter()
    logits = predict(compiled, split.images, mean, std, batch_size, desc=f"evaluate {Path(model_path).name}")
    report = accuracy_report(logits, split)
    report["eval_seconds"] = round(time.perf_counter() - start, 3)
    report.update(measure_timing(model_path, threads, timing_batch_size, timing_seconds).to_dict())
    report["openvino_version"] = ov.get_version()
    return report


def compare_throughput(fp32_xml: str | Path, int8_xml: str | Path, threads: int, batch_size: int = 64,
                       seconds: float = 3.0, repeats: int = 3) -> dict:
    """FP32 vs INT8 speed measured in alternation (FP32, INT8, FP32, ...), so that a busy machine slows both alike.

    Returns medians over ``repeats`` of throughput (images/s at ``batch_size``) and batch-1 latency, and the
    speed-up (INT8 / FP32 throughput).
    """
    runs: dict[str, list[Timing]] = {"fp32": [], "int8": []}
    for r in range(repeats):
        for name, path in (("fp32", fp32_xml), ("int8", int8_xml)):
            runs[name].append(measure_timing(path, threads, batch_size, seconds, seed=r))
    out: dict = {"threads": threads, "batch_size": batch_size, "seconds": seconds, "repeats": repeats}
    for name, timings in runs.items():
        out[f"{name}_images_per_s"] = float(np.median([t.images_per_s for t in timings]))
        out[f"{name}_latency_ms"] = float(np.median([t.latency_ms_median for t in timings]))
        out[f"{name}_latency_ms_p90"] = float(np.median([t.latency_ms_p90 for t in timings]))
    out["speedup"] = out["int8_images_per_s"] / out["fp32_images_per_s"]
    out["latency_speedup"] = out["fp32_latency_ms"] / out["int8_latency_ms"]
    return out
