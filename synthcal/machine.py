"""Where a number was computed: the CPU, its instruction-set extensions and the library versions.

INT8 inference on a CPU depends on what the CPU can do: OpenVINO picks other kernels with AVX2 only, with AVX-512
VNNI or AVX-VNNI (8-bit dot products) and with AMX (tile matrix multiply), and their rounding differs, so the same
INT8 IR can score a few test images differently on two machines. Every evaluation records :func:`machine_info`
beside its predictions, and the tables and the README name the machine their numbers came from
(:func:`machine_label`).

Versions are read from the installed packages' metadata, so recording them imports none of the heavy libraries.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

#: Instruction-set extensions that change which INT8/FP32 kernels OpenVINO runs, by /proc/cpuinfo flag name.
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
#: Libraries whose versions a result depends on.
PACKAGES = ("openvino", "nncf", "torch", "numpy")


def _cpuinfo(path: str | Path = "/proc/cpuinfo") -> tuple[str | None, set[str]]:
    """(model name, flags) of the first processor in ``path``; (None, empty) where there is no such file."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None, set()
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None where a package is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine_info(threads: int | None = None, cpuinfo: str | Path = "/proc/cpuinfo") -> dict[str, Any]:
    """What produced a result: CPU model, ISA flags (:data:`ISA_FLAGS`, each True or False), the CPUs this process
    may use, the inference threads, the OS and the versions of :data:`PACKAGES` and Python."""
    model, flags = _cpuinfo(cpuinfo)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": model or platform.processor() or platform.machine() or "unknown",
        "isa": {flag: flag in flags for flag in ISA_FLAGS} if flags else None,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "threads": threads,
        "system": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "versions": package_versions(),
    }


def stamped(record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with the versions of :data:`PACKAGES` it was computed with: every result's metadata carries them
    (manifests, reports, summaries), so a number can always be traced to the libraries that produced it."""
    return {**record, "versions": package_versions()}


def machine_label(info: Mapping[str, Any] | None) -> str:
    """One line naming a machine: ``<cpu> [<the INT8-relevant ISA extensions it has>], <threads> threads, OpenVINO
    <v>, NNCF <v>, torch <v>``; ``unknown machine`` for records written before machines were recorded."""
    if not info:
        return "unknown machine"
    isa = info.get("isa")
    extensions = ("ISA unknown" if isa is None else
                  " ".join(flag for flag in ISA_FLAGS if isa.get(flag) and flag != "avx512f") or "no AVX2")
    versions = info.get("versions") or {}
    libs = ", ".join(f"{label} {versions[name]}" for name, label in
                     (("openvino", "OpenVINO"), ("nncf", "NNCF"), ("torch", "torch")) if versions.get(name))
    threads = f", {info['threads']} threads" if info.get("threads") else ""
    return f"{info.get('cpu', 'unknown')} [{extensions}]{threads}" + (f", {libs}" if libs else "")


def version_changes(recorded: str | Path, current: Mapping[str, str | None], policy: str) -> list[str]:
    """What changed since the versions a previous run recorded (``results/versions.json``), as notices printed
    before a run: with ``policy`` ``warn`` results computed with the old versions are kept, with ``rerun`` every job
    reruns (the versions are part of each job's code parameter)."""
    path = Path(recorded)
    if not path.is_file():
        return []
    try:
        before = json.loads(path.read_text())
    except ValueError:
        return []
    changed = [f"{name} {before.get(name)} -> {version}" for name, version in current.items()
               if before.get(name) != version]
    if not changed:
        return []
    consequence = ("every job reruns (versions.on_change: rerun)" if policy == "rerun" else
                   "results computed with the old versions are kept (versions.on_change: warn; set rerun to recompute "
                   "them)")
    return [f"versions changed since the last run ({', '.join(changed)}): {consequence}"]


def record_versions(path: str | Path, versions: Mapping[str, str | None]) -> None:
    """Record the versions a run finished with (compared by :func:`version_changes` before the next run)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(dict(versions), indent=2) + "\n")
