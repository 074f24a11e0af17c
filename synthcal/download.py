"""Downloads with checksum verification, a progress bar and an actionable offline error."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from synthcal.io import atomic_path, verify_checksum


class DownloadError(RuntimeError):
    """A download failed; the message says which config key takes a local copy instead."""


def download(url: str, dest: str | Path, checksum: str | None, config_key: str, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` and verify ``checksum`` (``md5:``/``sha256:``, prefixes allowed).

    The file appears at ``dest`` only once it is complete and verified.

    Args:
        config_key: the config key a user sets to a local copy instead (named in the error message).

    Raises:
        DownloadError: the server cannot be reached (offline) or answers with an error.
        synthcal.io.ChecksumError: the downloaded bytes do not match ``checksum``.
    """
    dest = Path(dest)
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                    while block := response.read(1 << 20):
                        out.write(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise DownloadError(
                f"cannot download {url}: {exc}. If this machine is offline, put a local copy on disk and set "
                f"the config key '{config_key}' to its path.") from exc
        verify_checksum(tmp, checksum, what=f"downloaded from {url}")
    return dest


def copy_verified(src: str | Path, dest: str | Path, checksum: str | None) -> Path:
    """Copy a local file to ``dest`` after verifying ``checksum``; atomic like :func:`download`."""
    verify_checksum(src, checksum)
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    return Path(dest)
