"""Boolean columns of every row, held as bits: one bit a row per column.

The slice stage's predicate matrix and calibrate's slice membership are boolean
(rows x columns) tables over every row of the predictions. Held as numpy booleans they
cost a byte a cell: 53 predicates over ten million rows are 530 MB, the largest thing
the slice stage held. Packed (:func:`numpy.packbits`), each column is ``ceil(n / 8)``
bytes, and a use unpacks only what it reads: one column over some consecutive rows
(:meth:`BitColumns.column`, what the membership writer reads), a run of consecutive rows
of every column (:meth:`BitColumns.block`) or the rows at some positions
(:meth:`BitColumns.rows`, what the counting reads, a cell's rows at a time).

Columns are stored one after another (column-major): a column is packed as soon as its
mask exists (:func:`pack`, then :meth:`BitColumns.stacked`), so the unpacked masks never
all live at once.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np


def _packed_width(n: int) -> int:
    """Bytes of one packed column of ``n`` rows."""
    return (n + 7) // 8


class BitColumns:
    """Boolean columns of ``n`` rows, a bit a cell.

    Parameters
    ----------
    bits : ndarray of uint8, shape (P, ceil(n / 8))
        Row ``j`` is column ``j``, :func:`numpy.packbits` of a bool (n,) (a byte's
        first row in its high bit, the last byte padded with zeros).
    n : int
        Rows.

    Notes
    -----
    ``np.asarray(columns)`` gives the whole (n, P) boolean matrix: for tests and small
    tables only, since it costs the byte a cell the packing saves.
    """

    dtype = np.dtype(bool)

    def __init__(self, bits: np.ndarray, n: int):
        bits = np.asarray(bits, dtype=np.uint8)
        if bits.ndim != 2 or bits.shape[1] != _packed_width(n):
            raise ValueError(f"bits of shape {bits.shape} do not hold {n} rows (want (P, {_packed_width(n)})).")
        self.bits = bits
        self.n = int(n)

    @classmethod
    def empty(cls, n: int, p: int = 0) -> "BitColumns":
        """``p`` all-false columns of ``n`` rows."""
        return cls(np.zeros((p, _packed_width(n)), dtype=np.uint8), n)

    @classmethod
    def stacked(cls, packed: Sequence[np.ndarray], n: int) -> "BitColumns":
        """From columns packed already (:func:`pack`), each uint8 (ceil(n / 8),)."""
        return cls(np.stack(packed) if len(packed) else np.zeros((0, _packed_width(n)), np.uint8), n)

    @classmethod
    def concat(cls, parts: Sequence["BitColumns"]) -> "BitColumns":
        """The rows of ``parts`` one after another (each with the same columns), in order.

        A part starting on a byte boundary is copied as bytes; one starting inside a byte (a
        batch of a length not a multiple of 8 before it) is unpacked and packed again at its offset.
        """
        if not parts:
            raise ValueError("no part to join: the number of columns is unknown.")
        p = parts[0].bits.shape[0]
        n = sum(part.n for part in parts)
        out = np.zeros((p, _packed_width(n)), dtype=np.uint8)
        lo = 0
        for part in parts:  # a loop over batches, not rows
            if part.bits.shape[0] != p:
                raise ValueError(f"parts of {p} and {part.bits.shape[0]} columns cannot be joined.")
            shift = lo % 8
            if shift == 0:
                out[:, lo // 8:lo // 8 + part.bits.shape[1]] |= part.bits  # its padding bits are zeros
            elif part.n:
                rows = np.unpackbits(part.bits, axis=1, count=part.n)
                packed = np.packbits(np.concatenate([np.zeros((p, shift), np.uint8), rows], axis=1), axis=1)
                out[:, lo // 8:lo // 8 + packed.shape[1]] |= packed
            lo += part.n
        return cls(out, n)

    @classmethod
    def from_dense(cls, matrix) -> "BitColumns":
        """From a boolean matrix, shape (n, P)."""
        matrix = np.asarray(matrix, dtype=bool)
        if matrix.ndim != 2:
            raise ValueError(f"a boolean matrix (n, P) is needed; got shape {matrix.shape}.")
        return cls(np.packbits(matrix.T, axis=1), matrix.shape[0])

    @property
    def shape(self) -> tuple[int, int]:
        """(n, P)."""
        return self.n, self.bits.shape[0]

    def __len__(self) -> int:
        return self.n

    def column(self, j: int, rows: slice = slice(None)) -> np.ndarray:
        """Column ``j`` over ``rows`` (a slice of consecutive rows), ndarray of bool, shape (m,)."""
        lo, hi, step = rows.indices(self.n)
        if step != 1:
            raise ValueError(f"rows must be consecutive (step 1); got step {step}.")
        j = range(self.bits.shape[0])[j]  # a negative column counts from the end; out of range raises
        if lo == 0 and hi == self.n:
            return np.unpackbits(self.bits[j], count=self.n).view(bool)
        return self._unpacked(self.bits[j:j + 1], lo, max(lo, hi))[0]

    def block(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo`` to ``hi`` (exclusive) of every column, ndarray of bool, shape (hi - lo, P)."""
        lo, hi = max(0, int(lo)), min(self.n, int(hi))
        return self._unpacked(self.bits, lo, max(lo, hi)).T

    def rows(self, positions) -> np.ndarray:
        """The rows at ``positions`` (any order, each in ``[0, n)``) of every column, ndarray of bool, shape (m, P)."""
        positions = np.asarray(positions, dtype=np.intp)
        if positions.size and (positions.min() < 0 or positions.max() >= self.n):
            raise IndexError(f"row positions must lie in [0, {self.n}); got {positions.min()} to {positions.max()}.")
        shift = (7 - positions % 8).astype(np.uint8)  # packbits puts a byte's first row in its high bit
        return ((self.bits[:, positions // 8] >> shift) & 1).T.astype(bool)

    def select(self, columns: Sequence[int]) -> "BitColumns":
        """The listed columns, in that order (a copy of their bits)."""
        return BitColumns(self.bits[np.asarray(columns, dtype=np.intp).reshape(-1)], self.n)

    def dense(self) -> np.ndarray:
        """Every column unpacked, ndarray of bool, shape (n, P): a byte a cell, so small tables only."""
        return self.block(0, self.n)

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("BitColumns has no boolean array to share: unpacking copies.")
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    def _unpacked(self, bits: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Rows ``[lo, hi)`` of each packed row of ``bits``, ndarray of bool, shape (len(bits), hi - lo)."""
        first = lo // 8
        part = np.unpackbits(bits[:, first:_packed_width(hi)], axis=1, count=hi - 8 * first)
        return part[:, lo - 8 * first:].view(bool)


def pack(mask, n: int) -> np.ndarray:
    """One mask packed, uint8 (ceil(n / 8),); ValueError when it does not have ``n`` rows."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"a mask of shape {mask.shape} given for {n} rows.")
    return np.packbits(mask)
