"""The partitions of an input for engine=dask: which files, in which order, numbered from where."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from blindspot.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Partition:
    """One file of the input.

    Attributes
    ----------
    path : str
    offset : int
        Records in the partitions before it: its first record is ``offset + 1``, the number the
        concatenated input gives it.
    rows : int or None
        Records in the file (from the Parquet footer), None for a single file of another format.
    """

    path: str
    offset: int
    rows: int | None


def partition_files(pattern: str) -> list[Path]:
    """The files of ``model.path``, in the order their records are numbered (sorted paths).

    A file is its own single partition (any format). A directory holds its Parquet files at any
    depth; a glob (``*``, ``?``, ``[``) names them. Names starting with ``.`` or ``_`` (``_SUCCESS``,
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


def plan(files: list[Path]) -> list[Partition]:
    """Each file with its first record number, after checking that every partition has the same columns.

    Partitions without a row are left out (they hold no record; the reader refuses an empty
    file), unless every one is empty.

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
        parts.append(Partition(str(path), offset, meta.num_rows))
        offset += meta.num_rows
    kept = [p for p in parts if p.rows]
    return kept or parts[:1]
