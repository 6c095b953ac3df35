"""How far to trust the judge: agreement with the gold labels and with the model, and a
confident-learning cross-check of the judge's "gold label looks wrong" flags.

Agreement is Cohen's kappa from the confusion-matrix counts (equal to scikit-learn's
``cohen_kappa_score``, tested) with a percentile bootstrap interval from the same counts
(:func:`blindspot.stats.resample_counts`: the row bootstrap's distribution of the table,
at a cost independent of the number of rows).

Read it by subset. On the random sample it estimates the judge's agreement on the
whole population. On the targeted rows (confidently incorrect, sarcasm and mixed cues)
it is biased by construction: those rows were chosen because they are hard, and on
confidently incorrect rows gold and model disagree, so the judge cannot agree with both.

One more caveat for an LLM judge: the prompt shows it the gold label (it is asked
whether the label looks wrong), and it is told to read the sentiment first, but
anchoring on the shown label may still push its kappa with gold up. The offline
rules never look at the label for their reading.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from blindspot.counts import unit_means, unit_sums
from blindspot.metrics import INTERVAL_METHOD, WILSON, confusion_counts, kappa_from_confusion
from blindspot.results import Estimate
from blindspot.stats import percentile_interval, resample_counts, wilson_interval


def agreement_score(y_reference, y_judge, *, n_classes: int, n_boot: int, level: float,
                    rng: np.random.Generator) -> dict:
    """Kappa and raw agreement of two label vectors, with intervals.

    Parameters
    ----------
    y_reference, y_judge : array_like of int, shape (n,)
        Class indices in ``range(n_classes)``.
    n_classes : int
    n_boot : int
    level : float
    rng : numpy.random.Generator

    Returns
    -------
    dict
        ``n`` (int); ``kappa``, an :class:`~blindspot.results.Estimate` with the percentile
        bootstrap interval of the counts; ``agreement_rate``, an Estimate with the Wilson
        interval. Values and bounds are NaN where undefined (``n == 0``; kappa also when
        chance agreement is 1).
    """
    y_reference = np.asarray(y_reference, dtype=np.int64)
    y_judge = np.asarray(y_judge, dtype=np.int64)
    n = int(y_reference.shape[0])
    cm = confusion_counts(y_reference, y_judge, n_classes)
    agree = int(np.trace(cm))
    kappa = float(kappa_from_confusion(cm))  # NaN where scikit-learn would warn and divide 0 by 0
    boot = kappa_from_confusion(resample_counts(cm, n_boot, rng)) if n else np.full(n_boot, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN replicates: the interval is NaN
        low, high = percentile_interval(boot, level)
    rate_low, rate_high = wilson_interval(agree, n, level)
    return {"n": n, "kappa": Estimate(kappa, float(low), float(high), INTERVAL_METHOD),
            "agreement_rate": Estimate(agree / n if n else float("nan"), float(rate_low), float(rate_high), WILSON)}


def confident_learning_suspects(y_true, proba) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose label looks wrong by a confident-learning rule on the model's probabilities.

    Per-class threshold ``t_k`` = mean predicted probability of class ``k`` over the rows
    labelled ``k`` (the model's average self-confidence on that class; :class:`OwnClassSums`,
    summed in fixed point so that it is the same for the rows in any order or batches). A row
    labelled ``y`` is a suspected label issue when its own class is under-confident,
    ``p_y < t_y``, and some other class ``j`` is confidently present, ``p_j >= t_j``.
    (This is the off-diagonal of Northcutt et al.'s confident joint, without the
    calibration and ranking steps: enough to cross-check the judge.)

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
        Gold class indices.
    proba : array_like of float, shape (n, K)
        Out-of-sample predicted probabilities (in-sample ones are overconfident and
        hide label issues).

    Returns
    -------
    suspect : ndarray of bool, shape (n,)
    thresholds : ndarray of float, shape (K,)
        NaN for a class with no labelled rows (it then flags nothing).
    """
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(f"proba must have shape (n, K) with n = len(y_true) = {y.shape[0]}, got {p.shape}")
    thresholds = OwnClassSums.of(y, p).thresholds
    return suspect_flags(y, p, thresholds), thresholds


def suspect_flags(y_true, proba, thresholds) -> np.ndarray:
    """The rule of :func:`confident_learning_suspects` under given thresholds, ndarray of bool, shape (n,).

    Parameters
    ----------
    y_true : array_like of int, shape (n,)
    proba : array_like of float, shape (n, K)
    thresholds : array_like of float, shape (K,)
        NaN for a class that flags nothing.
    """
    y = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(proba, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    rows = np.arange(y.shape[0])
    own = p[rows, y]
    with np.errstate(invalid="ignore"):
        above = p >= thresholds[None, :]  # False where the threshold is NaN
    above[rows, y] = False
    return (own < thresholds[y]) & above.any(axis=1)


@dataclass(frozen=True, eq=False)
class OwnClassSums:
    """Per gold class, the rows and the fixed-point sum of the probability given to that class.

    Attributes
    ----------
    sums : ndarray of int64, shape (K, 2)
        :func:`blindspot.counts.unit_sums` of ``p[i, y_i]`` by ``y_i``.
    counts : ndarray of int64, shape (K,)
    """

    sums: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, y_true, proba) -> "OwnClassSums":
        """From gold class codes (shape (n,)) and probabilities (shape (n, K))."""
        y = np.asarray(y_true, dtype=np.int64)
        p = np.asarray(proba, dtype=float)
        k = p.shape[1]
        return cls(unit_sums(p[np.arange(y.shape[0]), y], y, k), np.bincount(y, minlength=k).astype(np.int64))

    def merge(self, other: "OwnClassSums") -> "OwnClassSums":
        return OwnClassSums(self.sums + other.sums, self.counts + other.counts)

    @property
    def thresholds(self) -> np.ndarray:
        """Mean own-class probability per class, shape (K,): NaN for a class with no row."""
        return unit_means(self.sums, self.counts)
