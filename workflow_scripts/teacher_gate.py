"""Rule adapter: the teacher dump's quality gate (synthcal.quality.teacher_gate)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.io import read_json, write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped
from synthcal.quality import load_features
from synthcal.quality_report import check_gate, teacher_gate

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    features = load_features(sm.input.features) if sm.input.get("features") else None
    reference = load_features(sm.input.reference) if sm.input.get("reference") else None
    gate = teacher_gate([row for f in sm.input.agreement for row in read_json(f)], features, reference,
                        sm.params.min_label_agreement, sm.params.max_fid)
    log.info("teacher gate: label agreement %s, FID %s", gate["label_agreement"], gate["fid"])
    check_gate(gate)  # a failed gate stops the run before distillation (the gate's record is in this log)
    write_json(sm.output[0], stamped(gate))
