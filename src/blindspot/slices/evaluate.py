"""Per-slice counts by matrix products, and the slice-versus-rest tests built on them.

Counting
--------
Every number about a slice is a count: rows, errors, rows of each true class, correct
rows of each true class, and all of them are sums of *cell* counts, the cells being
(true class, correct or not), which partition the rows. With the membership matrix
``M`` (rows x predicates), the column sums of ``M`` over a cell's rows count every
predicate in that cell, and for conjunctions ``P_c.T @ M_c`` (``P`` the membership of
the parent conjunctions, both restricted to the cell's rows) counts every
parent-and-predicate pair at once. Rows are processed in blocks so memory stays
bounded at a million rows; products run in float32, exact because a block's counts
stay far below 2**24.

Tests (one-sided: a blind spot is a slice doing *worse* than the rest)
---------------------------------------------------------------------
- ``error_rate``: errors in the slice against errors in the rest, one-sided Fisher
  exact test (the slice has more errors than its size predicts), computed as the
  hypergeometric upper tail ``P(X >= errors_in_slice)`` with the table's margins
  fixed: the same p value as ``scipy.stats.fisher_exact(..., alternative="greater")``
  (a test checks it), vectorised over every slice.
- ``recall_<class>``: among rows of that true class, misses in the slice against
  misses in the rest, the same one-sided Fisher test; only when the slice and the
  rest each hold at least ``min_class_support`` rows of the class.
- A slice is tested only with ``min_support <= n <= n_rows - min_support`` (an empty
  slice, such as a watchlist slice with no row in this data, is untested with the
  reason ``no_rows``); a metric that fails on no row or on every row (v1's neutral
  recall: every neutral row is missed) is not tested anywhere, since no slice can
  differ from its rest.

Intervals: each slice's rate has a Wilson score interval; the gap (slice minus rest)
has Newcombe's hybrid score interval (method 10 of Newcombe 1998), built from the two
Wilson intervals. Both are closed-form from counts, so no resampling is needed.

``excess`` is the number of errors (or misses of a class) the slice has beyond what
the overall rate predicts for its size: ``errors - n * overall_error_rate``. It is the
number that shows why a global metric hid the slice. For ``error_rate``,
``excess_given_class_mix`` is the excess beyond what the slice's own mix of true
classes predicts (each class at its overall recall): near 0 when the slice is worse
only because it holds more rows of a class the model misses everywhere.

``score`` is ``-log10(p)``, the strength of the evidence that the slice is worse; it
ranks findings (see :mod:`blindspot.slices.discovery`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as st

from blindspot.stats import wilson_interval

BLOCK_ROWS = 1 << 16
# Why a comparison was not tested (short codes: metrics files are read as tables).
BELOW_MIN_SUPPORT = "below_min_support"  # slice or rest has fewer than min_support rows
BELOW_MIN_CLASS_SUPPORT = "below_min_class_support"  # too few rows of the class in slice or rest
NO_VARIATION = "no_variation"  # the metric fails on no row or on every row: no slice can differ
NO_ROWS = "no_rows"  # the slice holds no row of this data (a watchlist slice can be empty)


@dataclass
class Counts:
    """Counts of a set of slices (S of them) in a K-class problem.

    Attributes
    ----------
    n : ndarray of int64, shape (S,)
    errors : ndarray of int64, shape (S,)
    support : ndarray of int64, shape (S, K)
        Rows of each true class.
    correct : ndarray of int64, shape (S, K)
        Correct rows of each true class.
    """

    n: np.ndarray
    errors: np.ndarray
    support: np.ndarray
    correct: np.ndarray

    @classmethod
    def from_cells(cls, cell_counts: np.ndarray, k: int) -> "Counts":
        """From counts per cell (last axis 2K, see :func:`cells`): everything else is a sum of cells."""
        c = np.rint(np.asarray(cell_counts)).astype(np.int64)
        wrong, right = c[..., 0:2 * k:2], c[..., 1:2 * k:2]
        return cls(n=c.sum(axis=-1), errors=wrong.sum(axis=-1), support=wrong + right, correct=right)

    def take(self, index) -> "Counts":
        return Counts(self.n[index], self.errors[index], self.support[index], self.correct[index])

    @classmethod
    def concat(cls, parts: Sequence["Counts"], k: int) -> "Counts":
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, k), np.int64),
                       np.zeros((0, k), np.int64))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("n", "errors", "support", "correct")))


def cells(y_true, y_pred, k: int) -> np.ndarray:
    """Cell of each row: ``2 * true class + correct``, so the 2K cells partition the rows.

    Every count a slice needs (rows, errors, rows and correct rows of each class) is a
    sum of cell counts, so counting cells is enough.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n,)
    k : int

    Returns
    -------
    ndarray of int64, shape (n,), values in ``[0, 2K)``
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    return 2 * y_true + (np.asarray(y_pred, dtype=np.int64) == y_true)


