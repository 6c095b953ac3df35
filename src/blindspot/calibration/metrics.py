"""Calibration metrics as pure functions (scikit-learn style).

Every binned metric here goes through :func:`~blindspot.calibration.binning.reliability_bins`
(or takes its result), so ECE, MCE and the reliability plots share one binning.

Definitions
-----------
- **ECE** (expected calibration error, top-label, L1):
  ``sum_b (n_b / n) * |mean_conf_b - acc_b|``. The plug-in estimate is biased upward
  by sampling noise: a perfectly calibrated model scores about
  ``sum_b (n_b/n) * sqrt(2 acc_b (1-acc_b) / (pi n_b))`` (0.02-0.03 for 1,000 rows and
  10 bins); :mod:`blindspot.calibration.bootstrap` estimates that noise floor.
- **MCE** (maximum calibration error): ``max_b |mean_conf_b - acc_b|`` over non-empty
  bins. A single small bin can set it: read it with the bin counts.
- **Classwise ECE**: for each class ``k`` the ECE of ``p_k`` against ``1[y = k]`` over
  all rows; the mean over classes (Kull et al., 2019).
- **Multiclass Brier loss**: ``mean_i sum_k (p_ik - 1[y_i = k])^2`` in ``[0, 2]``.
  For two classes this is twice ``sklearn.metrics.brier_score_loss`` of the positive
  class (which halves it to ``[0, 1]``).
- **Top-label Brier loss**: ``mean_i (conf_i - correct_i)^2`` in ``[0, 1]``; needs only
  the confidence, so it exists when probabilities do not.
- **Log loss**: ``-mean_i log p_i,y_i`` with probabilities clipped to
  ``[eps, 1 - eps]`` (``eps`` = float64 machine epsilon), as scikit-learn does.
- **Overconfidence**: mean confidence minus accuracy; positive means the model
  claims more than it delivers.
"""

from __future__ import annotations

import numpy as np

from blindspot.calibration.binning import ReliabilityBins, reliability_bins

EPS = np.finfo(float).eps


def ece_from_bins(bins: ReliabilityBins) -> float:
    """ECE of aggregated bins: ``sum_b |sum_conf_b - sum_correct_b| / n`` (NaN if empty)."""
    n = bins.n
    if n == 0:
        return float("nan")
    return float(np.abs(bins.sum_confidence - bins.sum_correct).sum() / n)


def mce_from_bins(bins: ReliabilityBins) -> float:
    """MCE of aggregated bins: largest ``|mean_conf_b - acc_b|`` over non-empty bins."""
    gap = bins.gap[bins.nonempty]
    return float(np.abs(gap).max()) if gap.size else float("nan")


def expected_calibration_error(correct, confidence, *, n_bins: int = 10, strategy: str = "uniform") -> float:
    """Top-label expected calibration error.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float in [0, 1], shape (n,)
    n_bins : int
    strategy : {"uniform", "quantile"}
        Equal-width or equal-mass bins.

    Returns
    -------
    float in [0, 1]; lower is better. NaN for no rows.
    """
    return ece_from_bins(reliability_bins(correct, confidence, n_bins=n_bins, strategy=strategy))


def maximum_calibration_error(correct, confidence, *, n_bins: int = 10, strategy: str = "uniform") -> float:
    """Top-label maximum calibration error (see :func:`expected_calibration_error`)."""
    return mce_from_bins(reliability_bins(correct, confidence, n_bins=n_bins, strategy=strategy))


def _check_proba(y_true, proba) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=float)
    y_true = np.asarray(y_true)
    if proba.ndim != 2:
        raise ValueError(f"proba must be a 2-D array (n_rows, n_classes). Got shape {proba.shape} instead.")
    if y_true.shape != (proba.shape[0],):
        raise ValueError(f"y_true must have shape ({proba.shape[0]},) to match proba. Got {y_true.shape} instead.")
    if y_true.size and (y_true.min() < 0 or y_true.max() >= proba.shape[1]):
        raise ValueError(
            f"y_true must hold class indices in [0, {proba.shape[1] - 1}]. "
            f"Got values from {y_true.min()} to {y_true.max()} instead."
        )
    return y_true.astype(np.intp), proba


