"""Stable writers: the same data always gives the same bytes.

DVC compares outputs by hash and ``dvc metrics diff`` compares metrics files by key,
so every writer here is deterministic: keys sorted (``schema_version`` first), floats
rounded, numpy scalars turned into Python ones, NaN written as ``null`` (DVC drops
nulls rather than diffing them).

Floats keep ``digits`` decimal places, except p and q values (keys ending in
``p_value`` or ``q_value``), which keep ``digits`` significant digits: a p value of
1e-52 is evidence, and six decimal places would write it as 0.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

SCHEMA_VERSION = 2  # 2: every number with an interval is one {value, ci_low, ci_high, method} object
FLOAT_DIGITS = 6
SIGNIFICANT_KEYS = ("p_value", "q_value")  # keys whose floats keep significant digits


def clean_for_json(value: Any, digits: int | None = FLOAT_DIGITS, *, significant: bool = False) -> Any:
    """Recursively convert ``value`` into plain, stable JSON data.

    Mappings get sorted string keys, floats are rounded to ``digits`` places (to
    ``digits`` significant digits under a key ending in one of :data:`SIGNIFICANT_KEYS`,
    or when ``significant``), NaN and infinities become ``None``, numpy and pandas
    scalars become Python scalars, tuples and arrays become lists. ``digits=None``
    keeps floats exactly.
    """
    if isinstance(value, Mapping):
        return {str(k): clean_for_json(value[k], digits, significant=significant or str(k).endswith(SIGNIFICANT_KEYS))
                for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return [clean_for_json(v, digits, significant=significant) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return None
        if digits is None:
            rounded = value
        elif significant:
            rounded = float(f"{value:.{digits}g}")
        else:
            rounded = round(value, digits)
        return 0.0 if rounded == 0 else rounded  # no "-0.0" to flip a diff
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, Path)):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r}")


def dumps_metrics(metrics: Mapping[str, Any], digits: int = FLOAT_DIGITS) -> str:
    """Serialise a metrics mapping with ``schema_version`` first and sorted keys."""
    body = clean_for_json(dict(metrics), digits)
    body.pop("schema_version", None)
    ordered = {"schema_version": SCHEMA_VERSION, **body}
    return json.dumps(ordered, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_metrics(path: str | Path, metrics: Mapping[str, Any], digits: int = FLOAT_DIGITS) -> Path:
    """Write a metrics file for ``dvc metrics`` (see :func:`dumps_metrics`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_metrics(metrics, digits), encoding="utf-8")
    return path


def write_json(path: str | Path, data: Any, digits: int = FLOAT_DIGITS) -> Path:
    """Write any JSON document (a list of findings, a table) stably."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(clean_for_json(data, digits), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]], digits: int | None = FLOAT_DIGITS) -> int:
    """Write one compact JSON object per line; returns the number of lines."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(clean_for_json(row, digits), ensure_ascii=False, allow_nan=False))
            fh.write("\n")
            count += 1
    return count


def write_parquet(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write a frame to Parquet without its index (pyarrow output is deterministic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    return path


FRAME_ROW_GROUP_ROWS = 1 << 20  # rows per row group of a frame written by write_parquet (pyarrow's default)


def write_parquet_chunks(path: str | Path, template: pd.DataFrame, n: int, chunks: Iterable) -> Path:
    """Write a table given a row group at a time: the same bytes as :func:`write_parquet` of the whole frame.

    Parameters
    ----------
    path : str or Path
    template : DataFrame with no row
        The columns, in order, and their dtypes (so the file's schema and pandas metadata are
        those of the whole frame).
    n : int
        Rows in all.
    chunks : iterable of dict of str to array_like
        Consecutive rows, each :data:`FRAME_ROW_GROUP_ROWS` rows but the last (a row group
        each, as pyarrow cuts a whole frame), every column of ``template`` (Arrow or numpy).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if n == 0:
        return write_parquet(path, template)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.Schema.from_pandas(template, preserve_index=False)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in chunks:
            arrays = [pa.array(chunk[f.name], type=f.type) if not isinstance(chunk[f.name], (pa.Array, pa.ChunkedArray))
                      else chunk[f.name].cast(f.type) for f in schema]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=FRAME_ROW_GROUP_ROWS)
    return path


ROW_GROUP_ROWS = 1 << 17  # rows in each row group of a table written in parts (readers then decode a group at a time)


def write_parquet_tables(path: str | Path, tables: Iterable, row_group_rows: int = ROW_GROUP_ROWS) -> int:
    """Write Arrow tables (None skipped) one after another as one Parquet file; returns the rows written.

    The rows are cut into row groups of ``row_group_rows`` whatever the tables' own sizes, and each
    group is written as one chunk per column (the writer ends a data page at each chunk), so the
    file's bytes depend only on the rows and the schema, not on how they arrived: ingest writes the
    same file from one table, from batches or from Dask partitions. At most one table and one group
    are held at a time. Every table must have the first one's schema, whose metadata (pandas') is
    the file's; compression as :func:`write_parquet`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer, pending, written = None, None, 0

    def flush(group) -> None:
        writer.write_table(group.combine_chunks(), row_group_size=row_group_rows)

    try:
        for table in tables:
            if table is None or table.num_rows == 0:
                continue
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            pending = table if pending is None else pa.concat_tables([pending, table])
            while pending.num_rows >= row_group_rows:
                flush(pending.slice(0, row_group_rows))
                pending = pending.slice(row_group_rows)
            written += table.num_rows
        if pending is not None and pending.num_rows:
            flush(pending)
    finally:
        if writer is not None:
            writer.close()
    return written
