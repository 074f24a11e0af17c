"""synthcal: post-training INT8 quantization of CIFAR-10 classifiers calibrated on real and synthetic images.

The library behind the Snakemake workflow of this repository (its rules' scripts are thin adapters to it):

* :mod:`synthcal.config` - the config schema, validation, protocols; :mod:`synthcal.plan` - the experiment plan.
* :mod:`synthcal.codedeps` - the code each rule runs and its fingerprint.
* :mod:`synthcal.data`, :mod:`synthcal.download`, :mod:`synthcal.io` - CIFAR-10, checked downloads, atomic files.
* :mod:`synthcal.models` - the built-in classifiers; :mod:`synthcal.classifiers` - a classifier in any form;
  :mod:`synthcal.convert`, :mod:`synthcal.ir` - OpenVINO IRs.
* :mod:`synthcal.gan` - the teacher providers and dump, DiStyleGAN and its training.
* :mod:`synthcal.calibration` - calibration folders; :mod:`synthcal.sources` - one module per source.
* :mod:`synthcal.preprocess`, :mod:`synthcal.quantize`, :mod:`synthcal.evaluate`, :mod:`synthcal.speed` -
  normalisation, NNCF quantization, accuracy, speed.
* :mod:`synthcal.quality`, :mod:`synthcal.quality_sets` - Inception Score, FID and their image sets.
* :mod:`synthcal.aggregate`, :mod:`synthcal.figures`, :mod:`synthcal.benchmarks` - tables, figures, costs.
* :mod:`synthcal.cpus`, :mod:`synthcal.logs`, :mod:`synthcal.seeding` - CPU placement, logging, random streams.
"""

__version__ = "0.1.0"

#: CIFAR-10 class names in label order (also alphabetical order).
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
