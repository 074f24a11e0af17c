"""Default INT8 post-training quantization with NNCF (the successor of the paper's POT DefaultQuantization)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nncf
import numpy as np
import openvino as ov

from synthcal.calibration import calibration_order
from synthcal.preprocess import to_model_input


@dataclass(frozen=True)
class DefaultQuantizationSettings:
    """Options of :func:`nncf.quantize` exposed in the config (``quantization.default``)."""

    subset_size: int | None = None  # None: every calibration image
    preset: str = "performance"
    target_device: str = "ANY"
    fast_bias_correction: bool = True
    channel_alignment: bool = False
    ignored_types: Sequence[str] = field(default_factory=tuple)

    def nncf_kwargs(self, n_items: int) -> dict[str, Any]:
        """Keyword arguments for ``nncf.quantize`` given ``n_items`` calibration items."""
        kwargs: dict[str, Any] = {
            "preset": {"performance": nncf.QuantizationPreset.PERFORMANCE,
                       "mixed": nncf.QuantizationPreset.MIXED}[self.preset],
            "target_device": nncf.TargetDevice[self.target_device],
            "subset_size": min(self.subset_size or n_items, n_items),
            "fast_bias_correction": self.fast_bias_correction,
            "advanced_parameters": nncf.AdvancedQuantizationParameters(
                disable_channel_alignment=not self.channel_alignment),
        }
        if self.ignored_types:
            kwargs["ignored_scope"] = nncf.IgnoredScope(types=list(self.ignored_types))
        return kwargs


@contextlib.contextmanager
def nncf_thread_limit(threads: int | None) -> Iterator[None]:
    """Make NNCF's internal OpenVINO inference use at most ``threads`` threads.

    NNCF compiles the statistics model with a fresh ``ov.Core()`` on all cores, which oversubscribes a machine
    that runs several workflow jobs at once. This scopes a thread limit onto those cores.
    """
    try:
        import nncf.openvino.engine as engine
    except ImportError:  # layout changed: run unlimited rather than fail
        yield
        return
    if not threads or not hasattr(engine, "ov"):
        yield
        return
    original = engine.ov

    class _LimitedOpenVINO:
        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

        @staticmethod
        def Core() -> ov.Core:  # noqa: N802 (mirrors openvino.Core)
            core = original.Core()
            core.set_property("CPU", {"INFERENCE_NUM_THREADS": int(threads)})
            return core

    engine.ov = _LimitedOpenVINO()
    try:
        yield
    finally:
        engine.ov = original


def calibration_dataset(images: np.ndarray, mean: Sequence[float], std: Sequence[float], seed: int,
                        subset_size: int | None) -> tuple[nncf.Dataset, np.ndarray]:
    """An ``nncf.Dataset`` yielding single normalised images (1, 3, 32, 32) in a seeded order.

    Returns (dataset, order): the dataset holds exactly the ``subset_size`` images NNCF will use (the head of a
    seeded permutation), so NNCF's "first N items" rule takes a class-balanced random subset.
    """
    order = calibration_order(len(images), seed, subset_size)
    inputs = to_model_input(images[order], mean, std)
    return nncf.Dataset([inputs[i : i + 1] for i in range(len(inputs))]), order


def quantize_default(fp32_xml: str | Path, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
                     settings: DefaultQuantizationSettings, seed: int,
                     threads: int | None = None) -> tuple[ov.Model, dict[str, Any]]:
    """Quantize an FP32 IR to INT8 with ``nncf.quantize`` on calibration ``images`` (uint8 NHWC).

    Returns (quantized model, report). The report records the settings, the number of images NNCF used, the
    number of FakeQuantize operations inserted and the wall time.
    """
    model = ov.Core().read_model(str(fp32_xml))
    dataset, order = calibration_dataset(images, mean, std, seed, settings.subset_size)
    kwargs = settings.nncf_kwargs(len(order))
    start = time.perf_counter()
    with nncf_thread_limit(threads):
        quantized = nncf.quantize(model, dataset, **kwargs)
    seconds = time.perf_counter() - start
    fake_quantize = sum(op.get_type_name() == "FakeQuantize" for op in quantized.get_ops())
    report = {
        "algorithm": "default",
        "settings": {**asdict(settings), "ignored_types": list(settings.ignored_types)},
        "n_calibration": int(len(images)),
        "subset_size": int(kwargs["subset_size"]),
        "seed": seed,
        "fake_quantize_ops": int(fake_quantize),
        "seconds": round(seconds, 3),
        "nncf_version": nncf.__version__,
        "openvino_version": ov.get_version(),
    }
    return quantized, report
