import copy

import pytest
import yaml

from synthcal.config import ConfigError, load_config, merge, normalization, validate_config
from synthcal.schema import schema

from helpers import REPO


def test_defaults_are_filled_in_place():
    config = {"models": {"m": {"arch": "resnet20", "weights": {"path": "w.pt"}}},
              "experiment": {"models": ["m"], "algorithms": ["default"]}}
    out = validate_config(config)
    assert out is config
    assert config["seed"] == 42  # the schema's defaults are the paper's experiment (config.yaml)
    assert config["experiment"]["sources"] == ["cifar10", "stylegan2_ada", "distylegan", "fractal", "noise",
                                               "bn_inversion"]
    assert config["calibration"]["n_per_class"] == 500
    assert config["quantization"]["default"]["subset_size"] is None
    assert config["quantization"]["default"]["preset"] == "performance"
    assert config["models"]["m"]["normalization"] == "cifar10"
    assert config["models"]["m"]["fuse"] is False
    assert config["models"]["m"]["weights"]["url"] is None
    assert config["evaluation"]["threads"] == 4


def test_repository_configs_are_valid():
    paper = load_config(REPO / "config.yaml")
    assert paper["experiment"]["models"] == ["resnet20", "vgg16_bn", "mobilenetv2_x1_4", "shufflenetv2_x2_0",
                                             "repvgg_a2", "repvgg_a2_fused"]
    assert paper["calibration"]["n_per_class"] == 500
    assert paper["quantization"]["default"]["subset_size"] is None  # the pot protocol: every calibration image
    assert paper["models"]["repvgg_a2_fused"]["fuse"] is True
    assert paper["models"]["repvgg_a2"]["fuse"] is False
    offline = load_config(REPO / "config.yaml", REPO / "configs" / "offline.yaml")
    assert offline["experiment"]["models"] == ["akamaster_resnet20", "mobilenetv2_x0_5", "shufflenetv2_x0_5"]
    assert offline["models"]["mobilenetv2_x0_5"]["weights"]["train"]["epochs"] == 5  # trained by the workflow
    assert offline["models"]["akamaster_resnet20"]["weights"]["path"].endswith("resnet20-12fca82f.th")
    # merged, not replaced: the URL of the catalogue entry survives the override
    assert offline["models"]["akamaster_resnet20"]["weights"]["url"].startswith("https://")


def _paper_config():
    with open(REPO / "config.yaml") as fh:
        return yaml.safe_load(fh)


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["quantization"]["default"].update(subsetsize=10), "quantization.default.subsetsize"),
    (lambda c: c.update(sed=1), "sed"),
    (lambda c: c["models"]["resnet20"].update(weight={}), "models.resnet20.weight"),
])
def test_unknown_key_is_named(mutate, key):
    config = _paper_config()
    mutate(config)
    with pytest.raises(ConfigError, match=f"unknown config key '{key}'"):
        validate_config(config)


@pytest.mark.parametrize("mutate, key", [
    (lambda c: c["quantization"]["default"].update(channel_alignment="yes"), "quantization.default.channel_alignment"),
    (lambda c: c.update(seed="42"), "seed"),
    (lambda c: c["calibration"].update(n_per_class=1.5), "calibration.n_per_class"),
    (lambda c: c["experiment"].update(models="resnet20"), "experiment.models"),
])
def test_wrong_type_is_named(mutate, key):
    config = _paper_config()
    mutate(config)
    with pytest.raises(ConfigError, match=f"config key '{key}' must be of type"):
        validate_config(config)


def test_the_protocol_fills_what_the_config_leaves_open():
    pot = validate_config(_paper_config())["quantization"]
    assert (pot["default"]["subset_size"], pot["default"]["range_estimator"], pot["default"]["channel_alignment"]) \
        == (None, "pot", True)
    assert (pot["accuracy_aware"]["max_drop"], pot["accuracy_aware"]["ranking_subset_size"]) == (0.02, 300)
    config = _paper_config()
    config["quantization"]["protocol"] = "nncf"
    config["quantization"]["default"]["channel_alignment"] = True  # a key set in the config wins
    nncf = validate_config(config)["quantization"]
    assert (nncf["default"]["subset_size"], nncf["default"]["range_estimator"], nncf["default"]["channel_alignment"]) \
        == (300, "mean_minmax", True)
    assert (nncf["accuracy_aware"]["max_drop"], nncf["accuracy_aware"]["ranking_subset_size"]) == (0.01, None)
    config = _paper_config()
    config["quantization"]["default"]["subset_size"] = "all"
    assert validate_config(config)["quantization"]["default"]["subset_size"] is None


def test_full_training_set_calibration_leaves_no_holdout():
    config = _paper_config()
    config["calibration"]["cifar10_full_train"] = True
    config["quantization"]["accuracy_aware"]["validation"] = "holdout"
    with pytest.raises(ConfigError, match="cifar10_full_train.*holdout"):
        validate_config(config)


