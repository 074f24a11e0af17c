"""The experiment plan (synthcal.planning) from configurations alone: grids, paths, settings, targets, downloads."""

from __future__ import annotations

import copy

import pytest
import yaml

from synthcal.config import load_config, validate_config
from synthcal.costs import gan_training_minutes, measured
from synthcal.planning import Plan
from synthcal.planning.teacher import gpus
from synthcal.settings import (
    BNInversionSettings,
    DistillationSettings,
    GanTraining,
    NoiseSettings,
    from_params,
    to_params,
)

from helpers import REPO


@pytest.fixture(scope="module")
def paper() -> Plan:
    return Plan(load_config(REPO / "config.yaml"))


RAW = yaml.safe_load((REPO / "config.yaml").read_text())


def _plan(**overrides) -> Plan:
    """The plan of config.yaml with ``overrides`` (dotted keys), validated as the workflow validates it."""
    config = copy.deepcopy(RAW)
    for key, value in overrides.items():
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return Plan(validate_config(config))


def test_the_paper_grid(paper):
    quantization = paper.quantization
    assert len(quantization.pairs("default")) == 6 * 6 and quantization.variant_models("accuracy_aware") == [
        "shufflenetv2_x2_0", "repvgg_a2", "repvgg_a2_fused"]
    aa = quantization.pairs("accuracy_aware")
    assert aa[0] == ("shufflenetv2_x2_0", "cifar10") and len(aa) == 18
    assert paper.quantization.active() == ["default", "accuracy_aware"] and paper.grid.reps == [""]
    # the fused RepVGG shares its multi-branch twin's per-model folders, and is paired with it
    twin = paper.grid.multi_branch_twin
    assert twin("repvgg_a2_fused") == "repvgg_a2" and twin("resnet20") == "resnet20"
    assert paper.grid.calibration_folder("repvgg_a2_fused", "bn_inversion") == "results/calibration/bn_inversion/repvgg_a2"
    assert paper.grid.calibration_folder("repvgg_a2_fused", "fractal", ".r2") == "results/calibration/fractal.r2"
    assert paper.grid.fusion_pairs() == [("repvgg_a2", "repvgg_a2_fused")]
    assert paper.grid.per_model_sets("bn_inversion") == [f"bn_inversion/{m}" for m in paper.grid.models[:5]]
    assert paper.grid.calibration_sets()[:5] == ["cifar10", "stylegan2_ada", "distylegan", "fractal", "noise"]
    assert paper.grid.set_folder("bn_inversion/resnet20") == "results/calibration/bn_inversion/resnet20"


def test_repeats_and_seeds():
    plan = _plan(repeats=3)
    assert plan.grid.reps == ["", ".r1", ".r2"] and [plan.grid.rep_seed(r) for r in plan.grid.reps] == [42, 43, 44]
    inputs = plan.evaluation.records("default")
    assert len(inputs["int8"]) == len(inputs["quantization"]) == 36 * 3 and len(inputs["fp32"]) == 6
    assert "results/quantized/default/noise.r2/resnet20/quantization.json" in inputs["quantization"]


def test_generators_and_trainings_follow_the_sources():
    assert list(_plan().training_runs()) == ["distylegan"]
    only_real = _plan(**{"experiment.sources": ["cifar10", "noise"]})
    assert list(only_real.training_runs()) == [] and only_real.grid.generators_used() == {"teacher": False, "distylegan": False}
    trained = _plan(**{"teacher.provider": "trained", "teacher.name": "cgan", "experiment.sources": ["cgan_energy"]})
    assert list(trained.training_runs()) == ["teacher/trained"] and trained.grid.generators_used()["teacher"]
    assert trained.grid.is_per_model("cgan_energy")
    assert trained.calibration.filter_pool("cgan") == ("dump", "results/teacher/dump")
    pretrained = _plan(**{"distylegan.pretrained": "released", "experiment.sources": ["distylegan"]})
    assert list(pretrained.training_runs()) == [] and pretrained.grid.generators_used() == {"teacher": False, "distylegan": True}
    assert pretrained.distillation.files()["generator"] == "released/generator.pt"
    assert pretrained.calibration.filter_pool("distylegan") == ("generator", "released/generator.pt")
    assert _plan().calibration.filter_pool("cifar10") == ("images", "results/data/cifar10/train.npz")


