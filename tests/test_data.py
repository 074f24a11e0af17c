import zipfile

import numpy as np
import pytest
from PIL import Image

from synthcal import CIFAR10_CLASSES
from synthcal.data import (
    DataFormatError,
    Split,
    class_index,
    detect_layout,
    load_cifar10,
    load_split,
    prepare_cifar10,
    read_class_folder,
    save_split,
    write_class_folder,
)
from synthcal.io import ChecksumError, file_digest

from helpers import random_images, tar_folder, write_canonical_archive, write_image_tree


def test_canonical_archive_matches_the_pickled_arrays(tmp_path):
    archive, expected = write_canonical_archive(tmp_path / "cifar-10-python.tar.gz", n_per_batch=20)
    copy = load_cifar10(archive)
    assert copy.layout == "canonical" and not copy.lossy
    train, test = copy.splits["train"], copy.splits["test"]
    assert train.images.shape == (100, 32, 32, 3) and test.images.shape == (20, 32, 32, 3)
    # CHW rows of the pickle become HWC images, pixel for pixel, in batch order
    np.testing.assert_array_equal(train.images, expected["train_images"])
    np.testing.assert_array_equal(train.labels, expected["train_labels"])
    np.testing.assert_array_equal(test.images, expected["test_images"])


def test_canonical_extracted_folder(tmp_path):
    import tarfile

    archive, expected = write_canonical_archive(tmp_path / "c.tar.gz", n_per_batch=10)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    copy = load_cifar10(tmp_path / "x")
    assert copy.layout == "canonical"
    np.testing.assert_array_equal(copy.splits["test"].images, expected["test_images"])


def test_canonical_unpickler_refuses_code(tmp_path):
    import io
    import os
    import pickle
    import tarfile

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with tarfile.open(tmp_path / "evil.tar.gz", "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            raw = pickle.dumps({b"data": Evil(), b"labels": []})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    with pytest.raises(DataFormatError, match="refusing to load"):
        load_cifar10(tmp_path / "evil.tar.gz")


@pytest.mark.parametrize("packing", ["folder", "tar.gz", "zip"])
def test_image_tree_in_every_packing(tmp_path, packing):
    tree = write_image_tree(tmp_path / "tree" / "cifar10-png", n_train=3, n_test=2, seed=5)
    if packing == "folder":
        source = tmp_path / "tree"
    elif packing == "tar.gz":
        source = tar_folder(tree, tmp_path / "c.tar.gz", "cifar10-png")
    else:
        source = tmp_path / "c.zip"
        with zipfile.ZipFile(source, "w") as zf:
            for f in sorted(tree.rglob("*.png")):
                zf.write(f, f.relative_to(tmp_path / "tree").as_posix())
    copy = load_cifar10(source)
    assert copy.layout == "image-tree" and not copy.lossy
    train = copy.splits["train"]
    assert train.class_counts() == {c: 3 for c in CIFAR10_CLASSES}
    # PNG is lossless: the bird folder's first image comes back exactly, with label 2
    expected_bird = random_images(3, 5 + 2)[0]
    bird = train.images[train.labels == 2][0]
    np.testing.assert_array_equal(bird, expected_bird)


def test_jpeg_tree_is_flagged_lossy(tmp_path):
    write_image_tree(tmp_path / "t", n_train=1, n_test=1, suffix=".jpg")
    assert load_cifar10(tmp_path / "t").lossy


def test_prepare_writes_npz_and_manifest(tmp_path):
    archive, expected = write_canonical_archive(tmp_path / "c.tar.gz")
    digest = "md5:" + file_digest(archive, "md5")
    manifest = prepare_cifar10(archive, tmp_path / "out/train.npz", tmp_path / "out/test.npz", checksum=digest)
    assert manifest["layout"] == "canonical" and manifest["checksum"] == digest
    assert manifest["train"]["count"] == 100 and manifest["test"]["class_counts"]["truck"] == 2
    test = load_split(tmp_path / "out/test.npz")
    np.testing.assert_array_equal(test.images, expected["test_images"])
    assert test.classes == CIFAR10_CLASSES


def test_checksum_mismatch_writes_nothing(tmp_path):
    archive, _ = write_canonical_archive(tmp_path / "c.tar.gz")
    out = tmp_path / "out"
    with pytest.raises(ChecksumError, match=r"checksum mismatch for .*c\.tar\.gz"):
        prepare_cifar10(archive, out / "train.npz", out / "test.npz", checksum="md5:" + "0" * 32)
    assert not (out / "train.npz").exists() and not (out / "test.npz").exists()


def test_corrupt_image_is_named_and_nothing_is_written(tmp_path):
    tree = write_image_tree(tmp_path / "t", n_train=2, n_test=1)
    bad = tree / "train" / "cat" / "0001.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    out = tmp_path / "out"
    with pytest.raises(DataFormatError, match=r"cannot decode image .*cat/0001\.png"):
        prepare_cifar10(tree, out / "train.npz", out / "test.npz")
    assert not out.exists() or not any(out.iterdir())


def test_wrong_size_and_unknown_class_are_named(tmp_path):
    tree = write_image_tree(tmp_path / "t", n_train=1, n_test=1)
    Image.new("RGB", (64, 64)).save(tree / "test" / "dog" / "0000.png")
    with pytest.raises(DataFormatError, match=r"test/dog/0000\.png in .* is 64x64, expected 32x32"):
        load_cifar10(tree)
    tree2 = write_image_tree(tmp_path / "t2", n_train=1, n_test=1)
    (tree2 / "train" / "cat").rename(tree2 / "train" / "kitten")
    with pytest.raises(DataFormatError, match="'kitten' is not a CIFAR-10 class"):
        load_cifar10(tree2)


def test_unsupported_inputs(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        detect_layout(tmp_path / "missing.tar.gz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match="neither a folder nor"):
        detect_layout(tmp_path / "notes.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="is not a CIFAR-10 copy"):
        detect_layout(tmp_path / "empty")


def test_class_index_accepts_names_and_numbers():
    assert class_index("Airplane") == 0
    assert class_index("class_7") == 7
    assert class_index("9") == 9
    with pytest.raises(DataFormatError):
        class_index("class_10")


def test_split_roundtrip_and_class_folder_roundtrip(tmp_path):
    images = random_images(6, 1)
    split = Split(images, np.array([0, 0, 3, 3, 9, 9]))
    save_split(tmp_path / "s.npz", split)
    back = load_split(tmp_path / "s.npz")
    np.testing.assert_array_equal(back.images, images)
    written = write_class_folder(tmp_path / "folder", split)
    assert written[:3] == ["airplane/0000.png", "airplane/0001.png", "cat/0000.png"]
    read = read_class_folder(tmp_path / "folder")
    np.testing.assert_array_equal(read.images, images)
    np.testing.assert_array_equal(read.labels, split.labels)
