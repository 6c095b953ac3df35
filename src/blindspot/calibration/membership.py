"""Slice membership as the calibrate stage reads it: one bit a row per slice, aligned with the predictions.

``data/interim/slices.parquet`` (from the slice stage) has ``id`` then one boolean column per
slice: ``watch__<key>`` (watchlist) or ``found__<key>`` (discovered). A slice listed under both
prefixes is one slice (``source: "watch+found"``), keyed by :func:`metric_key`. The slice stage
writes the table in the predictions' row order; :func:`rows_of_file` reads the rows of one batch
from it and checks they are that batch's ids, and :func:`slice_table` joins any other table on
``id`` (a prediction absent from it belongs to no slice).
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from blindspot.bits import BitColumns, pack
from blindspot.errors import InputError
from blindspot.io.schema import has_repeats

SLICE_PREFIXES = (("watch__", "watch"), ("found__", "found"))


class SliceTable(BitColumns):
    """Slice membership aligned with the predictions, one bit a row per slice.

    Packed, the membership of a few dozen slices costs a few bytes a row where the
    (n, S) boolean matrix costs S; each use unpacks one slice (:meth:`column`) or the
    listed rows (:meth:`rows`) at a time (:class:`blindspot.bits.BitColumns`).

    Attributes
    ----------
    keys : list of str, length S
    sources : list of str, length S
        ``"watch"``, ``"found"`` or ``"watch+found"``.
    bits : ndarray of uint8, shape (S, ceil(n / 8))
        Row ``j`` is slice ``j``'s membership, :func:`numpy.packbits` of a bool (n,).
    n : int
        Rows.
    """

    def __init__(self, keys: Sequence[str], sources: Sequence[str], bits: np.ndarray, n: int):
        super().__init__(bits, n)
        self.keys = list(keys)
        self.sources = list(sources)


def metric_key(name: str) -> str:
    """A name usable as a metrics key: DVC splits keys on dots, so dots become underscores."""
    return str(name).replace(".", "_")


def slice_table(ids, slices: pd.DataFrame | None, *, source: str = "slices") -> SliceTable:
    """Align a slice-membership frame with prediction ids (see module docstring).

    Parameters
    ----------
    ids : array_like of str, shape (n,)
        Prediction ids, in row order.
    slices : DataFrame or None
        ``id`` plus ``watch__<key>`` / ``found__<key>`` boolean columns.
    source : str
        Name used in error messages (the file path).

    Raises
    ------
    InputError
        When ``slices`` has no ``id`` column or repeats an id.
    """
    n = len(ids)
    if slices is None:
        return SliceTable([], [], BitColumns.empty(n).bits, n)
    if "id" not in slices.columns:
        raise InputError(source, "the slice table has no 'id' column.", expected="columns id, watch__<key>..., found__<key>...",
                         found=", ".join(map(str, slices.columns[:8])) or "(no columns)")
    sid = _arrow_ids(slices["id"], lambda v: v.astype(str))
    if has_repeats(sid):  # the message's names only when the check fails
        names = pd.Index(sid.to_numpy(zero_copy_only=False))
        dup = names[names.duplicated()]
        raise InputError(source, f"the slice table repeats {dup.nunique()} id(s).", field="id",
                         expected="one row per prediction id", found=f"{dup[0]!r} more than once")
    position = _slice_rows(_arrow_ids(ids, lambda v: np.asarray(v).astype(str)), sid)
    found = None if position is None else position >= 0
    # Each key's membership is built one column at a time and packed to a bit a row (a million rows by a
    # few dozen slices: a few MB, not one byte a cell).
    keys, sources, merged = slice_columns(slices.columns)

    def column(col) -> np.ndarray:
        given = slices[col].fillna(False).to_numpy(dtype=bool)
        if found is None:
            return given
        aligned = np.zeros(n, dtype=bool)  # a prediction absent from the slice table is in no slice
        aligned[found] = given[position[found]]
        return aligned

    return SliceTable(keys, sources, _packed(merged, column, n), n)


def _packed(merged: dict, column: Callable[[str], np.ndarray], n: int) -> np.ndarray:
    """Each slice's membership, the union of its columns (``column(name)``: bool, shape (n,)), packed a bit a
    row, built one slice at a time: uint8 shape (S, ceil(n / 8))."""
    bits = BitColumns.empty(n, len(merged)).bits
    for j, cols in enumerate(merged.values()):
        member = np.zeros(n, dtype=bool)
        for col in cols:
            member |= column(col)
        bits[j] = pack(member, n)
    return bits


def _arrow_ids(values, as_str: Callable) -> pa.ChunkedArray:
    """Ids as one Arrow large_string chunked array, shape (n,).

    A column read from Parquet is Arrow already (``string[pyarrow]``, or an Arrow string
    dtype): it is used as it is, with no Python string per row (a million of them are about
    70 MB) and its chunks are not joined (a copy of every id, about 23 bytes a row, held beside
    the column: at 10M rows the slice table's and the predictions' were the stage's peak).
    Anything else becomes text as before the lookup was Arrow's: unchanged when every value is
    a str, else through ``as_str(values)``.
    """
    if _arrow_strings(getattr(values, "dtype", None)) and not values.hasnans:
        arr = pa.array(values)
    else:
        objects = np.asarray(values, dtype=object)
        if pd.api.types.infer_dtype(objects, skipna=False) not in ("string", "empty"):
            objects = np.asarray(as_str(values), dtype=object)
        arr = pa.array(objects, type=pa.large_string())
    arr = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return arr.cast(pa.large_string())


def _arrow_strings(dtype) -> bool:
    """Whether a pandas dtype keeps its values as one Arrow string array."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                 or pa.types.is_large_string(dtype.pyarrow_dtype))


def _slice_rows(ids: pa.ChunkedArray, sid: pa.ChunkedArray) -> np.ndarray | None:
    """Row of the slice table holding each prediction id, -1 where none, shape (n,); None when row i holds id i.

    The slice stage writes its table in the predictions' row order, so the ids usually match
    one for one and need no lookup (None: no position array either); otherwise one hash
    lookup serves every column (not one per column).
    """
    if len(sid) == len(ids) and sid.equals(ids):  # value by value, whatever the two chunkings
        return None
    return pc.index_in(ids, value_set=sid.combine_chunks()).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def slice_columns(names: Sequence) -> tuple[list[str], list[str], dict]:
    """The slices a table's columns make (module docstring).

    Returns
    -------
    keys : list of str, length S
        Sorted metric keys.
    sources : list of str, length S
        ``"watch"``, ``"found"`` or ``"watch+found"``.
    merged : dict key -> list of str
        The columns whose union is each slice.
    """
    kinds: dict[str, set] = {}
    merged: dict[str, list] = {}
    for col in names:
        for prefix, kind in SLICE_PREFIXES:
            if str(col).startswith(prefix):
                key = metric_key(str(col)[len(prefix):])
                merged.setdefault(key, []).append(str(col))
                kinds.setdefault(key, set()).add(kind)
    keys = sorted(merged)
    sources = ["+".join(sorted(kinds[k], key=("watch", "found").index)) for k in keys]
    return keys, sources, {k: merged[k] for k in keys}


class SlicesNotAligned(Exception):
    """The slice table's rows are not the predictions' rows in order (:func:`rows_of_file`)."""


# The row group of the slice table read last in this process: a batch is smaller than a row group of
# the slice table (a million rows), so consecutive batches read the same one. (path, mtime, index) -> table.
_LAST_GROUP: dict = {}


def _row_group(source: pq.ParquetFile, path: str, index: int, columns: list) -> pa.Table:
    """Row group ``index`` of the table at ``path`` (``source``), its ``columns``: read again only when another is wanted."""
    key = (path, os.stat(path).st_mtime_ns, index, tuple(columns))
    if key not in _LAST_GROUP:
        _LAST_GROUP.clear()
        _LAST_GROUP[key] = source.read_row_group(index, columns=columns)
    return _LAST_GROUP[key]


def forget_row_group() -> None:
    """Let the row group :func:`rows_of_file` read last go (once every batch is made)."""
    _LAST_GROUP.clear()


def rows_of_file(path: str, start: int, ids, merged: dict) -> BitColumns:
    """Slice membership of the predictions' rows ``start`` to ``start + len(ids)``, read from ``path``.

    Parameters
    ----------
    path : str
        The slice table, written in the predictions' row order.
    start : int
        Position of the batch's first row.
    ids : Series or array_like of str, shape (n,)
        The batch's ids: the table's rows there must hold them, in order.
    merged : dict key -> list of str
        :func:`slice_columns`' third value, in key order.

    Returns
    -------
    BitColumns, shape (n, S)

    Raises
    ------
    SlicesNotAligned
        When the table is shorter or holds other ids there.
    """
    n = len(ids)
    columns = ["id", *sorted({c for cols in merged.values() for c in cols})]
    parts, at = [], 0
    with pq.ParquetFile(path) as source:
        meta = source.metadata
        for index in range(meta.num_row_groups):
            size = meta.row_group(index).num_rows
            lo, hi = max(start, at), min(start + n, at + size)
            if lo < hi:
                parts.append(_row_group(source, path, index, columns).slice(lo - at, hi - lo))
            at += size
            if at >= start + n:
                break
    table = pa.concat_tables(parts) if parts else None
    if table is None or table.num_rows != n:
        raise SlicesNotAligned(f"rows {start} to {start + n} are not all in {path}")
    # The batch's ids as Arrow text, as slice_table compares them (no Python string a row)
    mine = _arrow_ids(ids, lambda v: np.asarray(v).astype(str))
    if not table.column("id").cast(pa.large_string()).equals(mine):
        raise SlicesNotAligned(f"rows {start} to {start + n} of {path} hold other ids")

    def column(col) -> np.ndarray:
        return table.column(col).fill_null(False).to_numpy(zero_copy_only=False).astype(bool)

    return BitColumns(_packed(merged, column, n), n)
