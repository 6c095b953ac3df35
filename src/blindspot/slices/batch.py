"""The slice audit's rows, a batch at a time, kept where each batch was read.

Everything the slice audit computes from its rows is a count table or a short list
(:mod:`blindspot.slices.audit`), so, as calibrate does (:mod:`blindspot.calibration.batch`), each
batch of rows becomes a :class:`SliceBatch` kept where it was read (this process with
``engine: local``, a Dask worker with ``engine: dask``: :class:`blindspot.engine.batches.LocalParts`,
``DaskParts``), and the audit sends it small functions that return tables:

1. **Made** (:func:`slice_batch`): the labels, and the text pass of the batch
   (:func:`blindspot.slices.textpass.batch_pass`: detector flags, topic membership, the topics'
   examples, the error terms' count table).
2. **Summaries** (:func:`text_part`, :func:`metadata_part`): the examples and term counts, the
   word counts' value counts, each metadata column's :class:`~blindspot.slices.columns.ColumnSummary`;
   added up by :class:`SliceRows`, they fix every predicate
   (:func:`blindspot.slices.features.define_predicates`).
3. **Bits** (:func:`with_bits`): the batch's rows of every predicate, and of the rare values the
   watchlist names, a bit a row (:class:`blindspot.bits.BitColumns`); the flags, topics and metadata
   are let go.
4. **Counts**: the cells of every predicate and of every (parent, predicate) pair for discovery
   (:func:`extension_part`), of any conjunction (:func:`conjunction_part`), confusion matrices
   (:func:`confusion_part`); the significant error terms' rows (:func:`with_terms`, the texts read
   again); the slice table's columns, packed (:func:`membership_part`).

The metadata and the texts of a batch are read again where the batch is, when needed (from the
file, or the frame a library call gave), never kept. Counts are integers, so any batches and
both engines give the same numbers.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from functools import partial
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from blindspot.bits import BitColumns, pack
from blindspot.io.schema import META_PREFIX
from blindspot.metrics import confusion_counts
from blindspot.slices.columns import OBJECT, ColumnSummary, excluded_names, merge_summaries, rule_masks
from blindspot.slices.evaluate import Counts, cells, extension_counts
from blindspot.slices.metafile import as_whole
from blindspot.slices.textpass import PASS_COLUMNS, TextModels, batch_pass, merge_examples, term_hits
from blindspot.slices.valuecounts import merge_value_counts, value_counts


def label_codes(column: pd.Series) -> np.ndarray:
    """Class codes as stored (int8 from ingest: a byte a row), or int64 when not integers already."""
    values = column.to_numpy()
    return values if values.dtype.kind in "iu" else values.astype(np.int64)


@dataclass
class SliceBatch:
    """One batch of the audited rows, as the slice audit keeps it.

    Attributes
    ----------
    y_true, y_pred : ndarray of int, shape (m,)
    start : int
        Position of the batch's first row in the table.
    flags : DataFrame, shape (m, ...) or None
        The detector flags (:func:`blindspot.slices.features.text_flags`) until the bits are made.
    topics : ndarray of bool, shape (m, T) or None
        Topic membership, until the bits are made.
    examples : list, length T
        Each topic's strongest members of the batch: (weight, row in the table, id, text).
    term_counts : ndarray of int64, shape (2, V + 1, 2K), or None
    frame : DataFrame or None
        The batch's own rows (texts and ``meta__`` columns) when a library call gave them in
        memory; None when they are read again from ``path``.
    path : str or None
        The validated table the batch was read from.
    metadata : tuple of str
        The table's ``meta__`` columns; ``casts`` those read as objects (:func:`blindspot.slices.metafile.as_whole`).
    bits : BitColumns (m, P) or None
        Every predicate's rows, once fixed.
    extra : BitColumns (m, E) or None
        The rows of the rare values the watchlist names (columns P to P + E - 1 of a conjunction).
    terms : ndarray of bool, shape (m, S) or None
        The significant error terms' rows.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    start: int
    flags: pd.DataFrame | None = None
    topics: np.ndarray | None = None
    examples: list | None = None
    term_counts: np.ndarray | None = None
    frame: pd.DataFrame | None = None
    path: str | None = None
    metadata: tuple = ()
    casts: tuple = ()
    bits: BitColumns | None = None
    extra: BitColumns | None = None
    terms: np.ndarray | None = None

    @property
    def m(self) -> int:
        return len(self.y_true)

    def cell(self, k: int) -> np.ndarray:
        """Each row's (true class, correct) cell (:func:`blindspot.slices.evaluate.cells`)."""
        return cells(self.y_true, self.y_pred, k)

    def rows(self, columns: Sequence[str]) -> pd.DataFrame:
        """Some columns of the batch's rows: from its frame, or read again from the file."""
        if not len(columns):  # nothing to read (a table with no metadata column)
            return pd.DataFrame(index=pd.RangeIndex(self.m))
        if self.frame is not None:
            return self.frame[list(columns)]
        from blindspot.io.readers import read_rows_at

        return as_whole(read_rows_at(self.path, np.arange(self.start, self.start + self.m), list(columns)), self.casts)

    def column(self, j: int) -> np.ndarray:
        """Predicate column ``j`` (an extra column past the predicates), ndarray of bool (m,)."""
        p = self.bits.shape[1]
        return self.bits.column(j) if j < p else self.extra.column(j - p)

    def conjunction(self, columns: Sequence[int]) -> np.ndarray:
        """Rows in every one of ``columns`` (non-empty), ndarray of bool (m,)."""
        out = self.column(columns[0])
        for j in columns[1:]:
            out &= self.column(j)
        return out


