import hashlib

import numpy as np
import pytest

from synthcal.schema import default_settings
from synthcal.seeding import rng
from synthcal.settings import FractalSettings
from synthcal.sources.fractal import (
    FractalParameters,
    chaos_game,
    fill_rate,
    generate_fractals,
    grouping,
    map_probabilities,
    occupancy,
    random_system,
    render_patches,
    search_system,
    weight_variants,
)

FAST = FractalParameters.of(default_settings(FractalSettings, points=4000, chains=200), fill_points=20000, fill_size=128)


def test_random_systems_follow_the_recipe():
    gen = np.random.default_rng(0)
    sizes = set()
    for _ in range(200):
        params, probs = random_system(gen)
        sizes.add(len(params))
        assert params.shape[1] == 6 and np.all(np.abs(params) <= 1.0)
        det = np.abs(params[:, 0] * params[:, 3] - params[:, 1] * params[:, 2])
        assert probs.sum() == pytest.approx(1.0)
        # probabilities proportional to |ad - bc|: ratios agree where the determinant is not tiny
        big = det > 0.05
        if big.sum() >= 2:
            ratio = probs[big] / det[big]
            assert ratio.max() / ratio.min() < 1.01
    assert sizes == {2, 3, 4, 5, 6, 7}


def test_weight_variants():
    w = weight_variants(0.4)
    assert w.shape == (25, 6) and np.array_equal(w[0], np.ones(6))
    changed = (w != 1).sum(axis=1)
    assert changed[0] == 0 and np.all(changed[1:] == 1)  # one slot changed per variant
    assert sorted(set(np.round(w[w != 1], 6))) == [pytest.approx(0.2), pytest.approx(0.6), pytest.approx(1.4),
                                                   pytest.approx(1.8)]


def test_grouping_matches_datumaro():
    assert grouping(5000) == (14, 15)  # 14 systems x 25 variants x 15 instances >= 5000
    categories, instances = grouping(123)
    assert categories * 25 * instances >= 123


def test_chaos_game_on_a_known_attractor():
    # Sierpinski triangle: three maps x -> x/2 + corner/2
    params = np.array([[0.5, 0, 0, 0.5, 0, 0], [0.5, 0, 0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5, 0.25, 0.5]])
    points = chaos_game(params, map_probabilities(params), 30000, np.random.default_rng(1))
    assert len(points) == 30000
    assert points.min() >= -1e-9 and points[:, 0].max() <= 1 + 1e-9 and points[:, 1].max() <= 1 + 1e-9
    # the centre triangle of the Sierpinski gasket is empty
    x, y = points[:, 0], points[:, 1]
    centre = (y > 0.26) & (y < 0.49) & (x > 0.5 - (0.5 - y) / 2 + 0.02) & (x < 0.5 + (0.5 - y) / 2 - 0.02) & (x > 0.27)
    assert centre.sum() == 0
    rate = float(occupancy(points, 128).mean())
    assert 0.15 < rate < 0.5


def test_fill_rate_acceptance():
    contracting_to_a_point = np.array([[0.1, 0, 0, 0.1, 0, 0], [0.1, 0, 0, 0.1, 0.01, 0]])
    gen = np.random.default_rng(0)
    assert fill_rate(contracting_to_a_point, map_probabilities(contracting_to_a_point), gen, FAST) < 0.2
    params, probs, tries = search_system(3, 0, FAST)
    assert tries >= 1 and fill_rate(params, probs, rng(0, "check"), FAST) >= FAST.fill_rate - 0.05
    again = search_system(3, 0, FAST)
    assert np.array_equal(params, again[0])  # seeded


def test_patches_paint_around_points():
    img = render_patches(np.array([[0.0, 0.0], [1.0, 1.0]]), 32, 6, np.random.default_rng(0))
    assert img.dtype == np.uint8 and set(np.unique(img)) <= {0, 127}
    assert img[6 - 1:6 + 2, 6 - 1:6 + 2].any() and img[25 - 1:25 + 2, 25 - 1:25 + 2].any()
    assert img.sum() <= 2 * 9 * 127


def test_generation_is_deterministic_and_independent_of_workers():
    a, report = generate_fractals(30, seed=1, settings=FAST, workers=1, progress=False)
    b, _ = generate_fractals(30, seed=1, settings=FAST, workers=2, progress=False)
    c, _ = generate_fractals(30, seed=2, settings=FAST, workers=1, progress=False)
    assert a.shape == (30, 32, 32, 3) and a.dtype == np.uint8
    assert hashlib.sha256(a.tobytes()).hexdigest() == hashlib.sha256(b.tobytes()).hexdigest()
    assert not np.array_equal(a, c)
    assert report["colorize"] == "random" and report["weight_variants"] == 25
    assert len({img.tobytes() for img in a}) == 30  # all different
    assert a.std() > 10  # coloured, not blank


def test_fractal_calibration_folder_fills_class_folders_in_order(tmp_path):
    from synthcal.calibration import load_calibration_folder
    from synthcal.sources.fractal import fractal_calibration_folder

    settings = FractalParameters.of(default_settings(FractalSettings, points=500, chains=50))
    manifest = fractal_calibration_folder(tmp_path / "fractal", 2, seed=3, settings=settings)
    split, _ = load_calibration_folder(tmp_path / "fractal", progress=False)
    assert manifest["count"] == 20 and list(manifest["class_counts"].values()) == [2] * 10 and manifest["colorize"] == "random"
    images, _ = generate_fractals(20, 3, settings, progress=False)
    assert np.array_equal(split.images[split.labels == 0], images[:2])  # consecutive images fill folder 0 first


def test_caffe_colorizer_needs_its_files(tmp_path):
    from synthcal.sources.fractal import CaffeColorizer

    with pytest.raises(FileNotFoundError, match="colorization_release_v2.caffemodel"):
        CaffeColorizer(tmp_path)
