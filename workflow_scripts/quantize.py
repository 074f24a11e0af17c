"""Rule adapter: NNCF INT8 quantization on a calibration folder, default or accuracy-aware (synthcal.quantize)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.calibration import load_calibration_folder, nested_subset
from synthcal.cpus import limit_cpus
from synthcal.io import read_json, write_json
from synthcal.ir import save_ir
from synthcal.logs import step_logging
from synthcal.machine import stamped
from synthcal.quantize import quantize_accuracy_aware, quantize_default, validation_data
from synthcal.settings import AccuracyAwareSettings, DefaultQuantizationSettings, from_params

sm = snakemake  # noqa: F821 (injected by snakemake)
p, job = sm.params, sm.params.job
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    calibration, manifest = load_calibration_folder(sm.input.calibration)
    if job["per_class"]:  # the calibration-size sweep: a nested subset of the folder, every image of it used
        calibration = calibration.subset(nested_subset(calibration.labels, job["per_class"], p.seed))
    settings = from_params(DefaultQuantizationSettings, job["settings"])
    applicable = read_json(sm.input.alignment)["applicable"] if sm.input.get("alignment") else True
    mean, std = p.mean_std
    log.info("quantizing %s on %s (%d images, seed %d), %s: %s", sm.wildcards.model, sm.input.calibration,
             len(calibration), p.seed, job["algorithm"], settings)
    if job["algorithm"] == "accuracy_aware":
        calibration, *validation = validation_data(job["validation"], calibration, sm.input.get("holdout"),
                                                   job["agreement_fraction"], p.seed)
        model, report = quantize_accuracy_aware(sm.input.xml, calibration.images, mean, std, settings,
                                                from_params(AccuracyAwareSettings, job["aa_settings"]), p.seed,
                                                tuple(validation), sm.threads, job["validation"], applicable)
        log.info("accuracy-aware on %s: %s of %s quantized operations reverted; validation %s %.4f -> %.4f",
                 job["validation"], report["reverted_ops"], report["quantized_ops"], report["validation_metric"],
                 report["validation_fp32_accuracy"], report["validation_int8_accuracy"])
    else:
        model, report = quantize_default(sm.input.xml, calibration.images, mean, std, settings, p.seed, applicable)
    save_ir(model, sm.output.xml)
    report.update(algorithm=p.algorithm, kind=job["algorithm"], model=sm.wildcards.model, source=sm.wildcards.source,
                  repeat=p.repeat,
                  calibration_manifest_source=manifest.get("source"), calibration_data=manifest.get("description"))
    write_json(sm.output.report, stamped(report))
    log.info("%d FakeQuantize ops in the INT8 model; NNCF read %d images in %d items; %.1f s",
             report["fake_quantize_ops"], report["images_used"], report["calibration_items"], report["seconds"])
