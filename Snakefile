# Post-training INT8 quantization of CIFAR-10 classifiers calibrated on real and synthetic images.
# Reproduces Masouris et al., "Post-training Model Quantization Using GANs for Synthetic Data Generation".
# The README is the front door; docs/ has the method, every config key and what each rule writes.
#
#   common.smk       the config, validated, the plan every rule asks (synthcal.planning: one planner per stage,
#                    every path in synthcal.planning.paths) and the run's cost, printed before it starts
#   data.smk         downloads (with checksums) and CIFAR-10 -> results/data/cifar10/{train,test}.npz
#   models.smk       weights -> results/models/<model>/fp32.xml (checked against PyTorch), channel alignment
#   teacher.smk      teacher generator -> results/teacher/dump/ (images + noise + labels), its quality gate
#   distylegan.smk   black-box distillation -> results/distylegan/generator.pt
#   calibration.smk  results/calibration/<source>/ for every source, one rule each (+ sample grids)
#   quantize.smk     the algorithms of the grid -> results/quantized/<variant>/<source>/<model>/int8.xml
#   evaluate.smk     test-split predictions -> results/evaluation/...{json,npz}
#   tables.smk       results/tables/: the full tables with intervals and verdicts, the paper's Table 1a/1b
#   reports.smk      IS/FID (Table 2), realism, label agreement, speed, what predicts the drop, figures
import os
import sys

from snakemake.utils import min_version

min_version("9.0")
sys.path.insert(0, workflow.basedir)  # the library beside this Snakefile, installed or not


configfile: os.path.join(workflow.basedir, "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/models.smk"
include: "rules/teacher.smk"
include: "rules/distylegan.smk"
include: "rules/calibration.smk"
include: "rules/quantize.smk"
include: "rules/evaluate.smk"
include: "rules/tables.smk"
include: "rules/reports.smk"


rule all:
    input:
        PLAN.final_targets(),
    default_target: True


onsuccess:
    # where the outputs are, each model's best and worst source with its interval and verdict; the versions it ran with
    from synthcal.headline import end_of_run
    from synthcal.machine import record_versions

    record_versions(paths.VERSIONS, VERSIONS)
    tables = {a: paths.fill(paths.QUANTIZATION_TABLE, algorithm=a) for a in PLAN.quantization.active()}
    print(end_of_run(tables), file=sys.stderr)
