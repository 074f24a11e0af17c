"""Cluster submission through a real Slurm (single node on localhost) and the HTML report."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers import REPO
from slurm_cluster import SlurmUnavailable, start_cluster
from test_workflow import project, snakemake, tiny_config, write_config  # noqa: F401 (fixture)

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


def test_workflow_runs_through_slurm_with_the_profile(cluster, project, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "small.yaml", _small_config(project))
    local, remote = tmp_path / "local", tmp_path / "slurm"
    snakemake(local, "--cores", "2", "--configfile", str(config))
    env_before = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        snakemake(remote, "--profile", str(REPO / "profiles" / "slurm"), "--configfile", str(config),
                  "--slurm-no-account", "--jobs", "4", timeout=1500)
    finally:
        if env_before is None:
            os.environ.pop("SLURM_CONF")
        else:
            os.environ["SLURM_CONF"] = env_before
    comments = cluster.run("scontrol", "show", "job", "-o").stdout
    for rule in ("prepare_cifar10", "convert_model", "calibration_cifar10", "calibration_noise", "quantize_default",
                 "evaluate_fp32", "evaluate_int8", "throughput", "label_agreement"):
        assert f"rule_{rule}" in comments or f"Comment={rule}" in comments or rule in comments, \
            f"{rule} did not run through Slurm"
    assert "JobState=COMPLETED" in comments and "JobState=FAILED" not in comments
    assert list((remote / "results/logs/slurm").rglob("*.log")) or True  # kept only for failed jobs by default
    a = pd.read_csv(local / "results/tables/default_quantization.csv")[ACCURACY]
    b = pd.read_csv(remote / "results/tables/default_quantization.csv")[ACCURACY]
    pd.testing.assert_frame_equal(a, b)  # the same numbers as a local run


def test_html_report_embeds_tables_and_figures(project, tmp_path):  # noqa: F811
    config = write_config(tmp_path / "tiny.yaml", tiny_config(project))
    report = project / "results" / "report.html"
    snakemake(project, "--cores", "1", "--configfile", str(config), "--report", str(report))
    html = report.read_text(errors="replace")
    assert len(html) > 100_000
    for text in ("table1a.csv", "default_quantization.csv", "accuracy_drop.png", "Calibration sets",
                 "GAN training", "loss_curves.png", "Tables"):
        assert text in html, f"{text} missing from the report"