def extension_counts(matrix: np.ndarray, parents: np.ndarray | None, cell: np.ndarray, n_cells: int,
                     block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """Cell counts of every (parent conjunction AND predicate) pair, by matrix products.

    Rows are grouped by cell; within a cell, ``P_c.T @ M_c`` (parent membership by
    predicate membership, over the cell's rows) counts every pair at once. The flops
    are ``n_rows * n_parents * n_predicates`` in total, in float32 (exact: a block's
    counts stay far below 2**24), accumulated in float64.

    Parameters
    ----------
    matrix : ndarray of bool, shape (n, P)
        Predicate membership.
    parents : ndarray of int, shape (C, d), or None
        Each row lists the predicate columns of one parent conjunction; None means
        a single empty parent (all rows), which gives the counts of each predicate.
    cell : ndarray of int, shape (n,)
        Cell of each row (:func:`cells`).
    n_cells : int

    Returns
    -------
    ndarray of float64, shape (C, P, n_cells)
    """
    n, p = matrix.shape
    n_parents = 1 if parents is None else len(parents)
    out = np.zeros((n_parents, p, n_cells), dtype=np.float64)
    order = np.argsort(cell, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=n_cells))])
    for c in range(n_cells):  # a loop over cells and row blocks, one matrix product each
        for lo in range(bounds[c], bounds[c + 1], block_rows):
            rows = order[lo:min(lo + block_rows, bounds[c + 1])]
            block = matrix[rows]
            if parents is None:
                out[0, :, c] += block.sum(axis=0)
            else:
                pb = np.logical_and.reduce(block[:, parents], axis=2).astype(np.float32)
                out[:, :, c] += pb.T @ block.astype(np.float32)
    return out


