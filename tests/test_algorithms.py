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


BREVITAS = {"w8a8": {"backend": "brevitas"},
            "w4a8_gptq_bc": {"backend": "brevitas", "weight_bits": 4, "method": "gptq", "bias_correction": True,
                             "repeats": 1, "sources": ["cifar10", "noise"]}}


def test_brevitas_variants_are_planned_on_pytorch_models_with_their_own_draws_and_sources():
    config = _config(algorithms=["default", *BREVITAS], variants=BREVITAS)
    config["repeats"] = 3
    config["experiment"]["models"] = ["resnet20", "mine"]
    config["models"]["mine"] = {"format": "onnx", "weights": {"path": "mine.onnx"}}
    plan = Plan(validate_config(config))
    quantization = plan.quantization
    assert quantization.variant_models("w8a8") == ["resnet20"]  # an ONNX file has no PyTorch module to quantize
    assert {r["note"].split(",")[0] for r in quantization.left_out_rows("w8a8")} == {
        "left out: the brevitas backend quantizes a PyTorch module"}
    assert quantization.pairs("w4a8_gptq_bc") == [("resnet20", "cifar10"), ("resnet20", "noise")]
    assert quantization.reps("w4a8_gptq_bc") == [""] and quantization.reps("w8a8") == ["", ".r1", ".r2"]
    job = quantization.job("w4a8_gptq_bc", "noise")
    assert job["backend"] == "brevitas" and job["settings"]["method"] == "gptq" and job["settings"]["weight_bits"] == 4
    assert job["settings"]["activation_bits"] == 8 and job["settings"]["calibration_images"] == 500
    assert quantization.record("resnet20", "w4a8_gptq_bc", "noise", "")["precision"] == "W4A8"
    assert plan.evaluation.speed_records("w8a8") == [] and quantization.speed_measured() == ["default"]
    assert plan.reports.backend_pair() == ("default", "w8a8")
    assert "results/tables/breaking_point.csv" in plan.final_targets()
    records = plan.evaluation.records("w4a8_gptq_bc")
    assert records["int8"] == ["results/evaluation/resnet20/w4a8_gptq_bc/cifar10.json",
                               "results/evaluation/resnet20/w4a8_gptq_bc/noise.json"]


@pytest.mark.parametrize("variant, message", [
    ({"backend": "brevitas", "from": "default"}, r"'quantization.variants.x.from' is not a setting of the brevitas"),
    ({"backend": "brevitas", "fast_bias_correction": False}, r"'quantization.variants.x.fast_bias_correction' is "
                                                             r"not a setting of the brevitas backend"),
    ({"from": "default", "weight_bits": 4}, r"'quantization.variants.x.weight_bits' is a setting of the brevitas "
                                            r"backend: set 'backend: brevitas'"),
    ({"backend": "brevitas", "weight_bits": 1}, r"'quantization.variants.x.weight_bits': 1 is out of range"),
    ({"backend": "brevitas", "method": "adaround"}, r"'adaround' is not one of the choices rtn, gptq, gpfq"),
    ({"backend": "brevitas", "repeats": 9}, r"'quantization.variants.x.repeats' is 9, more than the 1 calibration"),
    ({"backend": "brevitas", "sources": ["fractals"]}, r"'quantization.variants.x.sources' names 'fractals'"),
])
def test_a_brevitas_variant_mistake_is_refused_with_one_message(variant, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_config(algorithms=["x"], variants={"x": variant}))


def test_the_breaking_point_orders_precisions_and_the_backends_agree_where_the_interval_says():
    from synthcal.verdicts import backend_agreement, breaking_point_table

    def cell(algorithm, precision, method, execution, source, drop, low, high, verdict):
        return {**_cell("m", algorithm, source, drop, low, high, verdict), "precision": precision, "method": method,
                "execution": execution}
    sim = "simulated (Brevitas fake quantization in PyTorch)"
    table = pd.DataFrame([
        cell("w3a8", "W3A8", "rtn", sim, "cifar10", 18.0, 17.0, 19.0, None),
        cell("w3a8", "W3A8", "rtn", sim, "noise", 30.0, 29.0, 31.0, "worse"),
        cell("w8a8", "W8A8", "rtn", sim, "cifar10", 0.1, -0.1, 0.3, None),
        cell("w8a8", "W8A8", "rtn", sim, "noise", 0.2, 0.0, 0.4, "equivalent"),
        cell("default", "W8A8", "nncf default", "OpenVINO INT8", "cifar10", 0.15, -0.05, 0.35, None),
        cell("default", "W8A8", "nncf default", "OpenVINO INT8", "noise", 0.9, 0.6, 1.2, "worse"),
    ])
    answer = breaking_point_table(table, ["cifar10", "noise"])
    assert list(zip(answer.algorithm, answer.data_matters)) == [("default", "yes"), ("w8a8", "no"), ("w3a8", "yes")]
    assert answer.loc[2, "noise"] == "30.00 [29.00, 31.00] worse"
    agreement = backend_agreement(table, "default", "w8a8").set_index("source")
    assert bool(agreement.loc["cifar10", "agrees"]) and not bool(agreement.loc["noise", "agrees"])
