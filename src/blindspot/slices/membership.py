"""The slice table (``data/interim/slices.parquet``): which rows each watched or found slice holds.

One boolean column per watchlist slice (``watch__<key>``) and per reported discovered slice
or error term (``found__<key>``), after the rows' ``id``. Its columns are not held all at
once: each is a function of a range of rows (a watchlist mask's rows, the conjunction of
predicate columns, an error term's mask), so the stage writes the table a row group at a
time (:func:`blindspot.io.writers.write_parquet_chunks`) and holds one group's columns at
most: at ten million rows and 40 slices that is 40 MB a group instead of 400 MB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from blindspot.bits import BitColumns

ID = "id"


@dataclass
class Membership:
    """The slice table's columns as functions of a range of rows.

    Attributes
    ----------
    n : int
        Rows.
    columns : dict of str to callable
        Column name -> ``f(rows: slice) -> ndarray of bool, shape (len(rows),)``, in the
        table's order (after ``id``).
    ids : Series, optional
        The rows' ids, when the audited table held them (a library call); the stage reads
        them from the file as it writes.
    """

    n: int
    columns: dict = field(default_factory=dict)
    ids: pd.Series | None = None

    def template(self) -> pd.DataFrame:
        """The table with no row: its column names and dtypes (``id`` as the string dtype)."""
        out = {ID: pd.Series([], dtype="string")}
        out.update({name: pd.Series([], dtype=bool) for name in self.columns})
        return pd.DataFrame(out)

    def chunk(self, rows: slice) -> dict:
        """Every column but ``id`` for ``rows``: dict of str to ndarray of bool."""
        return {name: np.asarray(fn(rows), dtype=bool) for name, fn in self.columns.items()}

    def chunks(self, size: int) -> Iterator[tuple[slice, dict]]:
        """``(rows, chunk(rows))`` for consecutive ranges of ``size`` rows."""
        for lo in range(0, self.n, size):
            rows = slice(lo, min(lo + size, self.n))
            yield rows, self.chunk(rows)

    def frame(self) -> pd.DataFrame:
        """The whole table (ids from :attr:`ids`): for a library call or a test, not the stage."""
        if self.ids is None:
            raise ValueError("the audited table had no id column: the slice table's ids come from the file.")
        out = {ID: self.ids.astype("string").to_numpy()}
        out.update(self.chunk(slice(0, self.n)))
        frame = pd.DataFrame(out)
        frame[ID] = frame[ID].astype("string")
        return frame


def conjunction(matrix: BitColumns, members) -> Callable[[slice], np.ndarray]:
    """``rows ->`` which of ``rows`` (consecutive) lie in every predicate column of ``members`` (a non-empty
    conjunction); only those columns are unpacked, over those rows."""
    cols = list(members)

    def member(rows: slice) -> np.ndarray:
        out = matrix.column(cols[0], rows)  # a fresh array: the others are and-ed into it in place
        for j in cols[1:]:
            out &= matrix.column(j, rows)
        return out

    return member


def of_array(values: np.ndarray) -> Callable[[slice], np.ndarray]:
    """``rows -> values[rows]``."""
    return lambda rows: values[rows]
