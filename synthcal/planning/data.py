"""Data: what the run downloads (CIFAR-10, checkpoints, NVIDIA's pickle and code, Inception weights: whatever the
configuration has no local copy of) and where CIFAR-10 comes from.

Rules: ``download``, ``fetch_stylegan2_code``, ``prepare_cifar10`` (``rules/data.smk``), ``holdout_cifar10``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from synthcal.planning import paths
from synthcal.planning.grid import Grid
from synthcal.planning.models import ModelsPlan, file_name


@dataclass(frozen=True)
class Download:
    """A file the workflow downloads: from ``url``, checked against ``checksum`` (``md5:``/``sha256:``/None); ``keys``
    names the config keys of its URL, its checksum and the local copy that replaces it (for error messages)."""

    url: str
    checksum: str | None
    keys: dict[str, str | None]


def _keys(prefix: str) -> dict[str, str | None]:
    return {"url": f"{prefix}.url", "checksum": f"{prefix}.sha256", "local": f"{prefix}.path"}


class DataPlan:
    """The run's inputs from outside (see the module docstring)."""

    def __init__(self, grid: Grid, models: ModelsPlan) -> None:
        self.grid, self.models, self.config = grid, models, grid.config

    def cifar10_source(self) -> str:
        """What ``prepare_cifar10`` reads: the local copy, or the downloaded archive."""
        return self.config["data"]["cifar10"]["local_path"] or paths.CIFAR10_ARCHIVE

    def stylegan2_code_needed(self) -> bool:
        """Whether NVIDIA's code is downloaded (the stylegan2_ada teacher is used and no checkout is named)."""
        teacher = self.config["teacher"]
        return (teacher["provider"] == "stylegan2_ada" and self.grid.generators_used()["teacher"]
                and not teacher["stylegan2_ada"]["repo"])

    def downloads(self) -> dict[str, Download]:
        """Every file the configuration downloads, by destination: CIFAR-10 without a local copy, the checkpoints
        of the models the run uses without a local path, NVIDIA's pickle, torch-fidelity's Inception weights."""
        found: dict[str, Download] = {}
        cifar = self.config["data"]["cifar10"]
        if not cifar["local_path"]:
            found[paths.CIFAR10_ARCHIVE] = Download(
                cifar["url"], f"md5:{cifar['md5']}",
                {"url": "data.cifar10.url", "checksum": "data.cifar10.md5", "local": "data.cifar10.local_path"})
        for name in self.models.used():
            weights = self.grid.model(name)["weights"]
            if not weights["path"] and weights.get("train") is None and weights["url"]:
                found.setdefault(self.models.weights_file(name), Download(
                    weights["url"], f"sha256:{weights['sha256']}" if weights["sha256"] else None,
                    _keys(f"models.{name}.weights")))
        teacher = self.config["teacher"]
        pickle = teacher["stylegan2_ada"]["pickle"]
        if teacher["provider"] == "stylegan2_ada" and not pickle["path"] and self.grid.generators_used()["teacher"]:
            found[self.pickle_file()] = Download(pickle["url"], f"sha256:{pickle['sha256']}" if pickle["sha256"]
                                                 else None, _keys("teacher.stylegan2_ada.pickle"))
        quality = self.config["quality"]
        inception = quality["inception"]
        if quality["enabled"] and inception["url"] and not inception["path"]:
            found[self.inception_download()] = Download(
                inception["url"], f"sha256:{inception['sha256']}" if inception["sha256"] else None,
                _keys("quality.inception"))
        return found

    def pickle_file(self) -> str:
        """NVIDIA's pickle: the local copy or where its URL is downloaded to."""
        pickle = self.config["teacher"]["stylegan2_ada"]["pickle"]
        return pickle["path"] or f"resources/teacher/{file_name(pickle['url'])}"

    def inception_download(self) -> str:
        return f"resources/inception/{file_name(self.config['quality']['inception']['url'])}"

    def download(self, path: str) -> dict[str, Any]:
        """The parameters of one download (url, checksum, keys), by destination."""
        return dataclasses.asdict(self.downloads()[path])

    def download_pattern(self) -> str:
        """A wildcard constraint matching exactly the destinations below ``resources/`` (none: never matches)."""
        return "|".join(re.escape(p.removeprefix("resources/")) for p in self.downloads()) or "(?!)"
