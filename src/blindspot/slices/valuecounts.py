"""Distinct values and their counts: what a quantile of many rows is read from, a batch at a time.

A quantile of a column needs its sorted values, but only at a few ranks: the counts of each
distinct value give every rank, and two batches' counts add up (:func:`merge_value_counts`). So
the slice stage fixes its quantile edges (a metadata column's bins, the word-count bins) from the
summaries of the batches, wherever they were read, and gets numpy's numbers:
:func:`order_statistics` is ``np.quantile(values, levels, method="lower")`` and
:func:`linear_quantiles` ``np.quantile(values, levels)`` (``method="linear"``), each index and
interpolation computed as numpy computes it, so the same floats come out (tested against numpy).
"""

from __future__ import annotations

import numpy as np


def value_counts(values) -> tuple[np.ndarray, np.ndarray]:
    """``(distinct values ascending, rows of each as int64)`` of a 1-d array."""
    distinct, counts = np.unique(np.asarray(values), return_counts=True)
    return distinct, counts.astype(np.int64)


def merge_value_counts(a: tuple | None, b: tuple | None) -> tuple | None:
    """The value counts of two sets of rows together (None when either is None)."""
    if a is None or b is None:
        return None
    distinct, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([a[1], b[1]]), minlength=len(distinct))
    return distinct, counts.astype(np.int64)


def _at_ranks(distinct: np.ndarray, cumulative: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at 0-based ``ranks`` of the sorted rows."""
    return distinct[np.searchsorted(cumulative, ranks, side="right")]


def order_statistics(distinct: np.ndarray, counts: np.ndarray, levels) -> np.ndarray:
    """``np.quantile(rows, levels, method="lower")`` of the rows ``distinct`` repeated ``counts`` times.

    numpy takes the value at rank ``floor((N - 1) q)`` of the ``N`` sorted rows.
    """
    cumulative = np.cumsum(counts)
    ranks = np.floor((cumulative[-1] - 1) * np.asarray(levels, dtype=float)).astype(np.intp)
    return _at_ranks(distinct, cumulative, ranks)


def linear_quantiles(distinct: np.ndarray, counts: np.ndarray, levels) -> np.ndarray:
    """``np.quantile(rows, levels)`` (``method="linear"``) of the float rows ``distinct`` repeated ``counts`` times.

    numpy's virtual index is ``(N - 1) q``; it interpolates between the rows at its floor and the
    next one, by ``a + (b - a) t`` below ``t = 1/2`` and ``b - (b - a)(1 - t)`` from there, and takes
    the last row at or past the end.
    """
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    virtual = (n - 1) * np.asarray(levels, dtype=float)
    previous = np.floor(virtual)
    following = previous + 1
    past_end = virtual >= n - 1
    previous[past_end], following[past_end] = n - 1, n - 1
    gamma = virtual - np.where(past_end, -1, previous)  # numpy's gamma there is against index -1; b - a is 0 anyway
    a = _at_ranks(distinct, cumulative, previous.astype(np.intp)).astype(float)
    b = _at_ranks(distinct, cumulative, following.astype(np.intp)).astype(float)
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
