"""Keep a workflow job on as many CPUs as its rule's ``threads``.

Thread-count settings do not reach every thread pool a job starts: NNCF compiles its statistics and
accuracy-control models with its own ``ov.Core()`` on every core, and sizes its ranking workers from the machine's
core count. The one limit every runtime respects (OpenVINO's TBB, PyTorch's OpenMP, NumPy's BLAS) is the process's
CPU affinity, so :func:`limit_cpus` restricts the process to ``threads`` CPUs before any of them starts.

On a cluster the scheduler already confines a job to its allocation (cgroups), and nothing changes. On a
workstation several jobs run at once, so each claims *different* CPUs: claims are recorded in a small registry file
(``$TMPDIR/synthcal-cpus-<uid>.json``, guarded by ``flock``); CPUs held by live processes are avoided, and released
when the job ends. Where affinity cannot be set (macOS), nothing changes.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

#: Placement changes how fast a job runs, never what it writes: not a rerun trigger (synthcal.codedeps).
AFFECTS_OUTPUTS = False

log = logging.getLogger(__name__)


def registry_path() -> Path:
    return Path(tempfile.gettempdir()) / f"synthcal-cpus-{os.getuid()}.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _registry() -> Iterator[dict[str, int]]:
    """The claims ``{cpu: pid}`` of live processes, locked for the duration of the block and written back."""
    import fcntl

    path = registry_path()
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            try:
                claims = {cpu: int(pid) for cpu, pid in json.loads(fh.read() or "{}").items()}
            except (ValueError, AttributeError):
                claims = {}
            claims = {cpu: pid for cpu, pid in claims.items() if _alive(pid)}
            yield claims
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(claims))
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _release(pid: int) -> None:
    with contextlib.suppress(OSError), _registry() as claims:
        for cpu in [c for c, p in claims.items() if p == pid]:
            del claims[cpu]


def limit_cpus(threads: int | None) -> list[int] | None:
    """Restrict this process to ``threads`` CPUs of those it may use, preferring CPUs no other live process has
    claimed; returns the CPUs chosen, or None when nothing was changed (enough CPUs already, no ``threads``, or no
    affinity support). The claim is released when the process exits. When PyTorch is loaded, its intra-op thread
    count is set to ``threads`` as well.
    """
    if threads and "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(int(threads))
    if not threads or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    if threads >= len(allowed):
        return None
    pid = os.getpid()
    try:
        with _registry() as claims:
            taken = {int(c) for c, p in claims.items() if p != pid}
            chosen = ([c for c in allowed if c not in taken] + [c for c in allowed if c in taken])[:threads]
            for cpu in chosen:
                claims[str(cpu)] = pid
    except OSError as exc:  # no writable temporary folder: place without coordination
        log.warning("CPU claims not recorded (%s); using CPUs %s", exc, allowed[:threads])
        chosen = allowed[:threads]
    os.sched_setaffinity(0, chosen)
    atexit.register(_release, pid)
    log.info("running on CPUs %s (%d thread%s of %d CPUs)", chosen, threads, "s" * (threads > 1), len(allowed))
    return chosen
