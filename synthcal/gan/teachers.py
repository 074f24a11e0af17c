"""Teacher providers: anything that maps (z, one-hot c) to RGB 32x32 images in [-1, 1].

* ``stylegan2_ada`` - NVIDIA's StyleGAN2-ADA pickle (official CIFAR-10 network), unpickled with ``dnnlib`` and
  ``torch_utils`` from a user's checkout of NVlabs/stylegan2-ada-pytorch (its licence forbids bundling them), run
  with ``noise_mode='const'`` and ``force_fp32=True`` so that images depend only on (z, c);
* ``torchscript`` - any TorchScript module with the call contract ``G(z, onehot)``;
* ``trained`` - a DiStyleGAN-architecture generator trained inside the workflow (authors' release format);
* ``dump`` - an existing dump in the authors' layout, imported (no generator; see
  :func:`synthcal.gan.dump.import_authors_dump`).
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from synthcal.gan.dump import GeneratorFn
from synthcal.gan.networks import load_released

STYLEGAN2_ADA_REPO = "https://github.com/NVlabs/stylegan2-ada-pytorch"
STYLEGAN2_ADA_PICKLE = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/cifar10.pkl"


class TeacherError(RuntimeError):
    """A teacher cannot be loaded; the message says what to download and which config key to set."""


@dataclass
class Teacher:
    """A loaded teacher: the callable, its latent size and a description for the dump manifest."""

    generate: GeneratorFn
    z_dim: int
    identity: dict[str, Any]


def load_stylegan2_ada(pickle_path: str | Path | None, repo: str | Path | None, truncation_psi: float = 1.0,
                       device: torch.device | str = "cpu") -> Teacher:
    """Load ``G_ema`` from an NVIDIA StyleGAN2-ADA pickle (class-conditional, 32x32, 10 classes).

    Raises:
        TeacherError: the checkout or the pickle is missing, or the network is not a CIFAR-10 generator.
    """
    repo_path = Path(repo) if repo else None
    if repo_path is None or not (repo_path / "dnnlib").is_dir() or not (repo_path / "torch_utils").is_dir():
        where = f"{repo_path} has no dnnlib/ and torch_utils/" if repo_path else "no checkout is configured"
        raise TeacherError(
            f"the stylegan2_ada teacher needs a checkout of {STYLEGAN2_ADA_REPO} to unpickle NVIDIA's network "
            f"({where}); its licence forbids bundling it here. Run `git clone {STYLEGAN2_ADA_REPO}` and set the "
            "config key 'teacher.stylegan2_ada.repo' to the clone's path.")
    if pickle_path is None or not Path(pickle_path).is_file():
        raise TeacherError(
            f"the stylegan2_ada teacher's network pickle {pickle_path or '(none)'} does not exist; download "
            f"{STYLEGAN2_ADA_PICKLE} and set the config key 'teacher.stylegan2_ada.pickle.path' to it "
            "(or leave it null to download it from 'teacher.stylegan2_ada.pickle.url').")
    if str(repo_path) not in sys.path:
        sys.path.insert(0, str(repo_path))
    try:
        with open(pickle_path, "rb") as fh:
            network = pickle.load(fh)["G_ema"]  # NVIDIA pickles embed their classes' source (torch_utils)
    except Exception as exc:
        raise TeacherError(f"cannot unpickle {pickle_path} with the checkout {repo_path}: {exc}") from exc
    network = network.to(device).eval().requires_grad_(False)
    shape = (getattr(network, "c_dim", None), getattr(network, "img_resolution", None))
    if shape != (10, 32):
        raise TeacherError(f"{pickle_path} is not a class-conditional CIFAR-10 generator (c_dim, resolution = {shape})")

    def generate(z: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        return network(z, onehot, truncation_psi=truncation_psi, noise_mode="const", force_fp32=True)

    return Teacher(generate, int(network.z_dim), {"provider": "stylegan2_ada", "pickle": str(pickle_path),
                                                  "truncation_psi": truncation_psi, "noise_mode": "const"})


def load_torchscript(path: str | Path, z_dim: int, device: torch.device | str = "cpu") -> Teacher:
    """Load a TorchScript generator ``G(z, onehot) -> images``; ``z_dim`` is its latent size."""
    if not Path(path).is_file():
        raise TeacherError(f"TorchScript teacher {path} does not exist; set 'teacher.torchscript.path'")
    try:
        module = torch.jit.load(str(path), map_location=device).eval()
    except Exception as exc:
        raise TeacherError(f"cannot load TorchScript teacher {path}: {exc}") from exc
    return Teacher(lambda z, c: module(z, c), z_dim, {"provider": "torchscript", "path": str(path)})


def load_trained(directory: str | Path, device: torch.device | str = "cpu") -> Teacher:
    """Load a generator trained by the workflow (``generator.pt`` + ``config.json``)."""
    generator = load_released(directory, map_location=device).to(device)
    return Teacher(generator, generator.z_dim, {"provider": "trained", "path": str(directory)})
