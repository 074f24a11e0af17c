"""Rule adapter: checkpoint -> FP32 OpenVINO IR, checked against PyTorch (synthcal.convert.convert)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.convert import convert
from synthcal.cpus import limit_cpus
from synthcal.io import file_digest, verify_checksum, write_json
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    spec = f"sha256:{sm.params.sha256}" if sm.params.sha256 else None
    verify_checksum(sm.input.weights, spec, "model weights")
    digest = f"sha256:{file_digest(sm.input.weights, 'sha256')}"
    log.info("converting %s (arch %s, fuse %s) from %s", sm.wildcards.model, sm.params.arch, sm.params.fuse,
             sm.input.weights)
    report = convert(sm.params.arch, sm.input.weights, sm.output.xml, fuse=sm.params.fuse, seed=sm.params.seed,
                     batch_size=sm.params.check_batch, tolerance=sm.params.tolerance, threads=sm.threads)
    log.info("IR vs PyTorch on %d inputs: max |diff| %.3g, argmax agreement %.3f", report.check_batch,
             report.max_abs_diff_ir, report.argmax_agreement_ir)
    if report.max_abs_diff_fuse is not None:
        log.info("fused vs multi-branch RepVGG: max |diff| %.3g", report.max_abs_diff_fuse)
    write_json(sm.output.report, {"model": sm.wildcards.model, "weights": sm.input.weights,
                                  "weights_sha256": digest, **report.to_dict()})
