# Post-training INT8 quantization of CIFAR-10 classifiers calibrated on real and synthetic images.
# Reproduces Masouris et al., "Post-training Model Quantization Using GANs for Synthetic Data Generation".
#
#   data.smk         CIFAR-10 (download or local copy) -> results/data/cifar10/{train,test}.npz
#   models.smk       weights -> results/models/<model>/fp32.xml (OpenVINO IR, checked against PyTorch)
#   teacher.smk      teacher generator -> results/teacher/dump/ (images + noise + labels)
#   distylegan.smk   black-box distillation -> results/distylegan/generator.pt
#   calibration.smk  results/calibration/<source>/<class>/<n>.png for every source (+ sample grids)
#   quantize.smk     NNCF default / accuracy-aware INT8 -> results/quantized/<algorithm>/<source>/<model>/int8.xml
#   evaluate.smk     test-split accuracy, throughput, latency -> results/evaluation/...json
#   tables.smk       results/tables/{default,accuracy_aware}_quantization.csv, table1a.csv, table1b.csv
#   reports.smk      IS/FID, label agreement, throughput, figures
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
