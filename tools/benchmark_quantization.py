"""Time NNCF quantization with one image per calibration item and with batched items, and evaluate the result.

    python tools/benchmark_quantization.py --ir results/models/m/fp32.xml --test results/data/cifar10/test.npz \\
        --mean 0.485 0.456 0.406 --std 0.229 0.224 0.225 --batch-sizes 1 100 \\
        results/calibration/cifar10 results/calibration/fractal ...

Prints one JSON line per (folder, batch size): wall seconds of nncf.quantize, images NNCF read, INT8 top-1 on the
test split. Same settings otherwise (the pot protocol's: every image, POT's range estimator, per-image range
statistics), so the difference is the batching alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from synthcal.calibration import load_calibration_folder
from synthcal.cpus import limit_cpus
from synthcal.data import load_split
from synthcal.evaluate import evaluate_ir
from synthcal.ir import save_ir
from synthcal.quantize import DefaultQuantizationSettings, quantize_default
from synthcal.schema import default_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", help="calibration folders")
    parser.add_argument("--ir", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--mean", type=float, nargs=3, required=True)
    parser.add_argument("--std", type=float, nargs=3, required=True)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/benchmark_quantization")
    args = parser.parse_args()
    limit_cpus(args.threads)
    test = load_split(args.test)
    for folder in args.folders:
        calibration, _ = load_calibration_folder(folder, progress=False)
        for batch in args.batch_sizes:
            settings = default_settings(DefaultQuantizationSettings, range_estimator="pot", channel_alignment=True,
                                        batch_size=batch)
            model, report = quantize_default(args.ir, calibration.images, args.mean, args.std, settings, args.seed)
            xml = save_ir(model, Path(args.work) / f"{Path(folder).name}_{batch}.xml")
            accuracy = evaluate_ir(xml, test, args.mean, args.std, threads=args.threads)[0]["accuracy"]
            print(json.dumps({"folder": folder, "batch_size": batch, "seconds": report["seconds"],
                              "images_used": report["images_used"], "int8_accuracy": accuracy}), flush=True)


if __name__ == "__main__":
    main()
