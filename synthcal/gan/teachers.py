"""Teacher providers: anything that maps (z, one-hot c) to RGB 32x32 images in [-1, 1].

* ``stylegan2_ada`` - NVIDIA's StyleGAN2-ADA pickle (official CIFAR-10 network), unpickled with ``dnnlib`` and
  ``torch_utils`` from a user's checkout of NVlabs/stylegan2-ada-pytorch (its licence forbids bundling them), run
  with ``noise_mode='const'`` and ``force_fp32=True`` so that images depend only on (z, c);
* ``export`` - a ``torch.export`` program with the call contract ``G(z, onehot)`` (``.pt2``);
* ``python`` - a factory ``module:function`` of your own code returning ``G``;
* ``torchscript`` - any TorchScript module with the call contract ``G(z, onehot)`` (deprecated by torch);
* ``trained`` - a DiStyleGAN-architecture generator trained inside the workflow (authors' release format);
* ``dump`` - an existing dump in the authors' layout, imported (no generator; see
  :func:`synthcal.gan.dump.import_authors_dump`).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from synthcal.classifiers import ClassifierError, import_factory, inference_mode
from synthcal.codedeps import factory_source
from synthcal.gan.dump import GeneratorFn, dump_teacher, import_authors_dump, write_dump
from synthcal.gan.networks import load_released, released_files, resolve_device
from synthcal.io import file_digest, verify_checksum

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
            networks = pickle.load(fh)  # NVIDIA pickles embed their classes' source (torch_utils)
    except Exception as exc:
        raise TeacherError(f"cannot unpickle {pickle_path} with the checkout {repo_path}: {type(exc).__name__}: "
                           f"{exc}") from exc
    if not isinstance(networks, dict) or "G_ema" not in networks:
        held = sorted(networks) if isinstance(networks, dict) else type(networks).__name__
        raise TeacherError(f"{pickle_path} holds no 'G_ema' generator (found {held}): expected a StyleGAN2-ADA "
                           "network pickle such as NVIDIA's cifar10.pkl")
    network = networks["G_ema"]
    if not isinstance(network, torch.nn.Module) or not hasattr(network, "z_dim"):
        raise TeacherError(f"the 'G_ema' entry of {pickle_path} is a {type(network).__name__}, not a StyleGAN2-ADA "
                           "generator (a module with z_dim, c_dim and img_resolution)")
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


def _z_dim(found: int | None, configured: int | None, what: str, key: str) -> int:
    """The latent size: the configured one, which must agree with what the generator declares, else the declared."""
    if configured is not None and found is not None and configured != found:
        raise TeacherError(f"{what} takes latents of size {found}, but '{key}' is {configured}; set it to {found} "
                           "or null")
    if configured is None and found is None:
        raise TeacherError(f"{what} does not declare its latent size: set '{key}'")
    return int(configured if configured is not None else found)


def load_export(path: str | Path, z_dim: int | None = None, device: torch.device | str = "cpu") -> Teacher:
    """Load a ``torch.export`` generator ``G(z, onehot) -> images`` (``.pt2``); ``z_dim`` is read from the
    program's first input when its size is static (and must then agree with a configured one)."""
    if not Path(path).is_file():
        raise TeacherError(f"exported teacher {path} does not exist; set 'teacher.export.path'")
    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise TeacherError(f"{path} is not a torch.export program saved with torch.export.save "
                           f"({type(exc).__name__}: {exc})") from exc
    user = torch.export.graph_signature.InputKind.USER_INPUT
    names = [spec.arg.name for spec in program.graph_signature.input_specs if spec.kind == user]
    if len(names) != 2:
        raise TeacherError(f"exported teacher {path} takes {len(names)} inputs; a teacher is called as G(z, onehot)")
    shapes = {n.name: n.meta["val"].shape for n in program.graph.nodes if n.op == "placeholder" and n.name in names}
    z_shape = shapes[names[0]]
    declared = z_shape[1] if len(z_shape) == 2 and isinstance(z_shape[1], int) else None
    module = program.module().to(device)
    return Teacher(lambda z, c: module(z, c), _z_dim(declared, z_dim, f"exported teacher {path}", "teacher.export.z_dim"),
                   {"provider": "export", "path": str(path)})


def load_python(factory: str, python_path: str | None = None, z_dim: int | None = None,
                device: torch.device | str = "cpu") -> Teacher:
    """A generator from a factory ``module:function`` returning a ``torch.nn.Module`` or a callable
    ``G(z, onehot)``; ``z_dim`` is the configured one or the generator's ``z_dim`` attribute."""
    try:
        generator = import_factory(factory, python_path, "the teacher's factory")()
    except ClassifierError as exc:
        raise TeacherError(str(exc)) from exc
    if not callable(generator):
        raise TeacherError(f"the teacher's factory {factory} returned a {type(generator).__name__}, expected a "
                           "torch.nn.Module or a callable G(z, onehot)")
    if isinstance(generator, torch.nn.Module):
        generator = inference_mode(generator).to(device)
    declared = getattr(generator, "z_dim", None)
    return Teacher(generator, _z_dim(declared if isinstance(declared, int) else None, z_dim,
                                     f"the teacher of {factory}", "teacher.python.z_dim"),
                   {"provider": "python", "factory": factory, "python_path": python_path})


