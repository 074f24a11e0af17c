"""A single-node Slurm cluster on localhost for the submission test (Debian's slurm-wlm and munge, run as root).

``.ci/run`` installs the packages; :func:`start_cluster` writes a slurm.conf into a temporary folder, starts munged
(as the munge user), slurmctld and slurmd, and waits for the node to be idle. Known to work with Debian's Slurm 22.05:
proctrack/linuxproc, task/none, no accounting (so job status comes from squeue; MinJobAge is high to keep finished
jobs visible), no cgroup.conf.

The configuration goes to the system location ``/etc/slurm/slurm.conf`` (removed again by :meth:`Cluster.stop`):
Snakemake's job-step plugin strips ``SLURM_*`` variables, ``SLURM_CONF`` included, before its nested ``srun``, so
a private config path would not reach it. An existing system configuration is never touched: the test skips.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

MARKER = "# written by synthcal's tests/slurm_cluster.py"
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")

SLURM_CONF = MARKER + """
ClusterName=synthcal
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=86400
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SchedulerType=sched/backfill
NodeName={host} CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


class SlurmUnavailable(RuntimeError):
    """The cluster cannot start here (no packages, not root, daemons fail); the message says why."""


@dataclass
class Cluster:
    root: Path
    conf: Path
    env: dict[str, str]

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def jobs(self) -> list[dict[str, str]]:
        """Fields of every job the controller knows (finished ones included, thanks to MinJobAge)."""
        out = self.run("scontrol", "show", "job", "-o").stdout
        return [dict(part.split("=", 1) for part in line.split() if "=" in part) for line in out.splitlines()]

    def stop(self) -> None:
        self.run("scontrol", "shutdown", check=False)
        for name in ("slurmd.pid", "slurmctld.pid"):
            pid_file = self.root / name
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().strip()), 15)
                except (ProcessLookupError, ValueError):
                    pass
        if self.conf == SYSTEM_CONF and SYSTEM_CONF.exists() and SYSTEM_CONF.read_text().startswith(MARKER):
            SYSTEM_CONF.unlink()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster(root: Path, timeout: float = 60.0) -> Cluster:
    """Start munge, slurmctld and slurmd on localhost: state and logs under ``root``, the configuration in
    /etc/slurm/slurm.conf (the plugin's job steps drop SLURM_CONF), marked and removed by :meth:`Cluster.stop`."""
    missing = [b for b in ("slurmctld", "slurmd", "sbatch", "squeue", "munged") if shutil.which(b) is None
               and not Path(f"/usr/sbin/{b}").exists()]
    if missing:
        raise SlurmUnavailable(f"Slurm/munge binaries missing ({', '.join(missing)}): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        raise SlurmUnavailable("starting slurmctld/slurmd needs root")
    host = socket.gethostname().split(".")[0]
    memory = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.9)
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.read_text().startswith(MARKER):
        raise SlurmUnavailable(f"{SYSTEM_CONF} already exists (a real Slurm installation): not replacing it")
    conf = SYSTEM_CONF
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(SLURM_CONF.format(host=host, root=root, cpus=os.cpu_count() or 1, memory=memory,
                                      ctld_port=_free_port(), slurmd_port=_free_port()))
    env = {k: v for k, v in os.environ.items() if k != "SLURM_CONF"}
    _start_munge()
    for daemon in ("slurmctld", "slurmd"):
        proc = subprocess.run([f"/usr/sbin/{daemon}", "-f", str(conf)], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SlurmUnavailable(f"{daemon} failed to start: {proc.stderr.strip() or proc.stdout.strip()}")
    cluster = Cluster(root, conf, env)
    deadline = time.time() + timeout
    state = ""
    while time.time() < deadline:
        state = cluster.run("sinfo", "-h", "-o", "%t", check=False).stdout.strip()
        if state in ("idle", "mix"):
            return cluster
        if state.startswith(("down", "drain")):
            cluster.run("scontrol", "update", f"NodeName={host}", "State=RESUME", check=False)
        time.sleep(1)
    logs = "\n".join((root / f).read_text()[-1500:] for f in ("slurmctld.log", "slurmd.log") if (root / f).exists())
    cluster.stop()
    raise SlurmUnavailable(f"the Slurm node did not become idle within {timeout:.0f} s (state {state!r})\n{logs}")


def _start_munge() -> None:
    """Start munged as the munge user unless one already answers."""
    if subprocess.run(["bash", "-c", "munge -n | unmunge"], capture_output=True).returncode == 0:
        return
    run_dir = Path("/run/munge")
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.chown(run_dir, "munge", "munge")
    if not Path("/etc/munge/munge.key").exists():
        raise SlurmUnavailable("/etc/munge/munge.key is missing (reinstall munge or run mungekey)")
    proc = subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SlurmUnavailable(f"munged failed to start: {proc.stderr.strip()}")
    for _ in range(20):
        if subprocess.run(["bash", "-c", "munge -n | unmunge"], capture_output=True).returncode == 0:
            return
        time.sleep(0.5)
    raise SlurmUnavailable("munged started but does not answer")
