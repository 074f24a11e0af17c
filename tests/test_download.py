import hashlib

import pytest

from synthcal.download import ConfigKeys, DownloadError, download
from synthcal.io import ChecksumError, parse_checksum, verify_checksum

KEYS = ConfigKeys("models.x.weights.url", "models.x.weights.sha256", "models.x.weights.path")


def test_download_verifies_and_places_the_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"weights" * 1000)
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    out = download(src.as_uri(), tmp_path / "dl" / "w.bin", f"md5:{md5}", KEYS)
    assert out.read_bytes() == src.read_bytes()
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    download(src.as_uri(), tmp_path / "dl" / "w2.bin", sha[:8], KEYS)  # torch.hub style prefix


def test_checksum_mismatch_leaves_no_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match="checksum mismatch.*expected md5 0{32}.*'models.x.weights.sha256'"):
        download(src.as_uri(), tmp_path / "dl" / "w.bin", "md5:" + "0" * 32, KEYS)
    assert not (tmp_path / "dl" / "w.bin").exists()
    assert not [p for p in (tmp_path / "dl").iterdir()]  # no partial file either


def test_offline_error_names_the_config_key(tmp_path):
    keys = ConfigKeys("data.cifar10.url", "data.cifar10.md5", "data.cifar10.local_path")
    with pytest.raises(DownloadError, match="set the config key 'data.cifar10.local_path'"):
        download("http://127.0.0.1:9/cifar-10-python.tar.gz", tmp_path / "c.tar.gz", None, keys, timeout=5)
    assert not (tmp_path / "c.tar.gz").exists()


def test_checksum_specs():
    assert parse_checksum("MD5:ABCDEF0123") == ("md5", "abcdef0123")
    assert parse_checksum("4118986f") == ("sha256", "4118986f")
    with pytest.raises(ValueError, match="unsupported checksum algorithm"):
        parse_checksum("crc:12345678")
    with pytest.raises(ValueError, match="not a hex digest"):
        parse_checksum("sha256:xyz")


def test_verify_checksum_without_spec_is_a_no_op(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    assert verify_checksum(tmp_path / "f", None) is None
    assert verify_checksum(tmp_path / "f", "sha256:" + hashlib.sha256(b"x").hexdigest()).startswith("sha256:")