def mask_counts(masks: np.ndarray, y_true, y_pred, k: int) -> Counts:
    """Counts of arbitrary row masks (columns of ``masks``), e.g. watchlist conjunctions."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim == 1:
        masks = masks[:, None]
    return Counts.from_cells(extension_counts(masks, None, cells(y_true, y_pred, k), 2 * k)[0], k)


def fisher_greater(k_slice, n_slice, k_total, n_total) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Fisher exact test that the slice holds more failures than chance.

    ``P(X >= k_slice)`` for ``X ~ Hypergeom(population n_total, successes k_total,
    draws n_slice)``: the p value of ``fisher_exact([[k_s, n_s - k_s], [k_r, n_r - k_r]],
    alternative="greater")``, vectorised.

    Returns
    -------
    p_value, log10_p : ndarray of float, same shape as the inputs
    """
    k_slice, n_slice, k_total, n_total = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.int64) for a in (k_slice, n_slice, k_total, n_total)))
    # sf is fast (Boost, closed form); logsf sums the tail term by term and is only
    # needed where sf underflows, to keep ranking tiny p values apart.
    p = np.clip(st.hypergeom.sf(k_slice - 1, n_total, k_total, n_slice), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        log10p = np.array(np.log10(p), dtype=float)
    tiny = p < 1e-290
    if tiny.any():
        log10p[tiny] = st.hypergeom.logsf(k_slice[tiny] - 1, n_total[tiny], k_total[tiny], n_slice[tiny]) / np.log(10)
    return p, np.minimum(log10p, 0.0)


def newcombe_interval(k1, n1, k2, n2, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for ``k1/n1 - k2/n2`` (method 10, 1998), vectorised.

    Returns
    -------
    low, high : ndarray; NaN where either n is 0.
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    l1, u1 = wilson_interval(k1, n1, level)
    l2, u2 = wilson_interval(k2, n2, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        d = p1 - p2
        low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def metric_names(classes: Sequence[str]) -> list[str]:
    """Metrics tested for every slice: ``error_rate`` then ``recall_<class>``."""
    return ["error_rate"] + [f"recall_{c}" for c in classes]


def slice_tests(counts: Counts, totals: Counts, classes: Sequence[str], *, min_support: int,
                min_class_support: int, level: float) -> pd.DataFrame:
    """Every slice-versus-rest comparison of a set of slices, one row per (slice, metric).

    Parameters
    ----------
    counts : Counts, S slices
    totals : Counts of the whole table (shape (1,) fields)
    classes : sequence of str, length K
    min_support, min_class_support : int
        See the module docstring.
    level : float
        Interval level.

    Returns
    -------
    DataFrame, S * (1 + K) rows, ordered by slice then metric, with columns
        ``slice`` (position in ``counts``), ``metric``, ``higher_is_better``, ``n``
        (rows behind the metric: slice rows, or rows of the class in the slice),
        ``value, ci_low, ci_high, rest_n, rest_value, gap, gap_ci_low, gap_ci_high,
        p_value, score, excess, excess_given_class_mix`` (NaN except for error_rate),
        ``tested`` and ``reason`` (why untested: :data:`NO_ROWS`, :data:`BELOW_MIN_SUPPORT`,
        :data:`BELOW_MIN_CLASS_SUPPORT` or :data:`NO_VARIATION`; else "").
    """
    k = len(classes)
    s = len(counts.n)
    big_n = int(totals.n[0])
    # Failure counts per metric: errors, then misses of each class.
    fail = np.column_stack([counts.errors, counts.support - counts.correct]) if s else np.zeros((0, 1 + k))
    den = np.column_stack([counts.n, counts.support]) if s else np.zeros((0, 1 + k))
    fail_tot = np.concatenate([totals.errors, totals.support[0] - totals.correct[0]])
    den_tot = np.concatenate([totals.n, totals.support[0]])
    fail_rest, den_rest = fail_tot - fail, den_tot - den

    slice_ok = (counts.n >= min_support) & (big_n - counts.n >= min_support)
    tested = np.column_stack([slice_ok] + [slice_ok & (counts.support[:, j] >= min_class_support)
                                          & (totals.support[0, j] - counts.support[:, j] >= min_class_support)
                                          for j in range(k)]) if s else np.zeros((0, 1 + k), bool)
    reason = np.full(tested.shape, "", dtype=object)
    reason[~slice_ok, :] = BELOW_MIN_SUPPORT
    reason[counts.n == 0, :] = NO_ROWS
    class_short = slice_ok[:, None] & ~tested
    reason[class_short] = BELOW_MIN_CLASS_SUPPORT
    # A metric that fails on no row, or on every row, cannot differ between slice and
    # rest: its p value is 1 whatever the slice, so it is not a test and stays out of the family.
    constant = (fail_tot == 0) | (fail_tot == den_tot)
    reason[tested & constant[None, :]] = NO_VARIATION
    tested = tested & ~constant[None, :]

    # Rates: the error rate as is; recalls are 1 - miss rate.
    with np.errstate(invalid="ignore", divide="ignore"):
        fail_rate = fail / den
        rest_rate = fail_rest / den_rest
        overall = fail_tot / den_tot
    f_low, f_high = wilson_interval(fail, den, level)
    g_low, g_high = newcombe_interval(fail, den, fail_rest, den_rest, level)
    p_value, log10_p = fisher_greater(fail, den, fail_tot[None, :], den_tot[None, :])
    excess = fail - den * overall[None, :]
    # Errors the slice's own class mix predicts (each class at its overall recall): what
    # remains beyond it is not explained by the slice simply holding more of a weak class.
    miss_rate = (totals.support[0] - totals.correct[0]) / np.maximum(totals.support[0], 1)
    class_mix = np.full(fail.shape, np.nan)
    if s:
        class_mix[:, 0] = fail[:, 0] - counts.support @ miss_rate

    higher = np.array([False] + [True] * k)
    value = np.where(higher, 1 - fail_rate, fail_rate)
    ci_low = np.where(higher, 1 - f_high, f_low)
    ci_high = np.where(higher, 1 - f_low, f_high)
    rest_value = np.where(higher, 1 - rest_rate, rest_rate)
    # gap = value - rest_value; for recalls that is -(fail gap), so the interval flips.
    gap = value - rest_value
    gap_low = np.where(higher, -g_high, g_low)
    gap_high = np.where(higher, -g_low, g_high)
    p_value = np.where(tested, p_value, np.nan)
    score = np.where(tested, -log10_p, np.nan)

    names = metric_names(classes)
    return pd.DataFrame({
        "slice": np.repeat(np.arange(s), 1 + k),
        "metric": np.tile(names, s),
        "higher_is_better": np.tile(higher, s),
        "n": den.ravel().astype(np.int64),
        "value": value.ravel(),
        "ci_low": ci_low.ravel(),
        "ci_high": ci_high.ravel(),
        "rest_n": den_rest.ravel().astype(np.int64),
        "rest_value": rest_value.ravel(),
        "gap": gap.ravel(),
        "gap_ci_low": gap_low.ravel(),
        "gap_ci_high": gap_high.ravel(),
        "p_value": p_value.ravel(),
        "score": score.ravel(),
        "excess": excess.ravel(),
        "excess_given_class_mix": class_mix.ravel(),
        "tested": tested.ravel(),
        "reason": reason.ravel(),
    })


def class_tests(totals: Counts, classes: Sequence[str], *, min_class_support: int, level: float) -> pd.DataFrame:
    """Each class's recall against the pooled recall of the other classes.

    The same one-sided Fisher test as :func:`slice_tests` (the class has more misses
    than its size predicts), Wilson interval of its recall, Newcombe interval of the
    gap. ``excess`` is its misses beyond the overall error rate.

    Returns
    -------
    DataFrame, K rows: ``class``, ``metric`` ("recall") and the columns of
    :func:`slice_tests` except ``slice``.
    """
    k = len(classes)
    support = totals.support[0].astype(np.int64)
    misses = support - totals.correct[0]
    big_n, big_miss = int(support.sum()), int(misses.sum())
    rest_n, rest_miss = big_n - support, big_miss - misses
    tested = (support >= min_class_support) & (rest_n >= min_class_support) & (big_miss > 0) & (big_miss < big_n)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate, rest_rate = misses / support, rest_miss / rest_n
    low, high = wilson_interval(misses, support, level)
    g_low, g_high = newcombe_interval(misses, support, rest_miss, rest_n, level)
    p_value, log10_p = fisher_greater(misses, support, big_miss, big_n)
    return pd.DataFrame({
        "class": list(classes),
        "metric": "recall",
        "higher_is_better": True,
        "n": support,
        "value": 1 - rate,
        "ci_low": 1 - high,
        "ci_high": 1 - low,
        "rest_n": rest_n,
        "rest_value": 1 - rest_rate,
        "gap": rest_rate - rate,
        "gap_ci_low": -g_high,
        "gap_ci_high": -g_low,
        "p_value": np.where(tested, p_value, np.nan),
        "score": np.where(tested, -log10_p, np.nan),
        "excess": misses - support * (big_miss / big_n if big_n else np.nan),
        "tested": tested,
        "reason": np.where(tested, "", np.where((big_miss > 0) & (big_miss < big_n), BELOW_MIN_CLASS_SUPPORT,
                                                NO_VARIATION)),
    }, index=pd.RangeIndex(k))
