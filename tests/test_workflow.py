"""The real snakemake on a tiny generated project: tables, reruns, bad inputs, lint."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from synthcal.calibration import load_calibration_folder
from synthcal.gan.networks import load_released

from helpers import REPO, grid_tile, tar_folder, write_image_tree, write_stand_in_inception
from workflow_helpers import SOURCES, clone_workflow, out, planned_jobs, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow

PNG = b"\x89PNG\r\n\x1a\n"
#: What reruns after any change to one algorithm's results: its tables, the predictors, the report, the target.
TABLES = {"quantization_table": 1, "paper_table": 1, "report_predictors": 1, "report_tables": 1, "table_data_matters": 1,
          "all": 1}


def test_tables_hold_one_consistent_row_per_model_and_source(project):
    table = pd.read_csv(project / "results/tables/default_quantization.csv")
    assert sorted(zip(table.model, table.source)) == sorted((m, s) for m in ["tiny_zoo", "tiny_aka"] for s in SOURCES)
    for col in ["model", "source", "algorithm", "fp32_accuracy", "int8_accuracy", "drop_points", "drop_percent",
                "n_calibration", "subset_size", "seed", "fp32_images_per_s", "int8_images_per_s"]:
        assert col in table.columns
    assert set(table.algorithm) == {"default"}
    bn = table.source == "bn_inversion"
    assert (table.n_calibration[~bn] == 40).all() and (table.subset_size[~bn] == 30).all()
    assert (table.n_calibration[bn] == 20).all() and (table.subset_size[bn] == 20).all() and (table.seed == 3).all()
    for row in table.itertuples():
        fp32 = json.loads((project / f"results/evaluation/{row.model}/fp32.json").read_text())
        int8 = json.loads((project / f"results/evaluation/{row.model}/default/{row.source}.json").read_text())
        assert fp32["n_images"] == int8["n_images"] == 50
        assert row.fp32_accuracy == pytest.approx(100 * fp32["accuracy"], abs=1e-4)
        assert row.int8_accuracy == pytest.approx(100 * int8["accuracy"], abs=1e-4)
        assert row.drop_points == pytest.approx(row.fp32_accuracy - row.int8_accuracy, abs=1e-3)
        assert row.fp32_images_per_s > 0 and row.int8_images_per_s > 0
    paper = pd.read_csv(project / "results/tables/table1a.csv", index_col="source")
    assert list(paper.columns) == ["tiny_zoo", "tiny_aka", "calibration_data"] and list(paper.index) == SOURCES
    assert "random two-colour gradient" in paper.loc["fractal", "calibration_data"]  # not Datumaro's colouring
    assert paper.loc["noise", "calibration_data"] == "Gaussian pixel noise (std 40)"
    for row in table.itertuples():
        assert paper.loc[row.source, row.model] == pytest.approx(row.drop_percent, abs=0.006)


def test_intermediate_outputs_logs_and_benchmarks(project):
    res = project / "results"
    calib = res / "calibration/cifar10"
    assert len(list(calib.glob("*/*.png"))) == 40 and len(list((calib / "frog").glob("*.png"))) == 4
    manifest = json.loads((calib / "manifest.json").read_text())
    assert manifest["source"] == "cifar10" and manifest["seed"] == 3 and manifest["count"] == 40
    conv = json.loads((res / "models/tiny_zoo/conversion.json").read_text())
    assert conv["max_abs_diff_ir"] < 1e-3 and conv["weights_sha256"].startswith("sha256:")
    q = json.loads((res / "quantized/default/cifar10/tiny_aka/quantization.json").read_text())
    assert q["fake_quantize_ops"] > 0 and q["subset_size"] == 30
    assert "IR vs PyTorch" in (res / "logs/convert_model/tiny_zoo.log").read_text()
    for bench in ["prepare_cifar10/prepare_cifar10.tsv", "quantize/default/cifar10/tiny_zoo.tsv",
                  "evaluate_fp32/tiny_aka/fp32.tsv"]:
        assert (res / "benchmarks" / bench).read_text().startswith("s\th:m:s")
    data_manifest = json.loads((res / "data/cifar10/manifest.json").read_text())
    assert data_manifest["layout"] == "image-tree" and data_manifest["test"]["count"] == 50


def test_gan_chain_outputs(project):
    res = project / "results"
    dump = json.loads((res / "teacher/dump/manifest.json").read_text())
    assert dump["count"] == 100 and dump["latent"] == "uniform" and dump["teacher"]["provider"] == "torchscript"
    assert dump["teacher"]["sha256"] and np.load(res / "teacher/dump/noise.npy").shape == (100, dump["z_dim"])
    assert len(list((res / "teacher/dump").glob("*/*.png"))) == 100
    training = json.loads((res / "distylegan/training.json").read_text())
    assert training["epochs"] == 2 and training["images_per_s"] > 0
    assert len((res / "distylegan/losses.csv").read_text().strip().splitlines()) == 3
    for name in ("loss_curves.png", "samples.png"):  # drawn by the training_figures rule
        assert (res / "distylegan" / name).read_bytes().startswith(PNG)
    assert load_released(res / "distylegan").ngf == 16  # the release format (generator.pt + config.json)
    for source in SOURCES[:-1]:
        manifest = json.loads((res / f"calibration/{source}/manifest.json").read_text())
        assert manifest["source"] == source and manifest["count"] == 40 and manifest["description"]
        # the sample grid shows the folder's images: row = class, in file order
        split, _ = load_calibration_folder(res / f"calibration/{source}", progress=False)
        for row, col in ((0, 0), (9, 3)):
            expected = split.images[np.flatnonzero(split.labels == row)[col]]
            assert np.array_equal(grid_tile(res / f"figures/samples/{source}.png", row, col), expected)
    teacher_cal = json.loads((res / "calibration/tinyteacher/manifest.json").read_text())
    assert len(teacher_cal["dump_indices"]) == 40
    # the dump's quality gate: its label agreement with each configured classifier (no FID: quality is off here)
    gate = json.loads((res / "teacher/gate.json").read_text())
    agreement = {a["model"]: a["accuracy"] for m in ("tiny_zoo", "tiny_aka")
                 for a in json.loads((res / f"reports/label_agreement/{m}/tinyteacher.json").read_text())}
    assert gate["label_agreement"] == agreement and set(agreement) == {"tiny_zoo", "tiny_aka"}
    assert gate["fid"] is None and gate["passed"] and gate["n_agreement_images"] == {"tiny_zoo": 40, "tiny_aka": 40}


def test_fractal_noise_and_bn_inversion_outputs(project):
    res = project / "results"
    fractal = json.loads((res / "calibration/fractal/manifest.json").read_text())
    assert fractal["colorize"] == "random" and fractal["categories"] >= 1
    assert (res / "benchmarks/calibration_fractal/fractal.tsv").read_text().startswith("s\th:m:s")
    noise = json.loads((res / "calibration/noise/manifest.json").read_text())
    assert noise["distribution"] == "gaussian" and noise["std"] == 40.0
    # one distilled set per model, matched on every BatchNorm (the zoo's ResNet-20 has 2 more, in its shortcuts)
    for model, bn_layers in (("tiny_zoo", 21), ("tiny_aka", 19)):
        bn = json.loads((res / f"calibration/bn_inversion/{model}/manifest.json").read_text())
        assert bn["model"] == model and bn["count"] == 20 and bn["bn_layers"] == bn_layers and bn["iterations"] == 5
        assert (res / f"figures/samples/bn_inversion/{model}.png").read_bytes().startswith(PNG)
        assert (res / f"benchmarks/calibration_bn_inversion/bn_inversion/{model}.tsv").read_text().startswith("s\th:m:s")


def test_changing_a_quantization_parameter_reruns_only_downstream_jobs(project):
    assert planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile", str(project / "tiny.yaml"))) == {}
    changed = write_config(project / "changed.yaml", tiny_config(project, **{"quantization.default.subset_size": 20}))
    jobs = planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile", str(changed)))
    assert jobs == {"quantize": 12, "evaluate_int8": 12, "throughput": 2, **TABLES}


def test_changing_calibration_size_keeps_data_preparation_conversion_and_gans(project):
    changed = write_config(project / "changed2.yaml", tiny_config(project, **{"calibration.n_per_class": 3}))
    jobs = planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile", str(changed)))
    assert jobs == {"calibration_cifar10": 1, "calibration_teacher": 1, "calibration_distylegan": 1,
                    "calibration_fractal": 1, "calibration_noise": 1, "sample_grid": 5,
                    "quantize": 10, "evaluate_int8": 10, "label_agreement": 10, "teacher_gate": 1,
                    "throughput": 2, **TABLES}


def test_changing_a_distillation_weight_retrains_only_the_student(project):
    changed = write_config(project / "changed4.yaml", tiny_config(project, **{"distylegan.lambda_pixel": 0.1}))
    jobs = planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile", str(changed)))
    assert jobs == {"distylegan_train": 1, "training_figures": 1, "calibration_distylegan": 1, "sample_grid": 1,
                    "quantize": 2, "evaluate_int8": 2, "throughput": 2, "label_agreement": 2,
                    **TABLES}


def test_changing_a_model_normalization_reruns_only_that_model(project):
    config = tiny_config(project)
    config["models"]["tiny_aka"]["normalization"] = "cifar10"
    changed = write_config(project / "changed3.yaml", config)
    jobs = planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile", str(changed)))
    assert jobs == {"calibration_bn_inversion": 1, "sample_grid": 1, "quantize": 6, "evaluate_fp32": 1,
                    "evaluate_int8": 6, "label_agreement": 6, "teacher_gate": 1, "throughput": 1,
                    **TABLES}


def test_unknown_architecture_stops_at_startup(tmp_path, project):
    config = tiny_config(project)
    config["models"]["tiny_zoo"]["arch"] = "resnet21"
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(write_config(tmp_path / "c.yaml", config)),
                     check=False)
    assert proc.returncode != 0
    assert "config key 'models.tiny_zoo.arch': unknown architecture 'resnet21'" in out(proc)


def test_unknown_key_stops_at_startup(tmp_path, project):
    config = tiny_config(project, **{"quantization.default.subset": 10})
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(write_config(tmp_path / "c.yaml", config)),
                     check=False)
    assert proc.returncode != 0 and "unknown config key 'quantization.default.subset'" in out(proc)


def test_missing_local_file_is_named_with_its_key(tmp_path, project):
    config = tiny_config(project)
    config["models"]["tiny_aka"]["weights"]["path"] = str(tmp_path / "missing.th")
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(write_config(tmp_path / "c.yaml", config)),
                     check=False)
    assert proc.returncode != 0
    assert "config key 'models.tiny_aka.weights.path'" in out(proc) and "missing.th does not exist" in out(proc)


def test_weights_checksum_mismatch_fails_conversion_without_output(tmp_path, project):
    config = tiny_config(project, **{"experiment.models": ["tiny_zoo"], "experiment.sources": ["cifar10"]})
    # a local file is checked against its own `checksum` (`sha256` belongs to the `url` download)
    config["models"]["tiny_zoo"]["weights"]["checksum"] = "sha256:deadbeef"
    cfg = write_config(tmp_path / "c.yaml", config)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), target="results/models/tiny_zoo/fp32.xml",
                     check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/convert_model/tiny_zoo.log").read_text()
    assert "checksum mismatch" in log and "expected sha256 deadbeef" in log
    assert not (tmp_path / "results/models/tiny_zoo/fp32.xml").exists()
    assert not (tmp_path / "results/models/tiny_zoo/fp32.bin").exists()


def test_corrupt_image_in_cifar_copy_fails_preparation_without_output(tmp_path, project):
    tree = write_image_tree(tmp_path / "src" / "c", n_train=2, n_test=1)
    (tree / "train" / "horse" / "0001.png").write_bytes(b"not an image")
    tar_folder(tree, tmp_path / "bad.tar.gz", "c")
    config = tiny_config(project, **{"data.cifar10.local_path": str(tmp_path / "bad.tar.gz")})
    cfg = write_config(tmp_path / "c.yaml", config)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), target="results/data/cifar10/train.npz",
                     check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/prepare_cifar10.log").read_text()
    assert re.search(r"cannot decode image .*train/horse/0001\.png", log)
    assert not list((tmp_path / "results/data").rglob("*.npz"))


def test_a_teacher_that_returns_nan_stops_the_dump_naming_the_file(tmp_path, project):
    """A TorchScript generator whose images are not finite never becomes a dump (nor a calibration source)."""
    import torch

    class NaNGenerator(torch.nn.Module):
        def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
            return torch.full((z.shape[0], 3, 32, 32), float("nan"))

    torch.jit.script(NaNGenerator()).save(str(tmp_path / "nan.pt"))
    config = tiny_config(project, **{"teacher.torchscript.path": str(tmp_path / "nan.pt")})
    cfg = write_config(tmp_path / "c.yaml", config)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), target="results/teacher/dump", check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/teacher_dump.log").read_text()
    assert f"the torchscript teacher {tmp_path / 'nan.pt'} returned values that are not finite" in log
    assert not (tmp_path / "results/teacher/dump").exists()
    assert not list((tmp_path / "results/teacher").glob(".dump*"))


def test_offline_without_local_copy_names_the_key(tmp_path, project):
    config = tiny_config(project, **{"data.cifar10.local_path": None,
                                      "data.cifar10.url": "http://127.0.0.1:9/cifar-10-python.tar.gz"})
    cfg = write_config(tmp_path / "c.yaml", config)
    proc = snakemake(tmp_path, "--cores", "1", "--configfile", str(cfg), target="results/data/cifar10/train.npz",
                     check=False)
    assert proc.returncode != 0
    log = tmp_path / "results/logs/download/downloads/cifar-10-python.tar.gz.log"
    assert "set the config key 'data.cifar10.local_path'" in log.read_text()
    assert not (tmp_path / "resources/downloads/cifar-10-python.tar.gz").exists()


def test_default_config_plans_the_paper_grid(tmp_path):
    proc = snakemake(tmp_path, "-n", "--cores", "1")
    jobs = planned_jobs(proc)
    # the plan printed before the run counts exactly the jobs Snakemake schedules, and states their cost
    estimate = re.search(r"synthcal: the configured run, (\d+) jobs from scratch", out(proc))
    assert estimate and int(estimate.group(1)) == sum(jobs.values())
    assert re.search(r"distillation\s+\d+ jobs\s+[\d.]+ days", out(proc))  # DiStyleGAN's CPU training, measured
    assert "above cost.warn_hours = 4" in out(proc) and "configs/smoke.yaml" in out(proc)
    assert jobs["convert_model"] == 6 and jobs["evaluate_int8"] == 6 * 6 + 3 * 6
    # one download rule: 5 checkpoints (repvgg_a2 and repvgg_a2_fused share one), CIFAR-10, NVIDIA's pickle and
    # torch-fidelity's Inception weights
    assert jobs["download"] == 5 + 3 and jobs["calibration_cifar10"] == 1
    assert jobs["teacher_dump"] == 1 and jobs["distylegan_train"] == 1
    assert "teacher_train" not in jobs
    # the paper's Table 1b: ShuffleNetV2 and RepVGG (both forms) accuracy-aware, on every source
    assert jobs["quantize"] == 3 * 6 + 6 * 6 and jobs["channel_alignment"] == 6  # one verdict per model
    # BN inversion distils from the multi-branch form: repvgg_a2_fused shares repvgg_a2's folder (5, not 6)
    assert jobs["calibration_bn_inversion"] == 5 and jobs["calibration_fractal"] == 1
    # five sources, BN inversion per model, the test-split reference and the training-split one (real against real)
    assert jobs["table_repvgg_fusion"] == 1 and jobs["quality_features"] == 5 + 5 + 2
    assert jobs["throughput"] == 6 + 3  # per model and algorithm
    assert jobs["training_figures"] == 1 and "teacher_train" not in jobs


def test_lint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--snakefile", str(REPO / "Snakefile")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0 and "Lints for" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def project_aa(project, tmp_path_factory) -> Path:
    """One model, two sources, default + accuracy-aware quantization, two repeats and the quality reports with a
    stand-in TorchScript feature network."""
    root = tmp_path_factory.mktemp("wf_aa")
    write_stand_in_inception(root / "stand_in.pt")
    config = tiny_config(project, **{
        "repeats": 2,
        "calibration.n_per_class": 3,  # two repeats of 3 per class leave >= 2 of 8 per class for the holdout
        "calibration.filter": {"pool_factor": 2, "batch_size": 10, "threads": 1},
        "experiment.models": ["tiny_aka"], "experiment.sources": ["cifar10", "noise", "cifar10_energy"],
        "experiment.algorithms": ["default", "accuracy_aware"], "experiment.calibration_sizes": [1, 2],
        "quantization.accuracy_aware": {"models": ["tiny_aka"], "max_drop": 0.0, "validation": "holdout",
                                        "holdout_per_class": 2},
        "quality": {"enabled": True, "n_images": 30, "n_reference": 30, "is_splits": 2,
                    "inception": {"url": None}, "fid_extractor": str(root / "stand_in.pt"), "threads": 1},
    })
    write_config(root / "aa.yaml", config)
    snakemake(root, "--cores", "2", "--configfile", str(root / "aa.yaml"))
    return root


def test_repeats_accuracy_aware_and_reports(project_aa):
    res = project_aa / "results"
    runs = pd.read_csv(res / "tables/default_quantization_runs.csv")
    assert sorted(zip(runs.source, runs.repeat)) == [("cifar10", 0), ("cifar10", 1), ("cifar10_energy", 0),
                                                     ("cifar10_energy", 1), ("noise", 0), ("noise", 1)]
    assert sorted(runs.seed[runs.source == "cifar10"]) == [3, 4]  # repeat r uses seed + r
    table = pd.read_csv(res / "tables/default_quantization.csv")
    assert (table.repeats == 2).all() and table.drop_points_std.notna().all()
    for row in table.itertuples():
        assert row.drop_points == pytest.approx(runs[runs.source == row.source].drop_points.mean(), abs=1e-3)
    assert json.loads((res / "calibration/cifar10.r1/manifest.json").read_text())["seed"] == 4

    aa = pd.read_csv(res / "tables/accuracy_aware_quantization.csv")
    assert {"max_drop", "reverted_ops"} <= set(aa.columns) and (aa.max_drop == 0.0).all()
    assert set(aa.validation) == {"holdout"} and (aa.repeats == 2).all()
    table1b = pd.read_csv(res / "tables/table1b.csv", index_col="source")
    assert list(table1b.columns) == ["tiny_aka", "calibration_data"]
    assert list(table1b.index) == ["cifar10", "noise", "cifar10_energy"]
    report = json.loads((res / "quantized/accuracy_aware/noise.r1/tiny_aka/quantization.json").read_text())
    assert report["n_validation"] == 20 and report["repeat"] == 1  # the held-out real split, 2 per class
    assert report["n_calibration"] == 30

    quality = pd.read_csv(res / "reports/image_quality.csv")
    assert list(quality.source) == ["cifar10", "noise", "cifar10_energy/tiny_aka"]
    assert (quality.n_images[:2] == 30).all() and quality.n_images[2] == 30  # a 30-image folder: all of it
    assert quality.is_mean.isna().all() and quality.fid.notna().all()
    assert set(quality.extractor) == {"TorchScript stand_in.pt"}
    agreement = pd.read_csv(res / "reports/label_agreement.csv")
    assert sorted(agreement.source) == ["cifar10", "cifar10_energy", "noise"] and agreement.accuracy.between(0, 1).all()
    throughput = pd.read_csv(res / "tables/throughput.csv")
    assert sorted(zip(throughput.algorithm, throughput.source)) == sorted(
        (a, s) for a in ("accuracy_aware", "default") for s in ("cifar10", "noise", "cifar10_energy"))
    assert (throughput.model == "tiny_aka").all() and (throughput.speedup > 0).all()
    for name in ("default", "accuracy_aware"):  # one measurement, two tables: the same numbers
        quant = pd.read_csv(res / f"tables/{name}_quantization.csv").set_index("source")
        for row in throughput[throughput.algorithm == name].itertuples():
            assert quant.loc[row.source, "int8_images_per_s"] == pytest.approx(row.int8_images_per_s, rel=1e-3)
            assert quant.loc[row.source, "fp32_latency_ms"] == pytest.approx(row.fp32_latency_ms, rel=1e-3)
    for figure in ("accuracy_drop.png", "drop_vs_fid.png"):
        assert (res / "figures" / figure).read_bytes()[:4] == b"\x89PNG"


def test_the_tables_intervals_and_tests_are_recomputed_from_the_stored_predictions(project_aa):
    """Every number of a cell follows from the stored per-image predictions, recomputed here with numpy and SciPy
    alone: the drop and flip rate (means over the two calibration draws), their intervals (the paired bootstrap
    over test images, same seed, widened by the draws' t interval), the exact McNemar p-value against the reference
    source (first draws) and its Holm correction over the table."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    res = project_aa / "results"
    table = pd.read_csv(res / "tables/default_quantization.csv").set_index("source")

    def correct(path):
        with np.load(path) as npz:
            return npz["predictions"] == npz["labels"], npz["predictions"]

    fp32, fp32_pred = correct(res / "evaluation/tiny_aka/fp32.npz")
    draws = {s: [correct(res / f"evaluation/tiny_aka/default/{s}{r}.npz") for r in ("", ".r1")]
             for s in ("cifar10", "noise", "cifar10_energy")}
    n = len(fp32)

    def interval(per_image, per_draw):
        point = float(np.mean(per_draw))
        boot = stats.bootstrap((np.arange(n),), lambda i, axis=-1: 100 * per_image[i].mean(-1), vectorized=True,
                               n_resamples=2000, method="percentile", rng=np.random.default_rng(3))
        half = 0.0
        if np.ptp(per_draw) > 1e-9:  # the draws' t interval (none when the two draws agree)
            t = stats.ttest_1samp(per_draw, 0).confidence_interval(0.95)
            half = (t.high - t.low) / 2
        low, high = boot.confidence_interval
        return point, point - np.hypot(point - low, half), point + np.hypot(high - point, half)

    pvalues = {}
    for source, runs in draws.items():
        row = table.loc[source]
        drops = [100 * (fp32.mean() - c.mean()) for c, _ in runs]
        lost = np.mean([fp32.astype(float) - c for c, _ in runs], axis=0)
        point, low, high = interval(lost, drops)
        assert (row.drop_points, row.drop_ci_low, row.drop_ci_high) == pytest.approx((point, low, high), abs=1e-4)
        flips = np.mean([pred != fp32_pred for _, pred in runs], axis=0)
        point, low, high = interval(flips, [100 * (pred != fp32_pred).mean() for _, pred in runs])
        assert (row.flip_rate, row.flip_ci_low, row.flip_ci_high) == pytest.approx((point, low, high), abs=1e-4)
        assert row.repeats == 2 and row.reference == "cifar10"
        if source == "cifar10":
            assert pd.isna(row.verdict) and pd.isna(row.mcnemar_p)  # the reference row has no verdict
            continue
        a, b = runs[0][0], draws["cifar10"][0][0]
        only_source, only_reference = int(np.sum(a & ~b)), int(np.sum(~a & b))
        expected = (stats.binomtest(min(only_source, only_reference), only_source + only_reference).pvalue
                    if only_source + only_reference else 1.0)
        assert row.mcnemar_p == pytest.approx(expected, abs=1e-4)
        assert row.verdict in ("equivalent", "worse", "better", "inconclusive")
        pvalues[source] = expected
    adjusted = multipletests(list(pvalues.values()), method="holm")[1]
    for (source, _), value in zip(pvalues.items(), adjusted):
        assert table.loc[source, "mcnemar_p_holm"] == pytest.approx(value, abs=1e-4)
    # the per-class table: the worst class of each cell is the largest of its per-class drops
    per_class = pd.read_csv(res / "tables/default_per_class.csv")
    for source, rows in per_class.groupby("source"):
        worst = rows.loc[rows.drop_points.idxmax()]
        assert table.loc[source, "worst_class"] == worst["class"]
    evaluation = json.loads((res / "evaluation/tiny_aka/default/noise.r1.json").read_text())
    assert evaluation["machine"]["versions"]["openvino"] and "isa" in evaluation["machine"]
    assert table.loc["noise", "machine"].startswith(evaluation["machine"]["cpu"])


# ------------------------------------------------------------------------------------ what an edit reruns
@pytest.fixture(scope="module")
def cloned(project, tmp_path_factory):
    """A clone of the workflow's code, run once on one model with the GAN chain (dump, distillation), so that a
    test can edit the library and read the plan."""
    root = tmp_path_factory.mktemp("clone")
    snakefile = clone_workflow(root / "workflow")
    config = write_config(root / "c.yaml", tiny_config(project, **{
        "experiment.models": ["tiny_aka"], "experiment.sources": ["cifar10", "tinyteacher", "distylegan"]}))
    snakemake(root / "run", "--cores", "2", "--configfile", str(config), snakefile=snakefile)
    return root, snakefile, config


def _plan_after_edit(cloned, module: str, text: str = "", edit=None) -> dict[str, int]:
    """The dry-run plan after appending ``text`` to a module of the clone (or applying ``edit`` to its text)."""
    root, snakefile, config = cloned
    path = root / "workflow" / module
    original = path.read_text()
    changed = edit(original) if edit else original + text
    assert changed != original
    path.write_text(changed)
    try:
        return planned_jobs(snakemake(root / "run", "-n", "--cores", "1", "--configfile", str(config),
                                      snakefile=snakefile))
    finally:
        path.write_text(original)


def test_comments_docstrings_and_formatting_rerun_nothing(cloned):
    """Edits that cannot change an output schedule no job, in the library and in a script."""
    def comment_and_docstring(text):
        return (text.replace('"""', '"""Reworded: ', 1)
                .replace("\ndef ", "\n# a comment\n\n\ndef ", 1))
    assert _plan_after_edit(cloned, "synthcal/gan/losses.py", edit=comment_and_docstring) == {}
    assert _plan_after_edit(cloned, "synthcal/__init__.py", edit=comment_and_docstring) == {}
    assert _plan_after_edit(cloned, "workflow_scripts/quantize.py",
                            edit=lambda t: t.replace("sm = snakemake", "sm = (\n    snakemake\n)", 1)) == {}
    # a script edit that changes what it does reruns its jobs, as a library edit does
    jobs = _plan_after_edit(cloned, "workflow_scripts/evaluate.py", "\nEXTRA = 1\n")
    assert jobs["evaluate_fp32"] == 1 and "quantize" not in jobs


def test_a_drawing_edit_reruns_only_drawing(cloned):
    jobs = _plan_after_edit(cloned, "synthcal/figures.py", "\nGRID_BACKGROUND = 'white'  # a cosmetic edit\n")
    # the jobs that draw a figure, and no model, GAN or quantization job
    assert jobs == {"sample_grid": 3, "training_figures": 1, "report_tables": 1, "report_predictors": 1,
                    "table_data_matters": 1, "all": 1}


def test_a_quantization_edit_reruns_quantization_and_what_reads_it(cloned):
    jobs = _plan_after_edit(cloned, "synthcal/quantize.py", "\nDEFAULT_BATCH = 1\n")
    assert jobs == {"channel_alignment": 1, "quantize": 3, "evaluate_int8": 3, "throughput": 1, **TABLES}


def test_an_evaluation_edit_reruns_evaluation_not_quantization(cloned):
    jobs = _plan_after_edit(cloned, "synthcal/evaluate.py", "\nEVALUATION_NOTE = 1\n")
    assert jobs == {"evaluate_fp32": 1, "evaluate_int8": 3, "label_agreement": 3, "teacher_gate": 1, **TABLES}


def test_a_logging_edit_reruns_nothing(cloned):
    assert _plan_after_edit(cloned, "synthcal/logs.py", "\nLOG_NOTE = 1\n") == {}


def test_an_architecture_edit_reruns_the_models_built_on_it_and_nothing_else(cloned):
    """A job's identity holds the architecture module its model builds, and no other: no model of the clone is a
    MobileNetV2, and the GAN chain builds no classifier."""
    assert _plan_after_edit(cloned, "synthcal/models/mobilenetv2.py", "\nEXTRA_WIDTH = 1\n") == {}
    jobs = _plan_after_edit(cloned, "synthcal/models/resnet.py", "\nEXTRA_WIDTH = 1\n")  # tiny_aka's architecture
    assert jobs == {"convert_model": 1, "channel_alignment": 1, "quantize": 3, "evaluate_fp32": 1, "evaluate_int8": 3,
                    "label_agreement": 3, "teacher_gate": 1, "throughput": 1, **TABLES}


def test_a_version_change_is_reported_and_reruns_only_where_the_config_says(cloned):
    root, snakefile, config = cloned
    recorded = root / "run" / "results" / "versions.json"
    versions = json.loads(recorded.read_text())  # the run recorded what it finished with
    assert set(versions) == {"torch", "nncf", "openvino", "numpy"}
    recorded.write_text(json.dumps({**versions, "nncf": "0.0.1"}))
    try:
        proc = snakemake(root / "run", "-n", "--cores", "1", "--configfile", str(config), snakefile=snakefile)
        assert f"nncf 0.0.1 -> {versions['nncf']}" in out(proc) and planned_jobs(proc) == {}  # warn: kept
        rerun = write_config(root / "rerun.yaml", {**yaml.safe_load(config.read_text()),
                                                   "versions": {"on_change": "rerun"}})
        jobs = planned_jobs(snakemake(root / "run", "-n", "--cores", "1", "--configfile", str(rerun),
                                      snakefile=snakefile))
        assert jobs["distylegan_train"] == 1 and jobs["quantize"] == 3 and jobs["convert_model"] == 1
    finally:
        recorded.write_text(json.dumps(versions))


def test_settings_of_inactive_providers_rerun_nothing(project):
    """The tiny project's teacher is a TorchScript file: the other providers' keys are not its inputs."""
    changed = tiny_config(project)
    changed["teacher"]["stylegan2_ada"] = {"truncation_psi": 0.7, "repo": "elsewhere"}
    changed["teacher"]["trained"] = {"epochs": 99, "ngf": 64}
    jobs = planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile",
                                  str(write_config(project / "inactive.yaml", changed))))
    assert jobs == {}
    torchscript = tiny_config(project, **{"teacher.torchscript.z_dim": 16, "teacher.latent": "gaussian"})
    jobs = planned_jobs(snakemake(project, "-n", "--cores", "1", "--configfile",
                                  str(write_config(project / "active.yaml", torchscript))))
    assert jobs["teacher_dump"] == 1 and jobs["distylegan_train"] == 1  # the active provider's keys do count