def slice_batch(frame: pd.DataFrame, start: int, models: TextModels, *, path: str | None = None,
                metadata: tuple = (), casts: tuple = ()) -> SliceBatch:
    """A batch's state: its labels and its text pass (flags, topics, examples, term counts).

    Parameters
    ----------
    frame : DataFrame, shape (m, ...)
        :data:`blindspot.slices.textpass.PASS_COLUMNS` of consecutive rows, and their ``meta__``
        columns when ``path`` is None (a frame in memory, kept).
    start : int
        Position of its first row.
    models : TextModels
    path : str, optional
        The file the rows were read from (their metadata and texts are read again from there).
    metadata, casts : tuple of str
        The table's ``meta__`` columns, and those to read as objects.
    """
    result = batch_pass(frame[list(PASS_COLUMNS)], models=models)
    examples = [[(w, start + r, i, t) for w, r, i, t in topic] for topic in result.examples]
    return SliceBatch(label_codes(frame["y_true"]), label_codes(frame["y_pred"]), int(start), result.flags,
                      result.membership, examples, result.counts, frame if path is None else None,
                      None if path is None else str(path), tuple(metadata), tuple(casts))


# --------------------------------------------------------------------------- maps (module level: Dask pickles them)


def text_part(b: SliceBatch) -> tuple:
    """``(examples, term counts, word counts' value counts)`` of one batch."""
    return b.examples, b.term_counts, value_counts(np.asarray(b.flags["n_words"].to_numpy(), dtype=np.int64))


def metadata_part(b: SliceBatch, n_quantiles: int, names: tuple) -> dict:
    """Raw column name -> :class:`ColumnSummary` of the batch's metadata columns ``names`` (raw)."""
    frame = b.rows([META_PREFIX + name for name in names])
    return {name: ColumnSummary.of(name, frame[META_PREFIX + name], n_quantiles) for name in names}


def with_bits(b: SliceBatch, rules, extras: Sequence) -> SliceBatch:
    """The batch with its rows of every predicate (``rules``: :class:`blindspot.slices.features.PredicateRules`)
    and of each extra column rule, a bit a row; its flags, topics and text pass results let go (read already)."""
    frame = b.rows(list(dict.fromkeys(META_PREFIX + rule.name for rule in (*rules.metadata, *extras))))
    m = b.m
    bits = BitColumns.stacked([pack(mask, m) for mask in rules.masks(b.flags, b.topics, frame)], m)
    extra = BitColumns.stacked([pack(mask, m) for mask in rule_masks(extras, frame)], m)
    return replace(b, flags=None, topics=None, examples=None, term_counts=None, bits=bits, extra=extra)


def with_terms(b: SliceBatch, terms: tuple) -> SliceBatch:
    """The batch with the rows holding each of ``terms`` (its texts read again)."""
    return replace(b, terms=term_hits(b.rows(["text"]), terms=tuple(terms)))


