import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import SHARED  # noqa: E402


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real inputs beside the checkout; tests that need them skip when they are absent."""
    if not (SHARED / "data" / "cifar10-jpeg.tar.gz").exists():
        pytest.skip(f"real inputs not found at {SHARED} (../shared); skipping the real-data test")
    return SHARED


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """The tiny generated project, run once by the real snakemake (see workflow_helpers.build_project)."""
    from workflow_helpers import build_project

    return build_project(tmp_path_factory.mktemp("wf"))


@pytest.fixture(scope="session")
def resnet20_ir(tmp_path_factory) -> tuple[Path, Path]:
    """(weights, FP32 IR) of a randomly initialised ResNet-20, converted once per session."""
    from synthcal.convert import convert

    from helpers import random_weights

    tmp = tmp_path_factory.mktemp("resnet20")
    weights = random_weights("resnet20", tmp / "w.pt")
    convert("resnet20", weights, tmp / "fp32.xml")
    return weights, tmp / "fp32.xml"
