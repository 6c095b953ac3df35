"""Recalibration what-if: would a monotone fix of the confidences remove the problem?

If temperature scaling or isotonic regression brings the ECE down to its noise floor
while the Brier loss barely moves, the model's problem is *calibration* (its
confidences are mis-scaled but rank well, cheap to fix). If the Brier loss stays
high after recalibration, the problem is *discrimination* (the model cannot tell the
cases apart; only a better model helps). ``confidence_auroc`` in the summary says
the same from the other side.

Both maps are **cross-fitted**: rows are split into K folds (stratified by
correctness); each fold is recalibrated by a map fitted on the other folds, so no row
is scored by a map that saw it. The folds are ranked by a seeded hash of the rows' ids
(:func:`fold_hashes`, :func:`blindspot.samples.row_hash`), not by their positions, and
each map is fitted on its rows in the order of a hash too: the same rows in any order
or batches give the same folds, the same fitted maps and the same what-if. The what-if
itself runs over batches of rows (:mod:`blindspot.calibration.whatif`); this module holds
the maps and what is read off them.

- *Temperature scaling* (Guo et al., 2017): with class probabilities, logits are
  ``log p`` (clipped at 1e-12) and ``softmax(log p / T)`` is fitted by minimising the
  multiclass negative log likelihood over ``log T`` (``scipy.optimize.minimize_scalar``,
  T in [0.05, 20]). It keeps every row's argmax, so accuracy is unchanged. With a
  confidence only, the top-label confidence is scaled instead:
  ``sigmoid(logit(c) / T)`` fitted to correctness.
- *Isotonic regression* maps the top-label confidence to the probability of being
  correct: a top-label map, so only top-label metrics (ECE, MCE, top-label Brier)
  exist after it. The fit is ``scipy.optimize.isotonic_regression`` (pool adjacent
  violators) on the distinct confidences, the prediction a linear interpolation
  clipped at both ends: the same map as ``sklearn.isotonic.IsotonicRegression(
  out_of_bounds="clip")`` (tested), without scikit-learn's 0.8 s import in the stage.

What the fix would do to confident errors (``thresholds``)
--------------------------------------------------------
A lower ECE is not the whole story: a map that *raises* confidences (an underconfident
model) also pushes wrong answers over a confidence threshold. For every method and
threshold the what-if counts, on the out-of-fold confidences, the wrong answers at or
above the threshold (count, rate over all rows, Wilson interval), the change from
before, and the right answers that would fall below the threshold (count and share
of the right answers that were at or above it) or rise above it.

ECE after, and the improvement (``n_boot > 0``)
-----------------------------------------------
Both ECEs are computed on the same rows, so the improvement ``ece(before) -
ece(after)`` gets a *paired* interval: the cell bootstrap of
:mod:`blindspot.calibration.bootstrap` over cells (bin before, bin after, correct),
each replicate giving both ECEs at once. The improvement's interval is the percentile
interval of the paired differences (the upward bias of the two plug-in ECEs largely
cancels in the difference); ECE after gets the same interval and consistency test as
every other ECE (:func:`~blindspot.calibration.bootstrap.ece_interval`). Within one
cell the two confidences are drawn independently (their spread inside a 0.1-wide bin
pair is small), which widens rather than narrows the difference's interval.

Scale: each map is fitted on at most :data:`MAX_FIT_ROWS` rows of its training folds
(those of smallest fit rank, :func:`fit_ranks`). One temperature is estimated to about +-0.5% from 200,000
rows, and an isotonic map gains nothing visible beyond that; every row is still
recalibrated and scored.
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np
from scipy.optimize import isotonic_regression, minimize_scalar
from scipy.special import expit, log_softmax, logit

from blindspot.calibration.binning import ReliabilityBins, assign_bins
from blindspot.calibration.bootstrap import (
    ECE_INTERVAL,
    PAIRED_INTERVAL,
    cell_bootstrap,
    consistency_null,
    ece_interval,
    pair_codes,
)
from blindspot.calibration.confident import WILSON
from blindspot.calibration.metrics import ece_from_bins
from blindspot.keys import threshold_key
from blindspot.samples import row_hash, splitmix64
from blindspot.results.estimate import Estimate
from blindspot.stats import percentile_interval, wilson_interval

LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))
MAX_FIT_ROWS = 200_000
_CLIP = 1e-12


FOLDS_HASH = "recalibration/folds"
# The fit rank is a second hash made from the fold hash (fit_ranks): this constant keeps the two apart.
_FIT_SALT = splitmix64(np.array([zlib.crc32(b"recalibration/fit")], dtype=np.uint64))[0]


def fold_hashes(ids, seed: int) -> np.ndarray:
    """The hash the folds and fit samples are ranked by, shape (n,), uint64.

    ``row_hash(seed, ids, "recalibration/folds")``: a row's
    hash depends on its id and the seed only, so every choice ranked by it is the same for the
    rows in any order.

    Parameters
    ----------
    ids : array_like, Series, pyarrow Array or ChunkedArray, or range, shape (n,)
        Row ids, hashed as strings. A library caller without ids may pass ``range(n)``: the
        row positions stand for the ids, and the what-if then depends on the rows' order.
    seed : int

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    return row_hash(seed, ids, FOLDS_HASH)