def one_hot(y_true, n_classes: int) -> np.ndarray:
    """Indicator matrix of class indices, shape (n, n_classes), float."""
    y_true = np.asarray(y_true, dtype=np.intp)
    out = np.zeros((y_true.size, n_classes))
    out[np.arange(y_true.size), y_true] = 1.0
    return out


def classwise_bins(y_true, proba, *, n_bins: int = 10, strategy: str = "uniform") -> list[ReliabilityBins]:
    """One reliability curve per class: ``p_k`` against ``1[y = k]``, over all rows."""
    y_true, proba = _check_proba(y_true, proba)
    return [reliability_bins(y_true == k, proba[:, k], n_bins=n_bins, strategy=strategy) for k in range(proba.shape[1])]


def classwise_calibration_error(y_true, proba, *, n_bins: int = 10, strategy: str = "uniform") -> float:
    """Classwise ECE: mean over classes of the ECE of ``p_k`` against ``1[y = k]``.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
        Class indices.
    proba : array_like of float, shape (n, n_classes)

    Returns
    -------
    float; lower is better.
    """
    per_class = [ece_from_bins(b) for b in classwise_bins(y_true, proba, n_bins=n_bins, strategy=strategy)]
    return float(np.mean(per_class)) if per_class else float("nan")


def brier_rows(y_true, proba) -> np.ndarray:
    """Per-row multiclass Brier score ``sum_k (p_k - 1[y = k])^2``, shape (n,), in [0, 2]."""
    y_true, proba = _check_proba(y_true, proba)
    # proba minus the one-hot matrix, squared, in one copy of proba (x - 0.0 is x: the same numbers).
    diff = proba.copy()
    for k in range(proba.shape[1]):
        diff[y_true == k, k] -= 1.0
    np.square(diff, out=diff)
    return diff.sum(axis=1)


def multiclass_brier_loss(y_true, proba) -> float:
    """Multiclass Brier loss: mean over rows of the sum over classes of squared error.

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like of float, shape (n, n_classes)

    Returns
    -------
    float in [0, 2]; lower is better.
    """
    rows = brier_rows(y_true, proba)
    return float(rows.mean()) if rows.size else float("nan")


def top_label_brier_rows(correct, confidence) -> np.ndarray:
    """Per-row top-label Brier score ``(confidence - correct)^2``, shape (n,)."""
    return (np.asarray(confidence, float) - np.asarray(correct, float)) ** 2


def top_label_brier_loss(correct, confidence) -> float:
    """Top-label Brier loss ``mean (confidence - correct)^2`` in [0, 1]; lower is better."""
    rows = top_label_brier_rows(correct, confidence)
    return float(rows.mean()) if rows.size else float("nan")


def log_loss_rows(y_true, proba) -> np.ndarray:
    """Per-row negative log probability of the true class (clipped like scikit-learn), shape (n,)."""
    y_true, proba = _check_proba(y_true, proba)
    p = np.clip(proba[np.arange(y_true.size), y_true], EPS, 1 - EPS)
    return -np.log(p)


def overconfidence(correct, confidence) -> float:
    """Mean confidence minus accuracy (positive: overconfident). NaN for no rows."""
    confidence = np.asarray(confidence, float)
    if confidence.size == 0:
        return float("nan")
    return float(confidence.mean() - np.asarray(correct, float).mean())


def prediction_margin(proba) -> np.ndarray:
    """Top-1 minus top-2 probability per row, shape (n,); the smaller, the closer the call."""
    proba = np.asarray(proba, dtype=float)
    if proba.shape[1] < 2:
        raise ValueError(f"a margin needs at least two classes. Got {proba.shape[1]}.")
    top2 = np.partition(proba, -2, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def binary_proba_from_confidence(y_pred, confidence) -> np.ndarray:
    """Rebuild the two-class probability matrix from the predicted class's confidence.

    With two classes the confidence determines the whole vector:
    ``p[pred] = c`` and ``p[other] = 1 - c``. Shape (n, 2).
    """
    y_pred = np.asarray(y_pred, dtype=np.intp)
    c = np.asarray(confidence, dtype=float)
    proba = np.empty((c.size, 2))
    proba[np.arange(c.size), y_pred] = c
    proba[np.arange(c.size), 1 - y_pred] = 1 - c
    return proba
