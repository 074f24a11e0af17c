"""The worked example of docs/example.md: a CIFAR-10 classifier the workflow does not know, trained for a few CPU
minutes and exported to ONNX, as a user would bring their own model.

    pip install onnx   # torch.onnx.export needs it; the workflow itself reads ONNX with OpenVINO alone
    python tools/example_small_cnn.py --data ../shared/data/cifar10-jpeg.tar.gz --out resources/example/small_cnn.onnx

Prints one JSON line per epoch (PyTorch test accuracy) and the ONNX file's sha256.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import nn
from train_classifier import add_data_arguments, training_splits  # the tool beside this one

from synthcal.config import NORMALIZATIONS
from synthcal.io import file_digest
from synthcal.models.training import ClassifierTraining, train_classifier
from synthcal.schema import default_settings


def small_cnn() -> nn.Module:
    """A user's own network: three convolution blocks with BatchNorm, global pooling, one linear layer."""
    def block(cin: int, cout: int, stride: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

    return nn.Sequential(block(3, 32, 1), block(32, 64, 2), block(64, 128, 2), block(128, 128, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arguments(parser)
    parser.add_argument("--out", default="resources/example/small_cnn.onnx")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    splits = training_splits(args)
    mean, std = NORMALIZATIONS["cifar10"]
    model = small_cnn()
    settings = default_settings(ClassifierTraining, epochs=args.epochs, lr=0.05)
    for row in train_classifier(model, splits["train"], mean, std, settings,
                                test=splits["test"]):
        print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model.eval(), (torch.zeros(1, 3, 32, 32),), str(out), dynamo=False, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(json.dumps({"onnx": str(out), "sha256": file_digest(out)}))


if __name__ == "__main__":
    main()
