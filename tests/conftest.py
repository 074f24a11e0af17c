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