def test_a_checksum_for_a_folder_is_refused_naming_the_key(tmp_path, project):
    folder = write_image_tree(tmp_path / "tree", n_train=1, n_test=1)
    config = tiny_config(project, **{"data.cifar10.local_path": str(folder), "data.cifar10.checksum": "md5:" + "0" * 32})
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--configfile", str(write_config(tmp_path / "c.yaml", config)),
                     check=False)
    assert proc.returncode != 0
    assert "config key 'data.cifar10.checksum' needs a file" in out(proc) and "is a folder" in out(proc)


def test_filtered_source_and_calibration_size_sweep(project_aa):
    res = project_aa / "results"
    # the real-image control of the energy filter: 6 pool images per class scored by tiny_aka, the best 3 kept
    manifest = json.loads((res / "calibration/cifar10_energy/tiny_aka/manifest.json").read_text())
    assert manifest["filter"] == "energy" and manifest["pool_size"] == 60 and manifest["count"] == 30
    # the lowest energies of each class were kept: the pool's lowest is among them, and the kept mean is lower
    # (equal shares per class, each kept subset no higher on average than its class's pool)
    kept, pool = manifest["scores_kept"], manifest["scores_pool"]
    assert kept["min"] == pytest.approx(pool["min"]) and kept["mean"] < pool["mean"] and kept["n"] == 30
    assert len(manifest["kept_pool_indices"]) == 30
    assert json.loads((res / "calibration/cifar10_energy.r1/tiny_aka/manifest.json").read_text())["seed"] == 4
    # the sweep: 1 and 2 images per class of every source, two repeats each, nested in the folder
    table = pd.read_csv(res / "tables/calibration_size.csv")
    assert sorted(zip(table.source, table.images_per_class)) == sorted(
        (s, k) for s in ("cifar10", "noise", "cifar10_energy") for k in (1, 2))
    assert (table.repeats == 2).all() and table.below_nncf_default_subset.all()
    default = pd.read_csv(res / "tables/default_quantization.csv").set_index("source")
    for row in table.itertuples():
        assert row.full_drop_points == pytest.approx(default.loc[row.source, "drop_points"], abs=1e-3)
        runs = [json.loads((res / f"evaluation/tiny_aka/size/{row.images_per_class}/{row.source}{r}.json")
                           .read_text())["accuracy"] for r in ("", ".r1")]
        assert row.int8_accuracy == pytest.approx(100 * np.mean(runs), abs=1e-3)
    quantized = json.loads((res / "quantized/size/2/noise.r1/tiny_aka/quantization.json").read_text())
    assert quantized["n_calibration"] == 20 and quantized["images_used"] == 20
    assert (res / "figures/drop_vs_calibration_size.png").stat().st_size > 10_000