def test_settings_come_from_the_config_and_round_trip_through_rule_parameters(paper):
    gan = _plan(**{"teacher.provider": "trained"}).teacher.settings()
    distill = paper.distillation.settings()
    assert gan.mode == "gan" and gan.objective.discriminator == "projection" and gan.loop.epochs == 30
    assert isinstance(distill.objective, DistillationSettings) and distill.objective.gstep == 10
    assert distill.loop.epochs == 150 and distill.loop.seed == 42 and distill.generator.z_dim == 512
    for settings in (gan, distill):
        params = to_params(settings)
        assert params["mode"] == settings.mode and from_params(GanTraining, params) == settings
    default = paper.quantization.default_settings()
    assert default.subset_size is None and default.range_estimator == "pot"  # pot: every image, its range estimator
    assert default.channel_alignment is True and default.batch_size == 100
    assert paper.calibration.bn_inversion() == BNInversionSettings(100, 0.2, 50, 0.0)
    assert paper.calibration.noise() == NoiseSettings("uniform", None)  # the std only when Gaussian
    assert _plan(**{"noise.distribution": "gaussian"}).calibration.noise().std == 64.0
    assert set(paper.calibration.settings_of("fractal")) == {"points", "chains", "fill_rate", "colorizer_dir"}
    assert paper.reports.statistics().seed == 42 and _plan(**{"statistics.seed": 7}).reports.statistics().seed == 7


def test_quantization_variants_share_one_definition(paper):
    default, aa = paper.quantization.job("default", "cifar10"), paper.quantization.job("accuracy_aware", "cifar10")
    size = paper.quantization.job("size/5", "cifar10")
    assert default["algorithm"] == size["algorithm"] == "default" and aa["algorithm"] == "accuracy_aware"
    assert aa["settings"] == default["settings"] and aa["aa_settings"]["max_drop"] == 0.02
    assert size["per_class"] == 5 and size["settings"]["subset_size"] is None and default["per_class"] is None
    assert paper.quantization.record("resnet20", "size/5", "noise", ".r1") == {
        "arch": "resnet20", "precision": "int8", "algorithm": "default", "source": "noise", "repeat": 1,
        "images_per_class": 5}
    inputs = paper.quantization.inputs("repvgg_a2_fused", "accuracy_aware", "bn_inversion", "")
    assert inputs["calibration"] == "results/calibration/bn_inversion/repvgg_a2"
    assert inputs["alignment"] == "results/models/repvgg_a2_fused/channel_alignment.json" and "holdout" not in inputs
    holdout = _plan(**{"quantization.accuracy_aware.validation": "holdout"})
    assert "holdout" in holdout.quantization.inputs("resnet20", "accuracy_aware", "cifar10", "")
    assert "holdout" not in holdout.quantization.inputs("resnet20", "default", "cifar10", "")
    nncf = _plan(**{"quantization.protocol": "nncf"})
    assert "alignment" not in nncf.quantization.inputs("resnet20", "default", "cifar10", "")  # no alignment, no verdict
    assert paper.quantization.resources("accuracy_aware")["runtime"] > paper.quantization.resources("default")["runtime"]


def test_quality_sets_never_share_a_split(paper):
    reference, real = paper.reports.quality_set("reference"), paper.reports.quality_set("cifar10")
    assert reference.source == "results/data/cifar10/test.npz" and real.source == "results/data/cifar10/train.npz"
    assert paper.reports.quality_images("reference") == 10000 and paper.reports.quality_images("cifar10") == 50000
    assert paper.reports.quality_set("fractal").kind == "fractal" and paper.reports.quality_set("fractal").source is None
    assert paper.reports.quality_set("distylegan").source == "results/distylegan/generator.pt"
    assert paper.reports.quality_set("bn_inversion/resnet20").source == "results/calibration/bn_inversion/resnet20"
    assert paper.reports.quality_inputs("fractal") == {"extractor": "results/models/inception/extractor.xml"}
    torch_backend = _plan(**{"quality.backend": "torch"})
    assert torch_backend.reports.quality_network() == {
        "inception": "resources/inception/weights-inception-2015-12-05-6726825d.pth"}


def test_downloads_are_what_the_config_has_no_local_copy_of(paper):
    downloads = paper.data.downloads()
    assert len([p for p in downloads if p.startswith("resources/weights/")]) == 5  # repvgg_a2 twins: one file
    cifar = downloads["resources/downloads/cifar-10-python.tar.gz"]
    assert cifar.checksum == "md5:c58f30108f718f92721af3b95e74349a" and cifar.keys["local"] == "data.cifar10.local_path"
    weights = downloads["resources/weights/cifar10_resnet20-4118986f.pt"]
    assert weights.checksum == "sha256:4118986f" and weights.keys["url"] == "models.resnet20.weights.url"
    assert "resources/teacher/cifar10.pkl" in downloads
    assert paper.data.download("resources/teacher/cifar10.pkl")["keys"]["local"] == "teacher.stylegan2_ada.pickle.path"
    local = _plan(**{"data.cifar10.local_path": "x.tar.gz", "quality.enabled": False,
                     "experiment.sources": ["cifar10"], "teacher.provider": "dump", "teacher.dump.path": "d"})
    assert all(p.startswith("resources/weights/") for p in local.data.downloads())
    assert r"weights/cifar10_resnet20\-4118986f\.pt" in paper.data.download_pattern()


