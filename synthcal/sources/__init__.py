"""Calibration sources, one module per source rule (``rules/calibration.smk``, ``workflow_scripts/calibration_*.py``).

* :mod:`~synthcal.sources.cifar10` - real training images (and the held-out validation split);
* :mod:`~synthcal.sources.teacher` - images chosen from the teacher's dump;
* :mod:`~synthcal.sources.distylegan` - samples of the student generator;
* :mod:`~synthcal.sources.fractal` - IFS fractals (the paper's non-representative control);
* :mod:`~synthcal.sources.noise` - pixel noise (data-free);
* :mod:`~synthcal.sources.bn_inversion` - ZeroQ-style data distilled from each model (data-free, per model);
* :mod:`~synthcal.sources.filtered` - a source's images chosen by each model (``<base>_<filter>``, per model).

Each writes a calibration folder (:mod:`synthcal.calibration`) whose manifest describes its images.
"""
