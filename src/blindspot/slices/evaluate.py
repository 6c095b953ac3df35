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
stay far below 2**24 (:meth:`blindspot.counts.CountTable.from_membership`
does the counting).

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

Within the true classes
-----------------------
A slice can be worse than the rest only because it holds more rows of a class the
model misses everywhere. ``error_rate`` is therefore also tested *conditional on the
true label*: :func:`stratified_greater`, the exact conditional test of the stratified
2x2 tables (one per true class: slice or rest, wrong or right) with the slice's total
errors as statistic, whose normal approximation is the Mantel-Haenszel test
(:func:`mantel_haenszel_greater`, kept for comparison and for the ranking of p values
below 1e-280). ``expected_given_class_mix`` is its null expectation: the errors the
slice's mix of true classes predicts, each class at its overall miss rate.

``score`` is ``-log10(p)``, the strength of the evidence that the slice is worse
(``cond_score`` likewise for the test within classes); see
:mod:`blindspot.slices.audit` for how the two decide and rank findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special as sp
from scipy import stats as st

from blindspot.bits import BitColumns
from blindspot.counts import BLOCK_ROWS, CountTable
from blindspot.metrics import recall_interval
from blindspot.stats import wilson_interval

# Why a comparison was not tested (short codes: metrics files are read as tables).
BELOW_MIN_SUPPORT = "below_min_support"  # slice or rest has fewer than min_support rows
BELOW_MIN_CLASS_SUPPORT = "below_min_class_support"  # too few rows of the class in slice or rest
NO_VARIATION = "no_variation"  # the metric fails on no row or on every row: no slice can differ
NO_ROWS = "no_rows"  # the slice holds no row of this data (a watchlist slice can be empty)
# Every true class's errors are fixed by its margins in the slice (e.g. each class all right
# or all wrong everywhere): the within-class test has nothing that can vary.
NO_VARIATION_WITHIN_CLASSES = "no_variation_within_classes"


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


def extension_counts(matrix: np.ndarray | BitColumns, parents: np.ndarray | None, cell: np.ndarray, n_cells: int,
                     block_rows: int = BLOCK_ROWS) -> np.ndarray:
    """Cell counts of every (parent conjunction AND predicate) pair.

    A view of :meth:`blindspot.counts.CountTable.from_membership`, which counts every
    pair by one matrix product per cell and block of rows (``P_c.T @ M_c``, parent
    membership by predicate membership over the cell's rows).

    Parameters
    ----------
    matrix : ndarray of bool, shape (n, P), or :class:`blindspot.bits.BitColumns`
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
        Whole numbers (float, as :meth:`Counts.from_cells` and the discovery expect).
    """
    n_parents = 1 if parents is None else len(parents)
    table = CountTable.from_membership(matrix, cell, n_cells, parents=parents, block_rows=block_rows)
    return table.counts.reshape(n_parents, matrix.shape[1], n_cells).astype(np.float64)


def mask_counts(masks: np.ndarray | BitColumns, y_true, y_pred, k: int) -> Counts:
    """Counts of arbitrary row masks (columns of ``masks``: an array of bool, shape (n, m) or (n,),
    or :class:`blindspot.bits.BitColumns`), e.g. watchlist conjunctions."""
    if not isinstance(masks, BitColumns):
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


def _log_binom(n, k):
    """``log C(n, k)``, vectorised (``gammaln``: exact to ~1e-10 even at a million rows)."""
    return sp.gammaln(n + 1) - sp.gammaln(k + 1) - sp.gammaln(n - k + 1)


