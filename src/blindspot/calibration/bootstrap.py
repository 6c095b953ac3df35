"""Intervals for calibration metrics at a cost that does not grow with the rows.

Resampling cells instead of rows
--------------------------------
Every statistic bootstrapped here (ECE under both binnings, overconfidence, the
Brier losses, log loss) is a function of per-*cell* totals, a cell being
(equal-width bin, equal-mass bin, correct or not). Under the ordinary row bootstrap

1. the vector of cell counts is multinomial with the observed cell shares: drawn
   exactly with :func:`blindspot.stats.resample_counts`;
2. given its count ``m*``, a cell's resampled total of a per-row value (confidence,
   Brier score, ...) is a sum of ``m*`` draws from that cell's rows: mean
   ``m* mu``, variance ``m* sigma^2``. It is drawn from the normal with those two
   moments (rows inside one cell are alike - equal-width bins are 0.1 wide - so the
   approximation is very close; ``bench/calibration_coverage.py`` checks it against
   the exact row bootstrap).

One replicate costs O(cells) instead of O(rows): 1,000 replicates take the same few
milliseconds at 1,000 or 1,000,000 rows, for the whole data and for every slice. The
bin edges are those of the observed sample (for equal-mass bins too): the interval is
for the calibration error *with these bins*, the quantity the reliability plot shows.

The ECE interval
----------------
The plug-in ECE is biased upward (a sum of absolute values of noisy gaps) and its
true value sits on the boundary 0 for a calibrated model, where a percentile interval
never covers it. Neither textbook interval is right everywhere: the percentile
interval ``[q_low, q_high]`` undercovers when noise is comparable to the gaps (it
inherits the bias), the *basic* interval ``[2 ece - q_high, 2 ece - q_low]`` (which
reflects the bias away) undercovers when the gaps are clear. The interval reported is

- the union (hull) of the two, clipped at 0, and
- lower bound 0 whenever a *consistency-resampling* test of perfect calibration
  (Broecker & Smith, 2007: correctness redrawn per bin as Binomial(count, mean
  confidence), the ECE recomputed) does not reject at ``1 - ci_level``: 0 is then a
  value the data cannot rule out (test inversion). The test's p value is reported.

Simulated coverage at a nominal 95% (``bench/calibration_coverage.py``, 400 data
sets for each of 5 models x 5 sizes from 100 to 20,000 rows, committed in
``bench/results/calibration_coverage.json``): 90.0-97.3% for the equal-width ECE,
89.3-98.5% for the equal-mass ECE, the lowest at 100-300 rows with a true ECE of
0.03, where noise and gaps are the same size. On the same replicates the percentile
interval covers a calibrated model's ECE of 0 in 0% of runs and the basic interval
in 64-74%. The test's rejection rate on calibrated data is 5.0-6.8%.

The mean of that null distribution is reported as the *noise floor*: the ECE a
perfectly calibrated model with these confidences would show by chance alone.
``ece_debiased`` is ``ece`` minus the bootstrap bias estimate, clipped at 0.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from blindspot.calibration.binning import ReliabilityBins, assign_bins
from blindspot.counts import CountTable
from blindspot.stats import percentile_interval

# The interval methods each estimate of metrics/calibration.json names (rates use blindspot.metrics.WILSON).
# ECE: hull of the basic and percentile intervals of the cell bootstrap, lower bound 0 when the
# consistency-resampling test does not reject perfect calibration (module docstring).
ECE_INTERVAL = "cell_bootstrap_hull_consistency_test"
# Overconfidence, Brier losses, log loss: percentile interval of the same cell bootstrap.
PERCENTILE_INTERVAL = "cell_bootstrap_percentile"
# ECE before minus after a recalibration: percentile interval of the paired (bin before, bin after) cells.
PAIRED_INTERVAL = "paired_cell_bootstrap_percentile"


def cell_bootstrap(groups, values: Mapping[str, np.ndarray], *, n_boot: int, rng: np.random.Generator):
    """Bootstrap replicates of per-cell counts and per-cell sums of some per-row values.

    Parameters
    ----------
    groups : array_like of int, shape (n,)
        Cell code of each row (any integers).
    values : mapping of name -> array of float, shape (n,)
        Per-row values whose cell totals are wanted; drawn in the mapping's order.
    n_boot : int
    rng : numpy.random.Generator

    Returns
    -------
    codes : ndarray of int, shape (C,)
        The distinct cell codes, sorted.
    counts : ndarray of float, shape (n_boot, C)
        Resampled cell counts (each row sums to n).
    sums : dict name -> ndarray of float, shape (n_boot, C)
        Resampled cell totals of each value.
    """
    return resample_cells(cell_table(groups, values), n_boot=n_boot, rng=rng)


def cell_table(groups, values: Mapping[str, np.ndarray]) -> CountTable:
    """One group's occupied cells (``cell_names`` their codes), with each value's per-cell total and
    two-pass spread, in the mapping's order: what :func:`cell_bootstrap` resamples."""
    groups = np.asarray(groups)
    return _dense_cells(groups, values) if _small_codes(groups) else CountTable.from_keys(groups, sums=values,
                                                                                        moments=True)


