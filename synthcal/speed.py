"""Speed of OpenVINO IRs: throughput at a batch size and batch-1 latency, measured once per IR.

:func:`compare_speed` measures a model's FP32 IR and its INT8 IRs in alternation (FP32, INT8 a, INT8 b, ...,
repeated), so that a busy machine slows them alike, and reports medians. The throughput table and the speed
columns of the quantization tables are both joined from these measurements
(:func:`synthcal.aggregate.speed_rows`), so they agree.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from synthcal.ir import compile_f32, read_model


@dataclass
class Timing:
    """Throughput (batch ``batch_size``) and latency (batch 1) of a compiled IR."""

    threads: int
    batch_size: int
    images_per_s: float
    latency_ms_median: float
    latency_ms_p90: float

    def to_dict(self) -> dict:
        return asdict(self)


def _static(model_path: str | Path, batch: int) -> ov.Model:
    model = read_model(model_path)
    model.reshape([batch, 3, 32, 32])
    return model


def measure_timing(model_path: str | Path, threads: int, batch_size: int = 64, seconds: float = 3.0,
                   seed: int = 0) -> Timing:
    """Synchronous throughput at ``batch_size`` and batch-1 latency, each measured for ``seconds`` (at least five
    calls), with FP32 inference precision (INT8 layers of a quantized IR still run in INT8) and ``threads``
    inference threads."""
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


def compare_speed(irs: Mapping[str, str | Path], threads: int, batch_size: int = 64, seconds: float = 3.0,
                  repeats: int = 3) -> dict[str, Any]:
    """Measure every IR of ``irs`` (``{name: xml}``) ``repeats`` times in alternation; returns the settings and,
    per name, the medians of throughput (images/s at ``batch_size``) and batch-1 latency (median and p90, ms)."""
    runs: dict[str, list[Timing]] = {name: [] for name in irs}
    for r in range(repeats):
        for name, path in irs.items():
            runs[name].append(measure_timing(path, threads, batch_size, seconds, seed=r))
    return {"threads": threads, "batch_size": batch_size, "seconds": seconds, "repeats": repeats,
            "irs": {name: {"ir": str(irs[name]),
                           "images_per_s": float(np.median([t.images_per_s for t in timings])),
                           "latency_ms": float(np.median([t.latency_ms_median for t in timings])),
                           "latency_ms_p90": float(np.median([t.latency_ms_p90 for t in timings]))}
                    for name, timings in runs.items()}}
