import math

import numpy as np
import pandas as pd
import pytest

from synthcal.aggregate import (
    ACCURACY_AWARE_COLUMNS,
    COLUMNS,
    AggregationError,
    accuracy_drop,
    fusion_table,
    paper_intervals,
    paper_table,
    quantization_runs,
    quantization_table,
    speed_rows,
)
from synthcal.io import write_csv
from synthcal.predictions import from_logits
from synthcal.schema import default_settings
from synthcal.statistics import StatisticsSettings

#: Test images of the fake evaluations, and their stored predictions by key (as the aggregation rule loads them).
N = 200
LABELS = np.arange(N) % 10
PREDICTIONS: dict = {}


def _predictions(acc):
    """Predictions right on the first acc * N test images (so lower accuracies are wrong on a superset)."""
    predicted = np.where(np.arange(N) < round(acc * N), LABELS, (LABELS + 1) % 10)
    return from_logits(np.eye(10, dtype=np.float32)[predicted], LABELS)


def _fp32(model, acc):
    PREDICTIONS[("fp32", model)] = _predictions(acc)
    return {"model": model, "arch": model, "accuracy": acc}


def _int8(model, source, acc, repeat=0, algorithm="default"):
    PREDICTIONS[(model, source, algorithm, repeat)] = _predictions(acc)
    return {"model": model, "arch": model, "source": source, "algorithm": algorithm, "accuracy": acc,
            "repeat": repeat}


def _speed(model, algorithm, fp32_ips, int8_ips):
    """A speed record as synthcal.speed.compare_speed writes it (fp32 + one INT8 IR per source)."""
    irs = {"fp32": {"ir": "f.xml", "images_per_s": fp32_ips, "latency_ms": 2.0, "latency_ms_p90": 2.5}}
    irs.update({f"int8/{s}": {"ir": f"{s}.xml", "images_per_s": v, "latency_ms": 1.0, "latency_ms_p90": 1.2}
                for s, v in int8_ips.items()})
    return {"model": model, "algorithm": algorithm, "threads": 2, "batch_size": 64, "seconds": 1, "repeats": 3,
            "irs": irs}


def _quant(model, source, repeat=0, algorithm="default", **extra):
    return {"model": model, "source": source, "algorithm": algorithm, "n_calibration": 5000,
            "subset_size": 300, "seed": 7 + repeat, "fake_quantize_ops": 12, "seconds": 3.0, "repeat": repeat,
            **extra}


SETTINGS = default_settings(StatisticsSettings, resamples=200, reference=None)


def _table(fp32, int8, quant, speed=(), settings=SETTINGS):
    return quantization_table(quantization_runs(fp32, int8, quant, PREDICTIONS, speed), PREDICTIONS, settings)[0]


def test_drop_definitions():
    points, percent = accuracy_drop(0.9260, 0.9158)
    assert math.isclose(points, 1.02, abs_tol=1e-9)
    assert math.isclose(percent, 1.1015118790496, rel_tol=1e-9)  # relative to FP32, as the paper's Table 1
    assert accuracy_drop(0.5, 0.6)[0] < 0  # an improvement is a negative drop


def test_table_rows_and_paper_layout(tmp_path):
    fp32 = [_fp32("a", 0.80), _fp32("b", 0.50)]
    int8 = [_int8("a", "cifar10", 0.78), _int8("b", "cifar10", 0.25), _int8("a", "fractal", 0.40)]
    gradient = "IFS fractals, random two-colour gradient (fallback: no colourizer files, not Datumaro's colouring)"
    quant = [_quant("a", "cifar10", calibration_data="real CIFAR-10: 500 training images per class"),
             _quant("b", "cifar10", calibration_data="real CIFAR-10: 500 training images per class"),
             _quant("a", "fractal", calibration_data=gradient)]
    speed = [r for rec in (_speed("a", "default", 100.0, {"cifar10": 150.0, "fractal": 300.0}),
                           _speed("b", "default", 50.0, {"cifar10": 75.0})) for r in speed_rows(rec)]
    table = _table(fp32, int8, quant, speed)
    assert list(table.columns) == COLUMNS and len(table) == 3
    assert (table.repeats == 1).all() and table.drop_points_std.isna().all()
    row = table[(table.model == "b") & (table.source == "cifar10")].iloc[0]
    assert row.fp32_accuracy == 50.0 and row.int8_accuracy == 25.0
    assert row.drop_points == 25.0 and row.drop_percent == 50.0
    assert row.subset_size == 300 and row.seed == 7 and row.n_calibration == 5000
    # the speed columns are the one speed measurement, joined per (model, algorithm, source)
    assert table[table.source == "fractal"].iloc[0].speedup == 3.0
    for r in speed:
        row = table[(table.model == r["model"]) & (table.source == r["source"])].iloc[0]
        assert (row.fp32_images_per_s, row.int8_images_per_s, row.int8_latency_ms) == (
            r["fp32_images_per_s"], r["int8_images_per_s"], r["int8_latency_ms"])
    paper = paper_table(table, models=["b", "a"], sources=["cifar10", "fractal", "stylegan2_ada"])
    # the last column says what each source's images are: the fractal row names its colouring, not only "fractal"
    assert list(paper.columns) == ["b", "a", "calibration_data"]
    assert list(paper.index) == ["cifar10", "fractal", "stylegan2_ada"]
    assert paper.loc["fractal", "calibration_data"] == gradient and table.iloc[2].calibration_data == gradient
    assert paper.loc["cifar10", "calibration_data"] == "real CIFAR-10: 500 training images per class"
    assert paper.loc["cifar10", "a"] == pytest.approx(2.5) and paper.loc["fractal", "a"] == pytest.approx(50.0)
    assert math.isnan(paper.loc["fractal", "b"]) and paper.loc["stylegan2_ada"].isna().all()
    write_csv(paper, tmp_path / "t.csv", index=True, decimals=2)
    back = pd.read_csv(tmp_path / "t.csv", index_col="source")
    assert back.loc["cifar10", "b"] == 50.0


