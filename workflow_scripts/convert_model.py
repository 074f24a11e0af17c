"""Rule adapter: a classifier in any form -> FP32 OpenVINO IR, checked (synthcal.convert.convert)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.classifiers import Classifier
from synthcal.convert import convert
from synthcal.cpus import limit_cpus
from synthcal.io import file_digest, verify_checksum, write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    limit_cpus(sm.threads)
    path = sm.input.get("weights")
    classifier = Classifier(path=path, **sm.params.classifier)
    digest = None
    if path:
        verify_checksum(path, sm.params.checksum, f"{classifier.name} weights")
        digest = f"sha256:{file_digest(path, 'sha256')}"
    log.info("converting %s (%s) from %s", classifier.name, classifier.format, path or classifier.factory)
    report = convert(classifier, xml_path=sm.output.xml, seed=sm.params.seed, batch_size=sm.params.check_batch,
                     tolerance=sm.params.tolerance, threads=sm.threads)
    if report.max_abs_diff_ir is not None:
        log.info("IR vs PyTorch on %d inputs: max |diff| %.3g, argmax agreement %.3f", report.check_batch,
                 report.max_abs_diff_ir, report.argmax_agreement_ir)
    if report.max_abs_diff_fuse is not None:
        log.info("fused vs multi-branch RepVGG: max |diff| %.3g", report.max_abs_diff_fuse)
    write_json(sm.output.report, stamped({"model": sm.wildcards.model, "weights": path, "weights_sha256": digest,
                                          "factory": classifier.factory, **report.to_dict()}))
