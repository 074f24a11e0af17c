import math

import pandas as pd
import pytest

from synthcal.aggregate import COLUMNS, AggregationError, accuracy_drop, paper_table, quantization_table, write_csv


def _fp32(model, acc, ips=100.0):
    return {"model": model, "arch": model, "accuracy": acc, "images_per_s": ips, "latency_ms_median": 2.0}


def _int8(model, source, acc, ips=150.0):
    return {"model": model, "arch": model, "source": source, "algorithm": "default", "accuracy": acc,
            "images_per_s": ips, "latency_ms_median": 1.0}


def _quant(model, source):
    return {"model": model, "source": source, "algorithm": "default", "n_calibration": 5000,
            "subset_size": 300, "seed": 7, "fake_quantize_ops": 12, "seconds": 3.0}


def test_drop_definitions():
    points, percent = accuracy_drop(0.9260, 0.9158)
    assert math.isclose(points, 1.02, abs_tol=1e-9)
    assert math.isclose(percent, 1.1015118790496, rel_tol=1e-9)  # relative to FP32, as the paper's Table 1
    assert accuracy_drop(0.5, 0.6)[0] < 0  # an improvement is a negative drop


def test_table_rows_and_paper_layout(tmp_path):
    fp32 = [_fp32("a", 0.80), _fp32("b", 0.50)]
    int8 = [_int8("a", "cifar10", 0.78), _int8("b", "cifar10", 0.25), _int8("a", "fractal", 0.40, ips=300.0)]
    quant = [_quant("a", "cifar10"), _quant("b", "cifar10"), _quant("a", "fractal")]
    table = quantization_table(fp32, int8, quant)
    assert list(table.columns) == COLUMNS and len(table) == 3
    row = table[(table.model == "b") & (table.source == "cifar10")].iloc[0]
    assert row.fp32_accuracy == 50.0 and row.int8_accuracy == 25.0
    assert row.drop_points == 25.0 and row.drop_percent == 50.0
    assert row.subset_size == 300 and row.seed == 7 and row.n_calibration == 5000
    assert table[table.source == "fractal"].iloc[0].speedup == 3.0
    paper = paper_table(table, models=["b", "a"], sources=["cifar10", "fractal", "stylegan2_ada"])
    assert list(paper.columns) == ["b", "a"] and list(paper.index) == ["cifar10", "fractal", "stylegan2_ada"]
    assert paper.loc["cifar10", "a"] == pytest.approx(2.5) and paper.loc["fractal", "a"] == pytest.approx(50.0)
    assert math.isnan(paper.loc["fractal", "b"]) and paper.loc["stylegan2_ada"].isna().all()
    write_csv(paper, tmp_path / "t.csv", index=True, decimals=2)
    back = pd.read_csv(tmp_path / "t.csv", index_col="source")
    assert back.loc["cifar10", "b"] == 50.0


def test_missing_records_are_errors():
    with pytest.raises(AggregationError, match="no FP32 evaluation for model 'a'"):
        quantization_table([], [_int8("a", "cifar10", 0.7)], [_quant("a", "cifar10")])
    with pytest.raises(AggregationError, match="no quantization report"):
        quantization_table([_fp32("a", 0.8)], [_int8("a", "cifar10", 0.7)], [])
