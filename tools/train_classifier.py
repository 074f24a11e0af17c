"""Train a built-in CIFAR-10 classifier for a few epochs on a CIFAR-10 copy and save its checkpoint (zoo layout,
a bare state_dict), e.g. a depthwise model offline where no trained weights can be downloaded:

    python tools/train_classifier.py --data ../shared/data/cifar10-jpeg.tar.gz --arch mobilenetv2_x1_4 \\
        --epochs 4 --out resources/trained/mobilenetv2_x1_4.pt

Prints one JSON line per epoch (mean loss, seconds, PyTorch test accuracy) and the checkpoint's sha256, which a
``models`` entry can name (``weights: {path: ..., sha256: ...}``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from synthcal.config import NORMALIZATIONS
from synthcal.cpus import limit_cpus
from synthcal.data import load_cifar10
from synthcal.io import atomic_path, file_digest
from synthcal.models import build
from synthcal.models.training import ClassifierTraining, train_classifier
from synthcal.schema import default_settings


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data`` (a CIFAR-10 copy) and ``--threads``, shared by the tools that train a classifier."""
    parser.add_argument("--data", required=True, help="a CIFAR-10 copy in any layout the workflow reads")
    parser.add_argument("--threads", type=int, default=2)


def training_splits(args: argparse.Namespace) -> dict:
    """Bound this process to ``args.threads`` CPUs and read the CIFAR-10 copy's splits."""
    limit_cpus(args.threads)
    torch.set_num_threads(args.threads)
    return load_cifar10(args.data).splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--arch", required=True, help="a built-in architecture (synthcal.models.ARCHITECTURES)")
    parser.add_argument("--out", required=True, help="checkpoint to write (.pt)")
    parser.add_argument("--normalization", default="cifar10", choices=sorted(NORMALIZATIONS))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    splits = training_splits(args)
    mean, std = NORMALIZATIONS[args.normalization]
    model = build(args.arch)
    settings = default_settings(ClassifierTraining, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                seed=args.seed)
    for row in train_classifier(model, splits["train"], mean, std, settings, test=splits["test"]):
        print(json.dumps(row), flush=True)
    with atomic_path(args.out) as tmp:
        torch.save(model.eval().state_dict(), tmp)
    print(json.dumps({"checkpoint": str(Path(args.out)), "sha256": file_digest(args.out)}))


if __name__ == "__main__":
    main()