def fit_ranks(hashes) -> np.ndarray:
    """Rank of each row for the fit samples, shape (n,), uint64: ``splitmix64(hash ^ salt)``.

    A second hash of the id, made from the fold hash rather than from the ids again: the
    ids are let go before the what-if runs, and one array of 8 bytes a row is all it keeps.
    splitmix64 spreads every bit of its input, so the fit rank is unrelated to the fold
    rank (a sample of the smallest fold hashes would take rows dealt first to each fold).
    One rank serves every fold: a fold's fit sample is its training rows of smallest rank.
    """
    return splitmix64(np.asarray(hashes, dtype=np.uint64) ^ _FIT_SALT)


def _logits(proba) -> np.ndarray:
    return np.log(np.clip(np.asarray(proba, float), _CLIP, 1.0))


def fit_temperature(y_true, proba) -> float:
    """Temperature minimising the multiclass NLL of ``softmax(log proba / T)``.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like of float, shape (n, n_classes)

    Returns
    -------
    float; T > 1 softens (the model was overconfident), T < 1 sharpens.
    """
    z = _logits(proba)
    y = np.asarray(y_true, dtype=np.intp)
    # NLL(T) = mean(log sum_k exp(d_k / T)) - mean(d_y) / T with d = z - max(z): the shift is
    # exact, keeps exp() in (0, 1], and leaves one exp per cell per evaluation.
    d = z - z.max(axis=1, keepdims=True)
    mean_dy = d[np.arange(y.size), y].mean()

    def nll(log_t):
        t = np.exp(log_t)
        return np.log(np.exp(d / t).sum(axis=1)).mean() - mean_dy / t

    res = minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-5})
    return float(np.exp(res.x))


def apply_temperature(proba, temperature: float) -> np.ndarray:
    """``softmax(log proba / T)``, shape (n, n_classes)."""
    return np.exp(log_softmax(_logits(proba) / temperature, axis=1))


def fit_top_label_temperature(correct, confidence) -> float:
    """Temperature of ``sigmoid(logit(c) / T)`` minimising the binary NLL of correctness."""
    z = logit(np.clip(np.asarray(confidence, float), _CLIP, 1 - _CLIP))
    y = np.asarray(correct, dtype=float)

    def nll(log_t):
        s = z / np.exp(log_t)
        # -[y log sigmoid(s) + (1-y) log sigmoid(-s)], written stably.
        return (np.logaddexp(0, -s) * y + np.logaddexp(0, s) * (1 - y)).mean()

    res = minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-5})
    return float(np.exp(res.x))


def apply_top_label_temperature(confidence, temperature: float) -> np.ndarray:
    return expit(logit(np.clip(np.asarray(confidence, float), _CLIP, 1 - _CLIP)) / temperature)


