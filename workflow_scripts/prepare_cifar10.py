"""Rule adapter: normalise a CIFAR-10 copy to train/test .npz files (synthcal.data.prepare_cifar10)."""

import _synthcal_path  # noqa: F401 (the workflow's own synthcal first on sys.path)

from synthcal.data import prepare_cifar10
from synthcal.io import write_json
from synthcal.logs import step_logging
from synthcal.machine import stamped

sm = snakemake  # noqa: F821 (injected by snakemake)
with step_logging(sm.log[0]) as log:
    log.info("reading CIFAR-10 from %s", sm.input.source)
    manifest = prepare_cifar10(sm.input.source, sm.output.train, sm.output.test, sm.params.checksum)
    write_json(sm.output.manifest, stamped(manifest))
    log.info("layout %s, lossy JPEG: %s, %d train / %d test images", manifest["layout"], manifest["lossy_jpeg"],
             manifest["train"]["count"], manifest["test"]["count"])
