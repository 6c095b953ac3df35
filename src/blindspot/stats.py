"""Statistical primitives shared by every stage: intervals, resampling, FDR.

Conventions (DESIGN.md section 7): every headline number has an interval; the
interval method is named beside it; all randomness comes from a seeded
``numpy.random.Generator`` passed in by the caller.

Resampling counts instead of rows
---------------------------------
Any metric that is a function of a count table (a confusion matrix, per-bin counts)
can be bootstrapped by drawing the whole table from a multinomial with the observed
cell shares: that is exactly the distribution of the table under the row bootstrap,
at a cost independent of the number of rows. :func:`resample_counts` does that.

Import cost
-----------
This module is imported by every stage, so it imports no scipy: importing
``scipy.stats`` costs 0.6-0.8 s of start-up per process, a third of a small run's
time (``bench/README.md``). The tests check each function against ``scipy.stats``.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np


def wilson_interval(successes, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion, vectorised.

    Parameters
    ----------
    successes, n : array_like of int, same shape
        Counts; where ``n == 0`` the interval is ``(nan, nan)``.
    level : float
        Two-sided confidence level.

    Returns
    -------
    low, high : ndarray, same shape as ``successes``
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = NormalDist().inv_cdf(0.5 + level / 2)  # the normal quantile (scipy.stats.norm.ppf to 1e-15)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low, high = centre - half, centre + half
    low = np.where(n > 0, np.clip(low, 0, 1), np.nan)
    high = np.where(n > 0, np.clip(high, 0, 1), np.nan)
    return low, high


def percentile_interval(samples, level: float = 0.95, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of ``samples`` along ``axis`` (NaNs ignored)."""
    alpha = (1 - level) / 2
    samples = np.asarray(samples, dtype=float)
    with np.errstate(invalid="ignore"):
        low = np.nanquantile(samples, alpha, axis=axis) if samples.size else np.nan
        high = np.nanquantile(samples, 1 - alpha, axis=axis) if samples.size else np.nan
    return low, high


def resample_counts(counts, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of a count table.

    Parameters
    ----------
    counts : array_like of int, any shape
        The observed table (e.g. a confusion matrix, shape (K, K)).
    n_boot : int
        Number of replicates.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int64, shape (n_boot, *counts.shape)
        Tables with the same total, drawn from the multinomial with the observed
        cell shares: the row bootstrap's distribution of the table.
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros((n_boot, *counts.shape), dtype=np.int64)
    flat = rng.multinomial(total, counts.ravel() / total, size=n_boot)
    return flat.reshape((n_boot, *counts.shape))


def average_ranks(values) -> np.ndarray:
    """Ranks 1..n of ``values``, ties sharing their mean rank (``scipy.stats.rankdata``'s default).

    One sort: the sort order, the sorted values and a flag a row are held, then the order and
    the ranks (``np.unique(..., return_inverse=True)`` would hold a flat copy, the order, the
    sorted values, the run ids and the inverse at once: about 40 bytes a row). Ties, NaNs among
    them (sorted last, one run, as ``np.unique`` groups them), share ``end - (count - 1) / 2``.

    Parameters
    ----------
    values : array_like of float, shape (n,)

    Returns
    -------
    ndarray of float, shape (n,)
    """
    values = np.asarray(values).ravel()
    n = values.size
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(n, dtype=bool)  # True where a run of equal values starts
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    nans = int(np.isnan(ordered).sum()) if ordered.dtype.kind in "fc" else 0
    if nans:
        new[n - nans + 1:] = False
    del ordered
    counts = np.diff(np.append(np.flatnonzero(new), n))
    del new
    # The tied values of a run occupy ranks (end - count, end]; their mean is below.
    ends = np.cumsum(counts)
    ranks = np.empty(n)
    ranks[order] = np.repeat(ends - (counts - 1) / 2.0, counts)
    return ranks


def bh_qvalues(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p values (q values); NaN p values stay NaN.

    The family is every finite p value passed in: call it once over every test made.
    ``q_(i) = min_{j >= i} p_(j) m / j`` over the p values sorted ascending, capped at 1
    (equal to ``scipy.stats.false_discovery_control(p, method="bh")``, tested).

    Parameters
    ----------
    p_values : array_like of float, shape (m,)

    Returns
    -------
    ndarray of float, shape (m,)
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m:
        finite = p[ok]
        order = np.argsort(finite, kind="stable")
        scaled = finite[order] * m / np.arange(1, m + 1)
        # The running minimum from the largest p down makes q monotone in p.
        adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
        out = np.empty(m)
        out[order] = np.minimum(adjusted, 1.0)
        q[ok] = out
    return q