def test_bad_values_are_named():
    config = _paper_config()
    config["quantization"]["default"]["preset"] = "fast"
    with pytest.raises(ConfigError, match="quantization.default.preset"):
        validate_config(config)
    config = _paper_config()
    config["experiment"]["sources"] = ["imagenet"]
    with pytest.raises(ConfigError, match="experiment.sources.*imagenet.*known sources: cifar10, stylegan2_ada"):
        validate_config(config)


def test_unknown_architecture_and_missing_model_are_named():
    config = _paper_config()
    config["models"]["resnet20"]["arch"] = "resnet21"
    with pytest.raises(ConfigError, match=r"models\.resnet20\.arch.*unknown architecture 'resnet21'"):
        validate_config(config)
    config = _paper_config()
    config["experiment"]["models"] = ["resnet20", "alexnet"]
    with pytest.raises(ConfigError, match=r"experiment\.models.*'alexnet'"):
        validate_config(config)


def test_weights_need_path_or_url_and_fuse_needs_repvgg():
    config = _paper_config()
    config["models"]["resnet20"]["weights"] = {"sha256": "4118986f"}
    with pytest.raises(ConfigError, match=r"models\.resnet20\.weights.*'path'.*'url'"):
        validate_config(config)
    config = _paper_config()
    config["models"]["resnet20"]["fuse"] = True
    with pytest.raises(ConfigError, match=r"models\.resnet20\.fuse"):
        validate_config(config)


def test_normalization_presets_and_explicit_values():
    assert normalization({"normalization": "imagenet"}) == ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    assert normalization({"normalization": "cifar10"})[0] == [0.4914, 0.4822, 0.4465]
    assert normalization({"normalization": {"mean": [0, 0, 0], "std": [1, 1, 1]}}) == ([0, 0, 0], [1, 1, 1])


def test_merge_is_recursive_and_replaces_lists():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = merge(copy.deepcopy(base), {"a": {"c": [3]}, "e": 2})
    assert merged == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}


def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path, node


def _schema_node(path):
    node = schema()
    for key in path:
        node = node["properties"][key]
    return node


def test_config_yaml_and_the_schema_defaults_are_the_same_experiment():
    """Every value config.yaml sets equals the schema's default (the catalogue of models has none), so the schema is
    the one source of defaults and the documented defaults are the paper's experiment."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.pop("models")
    differ = {".".join(path): (value, _schema_node(path).get("default", "<no default>"))
              for path, value in _leaves(config) if _schema_node(path).get("default", "<no default>") != value}
    assert not differ, f"config.yaml and the schema's defaults differ: {differ}"


def test_the_configuration_docs_name_every_key_of_the_schema():
    """docs/configuration.md is generated from the schema (tests/test_docs.py checks it is up to date)."""
    text = (REPO / "docs/configuration.md").read_text()
    for path, _ in _leaves(yaml_schema_defaults()):
        assert f"`{'.'.join(path)}`" in text, ".".join(path)


def yaml_schema_defaults():
    """A config holding every key of the schema that has a default (what validate_config fills into {})."""
    from synthcal.schema import _Validator

    config = {"experiment": {"algorithms": ["default"]}}
    for _ in _Validator(schema()).iter_errors(config):
        pass
    return config


@pytest.mark.parametrize("entry, message", [
    ({"format": "onnx"}, "'models.m.weights' needs a 'path' .* for format onnx"),
    ({"format": "builtin", "weights": {"path": "w.pt"}}, "'models.m.arch' is needed for format builtin"),
    ({"format": "onnx", "arch": "resnet20", "weights": {"path": "m.onnx"}}, "'models.m.arch' is only for format builtin"),
    ({"format": "python"}, "'models.m.factory' is needed for format python"),
    ({"format": "onnx", "factory": "a:b", "weights": {"path": "m.onnx"}}, "'models.m.factory' and '.python_path' are only"),
    ({"format": "openvino", "weights": {"url": "http://x/m.xml"}}, "an OpenVINO IR is two files"),
    ({"format": "export", "weights": {"path": "m.pt2"}, "fuse": True}, "'models.m.fuse' is only valid for format builtin"),
    ({"format": "python", "factory": "no colon"}, "models.m.factory"),
])
def test_each_model_format_gets_the_keys_it_needs(entry, message):
    config = {"models": {"m": entry}, "experiment": {"models": ["m"], "algorithms": ["default"]}}
    with pytest.raises(ConfigError, match=message):
        validate_config(config)


def test_every_model_format_validates(tmp_path):
    (tmp_path / "m.xml").write_text("")
    config = {"models": {"a": {"format": "onnx", "weights": {"path": "m.onnx"}},
                         "b": {"format": "openvino", "weights": {"path": str(tmp_path / "m.xml")}},
                         "c": {"format": "export", "weights": {"url": "https://x/m.pt2", "sha256": "0" * 64}},
                         "d": {"format": "python", "factory": "pkg.nets:small"}},
              "experiment": {"models": ["b"], "algorithms": ["default"]}}
    validate_config(config)
    from synthcal.config import check_local_paths

    with pytest.raises(ConfigError, match=r"models.b.weights.path \(the IR's .bin\)"):
        check_local_paths(config)
