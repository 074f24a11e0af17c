"""Small file utilities: checksums, atomic writes and atomic directories.

Every output of the workflow is written to a temporary name next to its destination and renamed into place only
when complete, so an interrupted or failed step never leaves a file or folder that looks finished.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ChecksumError(ValueError):
    """A file's digest differs from the expected one."""


def file_digest(path: str | Path, algorithm: str = "sha256", chunk: int = 1 << 20) -> str:
    """Hex digest of a file (``md5``, ``sha256``, ...)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def parse_checksum(spec: str) -> tuple[str, str]:
    """Split ``"md5:<hex>"`` / ``"sha256:<hex>"`` into (algorithm, hex). A bare hex string means sha256.

    A sha256 *prefix* (at least 8 hex digits, as in torch.hub file names like ``resnet20-4118986f.pt``) is allowed.
    """
    algo, _, value = spec.partition(":") if ":" in spec else ("sha256", "", spec)
    algo, value = algo.strip().lower(), value.strip().lower()
    if algo not in {"md5", "sha1", "sha256"}:
        raise ValueError(f"unsupported checksum algorithm {algo!r} in {spec!r}; use md5:, sha1: or sha256:")
    if len(value) < 8 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"checksum {spec!r} is not a hex digest (or a prefix of at least 8 hex digits)")
    return algo, value


def verify_checksum(path: str | Path, spec: str | None, what: str = "") -> str | None:
    """Check ``path`` against ``spec`` (see :func:`parse_checksum`); returns the full digest, or None if no spec.

    Raises:
        ChecksumError: naming the file, the expected and the actual digest.
    """
    if not spec:
        return None
    algo, expected = parse_checksum(spec)
    actual = file_digest(path, algo)
    if not actual.startswith(expected):
        label = f" ({what})" if what else ""
        raise ChecksumError(
            f"checksum mismatch for {path}{label}: expected {algo} {expected}, got {actual}. "
            "The file is corrupt, incomplete or a different version; delete it and download again, "
            "or correct the checksum in the config.")
    return f"{algo}:{actual}"


def check_checksum_target(source: str | Path, checksum: str | None) -> None:
    """A checksum verifies one file's bytes: refuse one given for a folder.

    Raises:
        ChecksumError: ``checksum`` is set and ``source`` is a folder.
    """
    if checksum and Path(source).is_dir():
        raise ChecksumError(f"needs a file, but {source} is a folder: a checksum verifies one file's bytes. Point "
                            "local_path at the archive, or set the checksum to null")


@contextlib.contextmanager
def atomic_path(dest: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it to ``dest`` on success, delete it on error.

    Works for files and directories (the caller creates what it needs at the yielded path).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    target = tmp / (dest.name + suffix)
    try:
        yield target
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)
        os.replace(target, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_csv(frame: Any, path: str | Path, index: bool = False, decimals: int = 4) -> None:
    """Write a pandas DataFrame as CSV atomically, rounding floats to ``decimals``."""
    with atomic_path(path) as tmp:
        frame.round(decimals).to_csv(tmp, index=index)


def write_json(path: str | Path, payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text())


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
