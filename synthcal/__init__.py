"""synthcal: post-training INT8 quantization of CIFAR-10 classifiers calibrated on real and synthetic images.

The library behind the Snakemake workflow of this repository. Modules:

* :mod:`synthcal.config` - config schema, defaults and validation.
* :mod:`synthcal.data` - CIFAR-10 acquisition (canonical archive or image folders) and image folders.
* :mod:`synthcal.models` - the CIFAR-10 classifiers (chenyaofo zoo layouts, akamaster ResNets, RepVGG fusion).
* :mod:`synthcal.convert` - PyTorch -> OpenVINO IR conversion with an output check.
* :mod:`synthcal.calibration` - calibration folders (selection, writing, reading, ordering).
* :mod:`synthcal.quantize` - NNCF default quantization.
* :mod:`synthcal.evaluate` - accuracy, throughput and latency of OpenVINO IRs.
* :mod:`synthcal.aggregate` - result tables.
"""

__version__ = "0.1.0"

#: CIFAR-10 class names in label order (also alphabetical order).
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
