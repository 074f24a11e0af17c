"""How sure a reported difference is: intervals for accuracy drops and flip rates, paired comparisons against a
reference calibration source, and rank correlations; computed from stored per-image predictions
(:mod:`synthcal.predictions`) with SciPy's bootstrap and t distributions and statsmodels' tests.

**Two sources of variation.** A drop measured on the 10,000 test images is one sample of the drop on the images a
user cares about (*test sampling*), and a calibration set is one draw of the source's images (*calibration draw*;
``repeats`` > 1 quantizes on several). An interval covers both (:func:`combined_interval`):

* test sampling: a paired percentile bootstrap over test images (``scipy.stats.bootstrap``, ``resamples``
  replicates, seeded): each replicate resamples the test images with replacement and recomputes the statistic (the
  mean over draws of FP32 minus INT8 accuracy, say) on them, FP32 and INT8 always on the *same* images, so the
  images' shared difficulty cancels; this gives the half-widths below and above the point estimate;
* calibration draws: the t interval of the mean of the per-draw values (``scipy.stats.ttest_1samp``; for a
  difference between two sources, Welch's ``scipy.stats.ttest_ind``), half-width ``t * s / sqrt(draws)``; zero with
  one draw;
* the two are independent and add as variances: each side of the interval is the root of the sum of the squared
  half-widths, around the point estimate (the mean over draws on all test images).

Generators are trained once: the variance of retraining a GAN with another seed is not covered, nor, with one draw,
that of the calibration draw.

**Verdict against a reference source** (:func:`verdict`): the paired difference ``drop(source) - drop(reference)``
(INT8 accuracy of the reference minus that of the source, same test images) with its interval, against an
equivalence margin ``m``: *equivalent* if the interval lies within [-m, m] (this takes precedence); else *worse* if
its lower bound is above 0; *better* if its upper bound is below 0; else *inconclusive*. Beside it, an exact McNemar
test on the test images where the two INT8 models (first draws) disagree in correctness (:func:`mcnemar_p`), with
Holm's correction over a table's comparisons (:func:`holm`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from synthcal.predictions import Predictions, aligned
from synthcal.settings import StatisticsSettings

#: The four verdicts of :func:`verdict`.
VERDICTS = ("equivalent", "worse", "better", "inconclusive")


def image_bootstrap(draw_sets: Sequence[np.ndarray], combine: Callable[..., np.ndarray], resamples: int,
                   confidence: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point estimates and paired percentile bootstrap intervals over the test images of a statistic of per-image
    values (``scipy.stats.bootstrap``; the calibration draws are held fixed).

    Args:
        draw_sets: arrays of shape (draws, images, values): per calibration draw and test image, the values whose
            means the statistic combines; every set holds the same test images in the same order.
        combine: ``combine(*means)`` with one array (..., values) per set (means over the resampled images, then
            over the set's draws) returning the statistic's components stacked on axis 0.
        resamples: bootstrap replicates; confidence: the interval's level; seed: the resampling's seed.

    Returns:
        (point estimate, lower bounds, upper bounds), one entry per component.
    """
    n_images = draw_sets[0].shape[1]
    if any(s.shape[1] != n_images for s in draw_sets):
        raise ValueError("every set of a bootstrap must hold the same test images")

    def statistic(images: np.ndarray, axis: int = -1) -> np.ndarray:
        images = np.asarray(images)
        return np.asarray(combine(*[np.mean([values[r][images].mean(axis=-2) for r in range(len(values))], axis=0)
                                    for values in draw_sets]))

    data = (np.arange(n_images),)
    point = statistic(data[0])
    if n_images < 2:
        return np.atleast_1d(point), np.full_like(np.atleast_1d(point), np.nan), np.full_like(np.atleast_1d(point),
                                                                                                np.nan)
    result = stats.bootstrap(data, statistic, vectorized=True, n_resamples=resamples, confidence_level=confidence,
                             method="percentile", rng=np.random.default_rng(seed),
                             batch=max(1, min(resamples, 2_000_000 // max(n_images, 1))))
    low, high = np.atleast_1d(result.confidence_interval.low), np.atleast_1d(result.confidence_interval.high)
    if np.isnan(low).any() or np.isnan(high).any():  # a component undefined on some replicates (a ratio over 0)
        alpha = (1 - confidence) / 2 * 100
        replicates = np.asarray(result.bootstrap_distribution).reshape(len(low), -1)
        with np.errstate(invalid="ignore"):
            low, high = np.nanpercentile(replicates, alpha, axis=-1), np.nanpercentile(replicates, 100 - alpha, axis=-1)
    return np.atleast_1d(point), np.atleast_1d(low), np.atleast_1d(high)


def draw_half_width(values: Sequence[float], confidence: float) -> float:
    """Half-width of the t interval of the mean of per-draw values (``scipy.stats.ttest_1samp``); 0 for one draw."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or np.ptp(values) < 1e-9:  # equal draws (up to float rounding): no spread
        return 0.0
    interval = stats.ttest_1samp(values, 0.0).confidence_interval(confidence)
    return float((interval.high - interval.low) / 2)


def welch_half_width(a: Sequence[float], b: Sequence[float], confidence: float) -> float:
    """Half-width of Welch's t interval of mean(a) - mean(b) (``scipy.stats.ttest_ind``, unequal variances) for
    per-draw values of two sources; with one draw on a side, that side contributes no variance (the other's t
    interval), and 0 when neither side has two draws."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 and len(b) < 2:
        return 0.0
    if len(a) < 2 or len(b) < 2:
        return draw_half_width(b if len(a) < 2 else a, confidence)
    if np.ptp(a) < 1e-9 and np.ptp(b) < 1e-9:
        return 0.0
    interval = stats.ttest_ind(a, b, equal_var=False).confidence_interval(confidence)
    return float((interval.high - interval.low) / 2)


def combined_interval(point: float, low: float, high: float, draw_half: float) -> tuple[float, float]:
    """The interval of a statistic from its test-sampling interval [low, high] around ``point`` and the calibration
    draws' half-width, added as variances on each side (see the module docstring)."""
    return (point - float(np.hypot(point - low, draw_half)), point + float(np.hypot(high - point, draw_half)))


def _stack(rows: Sequence[np.ndarray]) -> np.ndarray:
    """(draws, images, values) from one (images, values) or (images,) array per draw."""
    return np.stack([np.asarray(r, dtype=np.float64).reshape(len(r), -1) for r in rows])


def drop_statistics(fp32: Predictions, int8: Sequence[Predictions], settings: StatisticsSettings) -> dict[str, Any]:
    """A cell's drop and flip rate with their intervals (see the module docstring); ``int8`` holds one
    :class:`Predictions` per calibration draw (repeat).

    Returns ``drop_points`` (FP32 minus INT8 top-1, accuracy points, mean over draws) with ``drop_ci_low/high``,
    ``drop_percent`` (the drop in % of the FP32 accuracy, Table 1's unit) with ``drop_percent_ci_low/high``,
    ``flip_rate`` (% of test images whose INT8 prediction differs from FP32's, mean over draws) with
    ``flip_ci_low/high``, and the draws' spread of the drop: ``draws``, ``drop_points_std`` (None for one draw),
    ``drop_points_min``, ``drop_points_max``.

    Raises:
        PredictionsError: a draw was evaluated on other test images than the FP32 model.
    """
    for k, draw in enumerate(int8):
        aligned(fp32, draw, ("FP32", f"INT8 (repeat {k})"))
    fp32_correct = _stack([fp32.correct])
    draws = _stack([np.stack([d.correct, d.predictions != fp32.predictions], axis=1) for d in int8])

    def combine(base: np.ndarray, quant: np.ndarray) -> np.ndarray:
        fp32_acc, int8_acc, flips = base[..., 0], quant[..., 0], quant[..., 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            percent = np.where(fp32_acc > 0, (fp32_acc - int8_acc) / np.maximum(fp32_acc, 1e-12) * 100.0, np.nan)
        return np.stack([(fp32_acc - int8_acc) * 100.0, percent, flips * 100.0])

    point, low, high = image_bootstrap([fp32_correct, draws], combine, settings.resamples, settings.confidence,
                                       settings.seed)
    fp32_acc = fp32.accuracy()
    per_draw = np.array([combine(np.array([fp32_acc]), np.array([d.accuracy(), np.mean(d.predictions != fp32.predictions)]))
                         for d in int8])  # (draws, components)
    out: dict[str, Any] = {}
    for k, (name, lo_name, hi_name) in enumerate((("drop_points", "drop_ci_low", "drop_ci_high"),
                                                 ("drop_percent", "drop_percent_ci_low", "drop_percent_ci_high"),
                                                 ("flip_rate", "flip_ci_low", "flip_ci_high"))):
        out[name] = float(point[k])
        out[lo_name], out[hi_name] = combined_interval(float(point[k]), float(low[k]), float(high[k]),
                                                       draw_half_width(per_draw[:, k], settings.confidence))
    drops = per_draw[:, 0]
    out.update(draws=len(int8), drop_points_std=float(drops.std(ddof=1)) if len(int8) > 1 else None,
               drop_points_min=float(drops.min()), drop_points_max=float(drops.max()))
    return out


def mcnemar_p(a: Predictions, b: Predictions) -> tuple[float, int, int]:
    """Exact McNemar test (statsmodels) of two models scored on the same test images: (two-sided p, images only
    ``a`` gets right, images only ``b`` gets right). p = 1 when they never disagree in correctness."""
    aligned(a, b, ("first", "second"))
    only_a = int(np.sum(a.correct & ~b.correct))
    only_b = int(np.sum(~a.correct & b.correct))
    both = int(np.sum(a.correct & b.correct))
    neither = len(a) - both - only_a - only_b
    if only_a + only_b == 0:
        return 1.0, 0, 0
    return float(mcnemar([[both, only_a], [only_b, neither]], exact=True).pvalue), only_a, only_b


def verdict(low: float, high: float, margin: float) -> str:
    """The verdict of a difference ``drop(source) - drop(reference)`` with interval [low, high] and equivalence
    margin ``margin`` (points): see the module docstring."""
    if -margin <= low and high <= margin:
        return "equivalent"
    if low > 0:
        return "worse"
    if high < 0:
        return "better"
    return "inconclusive"


def compare_to_reference(source: Sequence[Predictions], reference: Sequence[Predictions],
                         settings: StatisticsSettings) -> dict[str, Any]:
    """The paired comparison of a source's INT8 models with the reference source's (same model and algorithm):
    ``diff_vs_reference`` = drop(source) - drop(reference) in points (means over each side's draws) with
    ``diff_ci_low/high`` (test images resampled, both sides' draws by Welch's t), the ``verdict`` and the exact
    McNemar p-value of the first draws (``mcnemar_p``) with the discordant counts (``only_source_correct``,
    ``only_reference_correct``)."""
    for k, draw in enumerate(list(source) + list(reference)):
        aligned(reference[0], draw, ("reference", f"compared model {k}"))
    sets = [_stack([d.correct for d in reference]), _stack([d.correct for d in source])]
    point, low, high = image_bootstrap(sets, lambda ref, src: np.stack([(ref[..., 0] - src[..., 0]) * 100.0]),
                                       settings.resamples, settings.confidence, settings.seed)
    half = welch_half_width([-100.0 * d.accuracy() for d in source], [-100.0 * d.accuracy() for d in reference],
                            settings.confidence)
    ci_low, ci_high = combined_interval(float(point[0]), float(low[0]), float(high[0]), half)
    p, only_source, only_reference = mcnemar_p(source[0], reference[0])
    return {"diff_vs_reference": float(point[0]), "diff_ci_low": ci_low, "diff_ci_high": ci_high,
            "verdict": verdict(ci_low, ci_high, settings.margin_points), "mcnemar_p": p,
            "only_source_correct": only_source, "only_reference_correct": only_reference}


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (statsmodels ``multipletests``), for a family of comparisons; NaN stays NaN."""
    values = np.asarray(pvalues, dtype=float)
    out = np.full(len(values), np.nan)
    valid = ~np.isnan(values)
    if valid.any():
        out[valid] = multipletests(values[valid], method="holm")[1]
    return out.tolist()


def per_class_drops(fp32: Predictions, int8: Sequence[Predictions], n_classes: int) -> tuple[np.ndarray, np.ndarray,
                                                                                              np.ndarray]:
    """(FP32 accuracy, INT8 accuracy (mean over draws), drop in points) of every class, in %."""
    base = fp32.per_class_accuracy(n_classes) * 100.0
    quant = np.mean([d.per_class_accuracy(n_classes) for d in int8], axis=0) * 100.0
    return base, quant, base - quant


def common_n(counts: Sequence[float]) -> int | None:
    """The N that most rows were measured at (the larger one on a tie; NaN ignored); None for no rows. Quality
    measures move with N, so only rows at one N are compared."""
    values = np.asarray([c for c in counts if c == c], dtype=float)
    if not len(values):
        return None
    unique, freq = np.unique(values, return_counts=True)
    return int(unique[freq == freq.max()].max())


def rank_correlation(x: Sequence[float], y: Sequence[float], settings: StatisticsSettings) -> dict[str, Any]:
    """Spearman's rank correlation of paired values (SciPy) with a percentile bootstrap interval over the pairs
    (replicates whose ranks are undefined, all ties, are dropped): ``rho``, ``ci_low``, ``ci_high``, ``n``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"rho": None, "ci_low": None, "ci_high": None, "n": int(len(x))}

    def rho(a: np.ndarray, b: np.ndarray) -> float:
        return float(stats.spearmanr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else np.nan

    with warnings.catch_warnings():  # a degenerate bootstrap distribution (all replicates equal) is a valid answer
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap((x, y), rho, paired=True, vectorized=False, n_resamples=settings.resamples,
                                 method="percentile", rng=np.random.default_rng(settings.seed))
    replicates = np.asarray(result.bootstrap_distribution)
    alpha = (1 - settings.confidence) / 2
    finite = replicates[np.isfinite(replicates)]
    low, high = (np.quantile(finite, [alpha, 1 - alpha]) if len(finite) else (np.nan, np.nan))
    return {"rho": rho(x, y), "ci_low": float(low), "ci_high": float(high), "n": int(len(x))}
