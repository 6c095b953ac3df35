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
give the same folds, the same fitted maps and the same what-if.

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
recalibrated and scored. This keeps the what-if near one second at 1,000,000 rows.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import isotonic_regression, minimize_scalar
from scipy.special import expit, log_softmax, logit

from blindspot.calibration.binning import ReliabilityBins, assign_bins, reliability_bins
from blindspot.calibration.bootstrap import (
    ECE_INTERVAL,
    PAIRED_INTERVAL,
    cell_bootstrap,
    consistency_null,
    ece_interval,
    pair_codes,
)
from blindspot.calibration.confident import WILSON
from blindspot.calibration.metrics import (
    brier_rows,
    ece_from_bins,
    log_loss_rows,
    mce_from_bins,
    top_label_brier_rows,
)
from blindspot.keys import threshold_key
from blindspot.samples import hash_order, row_hash, smallest_keys, splitmix64
from blindspot.results.estimate import Estimate
from blindspot.stats import percentile_interval, wilson_interval

LOG_T_BOUNDS = (np.log(0.05), np.log(20.0))
MAX_FIT_ROWS = 200_000
# Rows of a test fold recalibrated and scored at a time: every number is its row's own (a softmax
# and losses along the row), so blocks change none, and the temporaries stay a few MB at any size.
APPLY_ROWS = 1 << 16
_CLIP = 1e-12


FOLDS_HASH = "recalibration/folds"
# The fit rank is a second hash made from the fold hash (fit_ranks): this constant keeps the two apart.
_FIT_SALT = splitmix64(np.array([zlib.crc32(b"recalibration/fit")], dtype=np.uint64))[0]
# Training rows ranked at a time while the fit sample is chosen: the temporaries are one block's.
FIT_BLOCK = 1 << 18


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