def resample_cells(table: CountTable, *, n_boot: int, rng: np.random.Generator):
    """:func:`cell_bootstrap`'s replicates of a table of one group's occupied cells (``cell_names`` their codes).

    Returns
    -------
    codes, counts, sums
        As :func:`cell_bootstrap`.
    """
    reps, sums = table.resample(rng, n_boot)  # counts first, then one normal draw per value, in order
    n_boot_, _, c = reps.shape
    return (np.asarray(table.cell_names), reps.reshape(n_boot_, c).astype(float),
            {name: s.reshape(n_boot_, c) for name, s in sums.items()})


DENSE_CELLS = 1 << 20  # codes below this are counted in a dense table, not through a sort of every row


def _small_codes(groups: np.ndarray) -> bool:
    """Whether ``groups`` are integers in ``[0, DENSE_CELLS)`` (the bin-pair codes always are)."""
    return groups.dtype.kind in "iu" and (groups.size == 0 or (groups.min() >= 0 and groups.max() < DENSE_CELLS))


def _dense_cells(groups: np.ndarray, values: Mapping[str, np.ndarray]) -> CountTable:
    """``CountTable.from_keys(groups, sums=values, moments=True)`` by one ``bincount`` per sum.

    The same table, number for number (each cell's rows are added in row order either way),
    without the sort, the inverse codes and the int64 copies ``from_keys`` makes of every
    row: a few bytes a row of temporaries instead of about sixty.
    """
    codes = groups.astype(np.intp, copy=False)
    size = int(codes.max()) + 1 if codes.size else 0
    dense = np.bincount(codes, minlength=size)
    occupied = np.flatnonzero(dense)
    counts = dense[occupied]
    totals, m2 = {}, {}
    for name, v in values.items():
        v = np.asarray(v, dtype=float)
        total = np.bincount(codes, v, minlength=size)
        mu = np.divide(total, dense, out=np.zeros(size), where=dense > 0)
        deviation = mu[codes]  # then v minus it, squared, in that one buffer
        np.subtract(v, deviation, out=deviation)
        np.square(deviation, out=deviation)
        totals[name] = total[occupied][None, :]
        m2[name] = np.bincount(codes, deviation, minlength=size)[occupied][None, :]
    return CountTable(counts[None, :], totals, m2, None, occupied)


def pair_codes(first: np.ndarray, second: np.ndarray, n_second: int, correct: np.ndarray) -> np.ndarray:
    """Cell code ``(first * n_second + second) * 2 + correct`` of each row, shape (n,), int64, built in place."""
    codes = first.astype(np.int64)
    codes *= n_second
    codes += second
    codes *= 2
    codes += correct
    return codes


