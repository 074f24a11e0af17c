"""Training curves of a generator from its tracking samples (``teacher.trained.track_every``): the label agreement
of each sample with a classifier and its FID against real images, against generator steps."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from synthcal.evaluate import predict
from synthcal.ir import compile_f32
from synthcal.quality import Extractor, quality_features
from synthcal.quality_report import fid_from_summaries


def tracking_files(track_dir: str | Path) -> list[tuple[int, Path]]:
    """(generator step, file) of every ``step_<n>.npz`` of a run's ``track`` folder, by step.

    Raises:
        FileNotFoundError: no tracking sample in ``track_dir`` (the run had ``track_every: 0``).
    """
    files = []
    for path in Path(track_dir).glob("step_*.npz"):
        match = re.fullmatch(r"step_(\d+)\.npz", path.name)
        if match:
            files.append((int(match.group(1)), path))
    if not files:
        raise FileNotFoundError(f"{track_dir} holds no tracking sample (step_*.npz): train with track_every > 0")
    return sorted(files)


def tracking_curve(track_dir: str | Path, classifier_xml: str | Path, mean: Sequence[float], std: Sequence[float], *,
                   extractor: Extractor | None = None, reference: Mapping[str, Any] | None = None,
                   fid_every: int = 1, threads: int | None = None) -> list[dict[str, Any]]:
    """One row per tracking sample: ``step``, ``n_images``, ``agreement`` (the FP32 classifier's top-1 accuracy
    with respect to the labels the images were generated for) and ``fid`` against ``reference`` (a
    :func:`synthcal.quality.quality_features` summary of real images) on every ``fid_every``-th sample and the last
    one (None elsewhere, or without an extractor)."""
    compiled = compile_f32(classifier_xml, threads)
    files = tracking_files(track_dir)
    rows = []
    for i, (step, path) in enumerate(files):
        with np.load(path) as npz:
            images, labels = npz["images"], npz["labels"]
        logits = predict(compiled, images, mean, std, desc=f"agreement step {step}")
        fid = None
        if extractor is not None and reference is not None and (i % fid_every == fid_every - 1 or i == len(files) - 1):
            fid = round(fid_from_summaries(quality_features(images, extractor, 50, 1, desc=f"FID step {step}"),
                                           reference), 2)
        rows.append({"step": step, "n_images": len(labels), "agreement": float((logits.argmax(1) == labels).mean()),
                     "fid": fid})
    return rows
