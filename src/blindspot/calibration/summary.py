"""One block of calibration numbers for a set of rows (all rows, a class, a slice).

:func:`calibration_summary` bins once per binning, derives every binned number from
those bins, bootstraps the intervals over cells (:mod:`blindspot.calibration.bootstrap`)
and returns the bins too, so the caller can draw exactly what it reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blindspot.calibration.binning import ReliabilityBins, reliability_bins
from blindspot.calibration.bootstrap import (
    ECE_INTERVAL,
    PERCENTILE_INTERVAL,
    calibration_replicates,
    consistency_null,
    ece_interval,
)
from blindspot.calibration.metrics import (
    brier_rows,
    classwise_bins,
    ece_from_bins,
    log_loss_rows,
    mce_from_bins,
    top_label_brier_rows,
)
from blindspot.results.estimate import Estimate
from blindspot.stats import average_ranks, percentile_interval

ECE_NAMES = ("ece", "ece_equal_mass")  # the estimates whose interval is ECE_INTERVAL


@dataclass
class CalibrationSummary:
    """Numbers and bins of one set of rows.

    Attributes
    ----------
    metrics : dict
        Metric name -> float, or an encoded :class:`~blindspot.results.estimate.Estimate`
        for a number with an interval (see :func:`calibration_summary`).
    bins : ReliabilityBins
        Equal-width top-label bins (what ``ece`` and ``mce`` are computed from).
    bins_equal_mass : ReliabilityBins
        Equal-mass top-label bins (``ece_equal_mass``, ``mce_equal_mass``).
    classwise : list of ReliabilityBins or None
        Per class, ``p_k`` against ``1[y = k]`` (equal width); None without probabilities.
    """

    metrics: dict
    bins: ReliabilityBins
    bins_equal_mass: ReliabilityBins
    classwise: list | None = None


def confidence_auroc(correct, confidence) -> float:
    """Area under the ROC curve of confidence as a score for being correct (ties count half).

    Mann-Whitney form (one sort, no curve), equal to ``sklearn.metrics.roc_auc_score``;
    NaN when every prediction is right or every one wrong.
    """
    correct = np.asarray(correct, dtype=bool)
    n1 = int(correct.sum())
    n0 = correct.size - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = average_ranks(confidence)
    return float((ranks[correct].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def calibration_summary(correct, confidence, *, y_true=None, proba=None, n_bins: int = 10, n_boot: int = 1000,
                        ci_level: float = 0.95, rng: np.random.Generator) -> CalibrationSummary:
    """Top-label reliability, the ECE family, Brier and log loss, with intervals.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float in [0, 1], shape (n,)
        Probability of the predicted class.
    y_true : array_like of int, shape (n,), optional
        True class indices; needed with ``proba``.
    proba : array_like of float, shape (n, n_classes), optional
        Class probabilities; enables ``brier``, ``log_loss`` and ``classwise_ece``.
    n_bins : int
    n_boot : int
        Bootstrap replicates (and consistency-resampling draws); 0 skips intervals.
    ci_level : float
    rng : numpy.random.Generator

    Returns
    -------
    CalibrationSummary
        ``metrics`` keys: ``n``, ``accuracy``, ``mean_confidence``, ``overconfidence``,
        ``ece``, ``ece_debiased``, ``ece_noise_floor``, ``ece_p_value``,
        ``ece_equal_mass`` (same four companions), ``mce``, ``mce_equal_mass``,
        ``brier_top_label``, ``confidence_auroc`` and, with probabilities, ``brier``,
        ``log_loss``, ``classwise_ece``. ``ece``, ``ece_equal_mass``, ``overconfidence``,
        ``brier_top_label``, ``brier`` and ``log_loss`` are encoded estimates
        ``{value, ci_low, ci_high, method}`` (bounds null when ``n_boot`` is 0).
    """
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    bins_w = reliability_bins(correct, confidence, n_bins=n_bins, strategy="uniform")
    bins_m = reliability_bins(correct, confidence, n_bins=n_bins, strategy="quantile")

    losses = {"brier_top_label": top_label_brier_rows(correct, confidence)}
    classwise = None
    if proba is not None:
        losses["brier"] = brier_rows(y_true, proba)
        losses["log_loss"] = log_loss_rows(y_true, proba)
        classwise = classwise_bins(y_true, proba, n_bins=n_bins, strategy="uniform")

    m = _point_metrics(correct, confidence, bins_w, bins_m, losses, classwise)
    bounds, tests = _intervals(m, correct, confidence, bins_w, bins_m, losses, n_boot=n_boot, ci_level=ci_level,
                               rng=rng)
    for name, (low, high) in bounds.items():
        method = ECE_INTERVAL if name in ECE_NAMES else PERCENTILE_INTERVAL
        m[name] = Estimate(m[name], low, high, method).encode()
    m.update(tests)
    return CalibrationSummary(metrics=m, bins=bins_w, bins_equal_mass=bins_m, classwise=classwise)


def _point_metrics(correct: np.ndarray, confidence: np.ndarray, bins_w: ReliabilityBins, bins_m: ReliabilityBins,
                   losses: dict, classwise: list | None) -> dict:
    """Every number of :func:`calibration_summary` but the intervals (``losses``: name -> per-row loss, shape (n,))."""
    n = confidence.size
    m: dict = {
        "n": n,
        "accuracy": float(correct.mean()) if n else np.nan,
        "mean_confidence": float(confidence.mean()) if n else np.nan,
        "overconfidence": float(confidence.mean() - correct.mean()) if n else np.nan,
        "ece": ece_from_bins(bins_w),
        "ece_equal_mass": ece_from_bins(bins_m),
        "mce": mce_from_bins(bins_w),
        "mce_equal_mass": mce_from_bins(bins_m),
    }
    for name, rows in losses.items():
        m[name] = float(rows.mean()) if n else np.nan
    if classwise is not None:
        m["classwise_ece"] = float(np.mean([ece_from_bins(b) for b in classwise]))
    # Discrimination, not calibration: does confidence rank right answers above wrong ones?
    m["confidence_auroc"] = confidence_auroc(correct, confidence)
    return m


def _intervals(m: dict, correct: np.ndarray, confidence: np.ndarray, bins_w: ReliabilityBins,
               bins_m: ReliabilityBins, losses: dict, *, n_boot: int, ci_level: float,
               rng: np.random.Generator) -> tuple[dict, dict]:
    """The intervals and ECE tests of :func:`calibration_summary` for the point values ``m``.

    Draws from ``rng`` in a fixed order (the cell bootstrap, then the consistency nulls
    of the two binnings), so the same seed gives the same intervals.

    Returns
    -------
    bounds : dict name -> (ci_low, ci_high)
        For each of :data:`ECE_NAMES`, ``overconfidence`` and the losses (NaN when ``n_boot`` is 0).
    tests : dict
        ``<ece name>_debiased``, ``_p_value`` and ``_noise_floor`` (NaN when ``n_boot`` is 0).
    """
    bounds: dict = {}
    tests: dict = {}
    smooth = ["overconfidence", *losses]
    if n_boot > 0 and confidence.size > 0:
        reps = calibration_replicates(correct, confidence, edges_width=bins_w.edges, edges_mass=bins_m.edges,
                                      extra=losses, n_boot=n_boot, rng=rng)
        for name, bins in zip(ECE_NAMES, (bins_w, bins_m)):
            null = consistency_null(bins, n_boot=n_boot, rng=rng)
            iv = ece_interval(m[name], reps[name], null, level=ci_level)
            bounds[name] = (iv["ci_low"], iv["ci_high"])
            tests[f"{name}_debiased"], tests[f"{name}_p_value"] = iv["debiased"], iv["p_value"]
            tests[f"{name}_noise_floor"] = iv["noise_floor"]
        for name in smooth:
            low, high = percentile_interval(reps[name], ci_level)
            bounds[name] = (float(low), float(high))
    else:
        for name in ECE_NAMES:
            bounds[name] = (np.nan, np.nan)
            for suffix in ("debiased", "p_value", "noise_floor"):
                tests[f"{name}_{suffix}"] = np.nan
        for name in smooth:
            bounds[name] = (np.nan, np.nan)
    return bounds, tests
