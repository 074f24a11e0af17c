"""Settings typed once (synthcal.settings): each knob has one default, the schema's; settings travel from the planner to
the job as rule parameters and come back equal; the planner builds them from the configuration it was given."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from synthcal.config import load_config
from synthcal.planning import Plan
from synthcal.schema import default_settings, schema, section_defaults
from synthcal.settings import (
    SETTINGS_TYPES,
    AccuracyAwareSettings,
    ClassifierTraining,
    DefaultQuantizationSettings,
    GanTraining,
    StatisticsSettings,
    from_params,
    gan_training,
    to_params,
)

from helpers import REPO


def _schema_key(path: str) -> dict:
    node = schema()
    for part in path.split("."):
        node = node["additionalProperties"] if part == "<name>" else node["properties"][part]
    return node


@pytest.mark.parametrize("cls", SETTINGS_TYPES, ids=lambda c: c.__name__)
def test_every_field_is_a_schema_key_and_declares_no_default_but_the_schemas(cls):
    derived = getattr(cls, "DERIVED", {})
    sections = {path: section_defaults(path) for path in cls.SECTIONS}
    keys = {path: set(_schema_key(path)["properties"]) for path in cls.SECTIONS}
    for field in dataclasses.fields(cls):
        if field.name in derived:
            section, _, key = derived[field.name].rpartition(".")
            assert key in (_schema_key(section)["properties"] if section else schema()["properties"])
            continue
        owners = [path for path in cls.SECTIONS if field.name in keys[path]]
        assert owners, f"{cls.__name__}.{field.name} is a key of none of {cls.SECTIONS}"
        if field.default is not dataclasses.MISSING:
            for path in owners:
                assert field.default == sections[path][field.name], (
                    f"{cls.__name__}.{field.name} defaults to {field.default!r}, {path} to {sections[path][field.name]!r}")


@pytest.mark.parametrize("cls", SETTINGS_TYPES, ids=lambda c: c.__name__)
def test_settings_round_trip_through_json_rule_parameters(cls):
    settings = default_settings(cls)
    params = json.loads(json.dumps(to_params(settings)))  # what Snakemake stores and hands the script
    assert from_params(cls, params) == settings


def test_gan_settings_round_trip_with_their_mode_and_name_a_changed_knob():
    config = load_config(REPO / "config.yaml")
    for section, mode in ((config["teacher"]["trained"], "gan"), (config["distylegan"], "distill")):
        settings = gan_training(section, mode, seed=3)
        again = from_params(GanTraining, json.loads(json.dumps(to_params(settings))))
        assert again == settings and again.mode == mode and again.loop.seed == 3
    distill = gan_training(config["distylegan"], "distill", 3)
    changed = gan_training({**config["distylegan"], "lambda_pixel": 0.1}, "distill", 3)
    differs = {k for k, v in distill.fingerprint_fields().items() if changed.fingerprint_fields()[k] != v}
    assert differs == {"lambda_pixel"}
    every = gan_training({**config["distylegan"], "checkpoint_every": 1}, "distill", 3)
    assert every.fingerprint_fields() == distill.fingerprint_fields()  # how often it saves changes no weight


def test_unknown_or_missing_parameters_are_refused():
    params = to_params(default_settings(StatisticsSettings))
    with pytest.raises(TypeError, match="StatisticsSettings has no setting bogus"):
        from_params(StatisticsSettings, {**params, "bogus": 1})
    with pytest.raises(TypeError, match="margin_points"):
        from_params(StatisticsSettings, {k: v for k, v in params.items() if k != "margin_points"})
    with pytest.raises(ValueError, match="epochs and batch_size must be at least 1"):
        default_settings(ClassifierTraining, epochs=0)


def test_the_protocols_fill_the_quantization_settings_as_the_workflow_does():
    pot, nncf = (default_settings(DefaultQuantizationSettings, protocol=p) for p in ("pot", "nncf"))
    assert (pot.subset_size, pot.range_estimator, pot.channel_alignment) == (None, "pot", True)
    assert (nncf.subset_size, nncf.range_estimator, nncf.channel_alignment) == (300, "mean_minmax", False)
    assert default_settings(AccuracyAwareSettings).max_drop == 0.02  # the schema's protocol: pot
    paper = Plan(load_config(REPO / "config.yaml"))
    assert paper.quantization.default_settings() == pot  # config.yaml sets nothing the protocol does not


def test_planning_imports_no_heavy_library():
    """The planner, the settings and the config import only the standard library, pyyaml and jsonschema: every
    snakemake start and dry run parses them."""
    code = ("import sys; from synthcal.planning import Plan; from synthcal.config import load_config; "
            f"Plan(load_config({str(REPO / 'config.yaml')!r})).final_targets(); "
            "print(sorted(m for m in ('torch', 'nncf', 'openvino', 'numpy', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