def load_trained(directory: str | Path, device: torch.device | str = "cpu") -> Teacher:
    """Load a generator trained by the workflow (``generator.pt`` + ``config.json``); the identity also records,
    from the run's ``training.json`` where it is beside them, the discriminator and the frozen feature network
    (name and weights' sha256) that helped train it."""
    generator = load_released(directory, map_location=device).to(device)
    identity: dict[str, Any] = {"provider": "trained", "path": str(directory)}
    folder = Path(directory) if Path(directory).is_dir() else Path(directory).parent
    summary = folder / "training.json"
    if summary.is_file():
        try:
            record = json.loads(summary.read_text())
        except json.JSONDecodeError as exc:
            raise TeacherError(f"{summary} is not valid JSON ({exc}); retrain the teacher (delete its folder)") from None
        settings = record.get("settings") or {}
        objective = settings.get("objective") or settings  # the objective's settings (flat in older records)
        identity |= {"discriminator": objective.get("discriminator"), "feature_network": record.get("feature_network"),
                     "classifier_weight": objective.get("classifier_weight")}
    return Teacher(generator, generator.z_dim, identity)


def make_dump(provider: str, out_dir: str | Path, *, n_per_class: int | None = None, seed: int | None = None,
              latent: str | None = None, batch_size: int = 64, device: str = "auto", source: str | Path | None = None,
              repo: str | Path | None = None, truncation_psi: float = 1.0, z_dim: int | None = 512,
              checksum: str | None = None, factory: str | None = None,
              python_path: str | None = None) -> dict[str, Any]:
    """Write the teacher dump with the configured provider (the keyword arguments a provider uses are those of
    :func:`synthcal.config.teacher_dump_settings`; the others are ignored).

    Args:
        provider: ``stylegan2_ada`` (``source`` = pickle, ``repo`` = checkout), ``export`` (``source`` = .pt2
            program, ``z_dim`` read from it or given), ``python`` (``factory`` = module:function, imported with
            ``python_path`` first), ``torchscript`` (``source`` = .pt file, ``z_dim`` its latent size),
            ``trained`` (``source`` = training output folder or its ``generator.pt``) or ``dump`` (``source`` = a
            dump in the authors' layout, imported as it is).
        checksum: expected checksum of the teacher file (``[algo:]hex``), verified before use; the manifest
            records the file's sha256 either way.
    """
    if provider == "dump":
        if source is None or not Path(source).is_dir():
            raise TeacherError(f"authors' dump folder {source} does not exist; set 'teacher.dump.path'")
        z, images, labels = import_authors_dump(source)
        digest = hashlib.sha256(z.tobytes() + images.tobytes() + labels.tobytes()).hexdigest()
        return write_dump(out_dir, images, z, labels, {
            "teacher": {"provider": "dump", "path": str(source), "sha256_of_arrays": digest},
            "seed": None, "latent": "as imported", "n_per_class": None, "truncation_psi": None})
    if n_per_class is None or seed is None or latent is None:
        raise ValueError(f"the {provider} teacher needs n_per_class, seed and latent")
    dev = resolve_device(device)
    if provider == "stylegan2_ada":
        teacher = load_stylegan2_ada(source, repo, truncation_psi, dev)
        checked = Path(source)  # type: ignore[arg-type]
    elif provider == "torchscript":
        assert source is not None
        teacher = load_torchscript(source, z_dim, dev)
        checked = Path(source)
    elif provider == "export":
        assert source is not None
        teacher = load_export(source, z_dim, dev)
        checked = Path(source)
    elif provider == "python":
        assert factory is not None
        teacher = load_python(factory, python_path, z_dim, dev)
        checked = factory_source(factory, python_path)
    elif provider == "trained":
        assert source is not None
        teacher = load_trained(source, dev)
        checked = released_files(source)[1]
    else:
        raise ValueError(f"unknown teacher provider {provider!r}")
    verified = verify_checksum(checked, checksum, what=f"{provider} teacher") if checked else None
    sha256 = (verified.split(":", 1)[1] if verified and verified.startswith("sha256:")
              else file_digest(checked) if checked else None)
    identity = {**teacher.identity, "sha256": sha256, "z_dim": teacher.z_dim}
    return dump_teacher(teacher.generate, out_dir, n_per_class, seed, teacher.z_dim, latent, batch_size, dev,
                        {"teacher": identity, "truncation_psi": truncation_psi if provider == "stylegan2_ada" else None,
                         "device": str(dev)}, name=f"the {provider} teacher {source or factory}")
