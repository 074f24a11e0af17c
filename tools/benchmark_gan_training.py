"""Measure GAN training throughput (images/s) for given network widths, on random data.

    python tools/benchmark_gan_training.py --mode distill --ngf 256 --ndf 128 --batch-size 128 --iterations 6

Prints one JSON line per configuration. The first iteration (allocation, kernel selection) is excluded.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from synthcal.gan.networks import resolve_device
from synthcal.gan.train import Trainer, TrainingData, TrainSettings


def measure(mode: str, ngf: int, ndf: int, batch_size: int, iterations: int, device: str, threads: int) -> dict:
    torch.set_num_threads(threads)
    n = batch_size * (iterations + 1)
    gen = np.random.default_rng(0)
    real = TrainingData(gen.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), gen.integers(0, 10, n))
    teacher = TrainingData(gen.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), gen.integers(0, 10, n),
                           gen.random((n, 512), dtype=np.float32)) if mode == "distill" else None
    settings = TrainSettings(mode=mode, epochs=1, batch_size=batch_size, ngf=ngf, ndf=ndf)
    times: list[float] = []

    trainer = Trainer(settings, real, teacher, device=device, progress=False)
    step_name = "_distill_step" if mode == "distill" else "_gan_step"
    step = getattr(trainer, step_name)

    def timed_step(*args, **kwargs):
        t0 = time.perf_counter()
        out = step(*args, **kwargs)
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        return out

    setattr(trainer, step_name, timed_step)
    trainer.run()
    steady = times[1:]
    return {"mode": mode, "ngf": ngf, "ndf": ndf, "batch_size": batch_size, "device": str(resolve_device(device)),
            "threads": threads, "iterations": len(steady),
            "images_per_s": round(batch_size * len(steady) / sum(steady), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["distill", "gan"], default="distill")
    parser.add_argument("--ngf", type=int, nargs="+", default=[256])
    parser.add_argument("--ndf", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    for ngf in args.ngf:
        print(json.dumps(measure(args.mode, ngf, args.ndf, args.batch_size, args.iterations, args.device,
                                 args.threads)), flush=True)


if __name__ == "__main__":
    main()
