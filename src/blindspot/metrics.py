"""Global classification metrics with bootstrap intervals, computed from confusion matrices.

Every metric here is a function of the confusion matrix, so the matrix is counted once
(one ``bincount`` over the rows) and :func:`metrics_from_confusion` evaluates all of them
from it: on the observed table for the point estimates, and on a stack of ``(n_boot, K,
K)`` tables for the intervals, a percentile bootstrap that resamples the *confusion
matrix* (a multinomial draw of the whole table, :func:`blindspot.stats.resample_counts`),
which is exactly the row bootstrap's distribution of the table at a cost independent of
the number of rows. A property test checks :func:`metrics_from_confusion` against
scikit-learn's metric functions (:func:`point_metrics`, the oracle) to 1e-12; at a
million rows the one pass is two orders of magnitude faster than the six scikit-learn
calls, each of which re-scans the rows (``bench/peers.py``).

Conventions match scikit-learn's defaults: precision, recall and F1 of a class with
no predicted (resp. true) rows are 0 (``zero_division=0``); balanced accuracy averages
recall over classes present in ``y_true``; MCC is 0 when its denominator is 0; Cohen's
kappa is NaN when chance agreement is 1.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from blindspot.counts import CountTable, check_codes
from blindspot.results.estimate import Estimate
from blindspot.stats import percentile_interval, wilson_interval

# name -> True when higher is better (every global metric here is a score).
GLOBAL_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "mcc", "cohen_kappa")
PER_CLASS_METRICS = ("precision", "recall", "f1")
# Short codes (metrics files are read as tables by `dvc metrics diff`; long strings widen them).
INTERVAL_METHOD = "bootstrap_percentile_of_counts"  # multinomial resampling of the confusion matrix
WILSON = "wilson"  # score interval of a binomial proportion (precision, recall, rates)


def confusion_counts(y_true, y_pred, n_classes: int) -> np.ndarray:
    """Confusion matrix of integer class codes, rows = true class, columns = predicted.

    A view of :class:`blindspot.counts.CountTable`: groups are the true classes, cells
    the predicted ones.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n,)
        Class indices in ``[0, n_classes)``.
    n_classes : int

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)

    Raises
    ------
    ValueError
        If the arrays differ in length or hold a code outside ``[0, n_classes)``.
    """
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} vs {y_pred.shape}.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        check_codes(name, y, n_classes)
    return CountTable.from_codes(y_true, y_pred, n_classes, n_classes).counts


def kappa_from_confusion(counts) -> np.ndarray:
    """Cohen's kappa of confusion matrices, vectorised over leading axes.

    Parameters
    ----------
    counts : array_like, shape (..., K, K)
        Rows: one rater (reference), columns: the other.

    Returns
    -------
    ndarray, shape (...)
        ``(p_o - p_e) / (1 - p_e)``; NaN when the table is empty or ``p_e == 1``
        (both raters used one and the same class: agreement beyond chance is undefined).
    """
    cm = np.asarray(counts, dtype=float)
    n = cm.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_o = np.trace(cm, axis1=-2, axis2=-1) / n
        p_e = (cm.sum(axis=-1) * cm.sum(axis=-2)).sum(axis=-1) / n**2
        kappa = (p_o - p_e) / (1 - p_e)
    return np.where((n > 0) & (p_e < 1), kappa, np.nan)


def metrics_from_confusion(cm) -> dict[str, np.ndarray]:
    """Every metric of this module from confusion matrices, vectorised over leading axes.

    Parameters
    ----------
    cm : array_like, shape (..., K, K)
        Counts, rows = true class, columns = predicted class.

    Returns
    -------
    dict of str to ndarray
        ``accuracy, balanced_accuracy, f1_macro, f1_weighted, mcc, cohen_kappa`` of
        shape ``(...)``; ``precision, recall, f1, support`` of shape ``(..., K)``.
    """
    cm = np.asarray(cm, dtype=float)
    total = cm.sum(axis=(-2, -1))
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    true_k = cm.sum(axis=-1)  # support
    pred_k = cm.sum(axis=-2)
    correct = tp.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(pred_k > 0, tp / pred_k, 0.0)
        recall = np.where(true_k > 0, tp / true_k, 0.0)
        f1_den = true_k + pred_k  # 2tp + fp + fn
        f1 = np.where(f1_den > 0, 2 * tp / f1_den, 0.0)
        accuracy = correct / total
        present = true_k > 0
        balanced = np.where(present, recall, 0.0).sum(axis=-1) / present.sum(axis=-1)
        f1_macro = f1.mean(axis=-1)
        f1_weighted = (f1 * true_k).sum(axis=-1) / true_k.sum(axis=-1)
        # Multiclass MCC (Gorodkin's R_K), as scikit-learn computes it.
        cov_ytyp = correct * total - (true_k * pred_k).sum(axis=-1)
        cov_ypyp = total**2 - (pred_k**2).sum(axis=-1)
        cov_ytyt = total**2 - (true_k**2).sum(axis=-1)
        mcc_den = np.sqrt(cov_ytyt * cov_ypyp)
        mcc = np.where(mcc_den > 0, cov_ytyp / np.where(mcc_den > 0, mcc_den, 1.0), 0.0)
        kappa = kappa_from_confusion(cm)
    return {
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        "f1_macro": f1_macro,
        "f1_weighted": f1_weighted,
        "mcc": mcc,
        "cohen_kappa": kappa,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": true_k,
    }


def point_metrics(y_true, y_pred, n_classes: int) -> dict[str, np.ndarray]:
    """The same metrics as :func:`metrics_from_confusion`, from scikit-learn directly.

    The oracle of the property tests.

    Parameters
    ----------
    y_true, y_pred, n_classes
        Class indices, shape (n,), and the number of classes, as in :func:`confusion_counts`.

    Returns
    -------
    dict of str to float or ndarray of shape (K,)
    """
    from sklearn import metrics as skm  # only here: importing scikit-learn costs ~0.4 s per stage start-up

    labels = np.arange(n_classes)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    # Degenerate inputs (one class only, a class never predicted) make scikit-learn warn
    # before applying the conventions in the module docstring; the values are what we want.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _point_metrics(skm, y_true, y_pred, labels)


def _point_metrics(skm, y_true, y_pred, labels) -> dict:
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "f1_macro": skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
        "f1_weighted": skm.f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0),
        "mcc": skm.matthews_corrcoef(y_true, y_pred),
        "cohen_kappa": skm.cohen_kappa_score(y_true, y_pred, labels=labels),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support.astype(float),
    }


def recall_interval(correct, support, level: float, zero_division: float = np.nan
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each class's recall (correct rows of its true rows) with its Wilson interval.

    The one place a class's recall and its interval are computed: the profile's
    per-class table (:func:`classification_report`) and the slice stage's class tests
    (:func:`blindspot.slices.evaluate.class_tests`) both call it. A Wilson interval,
    not the bootstrap: a recall is a binomial proportion, and its Wilson interval stays
    informative at 0 or 1, where a percentile bootstrap of counts collapses to a point.

    Computed from the misses (recall = 1 - miss rate, the interval flipped), as the
    slice tests count failures: the bounds at a recall of 0 or 1 then come out exactly
    0 and 1 (one minus a bound clipped to 1), where the score formula's own lower
    bound at 0 successes keeps a residue of about 1e-18.

    Parameters
    ----------
    correct, support : array_like of int, shape (K,)
        Correct rows and rows of each true class.
    level : float
        Two-sided level of the interval.
    zero_division : float
        The recall of a class with no row (0 in the profile, as scikit-learn's
        ``zero_division=0``; NaN in the slice tests); its interval is NaN either way.

    Returns
    -------
    value, low, high : ndarray of float, shape (K,)
    """
    support = np.asarray(support, dtype=float)
    misses = support - np.asarray(correct, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(support > 0, 1 - misses / support, zero_division)
    miss_low, miss_high = wilson_interval(misses, support, level)
    return value, 1 - miss_high, 1 - miss_low


def bootstrap_metrics(cm, *, n_boot: int, level: float, rng: np.random.Generator) -> dict[str, tuple]:
    """Percentile bootstrap intervals of every metric, resampling the confusion matrix.

    Parameters
    ----------
    cm : array_like of int, shape (K, K)
    n_boot : int
        Replicates (``cfg.stats.n_boot``).
    level : float
        Two-sided level of the intervals.
    rng : numpy.random.Generator
        Seeded by the caller; the draws are the only randomness.

    Returns
    -------
    dict of str to (low, high)
        Scalars for global metrics, arrays of shape (K,) for per-class metrics;
        also ``accuracy_over_baseline``: accuracy minus the majority-class share of
        the same replicate (how far the model sits above always answering the
        most frequent true class).
    """
    cm = np.asarray(cm, dtype=np.int64)
    if n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot}.")
    reps, _ = CountTable(cm).resample(rng, n_boot)  # a multinomial draw of the whole matrix
    values = metrics_from_confusion(reps)
    values["accuracy_over_baseline"] = values["accuracy"] - values["support"].max(axis=-1) / reps.sum(axis=(-2, -1))
    out = {}
    for name, samples in values.items():
        if name == "support":
            continue
        out[name] = percentile_interval(samples, level, axis=0)
    return out


