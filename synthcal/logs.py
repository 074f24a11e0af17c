"""Logging for workflow steps: messages go to the rule's log file and to stderr (progress bars to stderr)."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

#: Logging set-up changes no output: not a rerun trigger (synthcal.codedeps).
AFFECTS_OUTPUTS = False

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def step_logging(log_path: str | Path | None, name: str = "synthcal") -> Iterator[logging.Logger]:
    """Configure logging for one workflow step; a failure is logged with its traceback, then re-raised."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format=FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.(trace|load).*is deprecated", category=FutureWarning)
    logger = logging.getLogger(name)
    nncf_logger = logging.getLogger("nncf")  # NNCF logs to its own stdout handler only: copy it into the log file
    extra = handlers[1:]
    for handler in extra:
        handler.setFormatter(logging.Formatter(FORMAT))
        nncf_logger.addHandler(handler)
    try:
        yield logger
    except Exception:
        logger.exception("step failed")
        raise
    finally:
        for handler in handlers:
            handler.flush()
        for handler in extra:
            nncf_logger.removeHandler(handler)
