"""Equal-mass bin edges from batches of rows: the same bits as ``np.percentile`` on the whole column.

The equal-mass reliability bins (:func:`blindspot.calibration.binning.bin_edges`, ``"quantile"``)
put their edges at ``np.percentile`` of the confidences at ``0, 100 / B, ..., 100``. Each such
percentile is one or two order statistics of the column and a linear interpolation between them.
When the rows are spread over batches (a Dask worker's row groups, or this process's batches,
:mod:`blindspot.engine.batches`), no process holds the column, but an order statistic can still
be found exactly by counting:

- each batch keeps, per group of rows (all rows, a predicted class, a slice), the sorted
  order-preserving integer keys of its values (:func:`float_keys`, :class:`SortedKeys`);
- the k-th smallest value of a group is the key ``x`` with ``#(keys < x) <= k < #(keys <= x)``,
  found by narrowing an interval of the 2^64 keys: each round, every batch counts its keys below
  15 pivots splitting the interval (a ``searchsorted``), the counts are added, and the interval
  shrinks to the piece holding rank k. Sixteen rounds of 16 pieces pin all 64 bits; every query
  (group, rank) of a round travels together, so a round is one small task per batch. (A round's
  work grows with its pivots, ``2^b - 1`` a query for ``b`` bits, and the rounds with ``64 / b``:
  4 bits costs an eighth of the counting of 8 bits for twice the rounds, measured faster on Dask
  at ten million rows and a thousand queries; up to :data:`FEW_QUERIES` queries, 8 bits: the
  rounds' latency dominates);
- :func:`percentile_edges` then interpolates exactly as numpy's ``"linear"`` method does (the
  virtual index ``(n - 1) q``, its floor and fraction, and numpy's two-sided ``lerp``), so the edges
  are the same floats as ``np.percentile`` gives on the whole column, whatever the batches and the
  order of the rows (tested bit for bit).

Integer counts make every round exact and independent of how the rows are split; the one
difference from numpy is the sign of a zero: -0.0 and 0.0 share a key and come back as 0.0 (numpy
returns whichever its partition puts at that position). Confidences are validated into [0, 1],
so a negative zero is the only such value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

SIGN = np.uint64(1 << 63)
ROUND_BITS = 4  # bits of the key pinned per counting round: 15 pivots a query, 16 rounds
FEW_QUERIES = 64  # up to this many queries, rounds of twice the bits (255 pivots, 8 rounds): latency, not counting, dominates


def float_keys(values) -> np.ndarray:
    """Order-preserving uint64 keys of float64 values, shape (n,).

    ``a < b`` exactly when ``key(a) < key(b)`` and ``a == b`` exactly when the keys are equal
    (-0.0 takes 0.0's key). A non-negative float's bits, with the sign bit set, sort as its
    value; a negative float's bits, inverted, sort below them in reverse.

    Raises
    ------
    ValueError
        When a value is NaN (it has no place in the order); the message says how many.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    nans = int(np.count_nonzero(np.isnan(values)))
    if nans:
        raise ValueError(f"values must not be NaN: {nans} of {values.size} values are NaN.")
    bits = (values + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    return np.where((bits & SIGN) != 0, ~bits, bits | SIGN)


def float_of_keys(keys) -> np.ndarray:
    """The float64 values of :func:`float_keys`' keys, shape (n,)."""
    keys = np.asarray(keys, dtype=np.uint64)
    return np.where((keys & SIGN) != 0, keys & ~SIGN, ~keys).view(np.float64)


@dataclass(frozen=True)
class SortedKeys:
    """One batch's sorted keys, per group of its rows: the state a counting round reads.

    Attributes
    ----------
    keys : tuple of ndarray of uint64
        ``keys[g]``: the :func:`float_keys` of group ``g``'s rows of this batch, ascending.
    """

    keys: tuple

    @classmethod
    def of(cls, values, members: Sequence[np.ndarray] | None = None) -> "SortedKeys":
        """The state of one batch.

        Parameters
        ----------
        values : array_like of float, shape (n,)
        members : sequence of ndarray of bool, each shape (n,), optional
            Group ``g``'s rows; None for one group of every row.
        """
        keys = float_keys(values)
        if members is None:
            return cls((np.sort(keys),))
        return cls(tuple(np.sort(keys[np.asarray(m, dtype=bool)]) for m in members))

    def sizes(self) -> np.ndarray:
        """Rows of each group in this batch, int64 shape (G,)."""
        return np.array([k.size for k in self.keys], dtype=np.int64)

    def below(self, groups: np.ndarray, pivots: np.ndarray) -> np.ndarray:
        """``#(keys of group groups[q] < pivots[q, j])``, int64 shape (Q, J)."""
        out = np.empty(pivots.shape, dtype=np.int64)
        groups = np.asarray(groups)
        # One search per group for all of its queries' pivots (a group has a few dozen queries).
        for g in np.unique(groups):
            asked = np.flatnonzero(groups == g)
            out[asked] = np.searchsorted(self.keys[g], pivots[asked].ravel(), side="left").reshape(asked.size, -1)
        return out


def _sizes(state: SortedKeys) -> np.ndarray:
    return state.sizes()


def _pivots(lo: np.ndarray, step: np.uint64, bits: int) -> np.ndarray:
    """A round's pivots, shape (Q, 2^bits - 1): ``lo + j * step`` (below ``lo + width <= 2^64``: no wrap)."""
    return lo[:, None] + np.arange(1, 1 << bits, dtype=np.uint64) * step


def _below(state: SortedKeys, groups: np.ndarray, lo: np.ndarray, step: np.uint64, bits: int) -> np.ndarray:
    # The pivots are made where the keys are: a task carries Q starts, not every pivot.
    return state.below(groups, _pivots(lo, step, bits))


def group_sizes(parts) -> np.ndarray:
    """Rows of each group over every batch, int64 shape (G,).

    ``parts``: :class:`~blindspot.engine.batches.LocalParts` (or ``DaskParts``) of :class:`SortedKeys`.
    """
    return np.sum(parts.map(_sizes), axis=0, dtype=np.int64)


def order_statistics(parts, groups, ranks, *, as_keys: bool = False) -> np.ndarray:
    """The ``ranks[q]``-th smallest value (0-based) of group ``groups[q]``, over every batch, shape (Q,).

    Parameters
    ----------
    parts : LocalParts or DaskParts of SortedKeys
    groups, ranks : array_like of int, shape (Q,)
        Each rank below its group's size (:func:`group_sizes`).

    as_keys : bool
        Return the keys themselves (uint64), for states of keys that are not :func:`float_keys`
        (a hash), rather than the floats they stand for.

    Returns
    -------
    ndarray of float64 (of uint64 with ``as_keys``), shape (Q,)
    """
    asked = np.column_stack([np.asarray(groups, dtype=np.int64).ravel(), np.asarray(ranks, dtype=np.int64).ravel()])
    # Each distinct (group, rank) once: neighbouring edges often read the same order statistic.
    unique, where = np.unique(asked, axis=0, return_inverse=True)
    groups, ranks = unique[:, 0].astype(np.intp), unique[:, 1]
    lo = np.zeros(groups.size, dtype=np.uint64)  # each query's key lies in [lo, lo + width)
    width = 1 << 64  # a Python int: 2^64 itself does not fit a uint64
    bits = ROUND_BITS if groups.size > FEW_QUERIES else 2 * ROUND_BITS  # few queries: rounds cost more than pivots
    while width > 1 and groups.size:
        step = np.uint64(width >> bits)  # width is a power of two: equal pieces
        below = np.sum(parts.map(_below, groups, lo, step, bits), axis=0, dtype=np.int64)
        # The piece holding rank r starts at the last pivot with at most r keys below it.
        lo = lo + (below <= ranks[:, None]).sum(axis=1).astype(np.uint64) * step
        width >>= bits
    return (lo if as_keys else float_of_keys(lo))[where.ravel()]


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's interpolation for quantiles: ``a + (b - a) t``, or ``b - (b - a)(1 - t)`` from ``t = 0.5``."""
    diff = b - a
    out = a + diff * t
    high = t >= 0.5
    out[high] = (b - diff * (1 - t))[high]
    return out


def percentile_ranks(n: int, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``np.percentile(x, np.linspace(0, 1, n_bins + 1) * 100)`` of n values reads, numpy's way.

    Returns
    -------
    previous, following : ndarray of int64, shape (n_bins + 1,)
        0-based ranks of the two order statistics each edge interpolates (both ``n - 1`` at the top).
    gamma : ndarray of float64, shape (n_bins + 1,)
        The weight of ``following``.
    """
    quantiles = np.true_divide(np.linspace(0, 1, n_bins + 1) * 100, 100)
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual)
    following = previous + 1
    top = virtual >= n - 1
    previous[top] = n - 1
    following[top] = n - 1
    gamma = virtual - np.where(top, -1.0, previous)  # numpy subtracts the index it clipped (-1)
    return previous.astype(np.int64), following.astype(np.int64), gamma


def group_queries(sizes, ranks_of: Callable[[int], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(group, rank) pairs for :func:`order_statistics`: ``ranks_of(n)`` of each group with rows, in group order.

    Parameters
    ----------
    sizes : array_like of int, shape (G,)
        Rows of each group (:func:`group_sizes`).
    ranks_of : callable
        ``ranks_of(n) -> ndarray of int`` for a group of ``n`` rows.

    Returns
    -------
    groups, ranks : ndarray of int64, shape (Q,)
    """
    groups, ranks = [], []
    for g, n in enumerate(sizes):
        if n:
            wanted = np.asarray(ranks_of(int(n)), dtype=np.int64)
            groups.append(np.full(wanted.size, g, dtype=np.int64))
            ranks.append(wanted)
    if not groups:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(groups), np.concatenate(ranks)


def percentile_queries(sizes, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The order statistics every group's equal-mass edges read (:func:`group_queries`): for each group
    with rows, the ranks each edge interpolates from, then those it interpolates to (:func:`percentile_ranks`)."""
    return group_queries(sizes, lambda n: np.concatenate(percentile_ranks(n, n_bins)[:2]))


def edges_of(sizes, n_bins: int, values: np.ndarray) -> list[np.ndarray]:
    """Each group's equal-mass edges from the order statistics of :func:`percentile_queries`, shape (Q,).

    A group of no rows gets ``linspace(0, 1, n_bins + 1)``, as ``bin_edges`` does.
    """
    edges, at = [], 0
    for n in sizes:
        if not n:
            edges.append(np.linspace(0.0, 1.0, n_bins + 1))
            continue
        *_, gamma = percentile_ranks(int(n), n_bins)
        pair = values[at:at + 2 * (n_bins + 1)].reshape(2, n_bins + 1)
        edges.append(_lerp(pair[0], pair[1], gamma))
        at += 2 * (n_bins + 1)
    return edges


def percentile_edges(parts, n_bins: int) -> list[np.ndarray]:
    """Each group's equal-mass bin edges, the same floats as ``bin_edges(values, strategy="quantile")``.

    Parameters
    ----------
    parts : LocalParts or DaskParts of SortedKeys
    n_bins : int

    Returns
    -------
    list of ndarray of float64, each shape (n_bins + 1,)
        Per group; a group of no rows gets ``linspace(0, 1, n_bins + 1)``, as ``bin_edges`` does.
    """
    sizes = group_sizes(parts)
    groups, ranks = percentile_queries(sizes, n_bins)
    return edges_of(sizes, n_bins, order_statistics(parts, groups, ranks))
