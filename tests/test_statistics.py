"""Intervals, verdicts and tests of synthcal.statistics against cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from synthcal.predictions import PredictionsError, from_logits, load_predictions, save_predictions
from synthcal.schema import default_settings
from synthcal.statistics import (
    StatisticsSettings,
    compare_to_reference,
    drop_statistics,
    holm,
    mcnemar_p,
    per_class_drops,
    rank_correlation,
    verdict,
)

N = 1000
LABELS = np.arange(N) % 10


def _model(wrong: np.ndarray, labels: np.ndarray = LABELS):
    """Predictions that are right except on the images ``wrong`` (bool mask)."""
    predicted = np.where(wrong, (labels + 1) % 10, labels)
    return from_logits(np.eye(10, dtype=np.float32)[predicted] + 0.1, labels)


def test_a_model_identical_to_fp32_has_no_drop_no_flips_and_a_zero_width_interval():
    fp32 = _model(np.arange(N) % 5 == 0)
    out = drop_statistics(fp32, [fp32], default_settings(StatisticsSettings, resamples=300))
    assert out["drop_points"] == out["drop_ci_low"] == out["drop_ci_high"] == 0.0
    assert out["flip_rate"] == out["flip_ci_low"] == out["flip_ci_high"] == 0.0
    assert out["drop_percent_ci_low"] == out["drop_percent_ci_high"] == 0.0
    assert out["draws"] == 1 and out["drop_points_std"] is None


def test_a_known_set_of_flips_gives_its_drop_flip_rate_and_exact_mcnemar_p():
    fp32_wrong = np.zeros(N, bool)
    fp32_wrong[:100] = True  # FP32 90 %
    int8_wrong = fp32_wrong.copy()
    int8_wrong[100:130] = True  # 30 images lost
    int8_wrong[:10] = False  # 10 images won
    fp32, int8 = _model(fp32_wrong), _model(int8_wrong)
    out = drop_statistics(fp32, [int8], default_settings(StatisticsSettings, resamples=500, seed=3))
    assert out["drop_points"] == pytest.approx(2.0) and out["drop_percent"] == pytest.approx(2.0 / 0.9)
    assert out["flip_rate"] == pytest.approx(4.0)  # 40 of 1,000 predictions changed
    assert out["drop_ci_low"] < 2.0 < out["drop_ci_high"] and out["flip_ci_low"] < 4.0 < out["flip_ci_high"]
    p, only_fp32, only_int8 = mcnemar_p(fp32, int8)
    assert (only_fp32, only_int8) == (30, 10)
    assert p == pytest.approx(stats.binomtest(10, 40, 0.5).pvalue)  # exact McNemar = binomial on discordant pairs
    # the interval is the paired bootstrap over test images, reproducible from the seed with SciPy alone
    a, b = fp32.correct.astype(float), int8.correct.astype(float)
    ref = stats.bootstrap((np.arange(N),), lambda i, axis=-1: 100 * (a[i].mean(-1) - b[i].mean(-1)),
                          vectorized=True, n_resamples=500, method="percentile", rng=np.random.default_rng(3))
    assert (out["drop_ci_low"], out["drop_ci_high"]) == pytest.approx(tuple(ref.confidence_interval))


def test_repeats_widen_the_interval_by_the_spread_of_the_draws():
    fp32 = _model(np.arange(N) % 10 == 0)
    rng = np.random.default_rng(0)
    draws = [_model((np.arange(N) % 10 == 0) | (rng.random(N) < rate)) for rate in (0.01, 0.03, 0.05)]
    settings = default_settings(StatisticsSettings, resamples=400)
    both = drop_statistics(fp32, draws, settings)
    per_draw = [100 * (fp32.accuracy() - d.accuracy()) for d in draws]
    assert both["drop_points"] == pytest.approx(np.mean(per_draw)) and both["draws"] == 3
    assert both["drop_points_std"] == pytest.approx(np.std(per_draw, ddof=1))
    assert (both["drop_points_min"], both["drop_points_max"]) == pytest.approx((min(per_draw), max(per_draw)))
    # the draws' t interval alone is wider than the test images' bootstrap of the mean over draws
    t_half = stats.ttest_1samp(per_draw, 0).confidence_interval(0.95)
    assert both["drop_ci_high"] - both["drop_ci_low"] > t_half.high - t_half.low


def _simulated_coverage(draws: int, sigma: float, trials: int, n: int = 2000, seed: int = 0) -> float:
    """Share of simulated experiments whose interval covers the true expected drop: each test image is right in
    FP32 with probability 0.8; an INT8 draw loses a right image with probability a_r = 0.02 + N(0, sigma) and wins
    a wrong one with probability 0.02, so the expected drop is 100 * (0.8 * 0.02 - 0.2 * 0.02) = 1.2 points."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    truth, hits = 100 * (0.8 * 0.02 - 0.2 * 0.02), 0
    settings = default_settings(StatisticsSettings, resamples=300, seed=1)
    for _ in range(trials):
        right = rng.random(n) < 0.8
        fp32 = _model(~right, labels)
        models = []
        for _ in range(draws):
            lose = min(max(0.02 + rng.normal(0, sigma), 0.0), 1.0)
            flip = np.where(right, rng.random(n) < lose, rng.random(n) < 0.02)
            models.append(_model(~(right ^ flip), labels))
        out = drop_statistics(fp32, models, settings)
        hits += out["drop_ci_low"] <= truth <= out["drop_ci_high"]
    return hits / trials


