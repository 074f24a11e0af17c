"""Measure GAN training throughput (images/s) for given network widths and settings, on random data.

    python tools/benchmark_gan_training.py --mode distill --ngf 256 --ndf 128 --batch-size 128 --iterations 6

Trains two epochs of ``--iterations`` steps each through the real trainer (synthcal.gan.loop.Trainer) and reports
the second epoch's images/s, so that allocation and warm-up are excluded. Prints one JSON line per configuration.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from synthcal.gan.loop import Trainer, TrainingData
from synthcal.gan.networks import resolve_device
from synthcal.schema import section_defaults
from synthcal.settings import gan_training


def measure(mode: str, ngf: int, ndf: int, batch_size: int, iterations: int, device: str, threads: int,
            channels_last: bool = False, discriminator: str = "distylegan", ema: float = 0.0,
            diffaugment: str = "") -> dict:
    torch.set_num_threads(threads)
    n = batch_size * iterations
    gen = np.random.default_rng(0)
    real = TrainingData(gen.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), gen.integers(0, 10, n))
    teacher = TrainingData(gen.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), gen.integers(0, 10, n),
                           gen.random((n, 512), dtype=np.float32)) if mode == "distill" else None
    extra = {"discriminator": discriminator, "diffaugment": diffaugment} if mode == "gan" else {}
    section = section_defaults("teacher.trained" if mode == "gan" else "distylegan")
    settings = gan_training({**section, "epochs": 2, "batch_size": batch_size, "ngf": ngf, "ndf": ndf,
                             "channels_last": channels_last, "ema": ema, "z_dim": 512, **extra}, mode, seed=0)
    history = Trainer(settings, real, teacher, device=device, progress=False).run().history
    return {"mode": mode, "ngf": ngf, "ndf": ndf, "batch_size": batch_size, "device": str(resolve_device(device)),
            "threads": threads, "channels_last": channels_last, "iterations": iterations, "ema": ema,
            **extra,
            "images_per_s": history[-1]["images_per_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["distill", "gan"], default="distill")
    parser.add_argument("--ngf", type=int, nargs="+", default=[256])
    parser.add_argument("--ndf", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--discriminator", choices=["distylegan", "projection"], default="distylegan",
                        help="the plain GAN's discriminator (--mode gan only)")
    parser.add_argument("--ema", type=float, default=0.0, help="generator weight moving-average decay (0: none)")
    parser.add_argument("--diffaugment", default="", help='DiffAugment policy, e.g. "color,translation,cutout" (gan)')
    args = parser.parse_args()
    for ngf in args.ngf:
        print(json.dumps(measure(args.mode, ngf, args.ndf, args.batch_size, args.iterations, args.device,
                                 args.threads, args.channels_last, args.discriminator, args.ema,
                                 args.diffaugment)), flush=True)


if __name__ == "__main__":
    main()
