"""The one binning routine: every calibration number and every reliability plot uses it.

A reliability curve puts rows into confidence bins and compares, bin by bin, the mean
confidence with the share of correct predictions. :func:`reliability_bins` returns
only additive per-bin aggregates (count, sum of confidence, sum of correctness), from
which :mod:`blindspot.calibration.metrics` derives ECE and MCE and
:mod:`blindspot.plots.reliability` draws the curve: the numbers and the pictures
cannot disagree because neither recomputes the bins.

Conventions (identical to :func:`sklearn.calibration.calibration_curve`)
-----------------------------------------------------------------------
- Bins are closed on the right: ``(e[b-1], e[b]]``; the first bin also takes
  ``e[0]`` itself (a confidence of exactly 0, or the minimum for equal-mass bins).
  Assignment is ``np.searchsorted(edges[1:-1], confidence)``.
- ``"uniform"`` (equal width): ``n_bins`` equal intervals of ``[0, 1]``. For the
  top-label confidence of a K-class model the bins below ``1/K`` stay empty; they
  are kept (with count 0) so that bin ``b`` means the same interval in every run.
- ``"quantile"`` (equal mass): edges are the ``np.percentile`` of the confidences at
  ``0, 100/n_bins, ..., 100``. Tied confidences always share a bin (assignment is
  by value, never by rank), which makes the result independent of row order; with
  many ties some bins get more rows and some none at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STRATEGIES = ("uniform", "quantile")


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin aggregates of a reliability curve.

    Attributes
    ----------
    edges : ndarray of float, shape (n_bins + 1,)
        Bin edges, non-decreasing; bin ``b`` is ``(edges[b], edges[b + 1]]``.
    count : ndarray of float, shape (n_bins,)
        Rows per bin (weighted count when weights were given).
    sum_confidence : ndarray of float, shape (n_bins,)
    sum_correct : ndarray of float, shape (n_bins,)
    strategy : str
        ``"uniform"`` or ``"quantile"``.
    """

    edges: np.ndarray
    count: np.ndarray
    sum_confidence: np.ndarray
    sum_correct: np.ndarray
    strategy: str

    @property
    def n_bins(self) -> int:
        return len(self.count)

    @property
    def n(self) -> float:
        """Total rows (or total weight)."""
        return float(self.count.sum())

    @property
    def nonempty(self) -> np.ndarray:
        """Boolean mask of bins holding at least one row, shape (n_bins,)."""
        return self.count > 0

    @property
    def mean_confidence(self) -> np.ndarray:
        """Mean confidence per bin, NaN for empty bins, shape (n_bins,)."""
        return _ratio(self.sum_confidence, self.count)

    @property
    def accuracy(self) -> np.ndarray:
        """Share of correct rows per bin, NaN for empty bins, shape (n_bins,)."""
        return _ratio(self.sum_correct, self.count)

    @property
    def gap(self) -> np.ndarray:
        """Mean confidence minus accuracy per bin (positive: overconfident), NaN if empty."""
        return _ratio(self.sum_confidence - self.sum_correct, self.count)

    def table(self) -> list[dict]:
        """One record per bin (for plot data files and reports); empty bins have NaN means."""
        conf, acc, gap = self.mean_confidence, self.accuracy, self.gap
        return [
            {
                "bin": b,
                "bin_low": float(self.edges[b]),
                "bin_high": float(self.edges[b + 1]),
                "count": float(self.count[b]),
                "mean_confidence": float(conf[b]),
                "accuracy": float(acc[b]),
                "gap": float(gap[b]),
            }
            for b in range(self.n_bins)
        ]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _check_inputs(correct, confidence) -> tuple[np.ndarray, np.ndarray]:
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct)
    if confidence.ndim != 1:
        raise ValueError(f"confidence must be one-dimensional. Got shape {confidence.shape} instead.")
    if correct.shape != confidence.shape:
        raise ValueError(
            f"correct and confidence must have the same length. Got {correct.shape[0] if correct.ndim else correct.shape} "
            f"and {confidence.shape[0]} instead."
        )
    if confidence.size and not np.isfinite(confidence).all():
        raise ValueError(f"confidence holds {int((~np.isfinite(confidence)).sum())} non-finite value(s).")
    if confidence.size and (confidence.min() < 0 or confidence.max() > 1):
        raise ValueError(
            f"confidence must lie in [0, 1]. Got values from {confidence.min():g} to {confidence.max():g} instead."
        )
    if correct.dtype != bool:
        uniq = np.unique(correct)
        if not np.isin(uniq, (0, 1)).all():
            raise ValueError(f"correct must hold 0/1 or booleans. Got values {uniq[:5].tolist()} instead.")
    return correct.astype(float), confidence


