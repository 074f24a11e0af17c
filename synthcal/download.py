"""Downloads with checksum verification, a progress bar and errors that name the config keys to change."""

from __future__ import annotations

import http.client
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from synthcal.io import ChecksumError, atomic_path, file_digest, parse_checksum


class DownloadError(RuntimeError):
    """A download failed; the message names the config keys that set the URL and that take a local copy instead."""


@dataclass(frozen=True)
class ConfigKeys:
    """The config keys behind a download: where its URL, its checksum and a local copy instead are set."""

    url: str
    checksum: str | None
    local: str


def download(url: str, dest: str | Path, checksum: str | None, keys: ConfigKeys, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` and verify ``checksum`` (``md5:``/``sha256:``, prefixes allowed).

    The file appears at ``dest`` only once it is complete and verified; on any failure nothing is left there, and
    a rerun starts afresh.

    Raises:
        DownloadError: the server cannot be reached (offline), answers with an error, or the connection drops
            before the whole file arrived.
        synthcal.io.ChecksumError: the downloaded bytes do not match ``checksum``.
    """
    dest = Path(dest)
    fix = (f"Check the URL (config key '{keys.url}'), or put a local copy on disk and set the config key "
           f"'{keys.local}' to its path.")
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                received = 0
                with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                    while block := response.read(1 << 20):
                        out.write(block)
                        received += len(block)
                        bar.update(len(block))
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"cannot download {url}: the server answered {exc.code} {exc.reason}. {fix}") from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
            detail = "the connection dropped before the whole file arrived" if isinstance(
                exc, http.client.IncompleteRead) else str(exc)
            raise DownloadError(f"cannot download {url}: {detail}. Rerun to try again; if this machine is offline: "
                                f"{fix}") from exc
        if total is not None and received != total:
            raise DownloadError(f"cannot download {url}: the connection dropped after {received} of {total} bytes. "
                                f"Rerun to try again. {fix}")
        if checksum:
            algorithm, expected = parse_checksum(checksum)
            actual = file_digest(tmp, algorithm)
            if not actual.startswith(expected):
                where = f"the config key '{keys.checksum}'" if keys.checksum else "the checksum"
                raise ChecksumError(
                    f"checksum mismatch for {url}: expected {algorithm} {expected}, got {actual}; nothing was saved. "
                    f"The file there is not the expected one: correct {where} if it changed upstream, or "
                    f"{fix[0].lower()}{fix[1:]}")
    return dest


def fetch_source_archive(url: str, dest: str | Path, keys: ConfigKeys, required: tuple[str, ...] = ()) -> Path:
    """Download a source archive (``.tar.gz``, e.g. a GitHub snapshot of one commit) and unpack it into the folder
    ``dest``, without its top folder; the folder appears only once complete, and must hold ``required``.

    Raises:
        DownloadError: as :func:`download`, or when the archive lacks a required folder or holds paths outside
            itself.
    """
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="synthcal-archive-") as work:
        archive = download(url, Path(work) / "source.tar.gz", None, keys)
        with atomic_path(dest) as tmp, tarfile.open(archive) as tar:
            members = tar.getmembers()
            tops = {Path(m.name).parts[0] for m in members if m.name}
            strip = len(tops) == 1 and all(m.name == next(iter(tops)) or m.name.startswith(next(iter(tops)) + "/")
                                            for m in members)
            tmp.mkdir()
            for member in members:
                name = Path(member.name)
                name = Path(*name.parts[1:]) if strip else name
                if not name.parts or not (member.isfile() or member.isdir()):
                    continue
                if name.is_absolute() or ".." in name.parts:
                    raise DownloadError(f"the archive {url} holds a path outside itself ({member.name}); refused")
                target = tmp / name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            missing = [r for r in required if not (tmp / r).exists()]
            if missing:
                raise DownloadError(f"the archive {url} has no {', '.join(missing)}: it is not the expected source. "
                                    f"Check the config key '{keys.url}', or set '{keys.local}' to a checkout.")
    return dest