def test_missing_records_are_errors():
    with pytest.raises(AggregationError, match="no FP32 evaluation for model 'a'"):
        quantization_runs([], [_int8("a", "cifar10", 0.7)], [_quant("a", "cifar10")], PREDICTIONS)
    with pytest.raises(AggregationError, match="no quantization report"):
        quantization_runs([_fp32("a", 0.8)], [_int8("a", "cifar10", 0.7)], [], PREDICTIONS)
    # a summary that disagrees with its stored predictions (one of them stale) is refused
    stale = _int8("a", "cifar10", 0.7)
    PREDICTIONS[("a", "cifar10", "default", 0)] = _predictions(0.6)
    with pytest.raises(AggregationError, match="give top-1 0.600000, its summary says 0.700000"):
        quantization_runs([_fp32("a", 0.8)], [stale], [_quant("a", "cifar10")], PREDICTIONS)


def test_repeats_give_mean_and_standard_deviation():
    fp32 = [_fp32("a", 0.80)]
    accs = [0.78, 0.76, 0.77]
    int8 = [_int8("a", "cifar10", acc, repeat=r) for r, acc in enumerate(accs)]
    quant = [_quant("a", "cifar10", repeat=r) for r in range(3)]
    runs = quantization_runs(fp32, int8, quant, PREDICTIONS)
    assert len(runs) == 3 and runs.repeat.tolist() == [0, 1, 2] and runs.seed.tolist() == [7, 8, 9]
    row = quantization_table(runs, PREDICTIONS, SETTINGS)[0].iloc[0]
    drops = [(0.80 - a) * 100 for a in accs]
    assert row.repeats == 3 and row.seed == 7
    assert row.int8_accuracy == pytest.approx(77.0) and row.drop_points == pytest.approx(3.0)
    assert row.drop_points_std == pytest.approx(np.std(drops, ddof=1))
    assert row.drop_percent_std == pytest.approx(np.std([d / 0.8 for d in drops], ddof=1))


def test_accuracy_aware_columns_come_from_the_reports():
    extra = dict(max_drop=0.02, drop_type="absolute", validation="calibration", validation_metric="accuracy",
                 reverted_ops=3, quantized_ops=40,
                 reached_required_drop=True, validation_fp32_accuracy=0.9, validation_int8_accuracy=0.89)
    table = _table([_fp32("s", 0.9)], [_int8("s", "fractal", 0.5, algorithm="accuracy_aware")],
                   [_quant("s", "fractal", algorithm="accuracy_aware", **extra)])
    assert list(table.columns) == COLUMNS + ACCURACY_AWARE_COLUMNS
    assert table.iloc[0].reverted_ops == 3 and table.iloc[0].max_drop == 0.02


def test_fusion_table_puts_both_forms_side_by_side():
    fp32 = [_fp32("rep", 0.95), _fp32("rep_fused", 0.95)]
    int8 = [_int8("rep", "cifar10", 0.55), _int8("rep_fused", "cifar10", 0.93)]
    quant = [_quant("rep", "cifar10"), _quant("rep_fused", "cifar10")]
    fused = fusion_table([_table(fp32, int8, quant)], [("rep", "rep_fused")])
    row = fused.iloc[0]
    assert row.multi_branch == "rep" and row.fused == "rep_fused" and row.source == "cifar10"
    assert row.int8_accuracy_multi_branch == pytest.approx(55.0) and row.int8_accuracy_fused == pytest.approx(93.0)