def totals_part(b: SliceBatch, k: int) -> np.ndarray:
    """Cell counts of the batch's rows, int64 (2K,)."""
    return np.bincount(b.cell(k), minlength=2 * k).astype(np.int64)


def extension_part(b: SliceBatch, parents, k: int) -> np.ndarray:
    """Cell counts of every (parent conjunction, predicate) pair in the batch, float64 (C, P, 2K)
    (:func:`blindspot.slices.evaluate.extension_counts`; ``parents`` None: each predicate alone)."""
    return extension_counts(b.bits, parents, b.cell(k), 2 * k)


def conjunction_part(b: SliceBatch, conjunctions: Sequence, k: int) -> np.ndarray:
    """Cell counts of each conjunction of columns (an int for a significant term's column), int64 (S, 2K)."""
    cell = b.cell(k)
    out = np.zeros((len(conjunctions), 2 * k), np.int64)
    for s, columns in enumerate(conjunctions):
        out[s] = np.bincount(cell[_rows_of(b, columns)], minlength=2 * k)
    return out


def confusion_part(b: SliceBatch, conjunctions: Sequence, k: int) -> np.ndarray:
    """Confusion counts of each conjunction's rows, int64 (S, K, K)."""
    out = np.zeros((len(conjunctions), k, k), np.int64)
    for s, columns in enumerate(conjunctions):
        mask = _rows_of(b, columns)
        out[s] = confusion_counts(b.y_true[mask], b.y_pred[mask], k)
    return out


def membership_part(b: SliceBatch, columns: Sequence) -> BitColumns:
    """The batch's rows of each slice-table column, packed: BitColumns (m, len(columns))."""
    return BitColumns.stacked([pack(_rows_of(b, c), b.m) for c in columns], b.m)


def _rows_of(b: SliceBatch, columns) -> np.ndarray:
    """A conjunction's rows (a tuple of columns) or a significant term's (an int)."""
    return b.terms[:, columns].copy() if isinstance(columns, (int, np.integer)) else b.conjunction(columns)


# --------------------------------------------------------------------------- the audit's side


class SliceRows:
    """The audited rows as the audit reads them: sums over the kept batches.

    Parameters
    ----------
    parts : LocalParts or DaskParts
        One :class:`SliceBatch` per batch, in row order.
    n : int
        Rows.
    k : int
        Classes.
    """

    def __init__(self, parts, n: int, k: int):
        self.parts, self.n, self.k, self.p = parts, int(n), int(k), 0

    def text(self, n_topics: int) -> tuple:
        """``(examples, term counts, word counts)`` of every row (the text pass, reduced)."""
        results = self.parts.map(text_part)
        examples = merge_examples([r[0] for r in results], n_topics)
        counts = None
        for _, c, _ in results:
            if c is not None:
                counts = c.copy() if counts is None else counts + c
        words = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        for _, _, w in results:
            words = merge_value_counts(words, w)
        return examples, counts, words

    def metadata(self, n_quantiles: int, names: Sequence[str], exclude: Sequence[str] = ()) -> dict:
        """Raw column name -> :class:`ColumnSummary` of every row, for each of ``names`` (the table's order);
        None for the columns ``exclude`` names (:func:`blindspot.slices.columns.excluded_names`), never read."""
        skip = excluded_names(names, exclude)
        wanted = tuple(name for name in names if name not in skip)
        merged = merge_summaries(self.parts.map(metadata_part, n_quantiles, wanted))
        # a table of no row has no batch: its columns' summaries are of no row
        return {name: None if name in skip else merged.get(name, ColumnSummary(name, OBJECT)) for name in names}

    def fix_predicates(self, rules, extras: Sequence, p: int) -> None:
        """Every batch's rows of every predicate (``p`` of them) and extra rule, kept with the batch (its
        flags and topics let go)."""
        derived = self.parts.derive(with_bits, self.parts.shared(rules), tuple(extras))
        self.parts.release()
        self.parts, self.p = derived, int(p)

    def find_terms(self, terms: Sequence[str]) -> None:
        """Every batch's rows holding each significant term (the texts read again, where each batch is)."""
        if len(terms):
            derived = self.parts.derive(with_terms, tuple(terms))
            self.parts.release()
            self.parts = derived

    def _sum(self, fn, shape: tuple, *args) -> np.ndarray:
        """``fn(batch, *args)`` added over every batch (zeros of ``shape`` for a table of no row)."""
        out = np.zeros(shape)
        for part in self.parts.map(fn, *args):
            out = out + part
        return out

    def totals(self) -> Counts:
        return Counts.from_cells(self._sum(totals_part, (2 * self.k,), self.k)[None, :], self.k)

    def extension(self, parents) -> np.ndarray:
        """:func:`extension_part` added over every batch: float64 (C, P, 2K), whole numbers."""
        c = 1 if parents is None else len(parents)
        return self._sum(extension_part, (c, self.p, 2 * self.k), parents, self.k)

    def counts(self, conjunctions: Sequence) -> Counts:
        """Counts of each conjunction (or significant term)."""
        conjunctions = list(conjunctions)
        table = self._sum(conjunction_part, (len(conjunctions), 2 * self.k), conjunctions, self.k)
        return Counts.from_cells(table, self.k)

    def confusions(self, conjunctions: Sequence) -> list[np.ndarray]:
        """Confusion counts of each conjunction (or significant term), each int64 (K, K)."""
        conjunctions = list(conjunctions)
        table = self._sum(confusion_part, (len(conjunctions), self.k, self.k), conjunctions, self.k)
        return list(table.astype(np.int64))

    def membership(self, columns: Sequence) -> BitColumns:
        """The slice table's columns over every row, packed: BitColumns (n, len(columns))."""
        if not self.n or not len(columns):
            return BitColumns.empty(self.n, len(columns))
        return BitColumns.concat(self.parts.map(membership_part, list(columns)))


