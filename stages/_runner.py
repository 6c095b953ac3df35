"""Shared stage plumbing: logging, timing, and user errors without tracebacks."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Callable

from blindspot.errors import BlindspotError


def run(name: str, main: Callable[[logging.Logger], str]) -> None:
    """Run a stage's ``main`` and exit.

    ``main`` returns the one line that says what the stage did; it is logged with
    the elapsed time. A :class:`BlindspotError` becomes ``error: <message>`` on
    stderr and exit status 2; any other exception is a bug and keeps its traceback.
    On success the process ends with ``os._exit(0)``: call ``main`` directly, not
    ``run``, from a process that must go on (tests do).
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
    # Every output is written and closed by now. Leave without the interpreter's teardown
    # (finalising pandas, scipy and matplotlib modules): 0.1-0.3 s a stage, paid seven times
    # a run for nothing (bench/README.md).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