@pytest.mark.parametrize("draws,sigma", [(1, 0.0), (3, 0.01)])
def test_intervals_cover_the_true_drop_at_about_their_nominal_rate(draws, sigma):
    """95 % intervals on simulated experiments: test sampling alone (one draw), and with calibration draws whose
    drops vary (three draws): coverage near 95 % (the t interval of three draws errs on the wide side)."""
    coverage = _simulated_coverage(draws, sigma, trials=120)
    assert 0.88 <= coverage <= 1.0


def test_verdicts_follow_the_interval_and_the_margin():
    assert verdict(-0.3, 0.4, 0.5) == "equivalent"  # within the margin: equivalent, even if 0 is inside
    assert verdict(0.1, 0.4, 0.5) == "equivalent"  # equivalence takes precedence over a non-zero difference
    assert verdict(0.2, 0.9, 0.5) == "worse"
    assert verdict(-1.2, -0.1, 0.5) == "better"
    assert verdict(-0.2, 0.9, 0.5) == "inconclusive"


def test_a_source_compared_with_the_reference_gets_a_paired_difference_and_its_verdict():
    base = np.arange(N) % 10 == 0
    reference = [_model(base)]
    same = [_model(base)]
    worse = base.copy()
    worse[np.flatnonzero(~base)[:80]] = True  # 8 points lost against the reference
    settings = default_settings(StatisticsSettings, resamples=400, margin_points=0.5)
    equal = compare_to_reference(same, reference, settings)
    assert equal["diff_vs_reference"] == equal["diff_ci_low"] == equal["diff_ci_high"] == 0.0
    assert equal["verdict"] == "equivalent" and equal["mcnemar_p"] == 1.0
    out = compare_to_reference([_model(worse)], reference, settings)
    assert out["diff_vs_reference"] == pytest.approx(8.0) and out["diff_ci_low"] > 0.5
    assert out["verdict"] == "worse" and (out["only_source_correct"], out["only_reference_correct"]) == (0, 80)
    assert out["mcnemar_p"] == pytest.approx(stats.binomtest(0, 80, 0.5).pvalue)
    better = compare_to_reference(reference, [_model(worse)], settings)
    assert better["verdict"] == "better" and better["diff_ci_high"] < 0


def test_holm_adjusts_a_family_of_p_values():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])  # 3 x 0.01, max(2 x 0.03, 0.04)
    adjusted = holm([0.2, float("nan")])
    assert adjusted[0] == pytest.approx(0.2) and np.isnan(adjusted[1])


def test_per_class_drops_find_the_wrecked_class():
    fp32 = _model(np.zeros(N, bool))
    int8 = _model(LABELS == 3)  # every cat wrong, every other class right
    base, quant, drops = per_class_drops(fp32, [int8], 10)
    assert base.tolist() == [100.0] * 10 and quant[3] == 0.0 and drops[3] == 100.0
    assert np.delete(drops, 3).tolist() == [0.0] * 9


def test_rank_correlation_and_its_interval():
    perfect = rank_correlation([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], default_settings(StatisticsSettings, resamples=200))
    assert perfect["rho"] == pytest.approx(1.0) and perfect["n"] == 5
    assert perfect["ci_low"] == pytest.approx(1.0) and perfect["ci_high"] == pytest.approx(1.0)
    flat = rank_correlation([1, 2, 3], [5, 5, 5], default_settings(StatisticsSettings, resamples=200))
    assert flat["rho"] is None and flat["n"] == 3


def test_predictions_round_trip_and_refuse_other_test_images(tmp_path):
    logits = np.random.default_rng(0).standard_normal((20, 10)).astype(np.float32)
    labels = np.arange(20) % 10
    pred = from_logits(logits, labels)
    save_predictions(tmp_path / "p.npz", pred)
    back = load_predictions(tmp_path / "p.npz")
    assert np.array_equal(back.predictions, logits.argmax(1)) and np.array_equal(back.labels, labels)
    assert back.accuracy() == pred.accuracy() and back.logits.dtype == np.float16
    other = from_logits(logits[:10], labels[:10])
    with pytest.raises(PredictionsError, match="different test images"):
        drop_statistics(pred, [other], default_settings(StatisticsSettings, resamples=100))
    np.savez(tmp_path / "bad.npz", labels=labels)
    with pytest.raises(PredictionsError, match="bad.npz is not a predictions file"):
        load_predictions(tmp_path / "bad.npz")