def test_targets(paper):
    targets = paper.final_targets()
    for path in ("results/tables/table1a.csv", "results/tables/table1b.csv", "results/teacher/gate.json",
                 "results/tables/table2.csv", "results/tables/repvgg_fusion.csv", "results/distylegan/samples.png",
                 "results/figures/samples/bn_inversion/repvgg_a2.png"):
        assert path in targets, path
    assert "results/figures/samples/bn_inversion/repvgg_a2_fused.png" not in targets  # the twin's folder, once
    small = _plan(**{"experiment.sources": ["cifar10"], "experiment.algorithms": ["default"],
                     "experiment.models": ["resnet20"], "quality.enabled": False,
                     "experiment.calibration_sizes": [1, 5]})
    assert small.final_targets() == [
        "results/tables/default_quantization.csv", "results/tables/table1a.csv", "results/tables/throughput.csv",
        "results/reports/label_agreement.csv", "results/figures/accuracy_drop.png",
        "results/figures/per_class_drop.png", "results/tables/drop_predictors.csv",
        "results/figures/drop_predictors.png", "results/tables/where_data_matters.csv",
        "results/figures/where_data_matters.png",
        "results/tables/calibration_size.csv", "results/figures/drop_vs_calibration_size.png",
        "results/figures/samples/cifar10.png"]
    assert small.evaluation.size_sweep() == ["results/evaluation/resnet20/size/1/cifar10.json",
                                         "results/evaluation/resnet20/size/5/cifar10.json"]


def test_resources():
    assert gpus("cuda:1") == 1 and gpus("auto") == 0 and gpus("cpu") == 0
    # the wall-time limit of a GAN training comes from the measured rate in synthcal/costs.yaml
    rate = measured()["gan_training_images_per_s"]["distylegan"]["cpu"]["256x128x128"]
    assert _plan().distillation.resources()["runtime"] == int(60 + 1.5 * 150 * 50000 / rate / 60)
    assert gan_training_minutes("distylegan", "cpu", 128, 128, 128, 50000, 150) == int(
        60 + 1.5 * 150 * 50000 / (rate * 4) / 60)  # half the width: four times the rate
    plan = _plan(**{"distylegan.device": "cuda"})
    assert plan.distillation.resources()["gpu"] == 1 and plan.distillation.resources()["mem_mb"] == 12000
    assert plan.distillation.resources()["runtime"] == 60 + 2 * 24 * 60  # not measured on a GPU: a day per 100
    assert _plan().reports.quality_resources()["mem_mb"] == 4000 + 50000 // 10


def test_sources_that_need_pytorch_batchnorm_are_left_out_for_onnx_and_ir_models_with_the_reason():
    plan = _plan(**{"experiment.models": ["resnet20", "mine"], "experiment.algorithms": ["default"],
                    "experiment.sources": ["cifar10", "bn_inversion", "cifar10_bn_distance", "cifar10_energy"],
                    "models.mine": {"format": "onnx", "weights": {"path": "mine.onnx"}}})
    assert plan.grid.left_out("mine", "bn_inversion").startswith("left out: bn_inversion needs a PyTorch model")
    assert plan.grid.left_out("mine", "cifar10_bn_distance") and not plan.grid.left_out("mine", "cifar10_energy")
    assert not plan.grid.left_out("resnet20", "bn_inversion")
    pairs = plan.quantization.pairs("default")
    assert ("mine", "bn_inversion") not in pairs and ("mine", "cifar10_energy") in pairs
    assert [r["source"] for r in plan.quantization.left_out_rows("default")] == ["bn_inversion", "cifar10_bn_distance"]
    assert plan.grid.per_model_sets("bn_inversion") == ["bn_inversion/resnet20"]  # no folder, no grid, no quality set
    assert plan.grid.model_sources("mine") == ["cifar10", "cifar10_energy"]
    assert ("mine", "bn_inversion") not in plan.grid.pairs()
    # an ONNX model is scored from its IR; a PyTorch model from its file
    assert plan.calibration.filter_inputs("mine", "cifar10") == {"pool": "results/data/cifar10/train.npz",
                                                     "fp32": "results/models/mine/fp32.xml"}
    assert plan.calibration.filter_inputs("resnet20", "cifar10")["weights"].startswith("resources/weights/")


def test_model_forms_and_their_files():
    plan = _plan(**{"experiment.models": ["ir", "py"], "experiment.algorithms": ["default"],
                    "models.ir": {"format": "openvino", "weights": {"path": "m.xml"}},
                    "models.py": {"format": "python", "factory": "nets:small", "python_path": "src"}})
    assert plan.models.files("ir") == {"weights": "m.xml", "weights_bin": "m.bin"}
    assert plan.models.files("py") == {} and plan.models.weights_file("py") is None
    assert plan.models.classifier("py") == {"format": "python", "arch": None, "factory": "nets:small",
                                            "python_path": "src", "fuse": False, "name": "models.py"}
    assert plan.models.code("ir") == {}
