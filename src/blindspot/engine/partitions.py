"""The partitions of an input for engine=dask: which files or row groups, in which order, numbered from where."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from blindspot.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")
# Rows above which a Parquet file is split into ranges of row groups: engine=local's batch
# (engine.local.BATCH_ROWS), so a worker holds what engine=local holds at a time. Validating
# generated reviews peaks about 2 KB a row (pass 1 with its clean table: 280 MB for 131,072 rows),
# so a million-row partition would need about 2 GB, the default dask.memory_limit per worker.
PARTITION_ROWS = 1 << 17


@dataclass(frozen=True)
class Partition:
    """One file of the input, or a run of consecutive row groups of one Parquet file.

    Attributes
    ----------
    path : str
    offset : int
        Records in the partitions before it: its first record is ``offset + 1``, the number the
        concatenated input gives it.
    rows : int or None
        Records in the partition (from the Parquet footer), None for a single file of another format.
    row_groups : tuple of (int, int) or None
        (start, stop): the file's row groups ``start`` to ``stop - 1``; None for the whole file.
    """

    path: str
    offset: int
    rows: int | None
    row_groups: tuple[int, int] | None = None


def partition_files(pattern: str) -> list[Path]:
    """The files of ``model.path``, in the order their records are numbered (sorted paths).

    A single file is the whole input (any format; :func:`plan` may split a large Parquet one). A
    directory holds its Parquet files at any depth; a glob (``*``, ``?``, ``[``) names them. Names starting with ``.`` or ``_`` (``_SUCCESS``,
    ``_common_metadata``, checksums) are not data.

    Raises
    ------
    InputError
        The path does not exist, or names no Parquet file.
    """
    path = Path(pattern)
    if any(ch in pattern for ch in "*?["):
        found = [Path(p) for p in glob.glob(pattern, recursive=True)]
    elif path.is_dir():
        found = list(path.rglob("*"))
    elif path.exists():
        return [path]
    else:
        raise InputError(path, "file not found.", hint="check model.path (a file, a directory of Parquet files, or a glob).")
    files = sorted((p for p in found if p.is_file() and p.suffix.lower() in PARQUET_SUFFIXES
                    and not p.name.startswith((".", "_"))), key=str)
    if not files:
        raise InputError(pattern, "no Parquet file found.", expected="files ending in .parquet or .pq",
                         hint="engine=dask reads a Parquet file, a directory of them, or a glob such as data/raw/parts/*.parquet.")
    return files


def row_group_ranges(sizes: list[int], max_rows: int) -> list[tuple[int, int]]:
    """Consecutive row groups gathered into ranges of at most ``max_rows`` rows, in file order.

    A range grows until the next group would take it above ``max_rows``; a group alone above it
    is a range of its own (Parquet reads no less than a row group).

    Parameters
    ----------
    sizes : list of int, shape (n_groups,)
        Rows in each row group of the file.
    max_rows : int

    Returns
    -------
    list of (int, int)
        (start, stop) of each range: together they cover ``0 .. n_groups`` once, in order.
    """
    ranges, start, rows = [], 0, 0
    for k, n in enumerate(sizes):
        if rows and rows + n > max_rows:  # never an empty range: a first group is always taken
            ranges.append((start, k))
            start, rows = k, 0
        rows += n
    return ranges + [(start, len(sizes))] if sizes else []


def _file_partitions(path: Path, meta, offset: int, max_rows: int) -> list[Partition]:
    """The partitions of a Parquet file whose first record is ``offset + 1``: itself, or ranges of its row groups."""
    sizes = [meta.row_group(k).num_rows for k in range(meta.num_row_groups)]
    ranges = row_group_ranges(sizes, max_rows) if meta.num_rows > max_rows else []
    if len(ranges) < 2:  # small enough, or one huge row group: read as the whole file is
        return [Partition(str(path), offset, meta.num_rows)]
    parts = []
    for start, stop in ranges:
        rows = sum(sizes[start:stop])
        parts.append(Partition(str(path), offset, rows, (start, stop)))
        offset += rows
    return parts


def plan(files: list[Path], max_rows: int | None = None) -> list[Partition]:
    """Each file, or range of its row groups, with its first record number; every file with the same columns.

    A Parquet file of more than ``max_rows`` rows (:data:`PARTITION_ROWS` when None) becomes
    several partitions, each a range of consecutive row groups (:func:`row_group_ranges`), so no
    worker validates a large file whole. A row group is the least Parquet reads: a file written as
    one huge row group stays one partition, and a row group above ``max_rows`` is a partition of its
    own (pyarrow's writers, pandas' ``to_parquet`` among them, cut a row group every 1,048,576 rows
    by default). Partitions without a row are left out (they hold no record; the reader refuses
    an empty file), unless every one is empty.

    Returns
    -------
    list of Partition
        In record order: sorted paths, then row groups in file order.

    Raises
    ------
    InputError
        A partition is not Parquet, or its columns (names and Arrow types) differ from the first's:
        validating it alone would judge it by other rules than the whole input.
    """
    if len(files) == 1 and files[0].suffix.lower() not in PARQUET_SUFFIXES:
        return [Partition(str(files[0]), 0, None)]
    import pyarrow as pa
    import pyarrow.parquet as pq

    max_rows = PARTITION_ROWS if max_rows is None else max_rows
    parts, first, offset = [], None, 0
    for path in files:
        try:
            meta = pq.read_metadata(path)
            schema = meta.schema.to_arrow_schema().remove_metadata()
        except (pa.ArrowException, OSError) as exc:
            raise InputError(path, f"cannot read Parquet: {exc}", expected="a Parquet file") from None
        if first is None:
            first = (path, schema)
        elif not schema.equals(first[1]):
            raise InputError(path, f"its columns differ from those of the first partition, {first[0]}.",
                             expected=", ".join(f"{f.name}: {f.type}" for f in first[1]),
                             found=", ".join(f"{f.name}: {f.type}" for f in schema),
                             hint="write every partition with the same schema (a column of nulls only has type null).")
        parts += _file_partitions(path, meta, offset, max_rows)
        offset += meta.num_rows
    kept = [p for p in parts if p.rows]
    return kept or parts[:1]