def mantel_haenszel_greater(x, n, big_x, big_n) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-sided Mantel-Haenszel test (continuity-corrected normal tail), vectorised over slices.

    The normal approximation of :func:`stratified_greater`: the same statistic ``T``
    (failures in the slice, summed over strata), its exact conditional mean and
    variance (a sum of independent hypergeometrics), ``z = (T - E - 1/2) / sd``.

    Parameters
    ----------
    x, n, big_x, big_n : array_like of int, shape (S, K)
        Per stratum (true class): failures in the slice, rows in the slice, failures in
        the stratum, rows in the stratum.

    Returns
    -------
    p_value, log10_p, expected : ndarray of float, shape (S,)
        ``expected`` is ``E[T]``; where the variance is 0 (every stratum fixed) the p
        value is NaN.
    """
    x, n, big_x, big_n = (np.asarray(a, dtype=float) for a in (x, n, big_x, big_n))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(big_n > 0, n * big_x / big_n, 0.0)
        var = np.where(big_n > 1, n * (big_n - n) * big_x * (big_n - big_x) / (big_n ** 2 * (big_n - 1)), 0.0)
        expected, v = mean.sum(axis=-1), var.sum(axis=-1)
        z = (x.sum(axis=-1) - expected - 0.5) / np.sqrt(v)
    z = np.where(v > 0, z, np.nan)
    return st.norm.sf(z), st.norm.logsf(z) / np.log(10), expected


# A slice whose excess puts Hoeffding's bound on its tail below 10**-FAR_TAIL_EXPONENT has p = 0 (the
# exact sum underflows there too) without its windows: see stratified_greater.
FAR_TAIL_EXPONENT = 340.0


def stratified_greater(x, n, big_x, big_n, *, width_sd: float = 12.0, pad: float = 40.0
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact one-sided test that a slice fails more often *within* strata (true classes).

    Conditional on every stratum's margins, the slice's failures in stratum ``j`` are
    ``Hypergeom(big_n_j, big_x_j, n_j)`` under the null (within each stratum, failures
    do not depend on slice membership), independently across strata. The statistic is
    ``T = sum_j x_j`` (the sufficient statistic for a common odds ratio: the exact
    conditional test that the Mantel-Haenszel test approximates); the p value is
    ``P(T >= t)``, from the convolution of the strata's hypergeometric pmfs. With one
    stratum it is the one-sided Fisher exact test.

    Each pmf is evaluated on ``[mean - width_sd * sd, mean + width_sd * sd + pad +
    excess]`` (clipped to its support; ``excess = t - E[T]``): by Bernstein's inequality
    the mass left out of a stratum is below 1e-25, and it lies where no configuration
    reaching ``t`` needs it. The strata but the widest are convolved; the widest enters
    through a dot product with the others' survival function, so a slice costs about
    the product of its two narrowest windows (three classes). Where the exact tail
    underflows (below 1e-280) ``log10_p`` comes from :func:`mantel_haenszel_greater`
    instead: it only orders findings whose evidence is overwhelming either way. A slice so far
    in the tail that Hoeffding's bound puts ``P(T >= t)`` below ``10**-FAR_TAIL_EXPONENT`` has
    ``p = 0`` (the exact sum is 0 there too) and no windows: the memory then stays bounded by
    the slices near the null, however many rows a strong blind spot holds.

    Parameters
    ----------
    x, n, big_x, big_n : array_like of int, shape (S, K)
        As in :func:`mantel_haenszel_greater`.

    Returns
    -------
    p_value, log10_p : ndarray of float, shape (S,)
        NaN where every stratum is fixed by its margins (nothing can vary).
    expected : ndarray of float, shape (S,)
        ``E[T]`` under the null: the failures the slice's mix of strata predicts.
    """
    x, n, big_x, big_n = np.broadcast_arrays(*(np.atleast_2d(np.asarray(a, dtype=np.int64))
                                               for a in (x, n, big_x, big_n)))
    lo = np.maximum(0, n - (big_n - big_x))
    hi = np.minimum(n, big_x)
    mean, a, b = _windows(x, n, big_x, big_n, lo, hi, width_sd=width_sd, pad=pad)
    varies = (hi > lo).any(axis=1)
    # Far in the tail the exact p underflows to 0 however it is summed: Hoeffding's bound for draws
    # without replacement, P(T - E[T] >= d) <= exp(-2 d^2 / sum_j n_j), is below 1e-340 there. Those
    # slices skip their windows, which span the slice's whole excess: at ten million rows a strong
    # blind spot's excess of 10^5 errors made windows of 10^5 values for every stratum of it.
    excess = np.maximum(x.sum(axis=1) - mean.sum(axis=1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = varies & (2.0 * excess ** 2 > FAR_TAIL_EXPONENT * np.log(10.0) * n.sum(axis=1))
    near = ~far
    p = np.where(far, 0.0, np.nan)
    length = b[near] - a[near] + 1
    pmf, starts = _window_pmfs(a[near], length, n[near], big_x[near], big_n[near])
    t = x[near].sum(axis=1) - a[near].sum(axis=1)
    p[near] = _upper_tails(pmf, starts, length, t, lo[near], hi[near], varies[near])
    p = np.clip(p, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log10p = np.log10(p)
    tiny = varies & (p < 1e-280)
    if tiny.any():
        log10p[tiny] = mantel_haenszel_greater(x[tiny], n[tiny], big_x[tiny], big_n[tiny])[1]
    return p, np.minimum(log10p, 0.0), mean.sum(axis=1)


def _windows(x, n, big_x, big_n, lo, hi, *, width_sd: float, pad: float):
    """Each stratum's null mean and the window ``[a, b]`` of its pmf (see :func:`stratified_greater`).

    Parameters
    ----------
    x, n, big_x, big_n, lo, hi : ndarray of int64, shape (S, K)
        Counts as in :func:`stratified_greater`; ``lo``, ``hi`` the support of each stratum.

    Returns
    -------
    mean : ndarray of float, shape (S, K)
    a, b : ndarray of int64, shape (S, K)
        First and last value of each window, inside ``[lo, hi]``.
    """
    fn = big_n.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(big_n > 0, n * big_x / fn, 0.0)
        var = np.where(big_n > 1, n * (fn - n) * big_x * (fn - big_x) / (fn ** 2 * (fn - 1)), 0.0)
    sd = np.sqrt(var)
    a = np.clip(np.floor(mean - width_sd * sd), lo, hi).astype(np.int64)
    # Upward the window also spans the slice's whole excess, so the configurations that
    # make T >= t (every stratum shifted up) are inside it however far out t lies.
    excess = np.maximum(x.sum(axis=1) - mean.sum(axis=1), 0.0)[:, None]
    b = np.clip(np.ceil(mean + width_sd * sd + pad + excess), lo, hi).astype(np.int64)
    return mean, a, b


def _window_pmfs(a, length, n, big_x, big_n) -> tuple[np.ndarray, np.ndarray]:
    """Every window's hypergeometric pmf, laid end to end; each window's log pmf summed from its own
    start (the steps vectorised over every window), so no window's values depend on another's.

    Parameters
    ----------
    a, length : ndarray of int64, shape (S, K)
        First value and length of each stratum's window.
    n, big_x, big_n : ndarray of int64, shape (S, K)

    Returns
    -------
    pmf : ndarray of float, shape (sum of length,)
        Window ``i * K + j`` (slice i, stratum j) is ``pmf[starts[i * K + j]:starts[i * K + j + 1]]``.
    starts : ndarray of int, shape (S * K + 1,)
    """
    flat_len = length.ravel()
    starts = np.concatenate([[0], np.cumsum(flat_len)])
    owner = np.repeat(np.arange(flat_len.size), flat_len)
    k = a.ravel()[owner] + (np.arange(starts[-1]) - starts[:-1][owner])
    # log pmf at each window's start (gammaln), then up the window by the pmf's ratio
    # p(k+1)/p(k) = (X-k)(n-k) / ((k+1)(N-X-n+k+1)): two logs per value instead of nine gammalns.
    fa, fx, fnn, fbn = (v.ravel().astype(float) for v in (a, big_x, n, big_n))
    log_start = _log_binom(fx, fa) + _log_binom(fbn - fx, fnn - fa) - _log_binom(fbn, fnn)
    kf, bx, bn, nn = k.astype(float), fx[owner], fbn[owner], fnn[owner]
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.log((bx - kf) * (nn - kf)) - np.log((kf + 1) * (bn - bx - nn + kf + 1))
    log_pmf = np.empty(starts[-1])
    for w in range(flat_len.size):  # a loop over windows: each summed from its own start, so a slice's
        lo, hi = starts[w], starts[w + 1]  # pmf does not depend on the windows before it
        if hi > lo:
            log_pmf[lo] = log_start[w]
            np.cumsum(step[lo:hi - 1], out=log_pmf[lo + 1:hi])
            log_pmf[lo + 1:hi] += log_start[w]
    return np.exp(log_pmf), starts


def _upper_tails(pmf, starts, length, t, lo, hi, varies) -> np.ndarray:
    """``P(T >= t)`` of each slice, convolving its strata's windows.

    Parameters
    ----------
    pmf, starts
        From :func:`_window_pmfs`.
    length, lo, hi : ndarray of int64, shape (S, K)
    t : ndarray of int64, shape (S,)
        The observed statistic, counted from the windows' starts.
    varies : ndarray of bool, shape (S,)
        Slices with a stratum that is not fixed by its margins; the others are NaN.

    Returns
    -------
    ndarray of float, shape (S,)
    """
    s, kk = lo.shape
    p = np.full(s, np.nan)
    for i in np.flatnonzero(varies):  # a loop over slices; each step is a few small convolutions
        free = [j for j in np.argsort(length[i], kind="stable") if hi[i, j] > lo[i, j]]  # fixed strata shift T
        segs = [pmf[starts[i * kk + j]:starts[i * kk + j + 1]] for j in free]
        dist = segs[0] if len(segs) == 1 else np.ones(1)
        for seg in segs[:-1]:
            dist = np.convolve(dist, seg)
        if len(segs) == 1:
            p[i] = dist[max(int(t[i]), 0):].sum() if t[i] < dist.size else 0.0
            continue
        # P(T >= t) = sum_w pmf_w(v) * P(rest >= t - v), the widest stratum w by a dot product.
        wide = segs[-1]
        surv = np.concatenate([np.cumsum(dist[::-1])[::-1], [0.0]])
        need = np.clip(int(t[i]) - np.arange(wide.size), 0, dist.size)
        p[i] = float(wide @ surv[need])
    return p


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
        p_value, score, excess, excess_given_class_mix, expected_given_class_mix`` (the
        last two NaN except for error_rate), ``tested`` and ``reason`` (why untested:
        :data:`NO_ROWS`, :data:`BELOW_MIN_SUPPORT`, :data:`BELOW_MIN_CLASS_SUPPORT` or
        :data:`NO_VARIATION`; else ""), and the test within the true classes
        ``cond_p_value, cond_score, cond_tested, cond_reason`` (for error_rate
        :func:`stratified_greater`; for a recall the same values as the marginal test,
        which is already within one class; ``cond_reason`` adds
        :data:`NO_VARIATION_WITHIN_CLASSES`).
    """
    k = len(classes)
    s = len(counts.n)
    f = _Failures.of(counts, totals, k)
    tested, reason = _testable(counts, totals, f, min_support=min_support, min_class_support=min_class_support)
    p_value, log10_p = fisher_greater(f.fail, f.den, f.fail_tot[None, :], f.den_tot[None, :])
    cond_p, cond_log10, cond_tested = _within_classes(f, totals, tested, p_value, log10_p)
    reason_cond = np.where(cond_tested, "", np.where(tested, NO_VARIATION_WITHIN_CLASSES, reason))
    excess, expected_mix, class_mix = _excess(counts, totals, f)
    higher = np.array([False] + [True] * k)
    scores = _as_scores(f, higher, level)
    return pd.DataFrame({
        "slice": np.repeat(np.arange(s), 1 + k),
        "metric": np.tile(metric_names(classes), s),
        "higher_is_better": np.tile(higher, s),
        "n": f.den.ravel().astype(np.int64),
        **{name: scores[name].ravel() for name in ("value", "ci_low", "ci_high")},
        "rest_n": f.den_rest.ravel().astype(np.int64),
        **{name: scores[name].ravel() for name in ("rest_value", "gap", "gap_ci_low", "gap_ci_high")},
        "p_value": np.where(tested, p_value, np.nan).ravel(),
        "score": np.where(tested, -log10_p, np.nan).ravel(),
        "excess": excess.ravel(),
        "excess_given_class_mix": class_mix.ravel(),
        "expected_given_class_mix": expected_mix.ravel(),
        "tested": tested.ravel(),
        "reason": reason.ravel(),
        "cond_p_value": np.where(cond_tested, cond_p, np.nan).ravel(),
        "cond_score": np.where(cond_tested, -cond_log10, np.nan).ravel(),
        "cond_tested": cond_tested.ravel(),
        "cond_reason": reason_cond.ravel(),
    })


@dataclass(frozen=True)
class _Failures:
    """Failures and the rows behind them for each metric: errors, then the misses of each class.

    Attributes
    ----------
    fail, den : ndarray, shape (S, 1 + K)
        In each slice: errors and rows, then misses and rows of each true class.
    fail_tot, den_tot : ndarray of int64, shape (1 + K,)
        The same over the whole table.
    """

    fail: np.ndarray
    den: np.ndarray
    fail_tot: np.ndarray
    den_tot: np.ndarray

    @classmethod
    def of(cls, counts: Counts, totals: Counts, k: int) -> "_Failures":
        s = len(counts.n)
        fail = np.column_stack([counts.errors, counts.support - counts.correct]) if s else np.zeros((0, 1 + k))
        den = np.column_stack([counts.n, counts.support]) if s else np.zeros((0, 1 + k))
        return cls(fail, den, np.concatenate([totals.errors, totals.support[0] - totals.correct[0]]),
                   np.concatenate([totals.n, totals.support[0]]))

    @property
    def fail_rest(self) -> np.ndarray:
        return self.fail_tot - self.fail

    @property
    def den_rest(self) -> np.ndarray:
        return self.den_tot - self.den


def _testable(counts: Counts, totals: Counts, f: _Failures, *, min_support: int, min_class_support: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Which (slice, metric) comparisons are tested, and why the others are not.

    Returns
    -------
    tested : ndarray of bool, shape (S, 1 + K)
    reason : ndarray of object, shape (S, 1 + K)
        "" where tested, else one of the reason codes of this module.
    """
    k = totals.support.shape[1]
    big_n = int(totals.n[0])
    slice_ok = (counts.n >= min_support) & (big_n - counts.n >= min_support)
    tested = np.column_stack([slice_ok] + [slice_ok & (counts.support[:, j] >= min_class_support)
                                          & (totals.support[0, j] - counts.support[:, j] >= min_class_support)
                                          for j in range(k)]) if len(counts.n) else np.zeros((0, 1 + k), bool)
    reason = np.full(tested.shape, "", dtype=object)
    reason[~slice_ok, :] = BELOW_MIN_SUPPORT
    reason[counts.n == 0, :] = NO_ROWS
    class_short = slice_ok[:, None] & ~tested
    reason[class_short] = BELOW_MIN_CLASS_SUPPORT
    # A metric that fails on no row, or on every row, cannot differ between slice and
    # rest: its p value is 1 whatever the slice, so it is not a test and stays out of the family.
    constant = (f.fail_tot == 0) | (f.fail_tot == f.den_tot)
    reason[tested & constant[None, :]] = NO_VARIATION
    return tested & ~constant[None, :], reason


def _within_classes(f: _Failures, totals: Counts, tested, p_value, log10_p):
    """The test within the true classes of each comparison (see :func:`slice_tests`).

    For ``error_rate`` the exact test stratified on the true label
    (:func:`stratified_greater`); a recall is already within one class, so its
    conditional test is the test itself.

    Returns
    -------
    cond_p, cond_log10 : ndarray of float, shape (S, 1 + K)
    cond_tested : ndarray of bool, shape (S, 1 + K)
    """
    cond_p, cond_log10 = np.where(tested, p_value, np.nan), np.where(tested, log10_p, np.nan)
    cond_tested = tested.copy()
    err_rows = np.flatnonzero(tested[:, 0]) if len(tested) else np.zeros(0, np.int64)
    cond_p[:, 0] = cond_log10[:, 0] = np.nan
    if err_rows.size:
        miss_tot = totals.support[0] - totals.correct[0]
        sp_, sl_, _ = stratified_greater(f.fail[err_rows, 1:], f.den[err_rows, 1:], miss_tot[None, :],
                                         totals.support[0][None, :])
        cond_p[err_rows, 0], cond_log10[err_rows, 0] = sp_, sl_
    cond_tested[:, 0] = tested[:, 0] & np.isfinite(cond_p[:, 0])
    return cond_p, cond_log10, cond_tested


def _excess(counts: Counts, totals: Counts, f: _Failures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Failures beyond the overall rate; for ``error_rate`` also beyond the slice's class mix.

    The class mix predicts each class at its overall recall: what remains beyond that
    expectation is not explained by the slice simply holding more of a weak class.

    Returns
    -------
    excess : ndarray of float, shape (S, 1 + K)
    expected_mix, excess_mix : ndarray of float, shape (S, 1 + K)
        NaN but in the ``error_rate`` column.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = f.fail_tot / f.den_tot
    miss_rate = (totals.support[0] - totals.correct[0]) / np.maximum(totals.support[0], 1)
    excess_mix = np.full(f.fail.shape, np.nan)
    expected_mix = np.full(f.fail.shape, np.nan)
    if len(counts.n):
        expected_mix[:, 0] = counts.support @ miss_rate
        excess_mix[:, 0] = f.fail[:, 0] - expected_mix[:, 0]
    return f.fail - f.den * overall[None, :], expected_mix, excess_mix


def _as_scores(f: _Failures, higher: np.ndarray, level: float) -> dict[str, np.ndarray]:
    """Rates, Wilson intervals and Newcombe gap intervals, each in its metric's direction.

    The error rate is reported as is; a recall is 1 - its miss rate, so its interval
    and its gap's interval flip.

    Returns
    -------
    dict of str to ndarray of float, shape (S, 1 + K)
        ``value, ci_low, ci_high, rest_value, gap, gap_ci_low, gap_ci_high``.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        fail_rate = f.fail / f.den
        rest_rate = f.fail_rest / f.den_rest
    f_low, f_high = wilson_interval(f.fail, f.den, level)
    g_low, g_high = newcombe_interval(f.fail, f.den, f.fail_rest, f.den_rest, level)
    value = np.where(higher, 1 - fail_rate, fail_rate)
    rest_value = np.where(higher, 1 - rest_rate, rest_rate)
    # gap = value - rest_value; for recalls that is -(fail gap), so the interval flips.
    return {"value": value, "ci_low": np.where(higher, 1 - f_high, f_low),
            "ci_high": np.where(higher, 1 - f_low, f_high), "rest_value": rest_value, "gap": value - rest_value,
            "gap_ci_low": np.where(higher, -g_high, g_low), "gap_ci_high": np.where(higher, -g_low, g_high)}


def class_tests(totals: Counts, classes: Sequence[str], *, min_class_support: int, level: float) -> pd.DataFrame:
    """Each class's recall against the pooled recall of the other classes.

    The same one-sided Fisher test as :func:`slice_tests` (the class has more misses
    than its size predicts), Newcombe interval of the gap. The recall and its Wilson
    interval come from :func:`blindspot.metrics.recall_interval`, the one place they are
    computed (NaN for a class with no row). ``excess`` is its misses beyond the overall
    error rate.

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
    recall, low, high = recall_interval(totals.correct[0], support, level)
    g_low, g_high = newcombe_interval(misses, support, rest_miss, rest_n, level)
    p_value, log10_p = fisher_greater(misses, support, big_miss, big_n)
    return pd.DataFrame({
        "class": list(classes),
        "metric": "recall",
        "higher_is_better": True,
        "n": support,
        "value": recall,
        "ci_low": low,
        "ci_high": high,
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
