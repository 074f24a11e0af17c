"""The benchmark summary on fabricated benchmark files, and stand-in checkpoints for the paper's grid."""

from __future__ import annotations

import pytest
import torch

from synthcal.benchmarks import read_benchmarks, summarise
from synthcal.models import build, load_weights, stand_in_checkpoint
from synthcal.rulefiles import rule_stages

from helpers import REPO

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, seconds, rss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t1\t1\t1\t0\t0\t50\t{cpu}\n")


def test_summary_groups_per_rule_model_stage_and_sums(tmp_path):
    b = tmp_path / "benchmarks"
    _bench(b / "quantize/default/cifar10/m1.tsv", 10.0, 500, 18.0)
    _bench(b / "quantize/default/noise.r1/m1.tsv", 12.0, 700, 20.0)
    _bench(b / "quantize/accuracy_aware/cifar10/m2.tsv", 30.0, 900, 55.0)
    _bench(b / "evaluate_int8/m2/default/cifar10.tsv", 5.0, 300, 9.0)
    _bench(b / "teacher_train/teacher_train.tsv", 100.0, 2000, 190.0)
    (b / "broken").mkdir()
    (b / "broken/empty.tsv").write_text("")
    stages = {"quantize": "quantize", "evaluate_int8": "evaluate", "teacher_train": "teacher"}
    jobs = read_benchmarks(b, ["m1", "m2"], stages, ["default", "accuracy_aware", "size"])
    assert len(jobs) == 5 and set(jobs.stage) == {"quantize", "evaluate", "teacher"}
    table = summarise(jobs).set_index(["level", "stage", "rule", "model"])
    q1 = table.loc[("rule", "quantize", "quantize default", "m1")]  # the variants apart
    assert (q1.jobs, q1.wall_s, q1.cpu_s, q1.peak_mb) == (2, 22.0, 38.0, 700.0)
    assert table.loc[("rule", "quantize", "quantize accuracy_aware", "m2")].wall_s == 30.0
    stage = table.loc[("stage", "quantize", "all", "all")]
    assert (stage.jobs, stage.wall_s, stage.peak_mb) == (3, 52.0, 900.0)
    m2 = table.loc[("model", "all", "all", "m2")]
    assert (m2.jobs, m2.wall_s) == (2, 35.0)
    shared = table.loc[("model", "all", "all", "shared")]  # the teacher is every model's
    assert (shared.jobs, shared.wall_s) == (1, 100.0)
    total = table.loc[("total", "all", "all", "all")]
    assert (total.jobs, total.wall_s, total.cpu_s, total.peak_mb) == (5, 157.0, 292.0, 2000.0)


def test_stages_come_from_the_rule_files(tmp_path):
    stages = rule_stages(REPO / "rules")
    assert stages["quantize"] == "quantize" and stages["channel_alignment"] == "models"
    assert stages["distylegan_train"] == "distylegan" and stages["prepare_cifar10"] == "data"
    (tmp_path / "tables.smk").write_text("rule a:\n    input:\n        'x'\n\n\nuse rule a as b with:\n    input:\n"
                                         "        'y'\n")
    (tmp_path / "data.smk").write_text("rule c:\n    output:\n        'z'\n")
    assert rule_stages(tmp_path) == {"c": "data", "a": "tables", "b": "tables"}  # `use rule` lives where it is


@pytest.mark.parametrize("arch", ["resnet20", "mobilenetv2_x1_4"])
def test_stand_in_checkpoints_load_strictly_and_have_input_dependent_outputs(arch, tmp_path):
    path = stand_in_checkpoint(arch, tmp_path / f"{arch}.pt", seed=1)
    model = load_weights(build(arch), path)
    bn = next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))  # statistics were set
    with torch.no_grad():
        out = model(torch.randn(4, 3, 32, 32))
    assert out.std(0).mean() > 1e-3  # different inputs, different logits