def calibration_replicates(
    correct,
    confidence,
    *,
    edges_width,
    edges_mass,
    extra: Mapping[str, np.ndarray] | None = None,
    n_boot: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Bootstrap replicates of ECE (both binnings), overconfidence and mean per-row losses.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float, shape (n,)
    edges_width, edges_mass : array_like of float
        The bin edges of the observed sample (kept fixed across replicates).
    extra : mapping name -> array of float, shape (n,), optional
        Per-row losses (e.g. Brier, log loss) whose mean is wanted per replicate.
    n_boot : int
    rng : numpy.random.Generator

    Returns
    -------
    dict name -> ndarray of float, shape (n_boot,)
        Keys ``ece``, ``ece_equal_mass``, ``overconfidence`` and each key of ``extra``.
    """
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    n = confidence.size
    bw = assign_bins(confidence, edges_width)
    bm = assign_bins(confidence, edges_mass)
    kw, km = len(edges_width) - 1, len(edges_mass) - 1
    groups = pair_codes(bw, bm, km, correct)
    values = {"confidence": confidence, **(extra or {})}
    codes, counts, sums = cell_bootstrap(groups, values, n_boot=n_boot, rng=rng)
    return replicates_of_cells(codes, counts, sums, n=n, n_width=kw, n_mass=km, extra=list(extra or {}))


def replicates_of_cells(codes: np.ndarray, counts: np.ndarray, sums: Mapping[str, np.ndarray], *, n: int,
                        n_width: int, n_mass: int, extra: Sequence[str]) -> dict[str, np.ndarray]:
    """:func:`calibration_replicates` from resampled cells (:func:`cell_bootstrap`, :func:`resample_cells`).

    Parameters
    ----------
    codes : ndarray of int, shape (C,)
        Occupied cell codes, ``(w * n_mass + m) * 2 + correct`` (:func:`pair_codes`).
    counts : ndarray of float, shape (n_boot, C)
    sums : mapping name -> ndarray of float, shape (n_boot, C)
        ``"confidence"`` and each name of ``extra``.
    n : int
        Rows of the sample.
    n_width, n_mass : int
        Bins of each binning.
    extra : sequence of str
        The per-row losses whose mean is wanted.
    """
    cell_correct = (codes % 2).astype(float)
    cell_w = (codes // 2) // n_mass
    cell_m = (codes // 2) % n_mass
    # Per cell: resampled (sum of confidence - number correct); ECE sums its absolute value per bin.
    gap = sums["confidence"] - counts * cell_correct
    to_w = np.zeros((len(codes), n_width))
    to_w[np.arange(len(codes)), cell_w] = 1.0
    to_m = np.zeros((len(codes), n_mass))
    to_m[np.arange(len(codes)), cell_m] = 1.0
    out = {
        "ece": np.abs(gap @ to_w).sum(axis=1) / n,
        "ece_equal_mass": np.abs(gap @ to_m).sum(axis=1) / n,
        "overconfidence": gap.sum(axis=1) / n,
    }
    for name in extra:
        out[name] = sums[name].sum(axis=1) / n
    return out


def consistency_null(bins: ReliabilityBins, *, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """ECE of a perfectly calibrated model with these bins, ``n_boot`` draws.

    Each bin's number of correct rows is redrawn as Binomial(count, mean confidence)
    (slightly wider than the exact Poisson-binomial, hence a conservative test),
    keeping every bin's count and confidence total.

    Returns
    -------
    ndarray of float, shape (n_boot,)
    """
    count = np.rint(bins.count).astype(np.int64)
    n = count.sum()
    if n == 0:
        return np.full(n_boot, np.nan)
    p = np.clip(np.nan_to_num(bins.mean_confidence, nan=0.0), 0.0, 1.0)
    k = rng.binomial(count, p, size=(n_boot, len(count)))
    return np.abs(bins.sum_confidence - k).sum(axis=1) / n


def ece_interval(estimate: float, replicates, null, *, level: float = 0.95) -> dict[str, float]:
    """Interval, bias correction and calibration test of a plug-in ECE (see module docstring).

    Parameters
    ----------
    estimate : float
        The plug-in ECE.
    replicates : array_like, shape (n_boot,)
        Bootstrap replicates of the ECE (:func:`calibration_replicates`).
    null : array_like, shape (n_null,)
        ECEs of perfectly calibrated redraws (:func:`consistency_null`).
    level : float

    Returns
    -------
    dict with ``ci_low``, ``ci_high``, ``debiased``, ``p_value`` (H0: perfectly
    calibrated), ``noise_floor`` (mean ECE under H0).
    """
    replicates = np.asarray(replicates, float)
    null = np.asarray(null, float)
    if not np.isfinite(estimate) or replicates.size == 0:
        return {"ci_low": np.nan, "ci_high": np.nan, "debiased": np.nan, "p_value": np.nan, "noise_floor": np.nan}
    q_low, q_high = (float(q) for q in percentile_interval(replicates, level))
    # Hull of the basic interval (reflected: bias-corrected) and the percentile interval.
    low = max(min(2 * estimate - q_high, q_low), 0.0)
    high = max(2 * estimate - q_low, q_high, 0.0)
    # The tolerance keeps a null draw that equals the estimate up to rounding counted as ">=".
    p_value = (1 + int((null >= estimate - 1e-12).sum())) / (null.size + 1)
    if p_value > 1 - level:
        low = 0.0
    debiased = max(2 * estimate - float(replicates.mean()), 0.0)
    return {"ci_low": low, "ci_high": high, "debiased": debiased, "p_value": p_value,
            "noise_floor": float(null.mean())}
