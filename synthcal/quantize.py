"""Default INT8 post-training quantization with NNCF (the successor of the paper's POT DefaultQuantization)."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import nncf
import numpy as np
import openvino as ov
from nncf.quantization.range_estimator import (
    AggregatorType,
    RangeEstimatorParameters,
    RangeEstimatorParametersSet,
    StatisticsCollectorParameters,
    StatisticsType,
)

from synthcal.calibration import calibration_order
from synthcal.data import Split, load_split
from synthcal.ir import (
    activation_quantizers,
    compile_f32,
    count_fake_quantize,
    infer_batches,
    quantized_operations,
    read_model,
)
from synthcal.preprocess import to_model_input
from synthcal.seeding import rng
from synthcal.settings import AccuracyAwareSettings, DefaultQuantizationSettings

log = logging.getLogger(__name__)


#: ``range_statistics`` -> NNCF's ``batchwise_statistics``. NNCF's flag reads backwards: True computes the range
#: statistics "for each item of the batch" (per image: with batches, the same ranges as one image per item), False
#: "for the entire batch" (one minimum and maximum per batch, then averaged over batches: wider ranges).
RANGE_STATISTICS = {"per_image": True, "per_batch": False}

#: Activation range estimators, by name. NNCF applies ``activations_range_estimator_params`` to every activation
#: quantizer, but a field left None keeps the default of the quantizer's kind (NNCF 3.4,
#: ``MinMaxQuantization._get_range_estimator_parameters``: :data:`KIND_DEFAULTS`), so one estimator can follow a
#: rule that differs by kind.
#:
#: * ``mean_minmax``: NNCF's default (None): per-tensor, the mean over images of each image's minimum and maximum;
#:   per-channel (depthwise-convolution inputs), the minimum and maximum over images.
#: * ``pot``: POT DefaultQuantization's default, the paper's: minimum = the smallest of the images' minima (the
#:   quantizer is signed iff it is negative); maximum = each image's largest absolute value, averaged over images
#:   for a per-tensor quantizer and the largest over images for a per-channel one (the aggregator is left to the
#:   kind's default: mean, resp. maximum).
#: * ``minmax``, ``mean_quantile``, ``median_minmax``, ``mean_no_outliers_minmax``, ``histogram``: NNCF's
#:   ``RangeEstimatorParametersSet`` of that name, on every activation quantizer (``histogram``: the ranges that
#:   minimise the quantization error of a histogram of the activations).
RANGE_ESTIMATORS = {
    "mean_minmax": None,
    "pot": RangeEstimatorParameters(
        min=StatisticsCollectorParameters(statistics_type=StatisticsType.MIN, aggregator_type=AggregatorType.MIN),
        max=StatisticsCollectorParameters(statistics_type=StatisticsType.ABS_MAX)),
    "minmax": RangeEstimatorParametersSet.MINMAX,
    "mean_quantile": RangeEstimatorParametersSet.MEAN_QUANTILE,
    "median_minmax": RangeEstimatorParametersSet.MEDIAN_MINMAX,
    "mean_no_outliers_minmax": RangeEstimatorParametersSet.MEAN_NO_OUTLIERS_MINMAX,
    "histogram": RangeEstimatorParametersSet.HISTOGRAM,
}

#: NNCF 3.4's range estimator of each activation-quantizer kind when none is given; the fields an estimator of
#: :data:`RANGE_ESTIMATORS` leaves None keep these.
KIND_DEFAULTS = {"per_tensor": RangeEstimatorParametersSet.MEAN_MINMAX, "per_channel": RangeEstimatorParametersSet.MINMAX}


def range_rule(estimator: str) -> dict[str, dict[str, str]]:
    """What an estimator of :data:`RANGE_ESTIMATORS` computes for each quantizer kind: ``{kind: {"min": "<statistic>
    per image, <aggregator> over images", "max": ...}}`` (symmetric quantizers reduce the maximum as an absolute
    value, NNCF's rule). Recorded in every quantization report."""
    params = RANGE_ESTIMATORS[estimator]
    rule = {}
    for kind, default in KIND_DEFAULTS.items():
        rule[kind] = {}
        for bound in ("min", "max"):
            chosen = getattr(params, bound) if params is not None else None
            base = getattr(default, bound)
            statistic = (chosen.statistics_type if chosen and chosen.statistics_type else base.statistics_type)
            aggregator = (chosen.aggregator_type if chosen and chosen.aggregator_type else base.aggregator_type)
            quantile = getattr(chosen, "quantile_outlier_prob", None) if chosen else None
            per_image = (f"{statistic.value} (outlier probability {quantile:g})"
                         if quantile and statistic == StatisticsType.QUANTILE else statistic.value)
            rule[kind][bound] = f"{per_image} per image, {aggregator.value} over images"
    return rule


def default_kwargs(settings: DefaultQuantizationSettings, n_items: int) -> dict[str, Any]:
    """Keyword arguments for ``nncf.quantize`` (:class:`synthcal.settings.DefaultQuantizationSettings`) for a
    calibration dataset of ``n_items`` items.

    ``subset_size`` counts *images*; NNCF counts *items*, and with ``batch_size`` images per item the calibration
    dataset holds exactly the ``subset_size`` chosen images in ``ceil(subset_size / batch_size)`` items, every one
    of which NNCF uses, for its statistics and for (fast) bias correction alike. ``range_statistics`` keeps the
    per-image statistics of one-image items (``per_image``) or takes NNCF's per-batch ones (``per_batch``).
    """
    if settings.range_statistics not in RANGE_STATISTICS:
        raise ValueError(f"range_statistics {settings.range_statistics!r}: use one of {', '.join(RANGE_STATISTICS)}")
    if settings.range_estimator not in RANGE_ESTIMATORS:
        raise ValueError(f"range_estimator {settings.range_estimator!r}: use one of {', '.join(RANGE_ESTIMATORS)}")
    kwargs: dict[str, Any] = {
        "preset": {"performance": nncf.QuantizationPreset.PERFORMANCE,
                   "mixed": nncf.QuantizationPreset.MIXED}[settings.preset],
        "target_device": nncf.TargetDevice[settings.target_device],
        "subset_size": n_items,
        "fast_bias_correction": settings.fast_bias_correction,
        "advanced_parameters": nncf.AdvancedQuantizationParameters(
            disable_channel_alignment=not settings.channel_alignment,
            disable_bias_correction=not settings.bias_correction,
            batchwise_statistics=RANGE_STATISTICS[settings.range_statistics],
            activations_range_estimator_params=RANGE_ESTIMATORS[settings.range_estimator]),
    }
    if settings.ignored_types:
        kwargs["ignored_scope"] = nncf.IgnoredScope(types=list(settings.ignored_types))
    return kwargs


@dataclass
class CalibrationSet:
    """The calibration images NNCF sees: the head of a seeded shuffle, normalised, in batches (items).

    It is the data source of the ``nncf.Dataset`` and counts the images NNCF takes from it in each pass
    (``passes``), so that the report states how many images were used, as measured, not as configured.
    """

    order: np.ndarray  # indices into the folder's images, in the order given to NNCF
    items: list[np.ndarray]  # (batch, 3, H, W) float32 each; the last may be smaller
    batch_size: int
    passes: list[int] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return int(len(self.order))

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[np.ndarray]:
        self.passes.append(0)
        for item in self.items:
            self.passes[-1] += len(item)
            yield item

    def dataset(self) -> nncf.Dataset:
        return nncf.Dataset(self)

    def bias_correction_images(self, fast: bool) -> int:
        """Images (fast) bias correction sees: NNCF gives it ``subset_size`` items (fast) or a fifth of them."""
        n_items = len(self.items) if fast else max(int(len(self.items) * 0.2), 1)
        return int(sum(len(item) for item in self.items[:n_items]))


def calibration_set(images: np.ndarray, mean: Sequence[float], std: Sequence[float], seed: int,
                    subset_size: int | None, batch_size: int = 1) -> CalibrationSet:
    """The ``subset_size`` calibration images NNCF uses (a seeded, class-balanced-in-expectation sample: the head
    of a seeded permutation; NNCF takes the *first* items it is given and folders are sorted by class), normalised
    and cut into items of ``batch_size`` images."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    order = calibration_order(len(images), seed, subset_size)
    inputs = to_model_input(images[order], mean, std)
    return CalibrationSet(order, [inputs[i:i + batch_size] for i in range(0, len(inputs), batch_size)], batch_size)


#: What the reports say when channel alignment was asked for but its verdict says NNCF cannot run it.
ALIGNMENT_FAILED = "failed in NNCF, not applied"


def channel_alignment_verdict(fp32_xml: str | Path, settings: DefaultQuantizationSettings,
                              seed: int = 0) -> dict[str, Any]:
    """Whether NNCF's ChannelAlignment runs on a model, decided once per model (its own workflow rule).

    NNCF 3.4's ChannelAlignment fails on every model where it finds a pair of convolutions to align (it casts a
    statistic with ``astype(np.float32)``, which its own tensor type rejects: MobileNetV2, ShuffleNetV2, ...) and
    changes nothing on models without such pairs (CIFAR ResNets, VGG). The failure depends on the graph, not on the
    data, so it is found on one item of seeded noise: ``nncf.quantize`` with alignment; if that raises and the same
    call without alignment succeeds, alignment is not applicable (the error is recorded). If both raise, the model
    cannot be quantized with these settings at all, and the error is raised.
    """
    model = read_model(fp32_xml)
    item = np.random.default_rng(seed).standard_normal((8, 3, 32, 32), dtype=np.float32)
    run = {"preset": settings.preset, "target_device": settings.target_device,
           "ignored_types": list(settings.ignored_types), "nncf_version": nncf.__version__}
    try:
        nncf.quantize(model, nncf.Dataset([item]), **default_kwargs(replace(settings, channel_alignment=True), 1))
        return {"applicable": True, "error": None, **run}
    except Exception as exc:
        nncf.quantize(model, nncf.Dataset([item]), **default_kwargs(replace(settings, channel_alignment=False), 1))
        log.warning("NNCF's ChannelAlignment fails on %s (%s: %s); it is quantized without alignment", fp32_xml,
                    type(exc).__name__, exc)
        return {"applicable": False, "error": f"{type(exc).__name__}: {exc}", **run}


def _applied_alignment(settings: DefaultQuantizationSettings,
                       alignment_applicable: bool) -> tuple[DefaultQuantizationSettings, bool | str]:
    """The settings NNCF gets (alignment only where it runs) and what the report says was applied."""
    if settings.channel_alignment and not alignment_applicable:
        return replace(settings, channel_alignment=False), ALIGNMENT_FAILED
    return settings, settings.channel_alignment


def quantize_default(fp32_xml: str | Path, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
                     settings: DefaultQuantizationSettings, seed: int,
                     alignment_applicable: bool = True) -> tuple[ov.Model, dict[str, Any]]:
    """Quantize an FP32 IR to INT8 with ``nncf.quantize`` on calibration ``images`` (uint8 NHWC).

    ``alignment_applicable``: the model's :func:`channel_alignment_verdict`; alignment asked for where it is not
    applicable is left out, and the report says so. Returns (quantized model, report). The report records the
    settings, the images NNCF was given (and how many it read, and bias correction saw), the activation quantizers
    and the rule of their ranges, the FakeQuantize operations inserted and the wall time.
    """
    model = read_model(fp32_xml)
    calibration = calibration_set(images, mean, std, seed, settings.subset_size, settings.batch_size)
    applied, alignment = _applied_alignment(settings, alignment_applicable)
    start = time.perf_counter()
    quantized = nncf.quantize(model, calibration.dataset(), **default_kwargs(applied, len(calibration.items)))
    return quantized, _report("default", settings, images, calibration, seed, quantized, time.perf_counter() - start,
                              channel_alignment_applied=alignment)


def _quantizer_kinds(model: ov.Model) -> dict[str, int]:
    """How many activation quantizers of each kind (and how many signed) the INT8 model holds."""
    quantizers = activation_quantizers(model)
    return {"per_tensor": sum(not q.per_channel for q in quantizers), "per_channel": sum(q.per_channel for q in quantizers),
            "signed": sum(q.signed for q in quantizers)}


def _report(algorithm: str, settings: DefaultQuantizationSettings, images: np.ndarray, calibration: CalibrationSet,
            seed: int, quantized: ov.Model, seconds: float, more_settings: dict[str, Any] | None = None,
            **extra: Any) -> dict[str, Any]:
    """The quantization record both algorithms write (settings, images used, FakeQuantize count, time)."""
    return {
        "algorithm": algorithm,
        "settings": {**asdict(settings), "ignored_types": list(settings.ignored_types), **(more_settings or {})},
        "n_calibration": int(len(images)),
        "subset_size": calibration.n_images,
        "batch_size": calibration.batch_size,
        "calibration_items": len(calibration.items),
        "bias_correction_images": (calibration.bias_correction_images(settings.fast_bias_correction)
                                   if settings.bias_correction else 0),
        "images_used": max(calibration.passes, default=0),  # counted while NNCF read them
        "calibration_passes": len(calibration.passes),  # how often NNCF read the calibration set (cost)
        "calibration_indices": calibration.order.tolist(),  # the folder's images NNCF was given, in that order
        "seed": seed,
        **extra,
        "fake_quantize_ops": count_fake_quantize(quantized),
        "activation_quantizers": _quantizer_kinds(quantized),
        "range_rule": range_rule(settings.range_estimator),
        "seconds": round(seconds, 3),
        "nncf_version": nncf.__version__,
        "openvino_version": ov.get_version(),
    }


def accuracy_aware_kwargs(aa: AccuracyAwareSettings, threads: int | None = None,
                          intermediate_model_dir: str | None = None,
                          calibration_images: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``nncf.quantize_with_accuracy_control`` (:class:`synthcal.settings.AccuracyAwareSettings`).

    The ranking subset is always given explicitly, in validation images: NNCF's default is ``subset_size`` *items*,
    which with batched calibration items would be a handful; None means ``calibration_images``, what the default
    means with one image per item. The ranking workers too: NNCF's automatic choice counts the machine's cores, not
    the job's (``threads``).
    """
    restorer: dict[str, Any] = {"num_ranking_workers": aa.ranking_workers or max(1, (threads or 1) // 2)}
    ranking = aa.ranking_subset_size or calibration_images
    if ranking:
        restorer["ranking_subset_size"] = int(ranking)
    if aa.max_num_iterations:
        restorer["max_num_iterations"] = aa.max_num_iterations
    if intermediate_model_dir:
        restorer["intermediate_model_dir"] = intermediate_model_dir
    return {
        "max_drop": aa.max_drop,
        "drop_type": {"absolute": nncf.DropType.ABSOLUTE, "relative": nncf.DropType.RELATIVE}[aa.drop_type],
        "advanced_accuracy_restorer_parameters": nncf.AdvancedAccuracyRestorerParameters(**restorer),
    }


#: What accuracy-aware quantization can measure its drop on (``quantization.accuracy_aware.validation``, resolved).
VALIDATIONS = ("calibration", "holdout", "agreement")


def validation_data(kind: str, calibration: Split, holdout_npz: str | Path | None = None,
                    agreement_fraction: float | None = None, seed: int = 0,
                    ) -> tuple[Split, np.ndarray, np.ndarray | None]:
    """What accuracy-aware quantization calibrates and validates on: (calibration split, validation images, labels or
    None). ``calibration``: the source's own labelled folder (the paper's choice); ``holdout``: the real split held
    out from the training images (``holdout_npz``), never the test split; ``agreement``: data-free, a seeded
    ``agreement_fraction`` of the folder held out, never calibrated on, labelled by the FP32 model when quantization
    starts (None here): the drop is the INT8 model's loss of top-1 agreement with FP32."""
    if kind == "calibration":
        return calibration, calibration.images, calibration.labels
    if kind == "holdout":
        if holdout_npz is None:
            raise ValueError("validation 'holdout' needs the held-out split (results/data/cifar10/holdout.npz)")
        held = load_split(holdout_npz)
        return calibration, held.images, held.labels
    if kind == "agreement":
        n = round((agreement_fraction or 0.0) * len(calibration))
        if not 0 < n < len(calibration):
            raise ValueError(f"validation 'agreement' holds out {n} of the folder's {len(calibration)} images: "
                             "set quantization.accuracy_aware.agreement_fraction so that some are held out and "
                             "some are left")
        order = rng(seed, "agreement-validation").permutation(len(calibration))
        held, kept = np.sort(order[:n]), np.sort(order[n:])
        return calibration.subset(kept), calibration.images[held], None
    raise ValueError(f"unknown validation data {kind!r} ({', '.join(VALIDATIONS)})")


def validation_items(images: np.ndarray, labels: np.ndarray, mean: Sequence[float],
                     std: Sequence[float]) -> list[tuple[np.ndarray, int]]:
    """Items of the validation dataset: (normalised image (1, 3, 32, 32), label)."""
    inputs = to_model_input(images, mean, std)
    return [(inputs[i : i + 1], int(labels[i])) for i in range(len(labels))]


def validate(compiled: ov.CompiledModel, items: Any, batch_size: int = 100) -> tuple[float, list[float]]:
    """NNCF's ``validation_fn``: top-1 accuracy in [0, 1] and the per-item hits (so NNCF does not re-run per item).

    NNCF passes the raw dataset items (no transform); the compiled model has a dynamic batch, so items are batched.
    """
    items = list(items)
    batches = (np.concatenate([item[0] for item in items[start:start + batch_size]])
               for start in range(0, len(items), batch_size))
    predicted = infer_batches(compiled, batches).argmax(1) if len(items) else np.empty(0, dtype=int)
    hits = [float(p == item[1]) for p, item in zip(predicted, items, strict=True)]
    return (float(np.mean(hits)) if hits else 0.0), hits


def reverted_operations(before: ov.Model | str | Path, after: ov.Model | str | Path) -> tuple[int, int]:
    """(operations reverted to floating point, operations quantized before): computed from the models, as the
    operations that consume quantized activations in ``before`` (the default INT8 model) but not in ``after``."""
    quantized = quantized_operations(before)
    return len(quantized - quantized_operations(after)), len(quantized)


def quantize_accuracy_aware(fp32_xml: str | Path, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
                            settings: DefaultQuantizationSettings, aa: AccuracyAwareSettings, seed: int,
                            validation: tuple[np.ndarray, np.ndarray | None], threads: int | None = None,
                            validation_kind: str = "calibration",
                            alignment_applicable: bool = True) -> tuple[ov.Model, dict[str, Any]]:
    """Accuracy-aware INT8 quantization: default quantization, then ops reverted to FP32 until the drop on the
    ``validation`` set (images, labels; see :func:`validation_data`, ``validation_kind`` names it in the report) is
    at most ``aa.max_drop``. Labels None: the FP32 model's top-1 predictions, so that the metric is agreement.

    Returns (model, report); the report adds ``reverted_ops`` and ``quantized_ops`` (counted by
    :func:`reverted_operations` on the default INT8 model NNCF starts from, which it saves in its
    ``intermediate_model_dir``; None when that model is not there), the FP32 and INT8 validation accuracies and
    whether the required drop was reached.
    """
    model = read_model(fp32_xml)
    calibration = calibration_set(images, mean, std, seed, settings.subset_size, settings.batch_size)
    val_images, val_labels = validation
    if val_labels is None:  # data-free: the FP32 model's own top-1 is the label, the metric its agreement
        val_labels = infer_batches(compile_f32(model, threads), (
            to_model_input(val_images[i:i + settings.batch_size], mean, std)
            for i in range(0, len(val_images), settings.batch_size))).argmax(1)
    val_items = validation_items(val_images, val_labels, mean, std)
    applied, alignment = _applied_alignment(settings, alignment_applicable)

    def validate_batched(compiled: ov.CompiledModel, items: Any) -> tuple[float, list[float]]:
        return validate(compiled, items, settings.batch_size)

    kwargs = default_kwargs(applied, len(calibration.items))
    kwargs["advanced_quantization_parameters"] = kwargs.pop("advanced_parameters")
    with tempfile.TemporaryDirectory(prefix="synthcal-aa-") as workdir:
        start = time.perf_counter()
        quantized = nncf.quantize_with_accuracy_control(model, calibration.dataset(), nncf.Dataset(val_items),
                                                        validate_batched, **kwargs,
                                                        **accuracy_aware_kwargs(aa, threads, workdir,
                                                                                calibration.n_images))
        seconds = time.perf_counter() - start
        intermediate = Path(workdir) / "intermediate_model.xml"
        if intermediate.exists():
            reverted, quantized_ops = reverted_operations(intermediate, quantized)
        else:
            log.warning("NNCF did not save its intermediate model: reverted operations unknown")
            reverted = quantized_ops = None
    fp32_acc = validate_batched(compile_f32(model, threads), val_items)[0]
    int8_acc = validate_batched(compile_f32(quantized, threads), val_items)[0]
    reached = fp32_acc - int8_acc <= aa.max_drop + 1e-12 if aa.drop_type == "absolute" else (
        fp32_acc == 0 or abs(1 - int8_acc / fp32_acc) <= aa.max_drop + 1e-12 or int8_acc >= fp32_acc)
    return quantized, _report(
        "accuracy_aware", settings, images, calibration, seed, quantized, seconds, more_settings=asdict(aa),
        validation=validation_kind, validation_metric="agreement with FP32" if validation[1] is None else "accuracy",
        n_validation=len(val_items), validation_fp32_accuracy=fp32_acc,
        validation_int8_accuracy=int8_acc, max_drop=aa.max_drop, drop_type=aa.drop_type,
        reverted_ops=reverted, quantized_ops=quantized_ops, reached_required_drop=bool(reached),
        channel_alignment_applied=alignment)