def bin_edges(confidence, *, n_bins: int = 10, strategy: str = "uniform") -> np.ndarray:
    """Edges of ``n_bins`` confidence bins.

    Parameters
    ----------
    confidence : array_like of float, shape (n,)
        Used only by ``strategy="quantile"``.
    n_bins : int
        Number of bins, at least 1.
    strategy : {"uniform", "quantile"}

    Returns
    -------
    ndarray of float, shape (n_bins + 1,)
    """
    if not isinstance(n_bins, (int, np.integer)) or isinstance(n_bins, bool) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer. Got {n_bins!r} instead.")
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        confidence = np.asarray(confidence, dtype=float)
        if confidence.size == 0:
            return np.linspace(0.0, 1.0, n_bins + 1)
        # np.percentile exactly as sklearn.calibration_curve does, so both agree bin for bin.
        return np.percentile(confidence, np.linspace(0, 1, n_bins + 1) * 100)
    raise ValueError(f"strategy must be one of {STRATEGIES}. Got {strategy!r} instead.")


def assign_bins(confidence, edges) -> np.ndarray:
    """Bin index of each confidence, shape (n,), values in ``[0, len(edges) - 2]``."""
    edges = np.asarray(edges, dtype=float)
    return np.searchsorted(edges[1:-1], np.asarray(confidence, dtype=float)).astype(np.intp)


def reliability_bins(
    correct,
    confidence,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    edges=None,
    sample_weight=None,
) -> ReliabilityBins:
    """Aggregate a reliability curve: per-bin count, sum of confidence, sum of correct.

    Parameters
    ----------
    correct : array_like of bool or {0, 1}, shape (n,)
        Whether each prediction was right (for a classwise curve: whether the row's
        true class is the class whose probability is ``confidence``).
    confidence : array_like of float in [0, 1], shape (n,)
        Probability the model gave to its prediction (or to the class).
    n_bins : int
        Number of bins (ignored when ``edges`` is given).
    strategy : {"uniform", "quantile"}
        Equal-width or equal-mass bins (see the module docstring).
    edges : array_like, shape (n_bins + 1,), optional
        Fixed edges, e.g. from another sample; overrides ``n_bins`` and ``strategy``
        for the edges (``strategy`` is kept as a label).
    sample_weight : array_like of float, shape (n,), optional
        Row weights (the counts become sums of weights).

    Returns
    -------
    ReliabilityBins
    """
    correct, confidence = _check_inputs(correct, confidence)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}. Got {strategy!r} instead.")
    edges = bin_edges(confidence, n_bins=n_bins, strategy=strategy) if edges is None else np.asarray(edges, float)
    k = len(edges) - 1
    idx = assign_bins(confidence, edges)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    count = np.bincount(idx, weights=w, minlength=k).astype(float)
    sum_conf = np.bincount(idx, weights=confidence if w is None else confidence * w, minlength=k)
    sum_corr = np.bincount(idx, weights=correct if w is None else correct * w, minlength=k)
    return ReliabilityBins(edges=edges, count=count, sum_confidence=sum_conf, sum_correct=sum_corr, strategy=strategy)
