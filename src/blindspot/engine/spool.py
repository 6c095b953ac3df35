"""A Parquet file written next to its destination and renamed into place when complete.

Ingest's clean table is written under a temporary name in the destination's directory (same file
system, so the rename is atomic) and only then takes its name: a run that stops or fails midway
leaves the previous file, or none, at the destination, never part of a new one, and removes its
temporary file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable


def partial_next_to(path: str | Path) -> Path:
    """A new empty file beside ``path`` (its directory made if needed), named ``.<name>.<random>.partial``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    return Path(name)


def discard(path: Path | None) -> None:
    """Remove ``path`` if it is there (a temporary file no longer wanted)."""
    if path is not None:
        Path(path).unlink(missing_ok=True)


def write_in_place(path: str | Path, tables: Iterable) -> int:
    """:func:`~blindspot.io.writers.write_parquet_tables` to a temporary file, renamed to ``path`` once complete."""
    from blindspot.io.writers import write_parquet_tables

    partial = partial_next_to(path)
    try:
        written = write_parquet_tables(partial, tables)
        if written:
            os.replace(partial, path)
    finally:
        discard(partial)
    return written
