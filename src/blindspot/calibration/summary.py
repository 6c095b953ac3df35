"""One block of calibration numbers for a set of rows (all rows, a class, a slice).

:func:`calibration_summary` bins once per binning, derives every binned number from
those bins, bootstraps the intervals over cells (:mod:`blindspot.calibration.bootstrap`)
and returns the bins too, so the caller can draw exactly what it reports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blindspot.calibration.binning import ReliabilityBins, assign_bins, reliability_bins
from blindspot.calibration.bootstrap import (
    ECE_INTERVAL,
    PERCENTILE_INTERVAL,
    cell_table,
    consistency_null,
    ece_interval,
    pair_codes,
    replicates_of_cells,
    resample_cells,
)
from blindspot.calibration.metrics import (
    brier_rows,
    classwise_bins,
    ece_from_bins,
    log_loss_rows,
    mce_from_bins,
    top_label_brier_rows,
)
from blindspot.counts import CountTable
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


@dataclass(frozen=True)
class BlockTotals:
    """Everything the numbers of one block read: from its rows (:func:`totals_of_rows`) or from the
    merged cells of batches (:meth:`blindspot.calibration.cells.CalibrationCells.totals`); :func:`summary_of_totals`
    makes the block.

    Attributes
    ----------
    n : int
        Rows.
    accuracy, mean_confidence : float
        NaN without rows.
    bins, bins_equal_mass : ReliabilityBins
    losses : dict name -> float
        Mean per-row losses, ``brier_top_label`` first, then ``brier`` and ``log_loss`` with probabilities.
    classwise : list of ReliabilityBins or None
    auroc : float
    table : CountTable or None
        The cell bootstrap's table: one group's occupied (equal-width bin, equal-mass bin, correct)
        cells, their counts and the totals and spreads of ``confidence`` then each loss; None when
        no interval is drawn.
    """

    n: int
    accuracy: float
    mean_confidence: float
    bins: ReliabilityBins
    bins_equal_mass: ReliabilityBins
    losses: dict
    classwise: list | None
    auroc: float
    table: CountTable | None


def totals_of_rows(correct, confidence, *, y_true=None, proba=None, n_bins: int = 10,
                   with_table: bool = True) -> BlockTotals:
    """:class:`BlockTotals` of one set of rows (arguments as :func:`calibration_summary`)."""
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    n = confidence.size
    bins_w = reliability_bins(correct, confidence, n_bins=n_bins, strategy="uniform")
    bins_m = reliability_bins(correct, confidence, n_bins=n_bins, strategy="quantile")
    rows = {"brier_top_label": top_label_brier_rows(correct, confidence)}
    classwise = None
    if proba is not None:
        rows["brier"] = brier_rows(y_true, proba)
        rows["log_loss"] = log_loss_rows(y_true, proba)
        classwise = classwise_bins(y_true, proba, n_bins=n_bins, strategy="uniform")
    table = None
    if with_table and n:
        codes = pair_codes(assign_bins(confidence, bins_w.edges), assign_bins(confidence, bins_m.edges),
                           bins_m.n_bins, correct)
        table = cell_table(codes, {"confidence": confidence, **rows})
    return BlockTotals(n=n, accuracy=float(correct.mean()) if n else np.nan,
                       mean_confidence=float(confidence.mean()) if n else np.nan, bins=bins_w, bins_equal_mass=bins_m,
                       losses={name: float(v.mean()) if n else np.nan for name, v in rows.items()},
                       classwise=classwise, auroc=confidence_auroc(correct, confidence), table=table)


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
    totals = totals_of_rows(correct, confidence, y_true=y_true, proba=proba, n_bins=n_bins, with_table=n_boot > 0)
    return summary_of_totals(totals, n_boot=n_boot, ci_level=ci_level, rng=rng)


def summary_of_totals(totals: BlockTotals, *, n_boot: int, ci_level: float,
                      rng: np.random.Generator) -> CalibrationSummary:
    """The block of :func:`calibration_summary` from its :class:`BlockTotals` (``table`` needed when ``n_boot > 0``)."""
    m = _point_metrics(totals)
    bounds, tests = _intervals(m, totals, n_boot=n_boot, ci_level=ci_level, rng=rng)
    for name, (low, high) in bounds.items():
        method = ECE_INTERVAL if name in ECE_NAMES else PERCENTILE_INTERVAL
        m[name] = Estimate(m[name], low, high, method).encode()
    m.update(tests)
    return CalibrationSummary(metrics=m, bins=totals.bins, bins_equal_mass=totals.bins_equal_mass,
                              classwise=totals.classwise)


def _point_metrics(t: BlockTotals) -> dict:
    """Every number of :func:`calibration_summary` but the intervals."""
    n = t.n
    m: dict = {
        "n": n,
        "accuracy": t.accuracy if n else np.nan,
        "mean_confidence": t.mean_confidence if n else np.nan,
        "overconfidence": t.mean_confidence - t.accuracy if n else np.nan,
        "ece": ece_from_bins(t.bins),
        "ece_equal_mass": ece_from_bins(t.bins_equal_mass),
        "mce": mce_from_bins(t.bins),
        "mce_equal_mass": mce_from_bins(t.bins_equal_mass),
    }
    for name, mean in t.losses.items():
        m[name] = mean if n else np.nan
    if t.classwise is not None:
        m["classwise_ece"] = float(np.mean([ece_from_bins(b) for b in t.classwise]))
    # Discrimination, not calibration: does confidence rank right answers above wrong ones?
    m["confidence_auroc"] = t.auroc
    return m


def _intervals(m: dict, t: BlockTotals, *, n_boot: int, ci_level: float,
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
    smooth = ["overconfidence", *t.losses]
    if n_boot > 0 and t.n > 0:
        codes, counts, sums = resample_cells(t.table, n_boot=n_boot, rng=rng)
        reps = replicates_of_cells(codes, counts, sums, n=t.n, n_width=t.bins.n_bins,
                                   n_mass=t.bins_equal_mass.n_bins, extra=list(t.losses))
        for name, bins in zip(ECE_NAMES, (t.bins, t.bins_equal_mass)):
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
