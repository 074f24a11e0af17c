"""Rule adapter: a Brevitas model's test-split accuracy, simulated in PyTorch, and its per-image predictions; an
all-8-bit one also run by OpenVINO from its QCDQ export (synthcal.brevitas_backend)."""

import tempfile
import time
from pathlib import Path

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import torch

from synthcal.brevitas_backend import EXECUTION, eight_bit, export_qcdq, load_brevitas, predict_logits
from synthcal.classifiers import Classifier, pytorch_module
from synthcal.data import load_split
from synthcal.evaluate import accuracy_report, evaluate_ir
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.machine import machine_info
from synthcal.predictions import from_logits, save_predictions
from synthcal.settings import BrevitasSettings

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    torch.set_num_threads(sm.threads)
    classifier = Classifier(path=sm.input.get("weights"), **p.classifier)
    quantized = load_brevitas(sm.input.model, pytorch_module(classifier))
    settings = BrevitasSettings(**torch.load(sm.input.model, map_location="cpu", weights_only=False)["settings"])
    test = load_split(sm.input.test)
    mean, std = p.mean_std
    start = time.perf_counter()
    predictions = from_logits(predict_logits(quantized, test.images, mean, std, p.batch_size), test.labels)
    report = {**accuracy_report(predictions, test), "eval_seconds": round(time.perf_counter() - start, 3),
              "threads": sm.threads, "execution": EXECUTION, "machine": machine_info(sm.threads)}
    if eight_bit(settings):  # OpenVINO runs the QCDQ export: its accuracy must be the simulation's
        with tempfile.TemporaryDirectory() as work:
            try:
                onnx = export_qcdq(quantized, Path(work) / "model.onnx")
                ov_report, ov_predictions = evaluate_ir(onnx, test, mean, std, threads=sm.threads,
                                                        batch_size=p.batch_size)
                report["openvino"] = {"accuracy": ov_report["accuracy"], "agreement_with_simulation": float(
                    (ov_predictions.predictions == predictions.predictions).mean())}
            except Exception as exc:  # noqa: BLE001 (recorded, not hidden: the simulation stands alone)
                report["openvino"] = {"error": f"{type(exc).__name__}: {exc}"}
        log.info("OpenVINO from QCDQ: %s", report["openvino"])
    save_predictions(sm.output.predictions, predictions)
    write_json(sm.output.summary, {"model": sm.wildcards.model, **p.record, "brevitas": sm.input.model,
                                   "predictions": sm.output.predictions, **report})
    log.info("%s %s (%s): top-1 %.2f%% on %d images", sm.wildcards.model, settings.precision, EXECUTION,
             100 * report["accuracy"], report["n_images"])