# --------------------------------------------------------------------------- where the batches are made


def _in_memory(frame: pd.DataFrame, batch_rows: int) -> Iterator[tuple[pd.DataFrame, int]]:
    for lo in range(0, len(frame), batch_rows):
        yield frame.iloc[lo:lo + batch_rows].reset_index(drop=True), lo


def _with_start(pair, *, fn):
    return fn(pair[0], pair[1])


@contextlib.contextmanager
def frame_parts(frame: pd.DataFrame, models: TextModels, batch_rows: int) -> Iterator:
    """:class:`LocalParts` of a table in memory (``id``, ``text``, ``y_true``, ``y_pred``, ``meta__*``)."""
    from blindspot.engine.batches import LocalParts
    from blindspot.slices.features import map_in_threads, text_workers

    metadata = tuple(c for c in frame.columns if str(c).startswith(META_PREFIX))
    make = partial(_with_start, fn=partial(slice_batch, models=models, metadata=metadata))
    parts = LocalParts(map_in_threads(make, _in_memory(frame, max(1, int(batch_rows)))), text_workers())
    try:
        yield parts
    finally:
        parts.release()


@contextlib.contextmanager
def file_parts(path, models: TextModels, *, engine: str = "local", dask=None) -> Iterator:
    """The kept batches of the validated table: its row groups on the Dask workers with
    ``engine: dask``; otherwise batches read here, their text passes run in a few threads."""
    import pyarrow.parquet as pq

    from blindspot.slices.metafile import nullable_booleans

    metadata = tuple(n for n in pq.read_schema(path).names if n.startswith(META_PREFIX))
    make = partial(slice_batch, path=str(path), metadata=metadata, casts=nullable_booleans(path) if metadata else ())
    if engine == "dask":
        from blindspot.engine.batches import resident_parts

        # The models (a few megabytes) go to the workers once, not with each row group's task.
        with resident_parts(path, list(PASS_COLUMNS), make, engine="dask", dask=dask, with_start=True,
                            shared=(models,)) as parts:
            yield parts
        return
    from blindspot.engine.batches import LocalParts
    from blindspot.io.readers import predictions_batches
    from blindspot.slices.features import map_in_threads, text_workers

    def batches():
        start = 0
        for frame in predictions_batches(path, list(PASS_COLUMNS)):
            yield frame, start
            start += len(frame)

    parts = LocalParts(map_in_threads(partial(_with_start, fn=partial(make, models=models)), batches()),
                       text_workers())
    try:
        yield parts
    finally:
        parts.release()
