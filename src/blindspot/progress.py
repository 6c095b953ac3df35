"""Progress lines on stderr for long work, and silence for short work.

A stage that reads half a million rows should not look hung for half a minute; a
stage that reads a thousand should print nothing but its summary. :class:`Progress`
prints ``<what>: <done> of <total> rows (<rate> rows/s, <elapsed> s)`` at most every
``every_s`` seconds, and only when the work is at least ``min_rows`` rows. It writes
to stderr only: no output file depends on it.

    progress = Progress("reading data/raw/big.jsonl", total=n_lines)
    for k, line in enumerate(lines, 1):
        ...
        if k % 4096 == 0:        # a clock read per 4,096 rows costs nothing
            progress.update(k)
    progress.finish(n_lines)
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

MIN_ROWS = 100_000  # below this the work takes a few seconds at most: print nothing
EVERY_S = 2.0  # at most one line per this many seconds


class Progress:
    """Rate-limited progress reporter for work over many rows.

    Parameters
    ----------
    what : str
        What is being done, e.g. ``"reading data/raw/x.jsonl"`` (the same lines serve ingest and compare).
    total : int, optional
        Rows expected; None when unknown (then only rows done are shown).
    min_rows : int
        No line at all unless ``total`` (or, when unknown, the rows done) reaches this.
    every_s : float
        Minimum seconds between two lines; the first line waits this long too, so
        work that ends sooner prints nothing.
    stream : text stream, optional
        Where lines go (default: ``sys.stderr`` at the time of each write).
    clock : callable
        Seconds, monotonic (injectable for tests).
    """

    def __init__(self, what: str, total: int | None = None, *, min_rows: int = MIN_ROWS, every_s: float = EVERY_S,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.what = what
        self.total = total
        self.min_rows = min_rows
        self.every_s = every_s
        self.stream = stream
        self.clock = clock
        self.start = clock()
        self.last = self.start
        self.lines = 0  # lines written so far

    def _big(self, done: int) -> bool:
        size = self.total if self.total is not None else done
        return size >= self.min_rows

    def line(self, done: int, now: float) -> str:
        """The text of one progress line (without newline)."""
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        of = f" of {self.total:,}" if self.total is not None else ""
        return f"{self.what}: {done:,}{of} rows ({rate:,.0f} rows/s, {elapsed:.1f} s)"

    def _write(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        print(text, file=stream, flush=True)
        self.lines += 1

    def update(self, done: int) -> None:
        """Report ``done`` rows if the work is big and the last line is old enough."""
        now = self.clock()
        if now - self.last >= self.every_s and self._big(done):
            self.last = now
            self._write(self.line(done, now))

    def step(self, k: int, of: int, name: str) -> None:
        """For work done in whole-table passes: ``<what>: <name> (step k of n, <elapsed> s)``, rate-limited alike."""
        now = self.clock()
        if now - self.last >= self.every_s and self._big(0):
            self.last = now
            self._write(f"{self.what}: {name} (step {k} of {of}, {now - self.start:.1f} s)")

    def finish(self, done: int) -> None:
        """Close with a last line, only if an earlier line was printed (else stay silent)."""
        if self.lines:
            self._write(self.line(done, self.clock()) + " done")
