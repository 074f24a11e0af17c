"""Cluster submission through a real Slurm (single node on localhost) and the HTML report."""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd
import pytest

from helpers import REPO
from slurm_cluster import SlurmUnavailable, start_cluster
from workflow_helpers import snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow

ACCURACY = ["model", "source", "fp32_accuracy", "int8_accuracy", "drop_points", "drop_percent", "n_calibration"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        running = start_cluster(tmp_path_factory.mktemp("slurm"))
    except SlurmUnavailable as exc:
        pytest.skip(f"no Slurm cluster here: {exc}")
    yield running
    running.stop()


def _small_config(project: Path) -> dict:
    return tiny_config(project, **{"experiment.models": ["tiny_aka"], "experiment.sources": ["cifar10", "noise"]})


def test_workflow_runs_through_slurm_with_the_profile(cluster, project, tmp_path):
    config = write_config(tmp_path / "small.yaml", _small_config(project))
    remote = tmp_path / "slurm"
    snakemake(remote, "--profile", str(REPO / "profiles" / "slurm"), "--configfile", str(config),
              "--slurm-no-account", "--jobs", "4", timeout=1500)
    # the plugin tags every job with its rule (Comment=rule_<name>[_wildcards_...]); the controller keeps finished
    # jobs (MinJobAge), so every job of the run is listed with its final state
    submitted = {}
    for fields in cluster.jobs():
        rule = fields.get("Comment", "").removeprefix("rule_").split("_wildcards_")[0]
        submitted.setdefault(rule, []).append(fields.get("JobState"))
    for rule, count in (("prepare_cifar10", 1), ("convert_model", 1), ("calibration_cifar10", 1),
                        ("calibration_noise", 1), ("quantize", 2), ("evaluate_fp32", 1),
                        ("evaluate_int8", 2), ("throughput", 1), ("label_agreement", 2), ("sample_grid", 2)):
        assert submitted.get(rule) == ["COMPLETED"] * count, f"{rule}: {submitted.get(rule)}"
    assert "quantization_table" not in submitted  # a localrule: run by snakemake itself, not submitted
    # the same numbers as the local run of the same models and sources (the `project` fixture ran them locally)
    local = pd.read_csv(project / "results/tables/default_quantization.csv")
    a = local[(local.model == "tiny_aka") & local.source.isin(["cifar10", "noise"])][ACCURACY].reset_index(drop=True)
    b = pd.read_csv(remote / "results/tables/default_quantization.csv")[ACCURACY]
    assert len(b) == 2
    pd.testing.assert_frame_equal(a, b)


def test_html_report_embeds_tables_and_figures(project, tmp_path):
    config = project / "tiny.yaml"  # the project's own configuration (workflow_helpers.build_project)
    report = project / "results" / "report.html"
    snakemake(project, "--cores", "1", "--configfile", str(config), "--report", str(report))
    html = report.read_text(errors="replace")
    for text in ("table1a.csv", "default_quantization.csv", "accuracy_drop.png", "Calibration sets",
                 "GAN training", "loss_curves.png", "Tables"):
        assert text in html, f"{text} missing from the report"
    # the files themselves are in the page (base64 data), not only their names: this run's figure and tables
    for name in ("figures/accuracy_drop.png", "tables/table1a.csv", "tables/default_quantization.csv"):
        data = base64.b64encode((project / "results" / name).read_bytes()).decode()
        assert data in html, f"the content of {name} is not embedded in the report"
