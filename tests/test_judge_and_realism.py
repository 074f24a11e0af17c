"""The judge network (never the teacher's guide), the realism measures and what predicts the drop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthcal.config import ConfigError, check_local_paths, validate_config
from synthcal.predictors import cell_measures, correlations
from synthcal.quality_sets import ImageSet, realism_reference_indices, realism_subset
from synthcal.realism import RealismError, RealismSettings, kid, prdc_at_equal_n, realism_rows
from synthcal.schema import default_settings
from synthcal.statistics import StatisticsSettings


def _guided_config(tmp_path, judge_bytes: bytes, judge: str | None = "judge") -> dict:
    """A trained teacher guided by 'guide' (a checkpoint file) and a judge whose file holds ``judge_bytes``."""
    (tmp_path / "guide.th").write_bytes(b"the guide's weights")
    (tmp_path / "judge.pt").write_bytes(judge_bytes)
    (tmp_path / "m.th").write_bytes(b"the calibrated model")
    config = {
        "experiment": {"models": ["m"], "sources": ["cifar10", "cgan"], "algorithms": ["default"]},
        "models": {"m": {"arch": "akamaster_resnet20", "weights": {"path": str(tmp_path / "m.th")}},
                   "guide": {"arch": "akamaster_resnet44", "weights": {"path": str(tmp_path / "guide.th")}},
                   "judge": {"arch": "shufflenetv2_x0_5", "weights": {"path": str(tmp_path / "judge.pt")}}},
        "teacher": {"name": "cgan", "provider": "trained",
                    "trained": {"discriminator": "projected", "feature_network": "guide"}},
        "quality": {"judge": judge, "inception": {"url": None}},
    }
    return validate_config(config)


def test_a_judge_with_the_guides_weights_is_refused_by_checksum_not_by_name(tmp_path):
    same = _guided_config(tmp_path, b"the guide's weights")  # another name, a copy of the same file
    with pytest.raises(ConfigError, match="config key 'quality.judge' names 'judge', whose weights are those of "
                                          "the network that guided the teacher"):
        check_local_paths(same)
    check_local_paths(_guided_config(tmp_path, b"other weights"))  # another network: accepted
    with pytest.raises(ConfigError, match="'quality.judge' names 'nope', which is not an entry of 'models'"):
        check_local_paths(_guided_config(tmp_path, b"other weights", judge="nope"))


def test_without_a_judge_the_experiment_models_must_not_be_the_guide_either(tmp_path):
    config = _guided_config(tmp_path, b"x", judge=None)
    (tmp_path / "m.th").write_bytes(b"the guide's weights")  # the calibrated model is a copy of the guide
    with pytest.raises(ConfigError, match="config key 'experiment.models' names 'm'"):
        check_local_paths(config)


def test_a_trained_model_and_zero_epochs():
    config = {"models": {"j": {"arch": "shufflenetv2_x0_5", "weights": {"train": {"epochs": 3}}}},
              "experiment": {"models": ["j"], "algorithms": ["default"]}}
    validate_config(config)
    assert config["models"]["j"]["weights"]["train"] == {"epochs": 3, "lr": 0.1, "batch_size": 128,
                                                         "weight_decay": 0.0005, "seed": None, "checkpoint_every": 1,
                                                         "threads": 2, "images_per_class": None}
    with pytest.raises(ConfigError, match="models.j.weights.train.epochs"):
        validate_config({"models": {"j": {"arch": "shufflenetv2_x0_5", "weights": {"train": {"epochs": 0}}}},
                         "experiment": {"models": ["j"], "algorithms": ["default"]}})
    with pytest.raises(ConfigError, match="has both 'train' and a 'path' or 'url'"):
        validate_config({"models": {"j": {"arch": "shufflenetv2_x0_5",
                                          "weights": {"train": {}, "path": "w.pt"}}},
                         "experiment": {"models": ["j"], "algorithms": ["default"]}})


def _clusters(n: int, shift: float, seed: int, dim: int = 16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, dim)) + shift).astype(np.float32)


def test_precision_recall_density_coverage_on_known_cases():
    real = _clusters(300, 0.0, 0)
    same = prdc_at_equal_n(real, _clusters(300, 0.0, 1), 5, seed=0)
    far = prdc_at_equal_n(real, _clusters(300, 50.0, 2), 5, seed=0)
    collapsed = prdc_at_equal_n(real, np.repeat(real[:1], 300, axis=0) + 1e-3 * _clusters(300, 0, 3), 5, seed=0)
    assert same["precision"] > 0.8 and same["recall"] > 0.8 and same["coverage"] > 0.8
    assert far["precision"] == far["recall"] == far["coverage"] == far["density"] == 0.0
    # a collapsed generator (one prototype): every image is realistic, almost none of the real data is covered
    assert collapsed["precision"] == 1.0 and collapsed["coverage"] < 0.05 and collapsed["recall"] < 0.05
    assert prdc_at_equal_n(real, _clusters(4, 0, 4), 5, seed=0) is None  # fewer images than k + 1


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    a, b, shifted = _clusters(200, 0, 0), _clusters(200, 0, 1), _clusters(200, 1.0, 2)
    same, _, size = kid(a, b, 100, 20, seed=0)
    assert size == 100 and abs(same) < 0.05
    assert kid(a, shifted, 100, 20, seed=0)[0] > 10 * max(abs(same), 1e-3)
    assert kid(a[:1], b, 100, 20, seed=0) is None


def test_realism_rows_per_class_and_the_reference_network():
    labels = np.arange(400) % 10
    reference = {"features": _clusters(400, 0, 0), "labels": labels, "extractor": "net"}
    good = {"features": _clusters(400, 0, 1), "labels": labels, "extractor": "net", "description": "x"}
    small = default_settings(RealismSettings, kid_subset_size=40, kid_subsets=5, min_per_class=40)
    row, per_class = realism_rows("good", good, reference, True, small)
    assert row["n_images"] == row["n_reference"] == 400 and row["kid_classes"] == 10
    assert row["intra_fid_classes"] == 10 and len(per_class) == 10 and per_class[3]["class"] == "cat"
    assert row["kid_mean"] == pytest.approx(np.mean([r["kid"] for r in per_class]))
    unlabelled, none = realism_rows("noise", {**good, "labels": np.full(400, -1)}, reference, False,
                                    default_settings(RealismSettings))
    assert unlabelled["kid_mean"] is None and none == [] and unlabelled["precision"] is not None
    with pytest.raises(RealismError, match="come from 'other'"):
        realism_rows("x", {**good, "extractor": "other"}, reference, True, default_settings(RealismSettings))
    with pytest.raises(RealismError, match="hold no realism subset"):
        realism_rows("x", {"extractor": "net"}, reference, True, default_settings(RealismSettings))


def test_the_real_rows_realism_images_are_outside_the_reference():
    total = 1000
    reference = realism_reference_indices(total, 300, seed=1)
    assert len(reference) == 300 and len(realism_reference_indices(100, 300, seed=1)) == 50  # at most half
    indices = np.arange(0, total, 2)  # the cifar10 set: every second training image
    found = ImageSet(np.zeros((len(indices), 32, 32, 3), np.uint8), indices % 10, indices, total)
    keep = realism_subset(found, 200, seed=1, exclude_reference=300)
    assert len(keep) == 200 and not np.isin(indices[keep], reference).any()
    assert len(realism_subset(found, 10_000, seed=1)) == len(indices)  # no reference to exclude: all of them


def test_what_predicts_the_drop_joins_each_cell_with_its_sets_measures():
    tables = pd.DataFrame({"model": ["a"] * 4 + ["b"], "algorithm": "default",
                           "source": ["s1", "s2", "s3", "bn_inversion", "s1"],
                           "drop_points": [1.0, 2.0, 3.0, 4.0, np.nan], "flip_rate": [1.0, 3.0, 2.0, 5.0, np.nan]})
    quality = pd.DataFrame({"source": ["s1", "s2", "s3", "bn_inversion/a"], "is_mean": np.nan,
                            "fid": [10.0, 20.0, 30.0, 99.0], "n_images": [500, 500, 500, 200]})
    cells = cell_measures(tables, quality, None, None, {("a", "bn_inversion"): "bn_inversion/a"})
    assert len(cells) == 4  # a pair that did not run is no cell
    assert cells.set_index("source").loc["bn_inversion", "fid"] == 99.0  # the model's own folder
    table = correlations(cells, default_settings(StatisticsSettings, resamples=200)).set_index(["measure", "outcome"])
    fid = table.loc[("fid", "drop_points")]
    # FID moves with N: the 200-image set is kept apart, three cells at N = 500 remain, perfectly ordered
    assert fid["cells"] == 3 and fid["n_images"] == 500 and fid["rho"] == pytest.approx(1.0)
    assert "1 cells at another N left out" in fid["note"] and "small-sample evidence" in fid["note"]
    assert table.loc[("is_mean", "drop_points"), "rho"] is None or np.isnan(table.loc[("is_mean", "drop_points"),
                                                                                      "rho"])
