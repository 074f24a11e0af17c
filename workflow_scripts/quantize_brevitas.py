"""Rule adapter: a model quantized below INT8 with Brevitas on a calibration folder (synthcal.brevitas_backend)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)
import torch

from synthcal.brevitas_backend import quantize_brevitas, save_brevitas
from synthcal.calibration import load_calibration_folder
from synthcal.classifiers import Classifier, pytorch_module
from synthcal.io import verify_checksum, write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped
from synthcal.settings import BrevitasSettings, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    torch.set_num_threads(sm.threads)
    path = sm.input.get("weights")
    classifier = Classifier(path=path, **p.classifier)
    if path:
        verify_checksum(path, p.checksum, f"{classifier.name} weights")
    settings = from_params(BrevitasSettings, p.job["settings"])
    calibration, manifest = load_calibration_folder(sm.input.calibration)
    mean, std = p.mean_std
    log.info("quantizing %s on %s with Brevitas, %s %s (seed %d)", sm.wildcards.model, sm.input.calibration,
             settings.precision, settings.procedure, p.seed)
    quantized, report = quantize_brevitas(pytorch_module(classifier), calibration.images, mean, std, settings, p.seed)
    save_brevitas(sm.output.model, quantized, settings, report["input_minima"])
    report.update(algorithm=p.algorithm, kind="brevitas", model=sm.wildcards.model, source=sm.wildcards.source,
                  repeat=p.repeat, calibration_manifest_source=manifest.get("source"),
                  calibration_data=manifest.get("description"))
    write_json(sm.output.report, stamped(report))
    log.info("%s: %d layers, %d signed inputs, %d layers' weights differ from rounding; %.1f s", settings.precision,
             report["layers"], sum(report["signed_inputs"].values()), report["layers_changed_from_rtn"],
             report["seconds"])