def _bars(ax):
    """(legend label, bar heights left to right) of every bar series of an axes."""
    return {c.get_label(): [round(b.get_height(), 6) for b in c] for c in ax.containers
            if type(c).__name__ == "BarContainer"}


def _error_bars(ax):
    """{legend label: [(low, high) of each bar's error bar]} of every bar series of an axes (matplotlib adds a bar
    series' error bars just before its bars)."""
    bars, pending = {}, None
    for container in ax.containers:
        if type(container).__name__ == "ErrorbarContainer":
            pending = [(round(s[0][1], 6), round(s[1][1], 6)) for s in container.lines[2][0].get_segments()]
        elif type(container).__name__ == "BarContainer" and pending is not None:
            bars[container.get_label()], pending = pending, None
    return bars


def test_the_drop_chart_shows_each_drop_with_its_interval_and_the_reference_band(tmp_path):
    """The figure's data, read back from the figure: one bar series per source (legend), one bar per model (ticks)
    at the table's drop; every bar's error bar spans its interval (one run: the test images' interval, not a
    zero-width bar); the reference source's interval drawn as a band across its model's group; the legend outside
    the plotting area, so that it covers no bar."""
    import matplotlib

    from synthcal.figures import accuracy_drop_chart, accuracy_drop_figure

    fp32 = [_fp32("a", 0.8), _fp32("b", 0.7)]
    accs = {("a", "x"): 0.78, ("a", "y"): 0.75, ("b", "x"): 0.69, ("b", "y"): 0.60}
    table = _table(fp32, [_int8(m, s, acc) for (m, s), acc in accs.items()], [_quant(m, s) for m, s in accs],
                   settings=default_settings(StatisticsSettings, resamples=200, reference="x"))
    fig = accuracy_drop_figure(table, confidence=0.95)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert _bars(ax) == {"x": [2.0, 1.0], "y": [5.0, 10.0]}  # drop in points: (0.8 - 0.78) * 100, ...
    indexed = table.set_index(["source", "model"])
    for source, bars in _error_bars(ax).items():
        for model, (low, high) in zip(("a", "b"), bars):
            row = indexed.loc[(source, model)]
            assert (low, high) == pytest.approx((row.drop_ci_low, row.drop_ci_high), abs=1e-6)
            assert high - low > 0.5  # one run still has the test images' interval
    # the reference's interval, one band per model group (the error bars are line collections)
    (band_a, band_b) = [c for c in ax.collections if "Poly" in type(c).__name__]
    for band, model in ((band_a, "a"), (band_b, "b")):
        ys = band.get_paths()[0].vertices[:, 1]
        row = indexed.loc[("x", model)]
        assert (ys.min(), ys.max()) == pytest.approx((row.drop_ci_low, row.drop_ci_high))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x interval", "x", "y"]
    assert "95 % intervals" in ax.get_title()
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert legend.x0 >= ax.get_window_extent(fig.canvas.get_renderer()).x1 - 1  # outside the axes: covers no data
    matplotlib.pyplot.close(fig)
    assert accuracy_drop_chart(table, tmp_path / "drops.png").stat().st_size > 10_000


def test_the_per_class_heatmap_holds_every_class_drop():
    import matplotlib

    from synthcal.figures import per_class_drop_figure

    fp32 = [_fp32("a", 1.0)]
    PREDICTIONS[("a", "x", "default", 0)] = from_logits(np.eye(10)[np.where(LABELS == 3, 4, LABELS)], LABELS)
    int8 = [{"model": "a", "arch": "a", "source": "x", "algorithm": "default", "accuracy": 0.9, "repeat": 0}]
    runs = quantization_runs(fp32, int8, [_quant("a", "x")], PREDICTIONS)
    table, per_class = quantization_table(runs, PREDICTIONS, SETTINGS)
    assert table.iloc[0].worst_class == "cat" and table.iloc[0].worst_class_drop == 100.0
    assert per_class.set_index("class").drop_points.to_dict() == {c: (100.0 if c == "cat" else 0.0)
                                                                   for c in per_class["class"]}
    fig = per_class_drop_figure(per_class)
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (1, 10) and image[0, 3] == 100.0 and np.delete(np.asarray(image[0]), 3).tolist() == [0.0] * 9
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["a / x"]
    matplotlib.pyplot.close(fig)


