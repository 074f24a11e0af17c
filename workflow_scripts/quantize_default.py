"""Rule adapter: NNCF default INT8 quantization on a calibration folder (synthcal.quantize.quantize_default)."""

from synthcal.calibration import load_calibration_folder
from synthcal.convert import save_ir
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.quantize import DefaultQuantizationSettings, quantize_default

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    calibration, manifest = load_calibration_folder(sm.input.calibration)
    settings = DefaultQuantizationSettings(subset_size=p.subset_size, preset=p.preset, target_device=p.target_device,
                                           fast_bias_correction=p.fast_bias_correction,
                                           channel_alignment=p.channel_alignment, ignored_types=tuple(p.ignored_types))
    mean, std = p.mean_std
    log.info("quantizing %s on %s (%d images, subset_size %s, preset %s)", sm.wildcards.model, sm.wildcards.source,
             len(calibration), p.subset_size or "all", p.preset)
    model, report = quantize_default(sm.input.xml, calibration.images, mean, std, settings, p.seed, sm.threads)
    save_ir(model, sm.output.xml)
    report.update(model=sm.wildcards.model, source=sm.wildcards.source, calibration_manifest_source=manifest.get("source"))
    write_json(sm.output.report, report)
    log.info("%d FakeQuantize ops inserted in %.1f s", report["fake_quantize_ops"], report["seconds"])
