"""Evaluation of OpenVINO IRs: top-1 accuracy on the test split, and label agreement on calibration folders."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import openvino as ov
from tqdm import tqdm

from synthcal.calibration import load_calibration_folder
from synthcal.data import Split
from synthcal.ir import compile_f32, infer_batches
from synthcal.machine import machine_info
from synthcal.predictions import Predictions, from_logits
from synthcal.preprocess import to_model_input


def predict(compiled: ov.CompiledModel, images: np.ndarray, mean: Sequence[float], std: Sequence[float],
            batch_size: int = 200, desc: str = "evaluate") -> np.ndarray:
    """Logits of ``images`` (uint8 NHWC), computed in batches; shape (N, classes)."""
    starts = tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", mininterval=1.0)
    return infer_batches(compiled, (to_model_input(images[s : s + batch_size], mean, std) for s in starts))


def accuracy_report(logits: np.ndarray | Predictions, split: Split) -> dict:
    """Top-1 accuracy overall and per class, from logits or from stored :class:`Predictions` of ``split``."""
    predictions = logits if isinstance(logits, Predictions) else from_logits(logits, split.labels)
    per_class = predictions.per_class_accuracy(len(split.classes))
    return {"accuracy": predictions.accuracy(), "correct": int(predictions.correct.sum()), "n_images": len(predictions),
            "per_class_accuracy": {name: None if np.isnan(per_class[i]) else float(per_class[i])
                                   for i, name in enumerate(split.classes)}}


def evaluate_ir(model_path: str | Path, split: Split, mean: Sequence[float], std: Sequence[float], *,
                threads: int, batch_size: int = 200) -> tuple[dict, Predictions]:
    """Evaluate an IR on ``split``: (summary, per-image predictions). The summary's accuracies are computed from
    the predictions (as every later statistic is) and it records the machine and library versions
    (:func:`synthcal.machine.machine_info`). Speed is measured once, elsewhere (:mod:`synthcal.speed`)."""
    compiled = compile_f32(model_path, threads)
    start = time.perf_counter()
    logits = predict(compiled, split.images, mean, std, batch_size, desc=f"evaluate {Path(model_path).name}")
    predictions = from_logits(logits, split.labels)
    report = accuracy_report(predictions, split)
    report["eval_seconds"] = round(time.perf_counter() - start, 3)
    report["threads"] = threads
    report["openvino_version"] = ov.get_version()
    report["machine"] = machine_info(threads)
    return report, predictions


def label_agreement(fp32_xml: str | Path, folders: Mapping[str, str | Path], mean: Sequence[float],
                    std: Sequence[float], model: str, threads: int | None = None) -> list[dict]:
    """The FP32 classifier's top-1 accuracy on each labelled calibration folder (``{source: folder}``), with
    respect to its folder labels; one row per source (source, model, accuracy, n_images, labels)."""
    compiled = compile_f32(fp32_xml, threads)
    rows = []
    for source, folder in folders.items():
        split, manifest = load_calibration_folder(folder, progress=False)
        report = accuracy_report(predict(compiled, split.images, mean, std, desc=f"agreement {source}"), split)
        rows.append({"source": source, "model": model, "accuracy": report["accuracy"],
                     "n_images": report["n_images"], "labels": manifest.get("labels", "generated for the class")})
    return rows


