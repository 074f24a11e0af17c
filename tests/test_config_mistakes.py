"""A newcomer's config mistakes: each stops the real workflow before any job, with one message naming the key, the
bad value, the accepted form and the fix (synthcal.config)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from synthcal.config import ConfigError, read_yaml
from synthcal.schema import schema

from helpers import REPO
from workflow_helpers import out, snakemake

#: JSON Schema (2020-12) keywords a node of the config schema may hold; anything else is a YAML slip (an unquoted
#: comma in a flow mapping makes a stray key and cuts the description).
KEYWORDS = {"$schema", "title", "description", "type", "additionalProperties", "properties", "default", "minimum",
            "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "items", "minItems", "maxItems", "uniqueItems",
            "pattern", "oneOf", "anyOf", "allOf", "not", "required", "propertyNames", "multipleOf", "const"}


def _stray_keys(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if path and path[-1] == "properties":
                yield from _stray_keys(value, (*path, key))
                continue
            if key not in KEYWORDS:
                yield ".".join((*path, str(key)))
            yield from _stray_keys(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _stray_keys(value, (*path, str(i)))


def test_every_schema_node_holds_only_json_schema_keywords():
    assert list(_stray_keys(schema())) == []


def _set(config: dict, key: str, value) -> dict:
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return config


#: (what, the override (key -> value; a callable gets tmp_path), the text the one message must hold)
MISTAKES = [
    ("a fraction above 1", {"quantization.accuracy_aware.max_drop": 2},
     "'quantization.accuracy_aware.max_drop': 2 is out of range: it must be at most 1 (Largest accepted drop as a "
     "fraction of accuracy, between 0 and 1"),
    ("a bound of another kind", {"statistics.confidence": 1.5},
     "'statistics.confidence': 1.5 is out of range: it must be below 1"),
    ("a malformed digest", {"data.cifar10.checksum": "sha256:0000"},
     "'data.cifar10.checksum': 'sha256:0000' is not of the accepted form (Optional md5:<32 hex digits> or "
     "sha256:<64 hex digits>"),
    ("a digest of another kind", {"models.resnet20.weights.checksum": "md5:xyz"},
     "'models.resnet20.weights.checksum': 'md5:xyz' is not of the accepted form"),
    ("NVIDIA's code not where the key says", {"teacher.stylegan2_ada.repo": "nowhere/stylegan2"},
     "'teacher.stylegan2_ada.repo': nowhere/stylegan2 does not exist (NVIDIA's stylegan2-ada-pytorch checkout, "
     "needed to load the pickle): point the key to your checkout"),
    ("a feature network whose file is missing", lambda tmp: {
        "teacher.provider": "trained", "teacher.trained.discriminator": "projected",
        "teacher.trained.feature_network": "helper",
        "models.helper": {"arch": "akamaster_resnet44", "weights": {"path": str(tmp / "missing44.th")}}},
     "'models.helper.weights.path': " ),
    ("a model named like a reserved output", {"models.inception": {"arch": "resnet20", "weights": {"path": "w.pt"}},
                                              "experiment.models": ["inception"]},
     "'models': 'inception' is a reserved name (reserved: inception); choose another name"),
    ("a teacher named like a reserved set", {"teacher.name": "reference", "experiment.sources": ["reference"]},
     "'teacher.name': 'reference' is a reserved name (reserved: cifar10, distylegan, fractal, noise, bn_inversion, "
     "reference, train_reference)"),
    ("another reserved name", {"teacher.name": "train_reference", "experiment.sources": ["cifar10"]},
     "'teacher.name': 'train_reference' is a reserved name"),
    ("a provider that does not exist", {"teacher.provider": "stylegan"},
     "'teacher.provider': 'stylegan' is not one of the choices stylegan2_ada, export, python, torchscript, dump, "
     "trained (did you mean 'stylegan2_ada'?)"),
    ("a choice of another key", {"noise.distribution": "unifrom"},
     "'noise.distribution': 'unifrom' is not one of the choices uniform, gaussian (did you mean 'uniform'?)"),
    ("a missing local copy of CIFAR-10", lambda tmp: {"data.cifar10.local_path": str(tmp / "missing.tar.gz")},
     "missing.tar.gz does not exist (relative paths start at"),
    ("an ONNX model whose file is missing", lambda tmp: {
        "models.mine": {"format": "onnx", "weights": {"path": str(tmp / "mine.onnx")}},
        "experiment.models": ["mine"]},
     "mine.onnx does not exist"),
    ("a misspelt key", {"quantization.default.subsetsize": 10},
     "unknown config key 'quantization.default.subsetsize' (did you mean 'subset_size'?)"),
]


@pytest.mark.slow
@pytest.mark.parametrize("what, override, expected", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_config_mistake_stops_the_run_before_any_job_with_one_message(tmp_path, what, override, expected):
    values = override(tmp_path) if callable(override) else override
    config = {}
    for key, value in values.items():
        _set(config, key, value)
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(tmp_path / "mine.yaml"), check=False,
                     timeout=300)
    text = out(proc)
    assert proc.returncode != 0, text[-2000:]
    assert expected in text, text[-3000:]
    assert text.count("invalid configuration:") == 1  # one message
    assert "Job stats" not in text and not (tmp_path / "results").exists()  # stopped before any job
    if what == "an ONNX model whose file is missing":
        assert "download" not in text.split("invalid configuration:")[1].splitlines()[0]  # nothing to download
    if what == "a missing local copy of CIFAR-10":
        assert "or set it to null to download data.cifar10.url" in text


def test_a_yaml_syntax_error_is_named_with_its_file_and_line(tmp_path):
    """Snakemake reads --configfile before the workflow's code runs and says only 'Config file is not valid JSON or
    YAML'; `python -m synthcal.config FILE` (which the message's docs point to) names the file and the line."""
    bad = tmp_path / "mine.yaml"
    bad.write_text("seed: 3\nexperiment:\n  models: [a, b\nquality:\n  enabled: false\n")
    with pytest.raises(ConfigError, match=r"mine.yaml, line 4, column 8: not valid YAML"):
        read_yaml(bad)
    proc = subprocess.run([sys.executable, "-m", "synthcal.config", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1 and "mine.yaml, line 4, column 8: not valid YAML" in proc.stderr
    good = tmp_path / "good.yaml"
    good.write_text("seed: 3\n")
    proc = subprocess.run([sys.executable, "-m", "synthcal.config", str(good)], capture_output=True, text=True,
                          cwd=REPO)
    assert proc.returncode == 0 and proc.stdout.startswith("valid:")


@pytest.mark.slow
def test_an_own_checkpoint_for_a_zoo_architecture_does_not_inherit_the_zoos_checksum(tmp_path):
    """config.yaml's resnet20 downloads the zoo's file, checked against its sha256; a user who sets a local path of
    their own (another file) gets it converted, and its own checksum is checked only when given."""
    from synthcal.models import stand_in_checkpoint

    weights = stand_in_checkpoint("resnet20", tmp_path / "mine.pt", seed=3)
    from helpers import tar_folder, write_image_tree

    tar_folder(write_image_tree(tmp_path / "src" / "c", n_train=2, n_test=1), tmp_path / "c.tar.gz", "c")
    config = {"models": {"resnet20": {"weights": {"path": str(weights)}}},
              "experiment": {"models": ["resnet20"], "sources": ["cifar10"]},
              "data": {"cifar10": {"local_path": str(tmp_path / "c.tar.gz")}}}
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(config))
    target = "results/models/resnet20/fp32.xml"
    snakemake(tmp_path, "--cores", "1", "--configfile", str(tmp_path / "mine.yaml"), target=target)
    assert (tmp_path / target).exists()
    config["models"]["resnet20"]["weights"]["checksum"] = "sha256:deadbeef"
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / target).unlink()
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(tmp_path / "mine.yaml"), target=target,
                     check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/convert_model/resnet20.log").read_text()
    assert "checksum mismatch" in log and "expected sha256 deadbeef" in log and not (tmp_path / target).exists()


def test_the_repository_configs_have_no_stray_yaml():
    for path in [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]:
        assert isinstance(read_yaml(path), dict), path
    assert Path(REPO / "configs" / "smoke.yaml").exists()


@pytest.mark.parametrize("tool", sorted(p.name for p in (REPO / "tools").glob("*.py")))
def test_every_tool_prints_help_and_writes_nothing(tool, tmp_path):
    """`--help` is a request for help: it prints the usage and writes no file (stand_in_weights.py once wrote 200 MB
    of checkpoints into a folder named --help)."""
    proc = subprocess.run([sys.executable, str(REPO / "tools" / tool), "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage:") and list(tmp_path.iterdir()) == []