def classification_report(y_true, y_pred, classes: Sequence[str], *, n_boot: int, level: float,
                          rng: np.random.Generator) -> dict:
    """Global metrics with intervals, per-class metrics with support, majority baseline.

    :func:`classification_report_from_confusion` of the rows' :func:`confusion_counts`.

    Parameters
    ----------
    y_true, y_pred : array_like of int, shape (n,)
        Class indices into ``classes``.
    classes : sequence of str, length K
    n_boot, level, rng
        See :func:`bootstrap_metrics`.

    Returns
    -------
    dict
        See :func:`classification_report_from_confusion`.
    """
    cm = confusion_counts(y_true, y_pred, len(classes))
    return classification_report_from_confusion(cm, classes, n_boot=n_boot, level=level, rng=rng)


def classification_report_from_confusion(cm, classes: Sequence[str], *, n_boot: int, level: float,
                                         rng: np.random.Generator) -> dict:
    """:func:`classification_report` from the confusion matrix alone.

    Every number of the report is a function of the matrix, so counts merged from
    batches of rows (integer sums, exact) give the report of the whole table, with the
    same bootstrap draws for the same ``rng``.

    Parameters
    ----------
    cm : array_like of int, shape (K, K)
        Counts, rows = true class, columns = predicted class (:func:`confusion_counts`).
    classes : sequence of str, length K
    n_boot, level, rng
        See :func:`bootstrap_metrics`.

    Returns
    -------
    dict
        ``{metric: {value, ci_low, ci_high}}`` for each of :data:`GLOBAL_METRICS`
        (bootstrap); ``per_class: {class: {precision|recall|f1: {value, ci_low,
        ci_high}, support, predicted}}`` (Wilson for precision and recall, bootstrap
        for F1, which is 0 with a degenerate interval when a class has no true positive);
        ``majority_class``, ``majority_baseline_accuracy``, ``accuracy_over_baseline``
        ``{value, ci_low, ci_high}``, ``confusion_matrix: {true: {pred: count}}``,
        ``n_boot``, ``ci_level``. Every estimate is an encoded
        :class:`blindspot.results.estimate.Estimate` naming its interval method.

    Raises
    ------
    ValueError
        If ``cm`` is not a square matrix with one row per class.
    """
    cm = np.asarray(cm, dtype=np.int64)
    k = len(classes)
    if cm.shape != (k, k):
        raise ValueError(f"cm must have shape ({k}, {k}), one row and column per class. Got {cm.shape} instead.")
    point = metrics_from_confusion(cm)  # the counts once; equal to scikit-learn (tested)
    intervals = bootstrap_metrics(cm, n_boot=n_boot, level=level, rng=rng)
    report: dict = {}
    for name in GLOBAL_METRICS:
        low, high = intervals[name]
        report[name] = Estimate(float(point[name]), float(low), float(high), INTERVAL_METHOD).encode()
    report["per_class"] = _per_class(cm, point, intervals["f1"], classes, level)
    report.update(_majority_baseline(cm, point["accuracy"], intervals["accuracy_over_baseline"], classes))
    report["confusion_matrix"] = {
        t: {p: int(cm[i, j]) for j, p in enumerate(classes)} for i, t in enumerate(classes)}
    report["n_boot"] = int(n_boot)
    report["ci_level"] = float(level)
    return report


