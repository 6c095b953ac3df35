"""Per-row selections that merge across partitions of the rows: a ranked top-k and a seeded sample.

The counts of :mod:`blindspot.counts` merge by addition; the outputs that are rows, not
counts (the ranked confidently-incorrect rows, examples for the brief), need selections
with the same property: the selection of all rows equals the merge of the selections of
any two disjoint parts, whatever the split and the order of the rows.

- :class:`TopK`: the ``k`` rows with the highest (or lowest) score, ties broken by id,
  then by row position. Merging two top-k lists and keeping the first ``k`` of the
  union gives the top-k of all rows, since each row of the overall top-k is in the top-k
  of its own part.
- :class:`Reservoir`: a seeded simple random sample of ``k`` rows, as a *bottom-k
  sketch*: each row's rank is a hash of (seed, id), and the sample is the ``k`` rows of
  smallest hash. The hash does not depend on which part a row is in, so the merge (keep
  the ``k`` smallest of the union) is exact, and the same seed and ids give the same
  sample in any partitioning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


def _rows(rows, n: int) -> np.ndarray:
    return np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class TopK:
    """The best ``k`` rows by a score, in rank order.

    Attributes
    ----------
    k : int or None
        Rows kept (None: every row, ranked).
    descending : bool
        True: highest score first.
    score : ndarray of float, shape (m,)
    ids : ndarray of str, shape (m,)
    rows : ndarray of int64, shape (m,)
        Positions of the kept rows in the caller's table (global positions when the
        table is partitioned, so the tie-break after the id is the same everywhere).
    """

    k: int | None
    descending: bool
    score: np.ndarray
    ids: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, score, ids, rows=None, *, k: int | None = None, descending: bool = True) -> "TopK":
        """Rank rows by score (descending or ascending), then id, then row, and keep the first ``k``.

        Parameters
        ----------
        score : array_like of float, shape (n,)
            Not NaN (a NaN would rank last).
        ids : array_like, shape (n,)
            Compared as strings.
        rows : array_like of int, shape (n,), optional
            Positions of the rows; default ``0..n-1``.
        k : int, optional
        descending : bool

        Returns
        -------
        TopK
        """
        score = np.asarray(score, dtype=float)
        return cls(k, descending, np.zeros(0), np.zeros(0, dtype=str), np.zeros(0, np.int64))._keep(
            score, np.asarray(ids).astype(str), _rows(rows, score.size))

    def _keep(self, score: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> "TopK":
        key = -score if self.descending else score
        order = np.lexsort((rows, ids, key))  # the last key sorts first: score, then id, then row
        if self.k is not None:
            order = order[:self.k]
        return TopK(self.k, self.descending, score[order], ids[order], rows[order])

    def merge(self, other: "TopK") -> "TopK":
        """The top-k of the rows of both (disjoint rows, same ``k`` and direction)."""
        if (self.k, self.descending) != (other.k, other.descending):
            raise ValueError(f"top-k lists of different k or direction cannot merge: "
                             f"{(self.k, self.descending)} vs {(other.k, other.descending)}.")
        return self._keep(np.concatenate([self.score, other.score]),
                          np.concatenate([self.ids, other.ids]).astype(str),
                          np.concatenate([self.rows, other.rows]))


def row_hash(seed: int, ids) -> np.ndarray:
    """A 64-bit hash of ``(seed, id)`` per row (BLAKE2b), shape (n,), uint64: the sample's ranks."""
    prefix = f"{int(seed)}\x1f".encode()
    return np.fromiter((int.from_bytes(hashlib.blake2b(prefix + str(i).encode(), digest_size=8).digest(), "big")
                        for i in ids), dtype=np.uint64, count=len(ids))


@dataclass(frozen=True, eq=False)
class Reservoir:
    """A seeded sample of ``k`` rows: those with the smallest ``row_hash(seed, id)``.

    Attributes
    ----------
    k : int
    seed : int
    hashes : ndarray of uint64, shape (m,)
        Ascending (ties, which need a 64-bit collision, by id then row).
    ids : ndarray of str, shape (m,)
    rows : ndarray of int64, shape (m,)
        Positions of the sampled rows in the caller's table.
    """

    k: int
    seed: int
    hashes: np.ndarray
    ids: np.ndarray
    rows: np.ndarray

    @classmethod
    def of(cls, ids, rows=None, *, k: int, seed: int) -> "Reservoir":
        """The sample of some rows.

        Parameters
        ----------
        ids : array_like, shape (n,)
            Row ids (compared and hashed as strings).
        rows : array_like of int, shape (n,), optional
            Positions of the rows; default ``0..n-1``.
        k : int
            Sample size (all rows when there are fewer).
        seed : int

        Returns
        -------
        Reservoir
        """
        if k < 0:
            raise ValueError(f"k must be >= 0; got {k}.")
        ids = np.asarray(ids).astype(str)
        empty = cls(k, int(seed), np.zeros(0, np.uint64), np.zeros(0, dtype=str), np.zeros(0, np.int64))
        return empty._keep(row_hash(seed, ids), ids, _rows(rows, ids.size))

    def _keep(self, hashes: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> "Reservoir":
        order = np.lexsort((rows, ids, hashes))[:self.k]
        return Reservoir(self.k, self.seed, hashes[order], ids[order], rows[order])

    def merge(self, other: "Reservoir") -> "Reservoir":
        """The sample of the rows of both (disjoint rows, same ``k`` and seed)."""
        if (self.k, self.seed) != (other.k, other.seed):
            raise ValueError(f"samples of different k or seed cannot merge: {(self.k, self.seed)} vs "
                             f"{(other.k, other.seed)}.")
        return self._keep(np.concatenate([self.hashes, other.hashes]),
                          np.concatenate([self.ids, other.ids]).astype(str),
                          np.concatenate([self.rows, other.rows]))