def fit_isotonic(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Increasing isotonic regression of ``y`` on ``x``, as knots of a piecewise-linear map.

    Rows with equal ``x`` are pooled first (their mean ``y``, weighted by their count),
    then pool-adjacent-violators runs on the distinct values.

    Parameters
    ----------
    x, y : array_like of float, shape (n,)

    Returns
    -------
    knots_x, knots_y : ndarray, shape (m,)
        Distinct ``x`` ascending and the fitted values there (within [0, 1] when ``y``
        is); :func:`apply_isotonic` interpolates between them.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    knots_x, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    means = np.bincount(inverse.ravel(), weights=y, minlength=knots_x.size) / counts
    fitted = isotonic_regression(means, weights=counts.astype(float), increasing=True).x
    return knots_x, fitted


def apply_isotonic(knots_x, knots_y, x) -> np.ndarray:
    """The fitted map at ``x``: linear between knots, the end values beyond them."""
    return np.interp(np.asarray(x, dtype=float), knots_x, knots_y)


def confident_after_counts(correct, before, after, thresholds: Sequence[float]) -> np.ndarray:
    """The counts behind :func:`confident_after`, int64 shape (T, 7): they add up over batches of rows.

    Columns: wrong with ``after >= t``; wrong with ``before >= t``; right with ``before >= t``; right
    falling below (``before >= t > after``); right rising above (``before < t <= after``); any row
    with ``after >= t``; wrong falling below.
    """
    correct = np.asarray(correct, dtype=bool)
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    out = np.empty((len(thresholds), 7), dtype=np.int64)
    for i, t in enumerate(thresholds):
        hi_b, hi_a = before >= t, after >= t
        out[i] = [(~correct & hi_a).sum(), (~correct & hi_b).sum(), (correct & hi_b).sum(),
                  (correct & hi_b & ~hi_a).sum(), (correct & ~hi_b & hi_a).sum(), hi_a.sum(),
                  (~correct & hi_b & ~hi_a).sum()]
    return out


def confident_after_block(counts: np.ndarray, n: int, thresholds: Sequence[float], *, level: float = 0.95) -> dict:
    """:func:`confident_after`'s block from :func:`confident_after_counts` (added over batches) and the rows ``n``."""
    out = {}
    for t, (count, count_before, right_before, falling, rising, n_confident, wrong_falling) in zip(thresholds,
                                                                                                   counts.tolist()):
        lo, hi = wilson_interval(count, n, level)
        out[threshold_key(t)] = {
            "threshold": float(t),
            "count": count,
            "count_before": count_before,
            "count_change": count - count_before,
            "rate": Estimate(count / n if n else np.nan, float(lo), float(hi), WILSON).encode(),
            "n_confident": n_confident,
            "correct_falling_below": falling,
            "correct_falling_below_share": falling / right_before if right_before else np.nan,
            "correct_rising_above": rising,
            "incorrect_falling_below": wrong_falling,
        }
    return out


def confident_after(correct, before, after, thresholds: Sequence[float], *, level: float = 0.95) -> dict:
    """Confidently incorrect rows at each threshold after a recalibration, and who crosses it.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    before, after : array_like of float, shape (n,)
        Top-label confidence before and after the map (out of fold).
    thresholds : sequence of float
    level : float
        Of the Wilson interval of the rate.

    Returns
    -------
    dict threshold key (:func:`blindspot.keys.threshold_key`) -> dict with
        ``threshold``; ``count`` (wrong, ``after >= t``), ``count_before``,
        ``count_change`` (after minus before); ``rate`` (count over all rows, an encoded
        :class:`~blindspot.results.estimate.Estimate` with its Wilson interval); ``n_confident`` (any row with
        ``after >= t``); ``correct_falling_below`` (right, ``before >= t > after``) and
        ``correct_falling_below_share`` (over the right rows with ``before >= t``; NaN
        when there are none); ``correct_rising_above`` (right, ``before < t <= after``);
        ``incorrect_falling_below`` (wrong, ``before >= t > after``).
    """
    counts = confident_after_counts(correct, before, after, thresholds)
    return confident_after_block(counts, np.asarray(correct).size, thresholds, level=level)


def ece_change(correct, before, after, bins_before: ReliabilityBins, bins_after: ReliabilityBins, *,
               n_boot: int, level: float, rng: np.random.Generator) -> dict:
    """ECE after a recalibration and its paired improvement, with intervals (module docstring).

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    before, after : array_like of float, shape (n,)
    bins_before, bins_after : ReliabilityBins
        Equal-width bins of ``before`` and ``after`` (their edges are kept fixed).
    n_boot : int
    level : float
    rng : numpy.random.Generator

    Returns
    -------
    dict with ``ece`` (ECE after, an encoded :class:`~blindspot.results.estimate.Estimate`),
    ``ece_p_value``, ``ece_noise_floor`` (of ECE after) and ``ece_reduction`` (before
    minus after, an encoded estimate with the paired interval).
    """
    correct = np.asarray(correct, dtype=bool)
    ka = len(bins_after.edges) - 1
    groups = pair_codes(assign_bins(before, bins_before.edges), assign_bins(after, bins_after.edges), ka, correct)
    codes, counts, sums = cell_bootstrap(groups, {"before": before, "after": after}, n_boot=n_boot, rng=rng)
    return ece_change_of_cells(codes, counts, sums["before"], sums["after"], correct.size, bins_before, bins_after,
                               n_boot=n_boot, level=level, rng=rng)


def ece_change_of_cells(codes, counts, sum_before, sum_after, n: int, bins_before: ReliabilityBins,
                        bins_after: ReliabilityBins, *, n_boot: int, level: float, rng: np.random.Generator) -> dict:
    """:func:`ece_change` from the cell bootstrap's replicates of the (bin before, bin after, correct) cells.

    Parameters
    ----------
    codes : ndarray of int, shape (C,)
        The occupied cells' :func:`~blindspot.calibration.bootstrap.pair_codes`.
    counts, sum_before, sum_after : ndarray of float, shape (n_boot, C)
        Each replicate's rows and sums of both confidences per cell.
    n : int
        Rows.
    """
    kb, ka = len(bins_before.edges) - 1, len(bins_after.edges) - 1
    right = (codes % 2).astype(float)
    cell_b, cell_a = (codes // 2) // ka, (codes // 2) % ka
    to_b = np.zeros((codes.size, kb))
    to_b[np.arange(codes.size), cell_b] = 1.0
    to_a = np.zeros((codes.size, ka))
    to_a[np.arange(codes.size), cell_a] = 1.0
    rep_b = np.abs((sum_before - counts * right) @ to_b).sum(axis=1) / n
    rep_a = np.abs((sum_after - counts * right) @ to_a).sum(axis=1) / n
    after_ece = ece_from_bins(bins_after)
    iv = ece_interval(after_ece, rep_a, consistency_null(bins_after, n_boot=n_boot, rng=rng), level=level)
    low, high = percentile_interval(rep_b - rep_a, level)
    return {"ece": Estimate(after_ece, iv["ci_low"], iv["ci_high"], ECE_INTERVAL).encode(),
            "ece_p_value": iv["p_value"], "ece_noise_floor": iv["noise_floor"],
            "ece_reduction": Estimate(ece_from_bins(bins_before) - after_ece, float(low), float(high),
                                      PAIRED_INTERVAL).encode()}


def headline(before: dict, methods: dict, t_all: float, fold_temperatures: np.ndarray, *, multiclass: bool,
              n_splits: int, with_intervals: bool) -> dict:
    """The what-if's metrics: each method's block, the temperature and the best method's gains."""
    best = min(methods, key=lambda k: (methods[k]["brier_top_label"], k))
    reduction = before["brier_top_label"] - methods[best]["brier_top_label"]
    paired = methods[best]["ece_reduction"] if with_intervals else {}
    ece_reduction = Estimate(before["ece"] - methods[best]["ece"]["value"], paired.get("ci_low"),
                             paired.get("ci_high"), paired.get("method", ""))
    return {
        "none": before,
        **methods,
        "temperature": t_all,
        "temperature_scope": "multiclass" if multiclass else "top_label",
        "temperature_folds_min": float(fold_temperatures.min()),
        "temperature_folds_max": float(fold_temperatures.max()),
        "n_splits": n_splits,
        "best_method": best,
        "ece_reduction": ece_reduction.encode(),
        "brier_top_label_reduction": reduction,
        "brier_top_label_reduction_share": reduction / before["brier_top_label"] if before["brier_top_label"] > 0 else np.nan,
    }
