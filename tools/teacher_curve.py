"""Training curves of generators from their tracking samples: label agreement and FID against generator steps.

    python tools/teacher_curve.py --run "projected + classifier=results/teacher/trained/training/<fingerprint>" \
        --run "projection=<another run folder>" --classifier results/models/akamaster_resnet20/fp32.xml \
        --extractor results/models/inception/extractor.xml --reference results/reports/features/reference.npz \
        --csv teacher_curve.csv --png teacher_curve.png

A run folder is a training run's checkpoint folder (it holds ``track/step_*.npz``, written with
``teacher.trained.track_every > 0``). The classifier is an FP32 IR of the workflow (normalisation from
``--model``'s config entry); the FID reference is the workflow's real-image summary.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthcal.config import load_config  # noqa: E402
from synthcal.figures import tracking_curves_chart  # noqa: E402
from synthcal.gan.tracking import tracking_curve  # noqa: E402
from synthcal.planning import Plan  # noqa: E402
from synthcal.quality import load_features, openvino_extractor  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="append", required=True, help="label=run folder (repeatable)")
    parser.add_argument("--classifier", required=True, help="FP32 IR (.xml) whose label agreement is measured")
    parser.add_argument("--model", default="akamaster_resnet20", help="its models entry (for the normalisation)")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--extractor", help="FID extractor IR (results/models/inception/extractor.xml)")
    parser.add_argument("--reference", help="real-image features (results/reports/features/reference.npz)")
    parser.add_argument("--fid-every", type=int, default=4, help="FID on every n-th sample (and the last)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--png", required=True)
    args = parser.parse_args()

    mean, std = Plan(load_config(args.config)).grid.mean_std(args.model)
    extractor = openvino_extractor(args.extractor, args.threads) if args.extractor else None
    reference = load_features(args.reference) if args.reference else None
    curves = {}
    for spec in args.run:
        label, _, folder = spec.rpartition("=")
        curves[label or folder] = tracking_curve(Path(folder) / "track", args.classifier, mean, std,
                                                 extractor=extractor, reference=reference,
                                                 fid_every=args.fid_every, threads=args.threads)
    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["run", "step", "n_images", "agreement", "fid"])
        writer.writeheader()
        for label, rows in curves.items():
            writer.writerows({"run": label, **row} for row in rows)
    tracking_curves_chart(curves, args.png)
    for label, rows in curves.items():
        last = rows[-1]
        print(f"{label}: step {last['step']}, agreement {100 * last['agreement']:.1f} %, FID {last['fid']}")


if __name__ == "__main__":
    main()
