import hashlib

import numpy as np
import pytest

from synthcal.calibration import CalibrationError, calibration_order, load_calibration_folder, select_balanced
from synthcal.data import DataFormatError, Split, save_split
from synthcal.sources.cifar10 import cifar10_calibration_folder

from helpers import random_images


@pytest.fixture
def train_npz(tmp_path):
    labels = np.repeat(np.arange(10), 12)
    path = tmp_path / "train.npz"
    save_split(path, Split(random_images(120, 3), labels))
    return path


def _tree_digest(root):
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.png")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_selection_is_balanced_seeded_and_without_replacement():
    labels = np.repeat(np.arange(10), 50)
    a = select_balanced(labels, 7, seed=1)
    assert len(a) == 70 and len(set(a.tolist())) == 70
    assert np.all(np.bincount(labels[a], minlength=10) == 7)
    assert np.array_equal(a, select_balanced(labels, 7, seed=1))
    assert not np.array_equal(a, select_balanced(labels, 7, seed=2))
    with pytest.raises(CalibrationError, match="fewer than n_per_class=51"):
        select_balanced(labels, 51, seed=1)


def test_folder_is_deterministic_lossless_and_has_a_manifest(tmp_path, train_npz):
    m1 = cifar10_calibration_folder(train_npz, tmp_path / "a", n_per_class=5, seed=0)
    cifar10_calibration_folder(train_npz, tmp_path / "b", n_per_class=5, seed=0)
    cifar10_calibration_folder(train_npz, tmp_path / "c", n_per_class=5, seed=1)
    assert _tree_digest(tmp_path / "a") == _tree_digest(tmp_path / "b")  # same seed, same bytes
    assert _tree_digest(tmp_path / "a") != _tree_digest(tmp_path / "c")
    assert m1["count"] == 50 and m1["seed"] == 0 and m1["source"] == "cifar10"
    assert sorted(p.name for p in (tmp_path / "a").iterdir())[:2] == ["airplane", "automobile"]
    assert len(list((tmp_path / "a" / "cat").glob("*.png"))) == 5
    split, manifest = load_calibration_folder(tmp_path / "a")
    assert manifest == m1
    # lossless: the PNGs hold exactly the chosen training images
    from synthcal.data import load_split

    train = load_split(train_npz)
    np.testing.assert_array_equal(split.images, train.images[m1["train_indices"]])
    np.testing.assert_array_equal(split.labels, train.labels[m1["train_indices"]])
    assert not list(tmp_path.glob(".*partial"))  # no temporary folders left behind


def test_tampered_or_corrupt_folder_is_rejected(tmp_path, train_npz):
    root = tmp_path / "cal"
    cifar10_calibration_folder(train_npz, root, n_per_class=3, seed=0)
    (root / "dog" / "0000.png").unlink()
    with pytest.raises(CalibrationError, match="holds 29 images but its manifest says 30"):
        load_calibration_folder(root)
    (root / "dog" / "0001.png").write_bytes(b"garbage")
    with pytest.raises(DataFormatError, match=r"dog/0001\.png"):
        load_calibration_folder(root)


def test_calibration_order_interleaves_classes():
    labels = np.repeat(np.arange(10), 500)  # class-sorted, like a folder
    order = calibration_order(len(labels), seed=42, subset_size=300)
    assert len(order) == 300 and len(set(order.tolist())) == 300
    assert len(np.unique(labels[order])) == 10  # not 300 airplanes
    assert np.array_equal(order, calibration_order(len(labels), seed=42, subset_size=300))
    assert np.array_equal(order, calibration_order(len(labels), seed=42)[:300])  # subset = head of the shuffle
    assert len(calibration_order(50, seed=0, subset_size=5000)) == 50
