"""synthcal: post-training INT8 quantization of CIFAR-10 classifiers calibrated on real and synthetic images.

The library behind the Snakemake workflow of this repository (its rules' scripts are thin adapters to it), in two
layers. What plans a run imports only the standard library, pyyaml and jsonschema (every ``snakemake`` start
parses it); what runs a job imports torch, NNCF and OpenVINO as it needs them.

Planning (no torch, NNCF or OpenVINO):

* :mod:`synthcal.schema` - the config schema, its defaults, protocols and messages; :mod:`synthcal.config` -
  validation, consistency and the files a configuration names; :mod:`synthcal.settings` - every job's settings,
  typed once; :mod:`synthcal.algorithms` - the quantization algorithms as data (built-in ones and variants);
  :mod:`synthcal.planning` - the experiment plan, one planner per stage, every path once.
* :mod:`synthcal.architectures` - the built-in architectures by name; :mod:`synthcal.codedeps` - the code each
  rule runs and its fingerprint; :mod:`synthcal.rulefiles` - the rule files read as data; :mod:`synthcal.machine`
  - the machine and package versions of a run; :mod:`synthcal.costs` - the estimate printed before a run.

Jobs:

* :mod:`synthcal.data`, :mod:`synthcal.download`, :mod:`synthcal.io` - CIFAR-10, checked downloads, atomic files.
* :mod:`synthcal.models` - the built-in classifiers and their training; :mod:`synthcal.classifiers` - a classifier
  in any form; :mod:`synthcal.convert`, :mod:`synthcal.ir` - OpenVINO IRs.
* :mod:`synthcal.gan` - the teacher providers and dump, DiStyleGAN and the GAN trainer (loop, objectives);
  :mod:`synthcal.checkpoints` - resumable runs that resume only their own identity.
* :mod:`synthcal.calibration` - calibration folders; :mod:`synthcal.sources` - one module per source, their traits
  in one registry.
* :mod:`synthcal.preprocess`, :mod:`synthcal.quantize`, :mod:`synthcal.brevitas_backend`, :mod:`synthcal.evaluate`,
  :mod:`synthcal.predictions`, :mod:`synthcal.speed` - normalisation, NNCF quantization, Brevitas below INT8
  (simulated), accuracy, per-image predictions, speed.
* :mod:`synthcal.quality`, :mod:`synthcal.quality_sets`, :mod:`synthcal.quality_report`, :mod:`synthcal.realism` -
  Inception features and their image sets; FID, Table 2 and the teacher's gate from them; precision, recall,
  density, coverage and KID.
* :mod:`synthcal.statistics` - intervals, verdicts, tests; :mod:`synthcal.aggregate`, :mod:`synthcal.predictors`,
  :mod:`synthcal.verdicts` - where the data matters, the breaking point below INT8, the backends' agreement;
  :mod:`synthcal.figures`, :mod:`synthcal.headline`, :mod:`synthcal.benchmarks` - figures, the run's headline,
  measured costs.
* :mod:`synthcal.cpus`, :mod:`synthcal.logs`, :mod:`synthcal.seeding` - CPU placement, logging, random streams.
"""

__version__ = "0.1.0"

#: CIFAR-10 class names in label order (also alphabetical order).
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
