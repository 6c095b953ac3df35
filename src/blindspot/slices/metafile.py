"""The validated table's metadata columns, read a batch at a time as the whole columns read.

The slice audit reads each batch's ``meta__`` columns where the batch is kept
(:mod:`blindspot.slices.batch`): once for their summaries, once for their predicates' rows.
A batch must read each column as the whole column reads: pandas gives a boolean column
with a missing value somewhere the object dtype (``True``/``False``/``None``), but a batch
without one the bool dtype, and a category is compared by its text (``"True"`` against
``"true"``). :func:`nullable_booleans` finds those columns from the file's footer, and each
batch casts them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from blindspot.io.schema import META_PREFIX


def nullable_booleans(path: str | Path) -> tuple[str, ...]:
    """The ``meta__`` columns of ``path`` stored as booleans with a missing value in some row group.

    Read from the row groups' statistics where the file has them, else from the column itself,
    one row group at a time.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as source:
        schema = source.schema_arrow
        names = [f.name for f in schema if f.name.startswith(META_PREFIX) and pa.types.is_boolean(f.type)]
        found = []
        for name in names:
            j = schema.get_field_index(name)
            for group in range(source.metadata.num_row_groups):
                stats = source.metadata.row_group(group).column(j).statistics
                if stats is not None and stats.has_null_count:
                    nulls = stats.null_count
                else:
                    nulls = source.read_row_group(group, columns=[name]).column(0).null_count
                if nulls:
                    found.append(name)
                    break
    return tuple(found)


def as_whole(frame: pd.DataFrame, casts: tuple) -> pd.DataFrame:
    """A batch's columns in the dtypes the whole column has: each of ``casts`` (:func:`nullable_booleans`)
    as objects (see the module docstring)."""
    for name in casts:
        if name in frame.columns and frame[name].dtype != object:
            frame[name] = frame[name].astype(object)
    return frame