def test_verdicts_against_the_reference_and_the_intervals_companion():
    fp32 = [_fp32("a", 0.9)]
    int8 = [_int8("a", "real", 0.89), _int8("a", "close", 0.89), _int8("a", "bad", 0.5)]
    quant = [_quant("a", s) for s in ("real", "close", "bad")]
    settings = default_settings(StatisticsSettings, resamples=300, reference="real", margin_points=2.0)
    table = _table(fp32, int8, quant, settings=settings).set_index("source")
    assert pd.isna(table.loc["real", "verdict"]) and table.loc["real", "reference"] == "real"
    assert table.loc["close", "verdict"] == "equivalent" and table.loc["close", "diff_vs_reference"] == 0.0
    assert table.loc["bad", "verdict"] == "worse" and table.loc["bad", "diff_vs_reference"] == pytest.approx(39.0)
    assert table.loc["bad", "mcnemar_p_holm"] >= table.loc["bad", "mcnemar_p"]
    companion = paper_intervals(table.reset_index(), ["a"], ["real", "bad", "missing"])
    row = table.loc["bad"]
    assert companion.loc["bad", "a"] == (f"{row.drop_percent:.2f} [{row.drop_percent_ci_low:.2f}, "
                                         f"{row.drop_percent_ci_high:.2f}]")
    assert companion.loc["missing", "a"] == ""


def test_the_fid_chart_puts_each_source_at_its_fid_and_drop():
    import matplotlib

    from synthcal.figures import drop_vs_fid_figure

    fp32 = [_fp32("a", 0.8), _fp32("b", 0.7)]
    accs = {("a", "x"): 0.78, ("a", "y"): 0.75, ("a", "z"): 0.70, ("b", "x"): 0.69, ("b", "y"): 0.60}
    table = _table(fp32, [_int8(m, s, acc) for (m, s), acc in accs.items()], [_quant(m, s) for m, s in accs])
    quality = pd.DataFrame({"source": ["x", "y", "bn_inversion/a", "z"], "fid": [10.0, 50.0, 99.0, 5.0],
                            "n_images": [500, 500, 500, 100]})
    fig = drop_vs_fid_figure(table, quality)
    ax = fig.axes[0]
    points = {series.get_label(): np.round(series.get_offsets(), 6).tolist() for series in ax.collections}
    # per-model sets left out, and z: its FID is at another N than most sets'
    assert points == {"a": [[10.0, 2.0], [50.0, 5.0]], "b": [[10.0, 1.0], [50.0, 10.0]]}
    assert sorted(t.get_text() for t in ax.texts) == ["x", "x", "y", "y"]
    assert "test images" in ax.get_xlabel()
    matplotlib.pyplot.close(fig)


def test_size_sweep_table_means_reference_and_smallest_size(tmp_path):
    from synthcal.aggregate import size_sweep_table
    from synthcal.figures import drop_vs_calibration_size_chart, drop_vs_calibration_size_figure

    fp32 = [_fp32("a", 0.80)]
    accs = {(1, 0): 0.70, (1, 1): 0.72, (5, 0): 0.785, (5, 1): 0.787, (50, 0): 0.791, (50, 1): 0.789}
    sweep = [{"model": "a", "source": "s", "images_per_class": k, "accuracy": acc, "repeat": r}
             for (k, r), acc in accs.items()]
    full = pd.DataFrame({"model": ["a"], "source": ["s"], "drop_points": [1.0]})
    table = size_sweep_table(fp32, sweep, full).set_index("images_per_class")
    assert list(table.index) == [1, 5, 50] and (table.repeats == 2).all()
    assert table.loc[1, "drop_points"] == pytest.approx(9.0) and table.loc[5, "drop_points"] == pytest.approx(1.4)
    assert table.loc[1, "drop_points_std"] == pytest.approx(np.std([10.0, 8.0], ddof=1))
    assert table.loc[50, "drop_points"] == pytest.approx(1.0) and table.loc[50, "within_0_2_of_full"]
    assert not table.loc[5, "within_0_2_of_full"]  # 1.4 is 0.4 from 1.0
    assert (table.smallest_size_within_0_2 == 50).all()
    assert table.loc[5, "below_nncf_default_subset"] and not table.loc[50, "below_nncf_default_subset"]
    no_reference = size_sweep_table(fp32, sweep)
    assert no_reference.full_drop_points.isna().all() and no_reference.smallest_size_within_0_2.isna().all()
    fig = drop_vs_calibration_size_figure(table.reset_index())
    line = [c for c in fig.axes[0].containers if type(c).__name__ == "ErrorbarContainer"][0]
    assert line.get_label() == "s" and line.lines[0].get_xdata().tolist() == [10, 50, 500]  # images, not per class
    assert line.lines[0].get_ydata() == pytest.approx([9.0, 1.4, 1.0])
    assert drop_vs_calibration_size_chart(table.reset_index(), tmp_path / "sweep.png").stat().st_size > 10_000
