"""The ``distylegan`` source: images sampled from the student (trained here, or the authors' released one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthcal.calibration import write_calibration_folder
from synthcal.gan.dump import sample_generator
from synthcal.gan.networks import load_released, released_files, resolve_device
from synthcal.io import file_digest


def sample_to_calibration(generator_dir: str | Path, root: str | Path, *, source: str, n_per_class: int, seed: int,
                          batch_size: int = 500, device: str = "auto") -> dict[str, Any]:
    """Sample ``n_per_class`` images per class (Gaussian z, seeded) from a released-format generator (its folder
    or its ``generator.pt``)."""
    dev = resolve_device(device)
    generator = load_released(generator_dir, map_location=dev).to(dev)
    split, _, checked = sample_generator(generator, n_per_class, seed, generator.z_dim, batch_size, dev,
                                         purpose=source, name=f"the generator in {generator_dir}")
    return write_calibration_folder(root, split, {
        "source": source, "seed": seed, "n_per_class": n_per_class, "generator": str(generator_dir),
        "description": f"samples of the generator in {generator_dir} (Gaussian latents)",
        "generator_sha256": file_digest(released_files(generator_dir)[1]), "latent": "gaussian",
        "mapping": "floor(x*127.5+128) clipped (fixed, no per-image stretch)", "output_range": checked.to_dict()})
