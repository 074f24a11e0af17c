"""Write stand-in checkpoints (random weights, non-trivial BatchNorm statistics) for the paper's five
architectures in the chenyaofo zoo's layout, so that the paper's model grid runs offline (configs/benchmark.yaml).

    python tools/stand_in_weights.py [resources/stand-in]

The weights are random: accuracies mean nothing, costs (time, memory) are those of the real models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from synthcal.models import PAPER_ARCHITECTURES, stand_in_checkpoint


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default="resources/stand-in", help="folder for the checkpoints")
    out = Path(parser.parse_args(argv).out)
    for k, arch in enumerate(PAPER_ARCHITECTURES):
        path = stand_in_checkpoint(arch, out / f"{arch}.pt", seed=k)
        print(f"{arch}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
