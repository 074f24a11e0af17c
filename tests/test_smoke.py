"""The first ten minutes: the smoke configuration runs every stage of the pipeline end to end on the real inputs, the
own-model example plans what its documentation promises."""

from __future__ import annotations

import json
import re
import time

import pandas as pd
import pytest

from helpers import REPO, random_weights
from workflow_helpers import out, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def smoke(shared, tmp_path_factory):
    """configs/smoke.yaml run as a newcomer runs it, from a folder beside ../shared (its relative paths)."""
    root = tmp_path_factory.mktemp("smoke")
    (root / "shared").symlink_to(shared)
    run = root / "run"
    run.mkdir()
    start = time.perf_counter()
    proc = snakemake(run, "--cores", "2", "--configfile", str(REPO / "configs" / "smoke.yaml"), timeout=1800)
    print(f"the smoke configuration ran in {time.perf_counter() - start:.0f} s")
    return run, proc


def test_every_stage_of_the_pipeline_runs_and_the_tables_carry_intervals_and_verdicts(smoke):
    run, proc = smoke
    res = run / "results"
    default = pd.read_csv(res / "tables/default_quantization.csv")
    sources = ["cifar10", "cgan", "distylegan", "fractal", "noise", "bn_inversion"]
    assert list(default.model.unique()) == ["akamaster_resnet20", "smoke_shufflenet"]
    table = default[default.model == "akamaster_resnet20"].set_index("source")
    assert list(table.index) == sources
    # the real ResNet-20 on the JPEG test split (81 %; 91.8 % on canonical CIFAR-10), robust: INT8 on real images
    # loses at most a point
    assert table.fp32_accuracy.between(80, 82).all() and table.loc["cifar10", "drop_points"] <= 1.0
    data = json.loads((res / "data/cifar10/manifest.json").read_text())
    assert data["lossy_jpeg"] and data["checksum"].startswith("sha256:23f88bfe")
    assert data["train"]["count"] == 50000 and data["test"]["count"] == 10000
    assert (table.drop_ci_low <= table.drop_points).all() and (table.drop_points <= table.drop_ci_high).all()
    assert table.verdict.drop("cifar10").isin(["equivalent", "worse", "better", "inconclusive"]).all()
    assert pd.isna(table.loc["cifar10", "verdict"]) and table.flip_rate.notna().all()
    aa = pd.read_csv(res / "tables/accuracy_aware_quantization.csv")
    assert len(aa) == len(sources) and aa.int8_accuracy.notna().all()
    assert pd.read_csv(res / "tables/table1a_intervals.csv", index_col="source").loc["fractal"].iloc[0].count("[") == 1
    # the GAN chain: a trained teacher, its dump and gate, DiStyleGAN distilled from it
    assert json.loads((res / "teacher/dump/manifest.json").read_text())["count"] == 200
    assert json.loads((res / "teacher/gate.json").read_text())["passed"]
    assert json.loads((res / "distylegan/training.json").read_text())["epochs"] == 2
    # a model trained by the workflow (the train provider) is quantized on every source and judges label agreement
    trained = json.loads((res / "models/smoke_shufflenet/trained/training.json").read_text())
    assert trained["n_train"] == 3000 and 15 < trained["test_accuracy"] < 100  # learned: chance is 10 %
    shufflenet = default[default.model == "smoke_shufflenet"]
    assert list(shufflenet.source) == sources
    assert shufflenet.fp32_accuracy.round(2).eq(round(trained["test_accuracy"], 2)).all()  # PyTorch = the IR
    agreement = pd.read_csv(res / "reports/label_agreement.csv")
    assert set(agreement.judge) == {"smoke_shufflenet"} and len(agreement) == len(sources) + 1  # 2 BN-inversion sets
    # a variant: its own table, on the model and sources it names, bias correction on every image it was given
    variant = pd.read_csv(res / "tables/full_bias_correction_quantization.csv")
    assert list(variant.source) == ["cifar10", "noise"] and set(variant.model) == {"akamaster_resnet20"}
    report = json.loads((res / "quantized/full_bias_correction/noise/akamaster_resnet20/quantization.json").read_text())
    assert report["settings"]["fast_bias_correction"] is False and report["algorithm"] == "full_bias_correction"
    assert variant.int8_images_per_s.notna().all()  # the default's speed measurement, the same graph
    answer = pd.read_csv(res / "tables/where_data_matters.csv")
    assert len(answer) == 2 + 1 + 1 + 1 and set(answer.data_matters) <= {"yes", "no", "undecided", "no comparison"}
    # one cell below INT8, simulated: GPTQ changed every layer's weights; the breaking point lists it
    low = json.loads((res / "quantized/w4a8_gptq/cifar10/akamaster_resnet20/quantization.json").read_text())
    assert low["precision"] == "W4A8" and low["layers_changed_from_rtn"] == low["layers"] == 20
    simulated = pd.read_csv(res / "tables/w4a8_gptq_quantization.csv")
    assert list(simulated.source) == ["cifar10"] and simulated.execution[0].startswith("simulated")
    assert simulated.int8_images_per_s.isna().all()  # no speed for a simulation
    breaking = pd.read_csv(res / "tables/breaking_point.csv")
    assert ("akamaster_resnet20", "W4A8", "gptq") in set(zip(breaking.model, breaking.precision, breaking.method))
    # accuracy control without labels where the source has none
    noise_aa = json.loads((res / "quantized/accuracy_aware/noise/akamaster_resnet20/quantization.json").read_text())
    assert noise_aa["validation"] == "agreement" and noise_aa["validation_metric"] == "agreement with FP32"
    realism = pd.read_csv(res / "reports/realism.csv").set_index("source")
    assert realism.loc["cifar10", "coverage"] > realism.loc["noise", "coverage"]  # real images cover real data
    table2 = pd.read_csv(res / "tables/table2.csv")
    assert table2.fid.notna().all() and (table2.n_images[table2.comparable] == 100).all()
    for figure in ("accuracy_drop.png", "per_class_drop.png", "drop_predictors.png", "drop_vs_fid.png"):
        assert (res / "figures" / figure).stat().st_size > 10_000
    # every result's metadata names the library versions it was computed with (the run recorded them too)
    versions = json.loads((res / "versions.json").read_text())
    assert set(versions) == {"torch", "nncf", "openvino", "numpy"} and all(versions.values())
    not_results = ("config.json", "run.json", "versions.json")  # a release's format, checkpoint identities, the record
    for path in res.rglob("*.json"):
        if path.name in not_results:
            continue
        data = json.loads(path.read_text())
        records = data if isinstance(data, list) else [data]
        found = [r.get("versions") or (r.get("machine") or {}).get("versions") for r in records]
        assert found and all(v == versions for v in found), f"{path.relative_to(res)} does not record the versions"
    # the run said what it would cost before it started, and where everything is when it ended
    text = out(proc)
    assert re.search(r"synthcal: the configured run, \d+ jobs from scratch", text)
    assert "synthcal: the run is complete." in text
    assert re.search(r"default, akamaster_resnet20: smallest drop \w+ -?[\d.]+ \[", text)


def test_the_own_model_example_plans_every_output_its_documentation_promises(tmp_path):
    """docs/configuration.md shows configs/own_model.yaml and lists what it produces: each listed file is planned."""
    random_weights("resnet20", tmp_path / "checkpoints" / "mine.pt")
    proc = snakemake(tmp_path, "-n", "--cores", "2", "--configfile", str(REPO / "configs" / "own_model.yaml"))
    doc = (REPO / "docs" / "configuration.md").read_text()
    promised = re.findall(r"`(results/[^`]+)`", doc.split("It produces, for `mine`:")[1].split("## ")[0])
    assert len(promised) >= 8
    planned = set(re.findall(r"(results/\S+?)[,\s]", out(proc)))
    missing = [p for p in promised if p not in planned]
    assert not missing, f"promised but not planned: {missing}"
    # the rows the text promises: both algorithms, three sources, on mine
    assert re.search(r"quantize\s+6\b", out(proc)) and "results/tables/accuracy_aware_quantization.csv" in out(proc)
