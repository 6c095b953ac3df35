"""The validated table's metadata columns, read a batch at a time where the batches are.

The slice stage's metadata predicates (:mod:`blindspot.slices.columns`) take two passes
over the file's batches, each a :func:`blindspot.engine.batches.map_batches`: so with
``engine: dask`` both run on the workers, one row group per task, and the stage's own process
never holds a metadata column of every row.

1. :meth:`FileMetadata.summaries`: each batch's :class:`~blindspot.slices.columns.ColumnSummary`
   of every column, merged in row order (value counts, never rows).
2. :meth:`FileMetadata.bits`: once the predicates are fixed, each batch's rows of every one,
   packed a bit a row (:class:`blindspot.bits.BitColumns`), joined in row order.

A batch must read each column as the whole column reads: pandas gives a boolean column
with a missing value somewhere the object dtype (``True``/``False``/``None``), but a batch
without one the bool dtype, and a category is compared by its text (``"True"`` against
``"true"``). :func:`nullable_booleans` finds those columns from the file's footer, and each
batch casts them.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from blindspot.bits import BitColumns, pack
from blindspot.io.readers import PREDICTION_BATCH_ROWS
from blindspot.io.schema import META_PREFIX
from blindspot.slices.columns import ColumnSummary, MetadataRules, merge_summaries


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


def _as_whole(frame: pd.DataFrame, casts: tuple) -> pd.DataFrame:
    """A batch's columns in the dtypes the whole column has (see the module docstring)."""
    for name in casts:
        if name in frame.columns and frame[name].dtype != object:
            frame[name] = frame[name].astype(object)
    return frame


def batch_summaries(frame: pd.DataFrame, *, n_quantiles: int, casts: tuple = ()) -> dict:
    """Raw column name -> :class:`ColumnSummary` of one batch's ``meta__`` columns."""
    frame = _as_whole(frame, casts)
    return {c[len(META_PREFIX):]: ColumnSummary.of(c[len(META_PREFIX):], frame[c], n_quantiles)
            for c in frame.columns if str(c).startswith(META_PREFIX)}


def batch_bits(frame: pd.DataFrame, *, rules: MetadataRules, casts: tuple = ()) -> BitColumns:
    """One batch's rows of every predicate of ``rules``, a bit a row: BitColumns (m, P)."""
    frame = _as_whole(frame, casts)
    m = len(frame)
    return BitColumns.stacked([pack(mask, m) for mask in rules.masks(frame)], m)


class FileMetadata:
    """The ``meta__`` columns of the validated table, summarised and evaluated a batch at a time.

    Parameters
    ----------
    path : str or Path
        The validated table.
    engine : {"local", "dask"}
    dask : DaskConfig, optional
    batch_rows : int
        Rows a batch with ``engine: local`` (Dask's batches are the file's row groups).
    """

    def __init__(self, path: str | Path, *, engine: str = "local", dask=None,
                 batch_rows: int = PREDICTION_BATCH_ROWS):
        import pyarrow.parquet as pq

        self.path, self.engine, self.dask, self.batch_rows = Path(path), engine, dask, batch_rows
        schema = pq.read_schema(self.path)
        self.names = [n[len(META_PREFIX):] for n in schema.names if n.startswith(META_PREFIX)]
        self.n = pq.read_metadata(self.path).num_rows
        self.casts = nullable_booleans(self.path) if self.names else ()

    def _map(self, fn) -> list:
        from blindspot.engine.batches import map_batches

        return map_batches(self.path, [], fn, prefixes=[META_PREFIX], engine=self.engine, dask=self.dask,
                           batch_rows=self.batch_rows)

    def summaries(self, n_quantiles: int) -> dict:
        """Raw column name -> :class:`ColumnSummary` of every row, in the file's column order."""
        if not self.names:
            return {}
        merged = merge_summaries(self._map(partial(batch_summaries, n_quantiles=n_quantiles, casts=self.casts)))
        return {name: merged[name] for name in self.names}

    def bits(self, rules: MetadataRules) -> BitColumns:
        """Every row of every predicate of ``rules``: BitColumns (n, P)."""
        n_preds = sum(rule.width for rule in rules.rules)
        if not n_preds or not self.n:
            return BitColumns.empty(self.n, n_preds)
        return BitColumns.concat(self._map(partial(batch_bits, rules=rules, casts=self.casts)))

    def rows_of(self, rule) -> list[np.ndarray]:
        """A column rule's masks over every row (:attr:`blindspot.slices.features.PredicateTable.rows_of`)."""
        bits = self.bits(MetadataRules(rules=[rule]))
        return [bits.column(j) for j in range(bits.shape[1])]
