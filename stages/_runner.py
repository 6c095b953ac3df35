"""Shared stage plumbing: logging, timing, and user errors without tracebacks."""

from __future__ import annotations

import logging
import sys
import time
from typing import Callable

from blindspot.errors import BlindspotError


def run(name: str, main: Callable[[logging.Logger], str]) -> None:
    """Run a stage's ``main`` and exit.

    ``main`` returns the one line that says what the stage did; it is logged with
    the elapsed time. A :class:`BlindspotError` becomes ``error: <message>`` on
    stderr and exit status 2; any other exception is a bug and keeps its traceback.
    """
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    log = logging.getLogger(name)
    start = time.perf_counter()
    try:
        summary = main(log)
    except BlindspotError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    log.info("%s (%.1f s)", summary, time.perf_counter() - start)
    sys.exit(0)
