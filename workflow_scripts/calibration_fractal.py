"""Rule adapter: the fractal calibration folder (synthcal.fractal.generate_fractals)."""

from synthcal.calibration import write_calibration_folder
from synthcal.data import Split
from synthcal.fractal import FractalSettings, folder_labels, generate_fractals
from synthcal.logs import step_logging

sm = snakemake  # noqa: F821 (injected by snakemake)
p = sm.params
with step_logging(sm.log[0]) as log:
    settings = FractalSettings(points=p.points, chains=p.chains, fill_rate=p.fill_rate,
                               colorize="caffe" if p.colorizer_dir else "random", colorizer_dir=p.colorizer_dir)
    count = 10 * p.n_per_class
    images, report = generate_fractals(count, p.seed, settings, workers=sm.threads)
    manifest = write_calibration_folder(sm.output[0], Split(images, folder_labels(count)),
                                        {"source": "fractal", "seed": p.seed, "n_per_class": p.n_per_class,
                                         "labels": "arbitrary (consecutive images fill folders in class order)",
                                         **report})
    log.info("wrote %d fractals from %d IFS systems (colouring: %s)", manifest["count"], report["categories"],
             report["colorize"])