def _per_class(cm: np.ndarray, point: dict, f1_interval: tuple, classes: Sequence[str], level: float) -> dict:
    """``per_class`` of :func:`classification_report`: class -> support, predicted, precision, recall, F1.

    Precision and recall are binomial proportions (tp of predicted, tp of true rows):
    their Wilson intervals stay informative at 0 or 1, where a percentile bootstrap of
    counts collapses to a point (no replicate can show a true positive that never
    occurred). F1 keeps its bootstrap interval (``f1_interval``, arrays of shape (K,)).
    """
    tp = np.diag(cm)
    estimates = {"precision": (point["precision"], *wilson_interval(tp, cm.sum(axis=0), level)),
                 "recall": recall_interval(tp, cm.sum(axis=1), level, zero_division=0.0),
                 "f1": (point["f1"], *f1_interval)}
    methods = {"precision": WILSON, "recall": WILSON, "f1": INTERVAL_METHOD}
    per_class = {}
    for j, cls in enumerate(classes):
        entry = {"support": int(point["support"][j]), "predicted": int(cm[:, j].sum())}
        for name in PER_CLASS_METRICS:
            value, low, high = estimates[name]
            entry[name] = Estimate(float(value[j]), float(low[j]), float(high[j]), methods[name]).encode()
        per_class[cls] = entry
    return per_class


def _majority_baseline(cm: np.ndarray, accuracy: float, interval: tuple, classes: Sequence[str]) -> dict:
    """The majority class, its share (the accuracy of always answering it) and the accuracy above it."""
    support = cm.sum(axis=1)
    total = int(cm.sum())
    majority = int(np.argmax(support))  # ties: the first class in config order
    baseline = support[majority] / total if total else np.nan
    low, high = interval
    return {"majority_class": classes[majority], "majority_baseline_accuracy": float(baseline),
            "accuracy_over_baseline": Estimate(float(accuracy - baseline), float(low), float(high),
                                               INTERVAL_METHOD).encode()}
