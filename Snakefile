# Post-training INT8 quantization of CIFAR-10 classifiers calibrated on real and synthetic images.
# Reproduces Masouris et al., "Post-training Model Quantization Using GANs for Synthetic Data Generation".
#
#   CIFAR-10 --------------------------------------------+--> calibration/<source>/ --+
#   classifier weights --> models/<model>/fp32.xml ------+----------------------------+--> quantized/<algo>/<source>/<model>/int8.xml
#                                   |                                                            |
#                                   +--> evaluation/<model>/fp32.json      evaluation/<model>/<algo>/<source>.json
#                                                         \____________________  _______________/
#                                                                              \/
#                                                         tables/default_quantization.csv, table1a.csv
import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config.yaml")


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
        final_targets(),
    default_target: True
