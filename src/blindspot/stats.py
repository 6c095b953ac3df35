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
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st


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
    z = _st.norm.ppf(0.5 + level / 2)
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


def bh_qvalues(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p values (q values); NaN p values stay NaN.

    The family is every finite p value passed in: call it once over every test made.
    """
    p = np.asarray(p_values, dtype=float)
    q = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = _st.false_discovery_control(p[ok], method="bh")
    return q
