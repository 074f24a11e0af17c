"""Put the workflow's own ``synthcal`` library first on ``sys.path``.

Every script starts with ``import _synthcal_path`` (Snakemake puts the scripts' folder on ``sys.path``), so the
rules run the library that sits beside them, the code their ``code`` inputs track, in any environment: a venv
with the project installed, or a per-rule conda environment that holds only third-party packages.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path[:1]:
    sys.path.insert(0, ROOT)