def test_a_loss_edit_retrains_from_scratch_and_a_comment_does_not(project, tmp_path):
    """After DiStyleGAN was trained, a change of what a loss returns reruns the training, which ignores the old
    code's checkpoints (the log says why), trains from epoch 1 and releases other weights; the teacher dump, which
    does not run the losses, is kept."""
    snakefile = clone_workflow(tmp_path / "workflow")
    config = write_config(tmp_path / "c.yaml", tiny_config(project, **{
        "experiment.models": ["tiny_aka"], "experiment.sources": ["distylegan"]}))
    run = tmp_path / "run"
    snakemake(run, "--cores", "2", "--configfile", str(config), snakefile=snakefile)
    before = load_released(run / "results/distylegan").state_dict()
    losses = tmp_path / "workflow/synthcal/gan/losses.py"
    text = losses.read_text()
    losses.write_text(text.replace("return F.relu(1.0 - logits).mean()", "return F.relu(1.0 - logits).mean() * 2.0", 1))
    jobs = planned_jobs(snakemake(run, "-n", "--cores", "1", "--configfile", str(config), snakefile=snakefile))
    assert jobs["distylegan_train"] == 1 and "teacher_dump" not in jobs and "prepare_cifar10" not in jobs
    snakemake(run, "--cores", "2", "--configfile", str(config), snakefile=snakefile)
    summary = json.loads((run / "results/distylegan/training.json").read_text())
    assert summary["resumed_after_epoch"] is None
    log = (run / "results/logs/distylegan_train.log").read_text()
    assert "code of synthcal/gan/losses.py changed" in log and "training from epoch 1" in log
    after = load_released(run / "results/distylegan").state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_a_users_model_in_every_form_gives_the_same_numbers(project, tmp_path):
    """The tiny project's ResNet-20 weights as an ONNX file, an OpenVINO IR, a torch.export program and a Python
    factory with a checkpoint: the FP32 accuracy and the INT8 results equal the built-in path's; BN inversion runs
    for the PyTorch forms with the built-in's result and is left out for ONNX and IR, the table saying why."""
    pytest.importorskip("onnx", reason="torch.onnx.export needs the onnx package")
    from synthcal.convert import convert
    from synthcal.models import build, load_weights

    from helpers import export_onnx, export_program, write_factory

    weights = project / "w_zoo.pt"
    model = load_weights(build("resnet20"), weights)
    convert("resnet20", weights, tmp_path / "ir" / "zoo.xml")
    folder = write_factory(tmp_path / "src", """
        from synthcal.models import build

        def resnet():
            return build("resnet20")
    """, name="tiny_user_nets")
    config = tiny_config(project, **{"experiment.sources": ["cifar10", "noise", "bn_inversion"],
                                     "experiment.models": ["tiny_zoo", "as_onnx", "as_ir", "as_pt2", "as_python"]})
    norm = config["models"]["tiny_zoo"]["normalization"]
    config["models"].update({
        "as_onnx": {"format": "onnx", "weights": {"path": str(export_onnx(model, tmp_path / "zoo.onnx"))},
                    "normalization": norm},
        "as_ir": {"format": "openvino", "weights": {"path": str(tmp_path / "ir" / "zoo.xml")}, "normalization": norm},
        "as_pt2": {"format": "export", "weights": {"path": str(export_program(model, tmp_path / "zoo.pt2"))},
                   "normalization": norm},
        "as_python": {"format": "python", "factory": "tiny_user_nets:resnet", "python_path": folder,
                      "weights": {"path": str(weights)}, "normalization": norm},
    })
    snakemake(tmp_path / "run", "--cores", "2", "--configfile", str(write_config(tmp_path / "c.yaml", config)))
    table = pd.read_csv(tmp_path / "run/results/tables/default_quantization.csv").set_index(["model", "source"])
    reference = table.loc["tiny_zoo"]
    for form in ("as_onnx", "as_ir", "as_pt2", "as_python"):
        rows = table.loc[form]
        for source in ("cifar10", "noise"):
            assert rows.loc[source, "fp32_accuracy"] == reference.loc[source, "fp32_accuracy"], form
            assert rows.loc[source, "int8_accuracy"] == reference.loc[source, "int8_accuracy"], (form, source)
    for form in ("as_pt2", "as_python"):
        assert table.loc[(form, "bn_inversion"), "int8_accuracy"] == reference.loc["bn_inversion", "int8_accuracy"]
    # the INT8 models compute the same function: the same predictions on every test image, the same logits but for
    # float rounding (OpenVINO's ONNX frontend builds a slightly different graph, so its ranges round differently)
    from synthcal.data import load_split
    from synthcal.evaluate import predict
    from synthcal.ir import compile_f32

    test = load_split(tmp_path / "run/results/data/cifar10/test.npz")
    mean, std = (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)
    logits = {m: predict(compile_f32(tmp_path / f"run/results/quantized/default/cifar10/{m}/int8.xml"), test.images,
                         mean, std) for m in ("tiny_zoo", "as_onnx", "as_ir", "as_pt2", "as_python")}
    for form, values in logits.items():
        assert (values.argmax(1) == logits["tiny_zoo"].argmax(1)).all(), form
        assert np.abs(values - logits["tiny_zoo"]).max() < (0.05 if form == "as_onnx" else 1e-5), form
    assert set(table.arch) >= {"resnet20", "onnx", "openvino", "export", "python tiny_user_nets:resnet"}
    for form, kind in (("as_onnx", "onnx"), ("as_ir", "openvino")):
        row = table.loc[(form, "bn_inversion")]
        assert np.isnan(row.int8_accuracy) and row.note.startswith("left out: bn_inversion needs a PyTorch model")
        assert f"is an {kind} model" in row.note
    paper = pd.read_csv(tmp_path / "run/results/tables/table1a.csv", index_col="source")
    assert np.isnan(paper.loc["bn_inversion", "as_onnx"]) and not np.isnan(paper.loc["bn_inversion", "as_pt2"])
    conversions = {m: json.loads((tmp_path / f"run/results/models/{m}/conversion.json").read_text())
                   for m in ("as_onnx", "as_pt2", "as_python")}
    assert conversions["as_onnx"]["max_abs_diff_ir"] is None and conversions["as_pt2"]["max_abs_diff_ir"] < 1e-4
    assert conversions["as_onnx"]["weights_sha256"].startswith("sha256:")  # a local file, recorded by sha256
