"""Algorithms as data (synthcal.algorithms): variants of the built-in algorithms defined in config, checked with one
message each, planned as jobs with their changes applied, validated without labels where a source has none."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from synthcal.config import ConfigError, validate_config
from synthcal.planning import Plan
from synthcal.verdicts import data_matters_table

from helpers import REPO

RAW = yaml.safe_load((REPO / "config.yaml").read_text())
VARIANTS = {"full_bias_correction": {"from": "default", "fast_bias_correction": False},
            "no_bias_correction": {"from": "default", "bias_correction": False},
            "mean_quantile": {"from": "default", "range_estimator": "mean_quantile"},
            "histogram": {"from": "default", "range_estimator": "histogram", "subset_size": "all"},
            "strict_agreement": {"from": "accuracy_aware", "max_drop": 0.001, "validation": "agreement",
                                 "agreement_fraction": 0.1}}


def _config(algorithms=("default", *VARIANTS), variants=None, **quantization) -> dict:
    config = copy.deepcopy(RAW)
    config["experiment"] = {**config["experiment"], "models": ["resnet20", "shufflenetv2_x2_0"],
                            "sources": ["cifar10", "fractal", "noise"], "algorithms": list(algorithms)}
    config["quantization"] = {**config.get("quantization", {}), "variants": VARIANTS if variants is None else variants,
                              **quantization}
    return config


def test_variants_are_jobs_with_their_changes_and_the_rest_of_their_built_in():
    plan = Plan(validate_config(_config()))
    quantization = plan.quantization
    default = quantization.job("default", "cifar10")["settings"]
    full = quantization.job("full_bias_correction", "cifar10")["settings"]
    assert {k for k in default if default[k] != full[k]} == {"fast_bias_correction"}
    histogram = quantization.job("histogram", "noise")["settings"]
    assert histogram["range_estimator"] == "histogram" and histogram["subset_size"] is None  # "all": every image
    assert quantization.job("no_bias_correction", "noise")["settings"]["bias_correction"] is False
    strict = quantization.job("strict_agreement", "cifar10")
    assert strict["algorithm"] == "accuracy_aware" and strict["aa_settings"]["max_drop"] == 0.001
    assert strict["validation"] == "agreement" and strict["agreement_fraction"] == 0.1
    assert quantization.variant_models("strict_agreement") == ["shufflenetv2_x2_0"]  # accuracy_aware.models
    assert quantization.variant_models("mean_quantile") == ["resnet20", "shufflenetv2_x2_0"]
    # each variant its own folder and table; the speed is the built-in's (the same graph)
    assert "results/quantized/mean_quantile/noise/resnet20/quantization.json" in quantization.outputs("mean_quantile")
    assert plan.evaluation.speed_records("mean_quantile") == plan.evaluation.speed_records("default")
    assert quantization.speed_measured() == ["default", "strict_agreement"]  # its base does not run
    alone = Plan(validate_config(_config(algorithms=["mean_quantile"])))
    assert alone.quantization.speed_measured() == ["mean_quantile"]  # no default run: its own measurement
    assert "results/tables/mean_quantile_quantization.csv" in plan.final_targets()
    assert "results/tables/where_data_matters.csv" in plan.final_targets()
    assert plan.quantization.record("resnet20", "histogram", "noise", "")["algorithm"] == "histogram"


def test_accuracy_control_is_data_free_where_a_source_has_no_classes():
    plan = Plan(validate_config(_config(algorithms=["default", "accuracy_aware"], variants={})))
    assert plan.quantization.validation("accuracy_aware", "cifar10") == "calibration"  # labels that are classes
    for source in ("fractal", "noise"):
        job = plan.quantization.job("accuracy_aware", source)
        assert job["validation"] == "agreement" and job["agreement_fraction"] == 0.2
    chosen = validate_config(_config(algorithms=["accuracy_aware"], variants={}))
    chosen["quantization"]["accuracy_aware"]["validation"] = "holdout"
    holdout = Plan(chosen)
    assert holdout.quantization.validation("accuracy_aware", "noise") == "holdout"
    assert "holdout" in holdout.quantization.inputs("shufflenetv2_x2_0", "accuracy_aware", "noise", "")


@pytest.mark.parametrize("algorithms, variants, quantization, message", [
    (["default", "mean_quantil"], VARIANTS, {}, r"'experiment.algorithms' names 'mean_quantil', which is neither .* "
                                                r"\(did you mean 'mean_quantile'\?\)"),
    (["x"], {"x": {"fast_bias_correction": False}}, {}, r"'quantization.variants.x' needs 'from'"),
    (["x"], {"x": {"from": "default", "max_drop": 0.1}}, {},
     r"'quantization.variants.x.max_drop' is a setting of accuracy-aware quantization: set 'from: accuracy_aware'"),
    (["x"], {"x": {"from": "default"}}, {}, r"'quantization.variants.x' changes nothing of 'default'"),
    (["x"], {"x": {"from": "default", "range_estimator": "percentile"}}, {},
     r"'quantization.variants.x.range_estimator': 'percentile' is not one of the choices pot, mean_minmax, minmax, "
     r"mean_quantile"),
    (["x"], {"x": {"from": "default", "fast_bias_corection": False}}, {},
     r"unknown config key 'quantization.variants.x.fast_bias_corection' \(did you mean 'fast_bias_correction'\?\)"),
    (["default"], {"size": {"from": "default", "bias_correction": False}}, {},
     r"'quantization.variants': 'size' is a reserved name"),
    (["x"], {"x": {"from": "default", "preset": "mixed"}}, {},
     r"'quantization.variants.x.preset': the mixed preset .* not reproduced under 'quantization.protocol: pot'"),
    (["default"], {}, {"default": {"preset": "mixed"}}, r"'quantization.default.preset': the mixed preset"),
])
def test_a_variant_mistake_is_refused_with_one_message(algorithms, variants, quantization, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_config(algorithms=algorithms, variants=variants, **quantization))


def test_the_mixed_preset_runs_under_nncfs_protocol():
    config = validate_config(_config(algorithms=["default"], variants={}, protocol="nncf",
                                     default={"preset": "mixed"}))
    assert Plan(config).quantization.job("default", "noise")["settings"]["preset"] == "mixed"


def _cell(model, algorithm, source, drop, low, high, verdict, reference="cifar10"):
    return {"model": model, "algorithm": algorithm, "source": source, "drop_points": drop, "drop_ci_low": low,
            "drop_ci_high": high, "verdict": verdict, "reference": reference}


def test_where_data_matters_says_yes_no_or_undecided_from_the_verdicts():
    table = pd.DataFrame([
        _cell("m", "default", "cifar10", 0.2, 0.0, 0.4, None), _cell("m", "default", "noise", 0.3, 0.1, 0.5,
                                                                          "equivalent"),
        _cell("m", "full_bc", "cifar10", 0.5, 0.2, 0.8, None), _cell("m", "full_bc", "noise", 9.0, 8.0, 10.0, "worse"),
        _cell("n", "default", "cifar10", 1.0, 0.0, 2.0, None), _cell("n", "default", "noise", 2.0, -1.0, 5.0,
                                                                          "inconclusive"),
    ])
    answer = data_matters_table(table, ["cifar10", "noise", "fractal"]).set_index(["model", "algorithm"])
    assert answer.loc[("m", "default"), "data_matters"] == "no"
    assert answer.loc[("m", "full_bc"), "data_matters"] == "yes"
    assert answer.loc[("m", "full_bc"), "differs"] == "noise (worse)"
    assert answer.loc[("m", "full_bc"), "spread_points"] == pytest.approx(8.5)
    assert answer.loc[("m", "full_bc"), "highest_source"] == "noise"
    assert answer.loc[("n", "default"), "data_matters"] == "undecided"
    assert answer.loc[("m", "full_bc"), "noise"] == "9.00 [8.00, 10.00] worse"
    assert answer.loc[("m", "default"), "cifar10"] == "0.20 [0.00, 0.40] reference"
    assert answer.loc[("m", "default"), "fractal"] == ""  # not run


def test_agreement_validation_leaves_images_to_calibrate_on_in_every_folder_it_holds_out_from():
    config = _config(algorithms=["accuracy_aware"], variants={})
    config["quantization"]["accuracy_aware"]["agreement_fraction"] = 0.01
    config["calibration"] = {"n_per_class": 4}
    with pytest.raises(ConfigError, match=r"'quantization.accuracy_aware.agreement_fraction' 0.01 holds out no image "
                                          r"of the fractal folder's 40"):
        validate_config(config)
    config["experiment"]["sources"] = ["cifar10"]  # labelled: validated on its own labels, nothing held out
    validate_config(config)
