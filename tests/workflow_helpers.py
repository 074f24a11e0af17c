"""Running the repository's workflow on tiny generated projects (shared by the workflow, Slurm and report tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from helpers import REPO, random_weights, tar_folder, write_image_tree


def snakemake(workdir: Path, *args: str, target: str | None = None, check: bool = True,
              timeout: int = 900, snakefile: Path = REPO / "Snakefile") -> subprocess.CompletedProcess:
    """Run the repository's workflow (or the one of ``snakefile``) in ``workdir`` (``target`` goes first:
    --configfile takes several values)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--directory", str(workdir),
           *([target] if target else []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def out(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def planned_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Job counts per rule from a dry run's 'Job stats' table."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M)}


SOURCES = ["cifar10", "tinyteacher", "distylegan", "fractal", "noise", "bn_inversion"]


def tiny_config(root: Path, **overrides) -> dict:
    config = {
        "seed": 3,
        "experiment": {"models": ["tiny_zoo", "tiny_aka"], "sources": SOURCES, "algorithms": ["default"]},
        "data": {"cifar10": {"local_path": str(root / "cifar10-tiny.tar.gz")}},
        "models": {
            "tiny_zoo": {"arch": "resnet20", "weights": {"path": str(root / "w_zoo.pt")}, "normalization": "cifar10"},
            "tiny_aka": {"arch": "akamaster_resnet20", "weights": {"path": str(root / "w_aka.th")},
                         "normalization": "imagenet"},
        },
        "teacher": {"name": "tinyteacher", "provider": "torchscript", "n_per_class": 10, "latent": "uniform",
                    "batch_size": 32, "device": "cpu", "threads": 1,
                    "torchscript": {"path": str(root / "teacher.pt"), "z_dim": 16}},
        "distylegan": {"ngf": 16, "ndf": 8, "z_dim": 16, "project_dim": 8, "epochs": 2, "batch_size": 20,
                       "gstep": 2, "checkpoint_every": 1, "device": "cpu", "threads": 1, "sample_batch_size": 50},
        "fractal": {"points": 2000, "chains": 200, "threads": 1},
        "noise": {"distribution": "gaussian", "std": 40.0},
        "bn_inversion": {"n_per_class": 2, "iterations": 5, "batch_size": 10, "threads": 1},
        "calibration": {"n_per_class": 4},
        "conversion": {"check_batch": 4},
        "quantization": {"threads": 1, "default": {"subset_size": 30}},
        "evaluation": {"threads": 1, "batch_size": 25},
        "throughput": {"threads": 1, "batch_size": 8, "seconds": 0.1, "repeats": 2},
        "quality": {"enabled": False},
    }
    for key, value in overrides.items():
        node = config
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return config


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def tiny_torchscript_teacher(path: Path) -> Path:
    """A random class-conditional generator (DiStyleGAN architecture, tiny) saved as TorchScript."""
    import torch

    from synthcal.gan.networks import Generator, one_hot

    torch.manual_seed(0)
    generator = Generator(ngf=16, z_dim=16, project_dim=8).eval()
    traced = torch.jit.trace(generator, (torch.rand(2, 16), one_hot(torch.tensor([0, 1]))))
    traced.save(str(path))
    return path


#: What a clone of the workflow needs (copied by :func:`clone_workflow`).
WORKFLOW_FILES = ("Snakefile", "config.yaml", "rules", "workflow_scripts", "synthcal", "envs", "report", "profiles")


def clone_workflow(dest: Path) -> Path:
    """A copy of the workflow's files (code included) that a test may edit; returns its Snakefile."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest / "Snakefile"


def build_project(root: Path) -> Path:
    """A tiny project (8 train + 5 test images per class, two random-weight ResNet-20s, a random TorchScript
    teacher, a 2-epoch DiStyleGAN), run once."""
    tiny_torchscript_teacher(root / "teacher.pt")
    tree = write_image_tree(root / "src" / "cifar10-tiny", n_train=8, n_test=5, seed=1)
    tar_folder(tree, root / "cifar10-tiny.tar.gz", "cifar10-tiny")
    random_weights("resnet20", root / "w_zoo.pt", seed=1)
    random_weights("akamaster_resnet20", root / "w_aka.th", seed=2)
    write_config(root / "tiny.yaml", tiny_config(root))
    snakemake(root, "--cores", "2", "--configfile", str(root / "tiny.yaml"))
    return root