def _fit_rows(train: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Positions of the training rows a map is fitted on, in ascending fit rank, shape (m,).

    All training rows when there are at most :data:`MAX_FIT_ROWS`, else the
    :data:`MAX_FIT_ROWS` of smallest :func:`fit_ranks` (ties by position). Ranked
    :data:`FIT_BLOCK` rows at a time, keeping the best so far
    (:func:`blindspot.samples.smallest_keys`). They come in rank order, not position order,
    so a map sees the same rows in the same order for the rows in any order: its sums, hence
    the fitted map, are bitwise the same.

    Parameters
    ----------
    train : ndarray of bool, shape (n,)
    hashes : ndarray of uint64, shape (n,)
        :func:`fold_hashes`.
    """
    blocks = (lo + np.flatnonzero(train[lo:lo + FIT_BLOCK]) for lo in range(0, train.size, FIT_BLOCK))
    return smallest_keys(((fit_ranks(hashes[pos]), pos) for pos in blocks), MAX_FIT_ROWS)


def cross_fit_folds(correct, hashes, *, n_splits: int = 5) -> np.ndarray:
    """Fold index of each row, shape (n,), the smallest unsigned dtype: stratified by correctness when possible.

    Rows are ranked by their hash (:func:`blindspot.samples.hash_order`), grouped by
    correctness (when the smaller group has at least ``n_splits`` rows; the ranking is kept
    within each group) and dealt to the folds in turn, so fold sizes differ by at most one,
    each fold holds its share of wrong predictions to within one row, and a row's fold
    depends on its hash, not on where the row sits.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    hashes : array_like of uint64, shape (n,)
        :func:`fold_hashes` of the rows' ids.
    n_splits : int

    Raises
    ------
    ValueError
        If there are fewer rows than ``2 * n_splits``, or the shapes differ.
    """
    correct = np.asarray(correct, dtype=bool)
    hashes = np.asarray(hashes, dtype=np.uint64)
    n = correct.size
    if hashes.shape != correct.shape:
        raise ValueError(f"one hash a row is needed: {hashes.shape} hashes for {correct.shape} rows.")
    if n_splits < 2:
        raise ValueError(f"recalibration needs at least 2 folds. Got n_splits={n_splits} instead.")
    if n < 2 * n_splits:
        raise ValueError(f"cross-fitting {n_splits} folds needs at least {2 * n_splits} rows. Got {n} instead.")
    order = hash_order(hashes)
    minority = min(int(correct.sum()), int((~correct).sum()))
    if minority >= n_splits:
        order = order[np.argsort(correct[order], kind="stable")]  # wrong rows first, each group in hash order
    fold = np.empty(n, dtype=np.min_scalar_type(n_splits - 1))  # one byte a row while every method is fitted
    fold[order] = np.arange(n) % n_splits
    return fold


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


@dataclass
class Recalibrated:
    """Out-of-fold recalibrated predictions.

    Attributes
    ----------
    confidence : ndarray, shape (n,)
        Recalibrated top-label confidence.
    proba : ndarray, shape (n, n_classes) or None
        Recalibrated probabilities (temperature scaling with probabilities, when kept).
    temperatures : ndarray, shape (n_splits,) or None
        Temperature fitted in each fold.
    losses : dict or None
        ``brier`` and ``log_loss`` of the recalibrated probabilities (temperature scaling
        with probabilities): the means over every row of :func:`~blindspot.calibration.
        metrics.brier_rows` and :func:`~blindspot.calibration.metrics.log_loss_rows`.
    """

    confidence: np.ndarray
    proba: np.ndarray | None = None
    temperatures: np.ndarray | None = None
    losses: dict | None = None


def temperature_scaling_oof(correct, confidence, folds, hashes, *, y_true=None, proba=None,
                            keep_proba: bool = True) -> Recalibrated:
    """Cross-fitted temperature scaling (multiclass with ``proba``, else top-label).

    ``folds`` (shape (n,)) is :func:`cross_fit_folds`'s; ``hashes`` (uint64, shape (n,)) the
    :func:`fold_hashes` the fit samples are ranked by (:func:`_fit_rows`).

    With ``proba``, each fold's recalibrated probabilities are scored as they are made (per-row
    Brier score and log loss, then their means over every row: the numbers ``brier_rows`` and
    ``log_loss_rows`` give on the whole matrix), so with ``keep_proba=False`` the (n, n_classes)
    matrix after recalibration is never held.
    """
    folds = np.asarray(folds)
    correct = np.asarray(correct)
    confidence = np.asarray(confidence, dtype=float)
    k = int(folds.max()) + 1
    temps = np.empty(k)
    conf_out = np.empty(len(folds))
    proba_out = np.empty_like(np.asarray(proba, float)) if proba is not None and keep_proba else None
    brier_out = log_loss_out = None
    if proba is not None:
        proba, y_true = np.asarray(proba, dtype=float), np.asarray(y_true)
        brier_out, log_loss_out = np.empty(len(folds)), np.empty(len(folds))
    for f in range(k):
        test, fit = folds == f, _fit_rows(folds != f, hashes)
        if proba is not None:
            temps[f] = fit_temperature(y_true[fit], proba[fit])
            test_rows = np.flatnonzero(test)
            for lo in range(0, test_rows.size, APPLY_ROWS):
                at = test_rows[lo:lo + APPLY_ROWS]
                after = apply_temperature(proba[at], temps[f])
                if proba_out is not None:
                    proba_out[at] = after
                conf_out[at] = after.max(axis=1)
                brier_out[at] = brier_rows(y_true[at], after)
                log_loss_out[at] = log_loss_rows(y_true[at], after)
        else:
            temps[f] = fit_top_label_temperature(correct[fit], confidence[fit])
            conf_out[test] = apply_top_label_temperature(confidence[test], temps[f])
    losses = None if brier_out is None else {"brier": float(brier_out.mean()), "log_loss": float(log_loss_out.mean())}
    return Recalibrated(confidence=conf_out, proba=proba_out, temperatures=temps, losses=losses)


def isotonic_oof(correct, confidence, folds, hashes) -> Recalibrated:
    """Cross-fitted isotonic regression of correctness on top-label confidence.

    ``folds`` and ``hashes``, shape (n,): as :func:`temperature_scaling_oof` takes them.
    """
    folds = np.asarray(folds)
    correct = np.asarray(correct, dtype=float)
    confidence = np.asarray(confidence, dtype=float)
    out = np.empty(confidence.size)
    for f in range(int(folds.max()) + 1):
        test, fit = folds == f, _fit_rows(folds != f, hashes)
        out[test] = apply_isotonic(*fit_isotonic(confidence[fit], correct[fit]), confidence[test])
    return Recalibrated(confidence=out)


def _scores(correct, confidence, *, y_true=None, proba=None, losses=None, n_bins: int) -> tuple[dict, ReliabilityBins]:
    """Top-label scores of ``confidence``, and ``brier`` / ``log_loss`` of ``proba`` (or as given in ``losses``)."""
    bins_w = reliability_bins(correct, confidence, n_bins=n_bins, strategy="uniform")
    bins_m = reliability_bins(correct, confidence, n_bins=n_bins, strategy="quantile")
    out = {
        "ece": ece_from_bins(bins_w),
        "ece_equal_mass": ece_from_bins(bins_m),
        "mce": mce_from_bins(bins_w),
        "brier_top_label": float(top_label_brier_rows(correct, confidence).mean()),
        "overconfidence": float(np.mean(confidence) - np.mean(correct)),
    }
    if proba is not None:
        out["brier"] = float(brier_rows(y_true, proba).mean())
        out["log_loss"] = float(log_loss_rows(y_true, proba).mean())
    elif losses is not None:
        out.update(brier=losses["brier"], log_loss=losses["log_loss"])
    return out, bins_w


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
    correct = np.asarray(correct, dtype=bool)
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    n = correct.size
    out = {}
    for t in thresholds:
        hi_b, hi_a = before >= t, after >= t
        count = int((~correct & hi_a).sum())
        count_before = int((~correct & hi_b).sum())
        right_before = int((correct & hi_b).sum())
        falling = int((correct & hi_b & ~hi_a).sum())
        lo, hi = wilson_interval(count, n, level)
        out[threshold_key(t)] = {
            "threshold": float(t),
            "count": count,
            "count_before": count_before,
            "count_change": count - count_before,
            "rate": Estimate(count / n if n else np.nan, float(lo), float(hi), WILSON).encode(),
            "n_confident": int(hi_a.sum()),
            "correct_falling_below": falling,
            "correct_falling_below_share": falling / right_before if right_before else np.nan,
            "correct_rising_above": int((correct & ~hi_b & hi_a).sum()),
            "incorrect_falling_below": int((~correct & hi_b & ~hi_a).sum()),
        }
    return out


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
    n = correct.size
    eb, ea = bins_before.edges, bins_after.edges
    kb, ka = len(eb) - 1, len(ea) - 1
    groups = pair_codes(assign_bins(before, eb), assign_bins(after, ea), ka, correct)  # the bin indices go once coded
    codes, counts, sums = cell_bootstrap(groups, {"before": before, "after": after}, n_boot=n_boot, rng=rng)
    right = (codes % 2).astype(float)
    cell_b, cell_a = (codes // 2) // ka, (codes // 2) % ka
    to_b = np.zeros((codes.size, kb))
    to_b[np.arange(codes.size), cell_b] = 1.0
    to_a = np.zeros((codes.size, ka))
    to_a[np.arange(codes.size), cell_a] = 1.0
    rep_b = np.abs((sums["before"] - counts * right) @ to_b).sum(axis=1) / n
    rep_a = np.abs((sums["after"] - counts * right) @ to_a).sum(axis=1) / n
    after_ece = ece_from_bins(bins_after)
    iv = ece_interval(after_ece, rep_a, consistency_null(bins_after, n_boot=n_boot, rng=rng), level=level)
    low, high = percentile_interval(rep_b - rep_a, level)
    return {"ece": Estimate(after_ece, iv["ci_low"], iv["ci_high"], ECE_INTERVAL).encode(),
            "ece_p_value": iv["p_value"], "ece_noise_floor": iv["noise_floor"],
            "ece_reduction": Estimate(ece_from_bins(bins_before) - after_ece, float(low), float(high),
                                      PAIRED_INTERVAL).encode()}


def recalibration_whatif(correct, confidence, *, y_true=None, proba=None, hashes=None, n_bins: int = 10,
                         n_splits: int = 5, seed: int = 0, thresholds: Sequence[float] = (), n_boot: int = 0,
                         ci_level: float = 0.95,
                         rng: np.random.Generator | None = None) -> tuple[dict, dict[str, ReliabilityBins]]:
    """Scores before and after cross-fitted temperature scaling and isotonic regression.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float, shape (n,)
    y_true : array_like of int, shape (n,), optional
    proba : array_like of float, shape (n, n_classes), optional
    hashes : array_like of uint64, shape (n,), optional
        :func:`fold_hashes` of the rows' ids: the folds and fit samples are ranked by them, so
        the what-if is the same for the rows in any order. Without them the row positions
        stand for the ids (``fold_hashes(range(n), seed)``) and the what-if depends on the
        rows' order: a caller with ids should pass their hashes.
    n_bins : int
    n_splits : int
        Cross-fitting folds.
    seed : int
        Of the fallback hashes, and of ``rng``'s default.
    thresholds : sequence of float
        Confidence thresholds of the confident-error what-if (none: not measured).
    n_boot : int
        Bootstrap replicates of the ECE-after and improvement intervals (0: none).
    ci_level : float
    rng : numpy.random.Generator, optional
        For the intervals; default ``numpy.random.default_rng(seed)``.

    Returns
    -------
    metrics : dict
        ``none``, ``temperature_scaling``, ``isotonic``: each ``ece``,
        ``ece_equal_mass``, ``mce``, ``brier_top_label``, ``overconfidence`` (and
        ``brier``, ``log_loss`` where the method gives probabilities); a method's ``ece``
        is an encoded :class:`~blindspot.results.estimate.Estimate` (its interval with
        ``n_boot > 0``), the data as given keeps plain numbers. Plus ``temperature``
        (fitted on all rows, descriptive only), ``temperature_folds_min`` / ``_max``,
        ``n_splits``, ``best_method`` (lowest top-label Brier after), ``ece_reduction``
        (an estimate: before minus best after, with the best method's paired interval
        when ``n_boot > 0``), ``brier_top_label_reduction`` (before minus best after)
        and ``brier_top_label_reduction_share`` (that reduction over the Brier before).
        With ``thresholds``, each of ``none``, ``temperature_scaling`` and ``isotonic``
        also holds ``confidently_incorrect.<conf_ge_..>`` (:func:`confident_after`;
        for ``none`` it is the data as given). With ``n_boot > 0`` each method also
        holds :func:`ece_change`'s keys.
    bins : dict method -> ReliabilityBins
        Equal-width bins after each method (for the before/after plot).
    """
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    hashes = fold_hashes(range(correct.size), seed) if hashes is None else np.asarray(hashes, dtype=np.uint64)
    folds = cross_fit_folds(correct, hashes, n_splits=n_splits)
    before, bins_before = _scores(correct, confidence, y_true=y_true, proba=proba, n_bins=n_bins)
    # Each method is scored from its out-of-fold confidences (and, for temperature scaling, the losses of its
    # probabilities, scored fold by fold): only the (n,) confidences after each method are kept.
    methods, bins, after_conf = {}, {"none": bins_before}, {}
    ts = temperature_scaling_oof(correct, confidence, folds, hashes, y_true=y_true, proba=proba, keep_proba=False)
    iso = isotonic_oof(correct, confidence, folds, hashes)
    for name, fix in (("temperature_scaling", ts), ("isotonic", iso)):
        after_conf[name] = fix.confidence
        methods[name], bins[name] = _scores(correct, fix.confidence, losses=fix.losses, n_bins=n_bins)
    if thresholds:
        before["confidently_incorrect"] = confident_after(correct, confidence, confidence, thresholds, level=ci_level)
    if n_boot > 0:
        rng = np.random.default_rng(seed) if rng is None else rng
    for name, block in methods.items():  # in this order: the methods share ``rng``
        block.update(_what_if(correct, confidence, after_conf[name], bins_before, bins[name], thresholds=thresholds,
                              n_boot=n_boot, ci_level=ci_level, rng=rng))
    t_all = _temperature_all_rows(correct, confidence, y_true=y_true, proba=proba, hashes=hashes)
    return _headline(before, methods, t_all, ts.temperatures, multiclass=proba is not None, n_splits=n_splits,
                     with_intervals=n_boot > 0), bins


def _temperature_all_rows(correct, confidence, *, y_true, proba, hashes: np.ndarray) -> float:
    """The temperature fitted on every row (or their fit sample): descriptive only (the what-if uses the
    cross-fitted ones)."""
    every = _fit_rows(np.ones(correct.size, bool), hashes)
    if proba is not None:
        return fit_temperature(np.asarray(y_true)[every], np.asarray(proba)[every])
    return fit_top_label_temperature(correct[every], confidence[every])


def _what_if(correct, before, after, bins_before: ReliabilityBins, bins_after: ReliabilityBins, *,
             thresholds: Sequence[float], n_boot: int, ci_level: float, rng) -> dict:
    """One method's confident errors after it (with ``thresholds``) and ECE change (with ``n_boot > 0``)."""
    out = {"ece": Estimate(ece_from_bins(bins_after)).encode()}  # no interval without n_boot
    if thresholds:
        out["confidently_incorrect"] = confident_after(correct, before, after, thresholds, level=ci_level)
    if n_boot > 0:
        out.update(ece_change(correct, before, after, bins_before, bins_after, n_boot=n_boot, level=ci_level,
                              rng=rng))
    return out


def _headline(before: dict, methods: dict, t_all: float, fold_temperatures: np.ndarray, *, multiclass: bool,
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
