"""The headline table and the end-of-run summary, written from a run's tables, never typed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from synthcal.headline import HeadlineError, headline_markdown, provenance, replace_block, run_summary


def _table():
    return pd.DataFrame({
        "model": ["m", "m", "m", "other"], "source": ["cifar10", "noise", "fractal", "cifar10"],
        "drop_points": [0.13, 0.28, 0.54, 1.0], "drop_ci_low": [-0.16, 0.01, 0.11, 0.5],
        "drop_ci_high": [0.40, 0.54, 0.98, 1.5], "flip_rate": [2.9, 3.1, 6.5, 4.0], "flip_ci_low": [2.6, 2.8, 6.0, 3.0],
        "flip_ci_high": [3.2, 3.4, 7.0, 5.0], "reference": "cifar10",
        "verdict": [None, "inconclusive", "worse", None], "mcnemar_p_holm": [None, 0.35, 0.0123, None]})


def test_the_headline_shows_each_source_with_its_interval_and_verdict():
    agreement = pd.DataFrame({"source": ["cifar10", "noise"], "set": ["cifar10", "noise"], "accuracy": [0.867, 0.1],
                              "labelled": [True, False], "judge": "j", "calibrated_model": [None, None]})
    realism = pd.DataFrame({"source": ["cifar10", "fractal", "bn_inversion/x"], "precision": [0.7, 0.01, 0.2],
                            "coverage": [0.9, 0.0, 0.1]})
    text = headline_markdown(_table(), "m", agreement, realism)
    lines = text.splitlines()
    assert lines[0] == "| calibration source | `cifar10` | `noise` | `fractal` |"
    assert lines[2] == "| INT8 drop, points [95 % interval] | 0.13 [-0.16, 0.40] | 0.28 [0.01, 0.54] | 0.54 [0.11, 0.98] |"
    assert lines[3] == "| predictions changed (flip rate, %) | 2.90 [2.60, 3.20] | 3.10 [2.80, 3.40] | 6.50 [6.00, 7.00] |"
    assert lines[4] == "| verdict against `cifar10` | reference | inconclusive (p = 0.35) | worse (p = 0.012) |"
    assert lines[5] == "| label agreement (judge `j`) | 86.7 % | - | - |"  # noise's labels are arbitrary: no number
    assert lines[6] == "| precision against real training images | 0.70 | - | 0.01 |"
    with pytest.raises(HeadlineError, match="no results for model 'x'"):
        headline_markdown(_table(), "x")


def test_the_block_between_markers_is_replaced_and_the_summary_names_best_and_worst():
    text = "intro\n<!-- headline:start -->\nold\n<!-- headline:end -->\nafter\n"
    assert replace_block(text, "headline", "new") == "intro\n<!-- headline:start -->\nnew\n<!-- headline:end -->\nafter\n"
    with pytest.raises(HeadlineError, match="no <!-- other:start -->"):
        replace_block(text, "other", "x")
    assert provenance("2026-12-07", "abc1234", ["configs/offline.yaml"], "CPU X", 3) == (
        "Measured 2026-12-07 at commit abc1234 with `configs/offline.yaml`, 3 calibration draws per source, on CPU X.")
    lines = run_summary({"default": _table()})
    assert lines[0] == ("default, m: smallest drop cifar10 0.13 [-0.16, 0.40], reference; largest fractal 0.54 "
                        "[0.11, 0.98], worse (p = 0.012) (points, intervals)")
    assert lines[1].startswith("default, other: smallest drop cifar10 1.00 [0.50, 1.50]")


def test_the_answer_tables_show_their_lead_columns_and_the_sources_that_ran():
    from synthcal.headline import answer_markdown
    from synthcal.verdicts import data_matters_table

    answer = data_matters_table(_table().assign(algorithm="default"), ["cifar10", "noise", "fractal", "bn_inversion"])
    lines = answer_markdown(answer, "where_data_matters", ["cifar10", "noise", "fractal", "bn_inversion"]).splitlines()
    # bn_inversion ran nowhere: no column; fractal is worse than the reference, so the data matters for model m
    assert lines[0] == "| model | algorithm | data matters | spread points | `cifar10` | `noise` | `fractal` |"
    assert lines[2].startswith("| m | default | yes | 0.41 | 0.13 [-0.16, 0.40] reference | 0.28 [0.01, 0.54] inconclusive")
    assert lines[2].endswith("| 0.54 [0.11, 0.98] worse |")
    with pytest.raises(HeadlineError, match="unknown answer table"):
        answer_markdown(answer, "other", ["cifar10"])


def test_the_provenance_names_the_recorded_machine_or_says_there_is_none():
    from synthcal.headline import recorded_machine

    assert recorded_machine(_table()) == "an unrecorded machine"
    assert recorded_machine(_table().assign(machine=[None, "CPU X", "CPU Y", None])) == "CPU X"
