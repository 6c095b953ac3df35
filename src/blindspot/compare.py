"""Paired comparison of two model versions scored on the same reviews (an A/B test).

Two models' predictions on the *same* rows are paired data: a difference in accuracy
is judged on the rows where the two disagree, not by comparing two independent
intervals (which wastes most of the evidence and can call a real change noise, or
the reverse). :func:`compare_predictions` pairs the rows by ``id`` and tests, for the
whole table and for every watchlist slice:

- accuracy, each class's recall and the confidently-incorrect rate with the exact
  McNemar test: a two-sided binomial test at p = 1/2 on the discordant pairs (rows where the event, e.g. "correct", holds for one model only);
- every other metric (balanced accuracy, macro and weighted F1, MCC, Cohen's kappa,
  per-class precision and F1) with a paired bootstrap: the joint count table of
  (true class, baseline prediction, current prediction, baseline confidently
  incorrect, current confidently incorrect), K x K x K x 2 x 2 cells, is resampled
  as a whole (the row bootstrap's distribution of the table: the draws of
  :func:`blindspot.stats.resample_counts`, made over the occupied cells only, in
  chunks, see :func:`bootstrap_joint`: memory does not grow with K^3); each
  replicate's two marginal confusion matrices give both models' metrics
  (:func:`blindspot.metrics.metrics_from_confusion`), so every replicate is paired.
  The two-sided p value is ``(1 + #{|d* - d| >= |d|}) / (B + 1)``: how often the
  bootstrap distribution of the difference, centred on the null, lands as far from 0
  as the observed difference ``d``;
- the probabilistic losses, which are means of a per-row loss (top-label Brier from the
  confidences; multiclass Brier and log loss when both files have class probabilities),
  globally with a paired t test on the per-row differences ``d_i = loss_current_i -
  loss_baseline_i`` and its t interval (the rows are independent, so the mean
  difference is asymptotically normal; with hundreds of rows the t and normal answers
  agree to the third decimal).

Every delta is an :class:`~blindspot.results.Estimate` naming its interval's method: a
percentile bootstrap interval from the same replicates (:data:`INTERVAL_METHOD`), or for
the losses the paired t interval (:data:`T_INTERVAL_METHOD`). All tests
form one Benjamini-Hochberg family (the slice stage's convention); a metric has
*changed* when its q value is at most ``fdr_alpha``, and the direction (improved,
worsened) follows :data:`blindspot.direction.METRIC_DIRECTION`.

Rows are paired only when both files hold the id and agree on its gold label; ids
with different labels are counted (``pairing.label_mismatch``), never compared.

Only a compatible baseline is compared. :func:`check_config` (run before any stage)
refuses a baseline file that does not exist or lies outside the workspace's
``data/raw``; :func:`read_baseline` reads it with the ingest code and says, in one
sentence, why it cannot be compared (no id column, unreadable, columns missing, other
classes, no valid record); with fewer paired rows than ``compare.min_rows`` nothing is
tested. ``metrics/compare.json`` then holds ``status: not_compared`` and that
``reason`` (``no_baseline`` when none is configured, the default).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import bdtr, stdtr, stdtrit

from blindspot.calibration.metrics import brier_rows, log_loss_rows, top_label_brier_rows
from blindspot.direction import direction_of, higher_is_better
from blindspot.compare_checks import BASELINE_DIR, check_config  # noqa: F401 (the stage and tests use them here)
from blindspot.counts import CountTable
from blindspot.memory import release_freed_heap
from blindspot.errors import BlindspotError, InputError
from blindspot.exact_sums import ExactSums, exact_square_sums, exact_sums
from blindspot.metrics import metrics_from_confusion
from blindspot.results import Estimate
from blindspot.seeding import named_rng
from blindspot.io.schema import probability_matrix
from blindspot.io.writers import write_parquet_tables
from blindspot.stats import bh_qvalues, percentile_interval

GLOBAL_BOOTSTRAP = ("balanced_accuracy", "f1_macro", "f1_weighted", "mcc", "cohen_kappa")
SLICE_BOOTSTRAP = ("balanced_accuracy", "f1_macro")
PER_CLASS_BOOTSTRAP = ("precision", "f1")
LOSSES = ("brier_top_label", "brier", "log_loss")  # per-row losses, lower is better
MCNEMAR = "mcnemar_exact"
# metrics/compare.json's top-level status (the report renders each; see the stage).
COMPARED, NO_BASELINE, NOT_COMPARED = "compared", "no_baseline", "not_compared"
BOOTSTRAP = "paired_bootstrap"
PAIRED_T = "paired_t"
TEST_METHOD = ("accuracy, per-class recall, confidently-incorrect rate: exact McNemar test (two-sided binomial "
               "test on the discordant pairs); Brier and log loss: paired t test on per-row loss differences; "
               "other metrics: paired bootstrap of the joint count table, "
               "two-sided, p = (1 + #{|d* - d| >= |d|}) / (B + 1)")
# Each delta's interval method, named in the delta itself (metrics/compare.json declares no file-level one).
INTERVAL_METHOD = "paired_bootstrap_percentile_of_joint_counts"  # the joint (true, baseline, current) table
T_INTERVAL_METHOD = "paired_t_interval"  # mean per-row loss difference, t quantile times its standard error
FDR_METHOD = "benjamini-hochberg over every test made (global, per class, every watchlist slice)"


def mcnemar_exact(baseline_only, current_only) -> float:
    """Two-sided exact McNemar p value from the discordant counts (1.0 with none)."""
    b, c = int(baseline_only), int(current_only)
    if b + c == 0:
        return 1.0
    # At p = 1/2 the binomial is symmetric, so the two-sided exact p value (every outcome
    # no likelier than the observed one) is twice the smaller tail, capped at 1; equal to
    # scipy.stats.binomtest (tested) without importing scipy.stats at stage start-up.
    return float(min(1.0, 2.0 * bdtr(min(b, c), b + c, 0.5)))


def bootstrap_p_value(observed: float, replicates) -> float:
    """Two-sided paired-bootstrap p value of a difference (see module docstring); NaN if undefined."""
    reps = np.asarray(replicates, dtype=float)
    reps = reps[np.isfinite(reps)]
    if not np.isfinite(observed) or reps.size == 0:
        return float("nan")
    extreme = np.count_nonzero(np.abs(reps - observed) >= abs(observed) - 1e-12)
    return float((1 + extreme) / (1 + reps.size))


@dataclass(frozen=True)
class JointCounts:
    """The paired count table, stored by its occupied cells only.

    The table is ``[true class, baseline prediction, current prediction, baseline flag,
    current flag]``, K x K x K x 2 x 2 cells, but n paired rows occupy at most n of them
    (most rows sit on the diagonal ``true == baseline == current``): kept densely, its
    bootstrap replicates would cost ``n_boot * 4 K^3`` integers (1 GB at 32 classes,
    32 GB at 100) for a table that is almost all zeros.

    Attributes
    ----------
    codes : ndarray of int64, shape (m,)
        Occupied cells, ascending, each as its flat index in the dense table:
        ``(((true * K + baseline) * K + current) * 2 + flag_b) * 2 + flag_c``.
    counts : ndarray of int64, shape (m,)
        Rows in each cell (all positive).
    n_classes : int
        K.
    """

    codes: np.ndarray
    counts: np.ndarray
    n_classes: int

    @property
    def n(self) -> int:
        """Rows in the table."""
        return int(self.counts.sum())

    @property
    def size(self) -> int:
        """Cells of the dense table, ``4 K^3``."""
        return 4 * self.n_classes ** 3

    def to_dense(self) -> np.ndarray:
        """The dense table, shape (K, K, K, 2, 2) (for tests and small K only)."""
        k = self.n_classes
        dense = np.zeros(self.size, dtype=np.int64)
        dense[self.codes] = self.counts
        return dense.reshape(k, k, k, 2, 2)


def decode_cells(codes, n_classes: int) -> tuple[np.ndarray, ...]:
    """``(true, baseline, current, flag_b, flag_c)`` of flat cell codes, each shape (m,), int64."""
    k = n_classes
    codes = np.asarray(codes, dtype=np.int64)
    rest, flag_c = np.divmod(codes, 2)
    rest, flag_b = np.divmod(rest, 2)
    rest, current = np.divmod(rest, k)
    true, baseline = np.divmod(rest, k)
    return true, baseline, current, flag_b, flag_c


def joint_counts(y_true, pred_baseline, pred_current, flag_baseline, flag_current, n_classes: int) -> JointCounts:
    """The paired count table of some rows.

    Parameters
    ----------
    y_true, pred_baseline, pred_current : array_like of int, shape (n,)
        Class indices in ``[0, n_classes)``.
    flag_baseline, flag_current : array_like of bool, shape (n,)
        A per-row event of each model (here: confidently incorrect).
    n_classes : int

    Returns
    -------
    JointCounts
        Its dense form is ``[true, baseline prediction, current prediction, baseline
        flag, current flag]``, shape (K, K, K, 2, 2).
    """
    k = n_classes
    t, b, c = (np.asarray(a, dtype=np.int64) for a in (y_true, pred_baseline, pred_current))
    fb, fc = (np.asarray(a, dtype=bool).astype(np.int64) for a in (flag_baseline, flag_current))
    code = (((t * k + b) * k + c) * 2 + fb) * 2 + fc
    table = CountTable.from_keys(code)  # one group, the occupied cells only (keys ascending)
    return JointCounts(np.asarray(table.cell_names, dtype=np.int64), table.counts[0], int(k))


class _Groups:
    """Sums of the cells sharing a key, set up once for many tables of the same cells."""

    def __init__(self, keys: np.ndarray, size: int):
        self.size = size
        # Cell codes ascend, so keys led by the true class and the baseline prediction are
        # already grouped: no reordering (a copy of every replicate) is needed for them.
        grouped = keys.size < 2 or bool(np.all(keys[1:] >= keys[:-1]))
        self.order = None if grouped else np.argsort(keys, kind="stable")
        ordered = keys if grouped else keys[self.order]
        self.starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if keys.size else np.zeros(0, int)
        self.keys = ordered[self.starts] if keys.size else np.zeros(0, np.int64)

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        """``weights`` (..., m) summed by key -> (..., size), int64."""
        out = np.zeros((*weights.shape[:-1], self.size), dtype=np.int64)
        if self.keys.size:
            w = weights if self.order is None else weights[..., self.order]
            out[..., self.keys] = np.add.reduceat(w, self.starts, axis=-1)
        return out


class _CellSums:
    """Both confusion matrices and both flag counts of tables over the cells ``codes`` (m,).

    Called with counts ``weights`` of shape (..., m), one table per leading index, it
    returns ``cm_b, cm_c`` of shape (..., K, K) and ``flags_b, flags_c`` of shape (...,).
    """

    def __init__(self, codes: np.ndarray, k: int):
        t, b, c, fb, fc = decode_cells(codes, k)
        self.k = k
        self.by_b, self.by_c = _Groups(t * k + b, k * k), _Groups(t * k + c, k * k)
        self.fb, self.fc = fb, fc  # 0/1, int64: a dot product counts the flagged rows

    def __call__(self, weights: np.ndarray) -> tuple[np.ndarray, ...]:
        lead, k = weights.shape[:-1], self.k
        return (self.by_b(weights).reshape(*lead, k, k), self.by_c(weights).reshape(*lead, k, k),
                weights @ self.fb, weights @ self.fc)


def _flag_rates(flags_b, flags_c, total) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return flags_b / np.asarray(total, dtype=float), flags_c / np.asarray(total, dtype=float)


# Replicate cells held in memory at once (int64): bounds the bootstrap's memory whatever K and n.
CHUNK_CELLS = 1 << 20


def bootstrap_joint(joint: JointCounts, n_boot: int, rng: np.random.Generator, *, chunk_cells: int = CHUNK_CELLS,
                    tick: Callable[[int], None] | None = None) -> tuple[dict, dict, np.ndarray, np.ndarray]:
    """Both models' metrics on each bootstrap replicate of a joint table.

    The replicates are exactly :func:`blindspot.stats.resample_counts` of the dense table
    (same generator, same draws: tested), drawn over the occupied cells only. A
    multinomial draws its cells in order with one binomial each, and a cell of
    probability 0 draws nothing from the generator and always gets 0, so the empty cells
    can be left out, except the dense table's last cell, which receives whatever the
    others leave (rounding) and is kept. Replicates are drawn ``chunk_cells`` cells at a
    time, in order, and reduced to their two confusion matrices at once, so memory stays
    at ``O(chunk_cells + n_boot K)`` instead of ``O(n_boot K^3)``.

    Parameters
    ----------
    joint : JointCounts
    n_boot : int
    rng : numpy.random.Generator
    chunk_cells : int
        Replicate cells held at once.
    tick : callable, optional
        Called with the number of replicates done after each chunk (progress).

    Returns
    -------
    boot_b, boot_c : dict of str to ndarray
        :func:`blindspot.metrics.metrics_from_confusion` of each replicate's baseline and
        current confusion matrix: shape (n_boot,) or (n_boot, K).
    flag_b, flag_c : ndarray of float, shape (n_boot,)
        Each replicate's confidently-incorrect rate of each model.
    """
    k, total = joint.n_classes, joint.n
    last = np.int64(joint.size - 1)
    cells = joint.codes if (joint.codes.size and joint.codes[-1] == last) else np.append(joint.codes, last)
    weights = np.zeros(cells.size, dtype=np.int64)
    weights[: joint.codes.size] = joint.counts
    pvals = weights / total
    per = max(1, chunk_cells // max(cells.size, k * k))
    sums = _CellSums(cells, k)
    parts = []
    for start in range(0, n_boot, per):
        reps = rng.multinomial(total, pvals, size=min(per, n_boot - start))
        cm_b, cm_c, fl_b, fl_c = sums(reps)
        parts.append((metrics_from_confusion(cm_b), metrics_from_confusion(cm_c), *_flag_rates(fl_b, fl_c, total)))
        if tick is not None:
            tick(start + len(reps))
    if not parts:  # n_boot == 0: empty replicate arrays of the right shapes
        empty = metrics_from_confusion(np.zeros((0, k, k)))
        return empty, empty, np.zeros(0), np.zeros(0)
    boot_b = {m: np.concatenate([p[0][m] for p in parts]) for m in parts[0][0]}
    boot_c = {m: np.concatenate([p[1][m] for p in parts]) for m in parts[0][1]}
    return boot_b, boot_c, np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts])


def _discordant(joint: JointCounts) -> dict[str, tuple[int, int]]:
    """(baseline only, current only) counts of each McNemar event, from one joint table."""
    k = joint.n_classes
    t, b, c, fb, fc = decode_cells(joint.codes, k)
    w = joint.counts
    right_b, right_c = b == t, c == t
    only_b, only_c = right_b & ~right_c, ~right_b & right_c
    out = {"accuracy": (int(w[only_b].sum()), int(w[only_c].sum()))}
    # Recall of class j: rows of true class j that only one model gets right.
    rec_b, rec_c = np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64)
    np.add.at(rec_b, t[only_b], w[only_b])
    np.add.at(rec_c, t[only_c], w[only_c])
    for j in range(k):
        out[f"recall_{j}"] = (int(rec_b[j]), int(rec_c[j]))
    out["confidently_incorrect_rate"] = (int(w[(fb == 1) & (fc == 0)].sum()), int(w[(fb == 0) & (fc == 1)].sum()))
    return out


def _entry(name: str, baseline: float, current: float, reps_b, reps_c, *, test: str, n: int, level: float,
           discordant: tuple[int, int] | None = None) -> dict:
    delta = float(current - baseline)
    reps_d = np.asarray(reps_c, dtype=float) - np.asarray(reps_b, dtype=float)
    low, high = percentile_interval(reps_d, level) if reps_d.size else (np.nan, np.nan)
    entry = {"baseline": float(baseline), "current": float(current),
             "delta": Estimate(delta, float(low), float(high), INTERVAL_METHOD).encode(), "n": int(n), "test": test,
             "higher_is_better": higher_is_better(name)}
    if test == MCNEMAR:
        entry["baseline_only"], entry["current_only"] = discordant
        entry["p_value"] = mcnemar_exact(*discordant)
    else:
        entry["p_value"] = bootstrap_p_value(delta, reps_d)
    entry["tested"] = bool(np.isfinite(entry["p_value"]))
    if not entry["tested"]:
        entry["reason"] = "the metric is undefined on these rows"
    return entry


@dataclass(frozen=True)
class LossSums:
    """Exact sums of one per-row loss over paired rows: all a paired t test reads, and mergeable.

    The sums are :class:`~blindspot.exact_sums.ExactSums` (exact, so the sums of two sets of
    rows add to the sum of their union bit for bit, whatever the order or partitioning: the
    engines' per-partition sums give the one-pass answer).

    Attributes
    ----------
    n : int
        Paired rows.
    sums : ExactSums, 3 columns
        Sums of the baseline's loss ``b``, the current loss ``c`` and the difference ``d = c - b``
        (each row's ``d`` rounded once, as ``c - b`` in float64).
    squares : ExactSums, 1 column
        The exact sum of ``d * d``.
    """

    n: int
    sums: ExactSums
    squares: ExactSums

    @classmethod
    def of(cls, loss_baseline, loss_current) -> "LossSums":
        """The sums of paired per-row losses, each array_like of float, shape (n,)."""
        b = np.asarray(loss_baseline, dtype=float)
        c = np.asarray(loss_current, dtype=float)
        d = c - b
        return cls(int(d.size), exact_sums(np.column_stack([b, c, d])), exact_square_sums(d))

    def __add__(self, other: "LossSums") -> "LossSums":
        return LossSums(self.n + other.n, self.sums + other.sums, self.squares + other.squares)


def paired_loss_entry(name: str, loss_baseline, loss_current, *, level: float) -> dict:
    """Paired t test of a mean per-row loss between two models scored on the same rows.

    Parameters
    ----------
    name : str
        The loss (``brier``, ``brier_top_label``, ``log_loss``).
    loss_baseline, loss_current : array_like of float, shape (n,)
        Each row's loss under each model, rows paired.
    level : float
        Two-sided level of the interval on the mean difference.

    Returns
    -------
    dict
        :func:`loss_entry_of_sums` of the rows' :class:`LossSums`.
    """
    return loss_entry_of_sums(name, LossSums.of(loss_baseline, loss_current), level=level)


def loss_entry_of_sums(name: str, sums: LossSums, *, level: float) -> dict:
    """The paired t test of one loss from its exact sums (:class:`LossSums`).

    Returns
    -------
    dict
        A comparison entry (see :func:`compare_table`) with ``test: paired_t``:
        ``delta`` is the mean of ``current - baseline`` with its t interval
        (:data:`T_INTERVAL_METHOD`), and ``p_value`` the two-sided p value of ``mean = 0``
        (``scipy.stats.ttest_rel``, tested). With no difference on any row the p value is
        1; with fewer than 2 rows it is undefined. The means and the variance of the
        differences are computed exactly from the exact sums and rounded once, so they
        are the same floats for any partitioning of the rows.
    """
    n = sums.n
    nan = float("nan")
    mean_b, mean_c, mean = ((float(sums.sums.fraction(j) / n) if n else nan) for j in range(3))
    entry = {"baseline": mean_b, "current": mean_c, "n": int(n), "test": PAIRED_T,
             "higher_is_better": higher_is_better(name)}
    if n < 2:
        return {**entry, "delta": Estimate(mean, nan, nan, T_INTERVAL_METHOD).encode(), "p_value": nan,
                "tested": False, "reason": "fewer than 2 paired rows"}
    # Sample variance of the differences, (n S2 - S1^2) / (n (n - 1)), in exact rationals: no cancellation.
    s1, s2 = sums.sums.fraction(2), sums.squares.fraction(0)
    variance = (n * s2 - s1 * s1) / (n * (n - 1))
    se = float(np.sqrt(float(variance / n)))
    # Every row moved by the same amount (usually: by none), or by amounts whose spread is below the
    # smallest float (the exact variance rounds to 0): no test, as with a variance of exactly 0.
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
        low = high = mean
    else:
        t = mean / se
        p = float(2 * stdtr(n - 1, -abs(t)))
        half = float(stdtrit(n - 1, 0.5 + level / 2)) * se
        low, high = mean - half, mean + half
    return {**entry, "delta": Estimate(mean, float(low), float(high), T_INTERVAL_METHOD).encode(), "p_value": p,
            "tested": True}


def row_losses(frame: pd.DataFrame, classes: Sequence[str], names: Sequence[str] = LOSSES) -> dict[str, np.ndarray]:
    """Per-row losses of one canonical table: top-label Brier always; Brier and log loss with probabilities.

    Parameters
    ----------
    names : sequence of str
        The losses wanted (of :data:`LOSSES`); only those are computed.

    Returns
    -------
    dict of str to ndarray of float, shape (len(frame),)
    """
    y = frame["y_true"].to_numpy(np.int64)
    out = {}
    if "brier_top_label" in names:
        correct = frame["y_pred"].to_numpy(np.int64) == y
        out["brier_top_label"] = top_label_brier_rows(correct, frame["confidence"].to_numpy(float))
    proba = probability_matrix(frame, classes) if {"brier", "log_loss"} & set(names) else None
    if proba is not None:
        for name, fn in (("brier", brier_rows), ("log_loss", log_loss_rows)):
            if name in names:
                out[name] = fn(y, proba)
    return out


def _too_few_rows(n: int, min_rows: int) -> str | None:
    """Why ``n`` paired rows are not tested (fewer than ``compare.min_rows``), or None."""
    return f"{n} paired rows, fewer than compare.min_rows={min_rows}" if n < max(min_rows, 1) else None


def _untested(name: str, n: int, reason: str) -> dict:
    return {"n": int(n), "tested": False, "reason": reason, "higher_is_better": higher_is_better(name)}


def compare_table(joint, classes: Sequence[str], *, n_boot: int, level: float, rng: np.random.Generator,
                  min_rows: int, scope: str = "global", tick: Callable[[int], None] | None = None) -> dict:
    """Every paired comparison of one set of rows (q values are added by the caller).

    Parameters
    ----------
    joint : JointCounts
        :func:`joint_counts` of the rows.
    classes : sequence of str, length K
    n_boot, level, rng
        Bootstrap replicates, interval level, seeded generator.
    min_rows : int
        Fewer rows (or rows of a class, for its recall) leave the metric untested.
    scope : {"global", "slice"}
        ``global``: accuracy, :data:`GLOBAL_BOOTSTRAP`, confidently-incorrect rate, and
        ``per_class.<class>.{recall, precision, f1}``; ``slice``: accuracy,
        :data:`SLICE_BOOTSTRAP`, confidently-incorrect rate and ``recall_<class>``.
    tick : callable, optional
        Progress: called with the bootstrap replicates done (:func:`bootstrap_joint`).

    Returns
    -------
    dict
        ``metric -> entry`` (``per_class -> class -> metric -> entry`` for the global
        scope); an entry holds ``baseline, current, delta`` (an encoded
        :class:`~blindspot.results.Estimate`: ``value, ci_low, ci_high, method``), ``n, test,
        p_value, tested, higher_is_better`` (plus ``baseline_only`` and ``current_only``
        for McNemar), or ``n, tested: false, reason`` (declared in
        :mod:`blindspot.results.compare`).
    """
    n = joint.n
    cm_b, cm_c, flags_b, flags_c = _CellSums(joint.codes, joint.n_classes)(joint.counts)
    support = cm_b.sum(axis=1)
    names = ["accuracy", *(GLOBAL_BOOTSTRAP if scope == "global" else SLICE_BOOTSTRAP), "confidently_incorrect_rate"]
    reason = _too_few_rows(n, min_rows)
    if reason:
        out = {m: _untested(m, n, reason) for m in names}
        if scope == "global":
            out["per_class"] = {c: {m: _untested(m, int(support[j]), reason) for m in ("recall", *PER_CLASS_BOOTSTRAP)}
                                for j, c in enumerate(classes)}
        else:
            out.update({f"recall_{c}": _untested("recall", int(support[j]), reason) for j, c in enumerate(classes)})
        return out

    point_b, point_c = metrics_from_confusion(cm_b), metrics_from_confusion(cm_c)
    boot_b, boot_c, rflag_b, rflag_c = bootstrap_joint(joint, n_boot, rng, tick=tick)
    point_b["confidently_incorrect_rate"], point_c["confidently_incorrect_rate"] = _flag_rates(flags_b, flags_c, n)
    boot_b["confidently_incorrect_rate"], boot_c["confidently_incorrect_rate"] = rflag_b, rflag_c
    est = _Estimates(point_b, point_c, boot_b, boot_c, _discordant(joint), n, level)
    out = {m: est.entry(m) for m in names}
    per_class = _class_entries(est, classes, support, min_rows=min_rows, scope=scope)
    if scope == "global":
        out["per_class"] = per_class
    else:
        out.update(per_class)
    return out


@dataclass(frozen=True)
class _Estimates:
    """Both versions' estimates of every metric on one set of rows, and the McNemar counts.

    Attributes
    ----------
    point_b, point_c : dict of str to float or ndarray of shape (K,)
        :func:`blindspot.metrics.metrics_from_confusion` and ``confidently_incorrect_rate``.
    boot_b, boot_c : dict of str to ndarray of shape (n_boot,) or (n_boot, K)
        The same on each bootstrap replicate (:func:`bootstrap_joint`).
    discordant : dict of str to (int, int)
        :func:`_discordant`: the metrics tested by McNemar; every other one by the bootstrap.
    n : int
    level : float
    """

    point_b: dict
    point_c: dict
    boot_b: dict
    boot_c: dict
    discordant: dict
    n: int
    level: float

    def entry(self, m: str, j: int | None = None, *, n: int | None = None) -> dict:
        """The entry of metric ``m`` (of class ``j`` for a per-class metric), see :func:`compare_table`."""
        key = m if j is None else f"{m}_{j}"
        test = MCNEMAR if key in self.discordant else BOOTSTRAP
        if j is None:
            values = self.point_b[m], self.point_c[m], self.boot_b[m], self.boot_c[m]
        else:
            values = self.point_b[m][j], self.point_c[m][j], self.boot_b[m][..., j], self.boot_c[m][..., j]
        return _entry(m, *values, test=test, n=self.n if n is None else n, level=self.level,
                      discordant=self.discordant.get(key))


def _class_entries(est: _Estimates, classes: Sequence[str], support: np.ndarray, *, min_rows: int,
                   scope: str) -> dict:
    """Per-class entries: ``class -> {recall, precision, f1}`` (global) or ``recall_<class>`` (slice).

    A class's recall is tested on its own rows (untested below ``min_rows`` of them);
    precision and F1 on every row.
    """
    out: dict = {}
    for j, c in enumerate(classes):
        rows = int(support[j])
        if rows < max(min_rows, 1):
            recall = _untested("recall", rows, f"{rows} paired rows of class '{c}', fewer than "
                                               f"compare.min_rows={min_rows}")
        else:
            recall = est.entry("recall", j, n=rows)
        if scope == "global":
            out[c] = {"recall": recall, **{m: est.entry(m, j) for m in PER_CLASS_BOOTSTRAP}}
        else:
            out[f"recall_{c}"] = recall
    return out


def _entries(tree: dict):
    """Every metric entry of a nested comparison, depth first in key order (for the one FDR family)."""
    for key in sorted(tree):
        value = tree[key]
        if isinstance(value, dict) and "tested" in value:
            yield value
        elif isinstance(value, dict):
            yield from _entries(value)


def apply_fdr(tree: dict, fdr_alpha: float) -> dict:
    """Add ``q_value``, ``changed`` and ``direction`` to every tested entry (one BH family).

    Returns
    -------
    dict
        ``n_tests``, ``n_changed``, ``n_improved``, ``n_worsened``.
    """
    entries = [e for e in _entries(tree) if e["tested"]]
    q = bh_qvalues([e["p_value"] for e in entries])
    counts = {"n_tests": len(entries), "n_changed": 0, "n_improved": 0, "n_worsened": 0}
    for entry, qv in zip(entries, q):
        entry["q_value"] = float(qv)
        entry["changed"] = bool(qv <= fdr_alpha)
        entry["direction"] = direction_of(entry["delta"]["value"], entry["changed"], entry["higher_is_better"])
        counts["n_changed"] += entry["changed"]
        counts["n_improved"] += entry["direction"] == "improved"
        counts["n_worsened"] += entry["direction"] == "worsened"
    return counts


# Paired rows gathered, coded and scored this many at a time: each step's temporaries are one
# batch's, never a full-size array per step (the pairing and the codes are the per-row state kept).
PAIR_BATCH = 1 << 16
# Joint tables of at most this many cells are counted densely (np.bincount per batch); larger
# ones (many classes) by the distinct codes of each batch, merged.
DENSE_CELLS = 1 << 20


def id_array(ids):
    """Ids as an Arrow ``large_string`` chunked array, shape (n,), without a Python object per id.

    Parameters
    ----------
    ids : Series or array_like
        Text ids (pandas' Arrow-backed strings are taken as they are, others are made text
        first, as ``astype("string")`` makes them).
    """
    import pyarrow as pa

    series = ids if isinstance(ids, pd.Series) else pd.Series(ids)
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype("string")
    arr = pa.array(series.array, from_pandas=True)
    arr = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    # Pandas' own Arrow chunks are taken as they are (no copy of the texts).
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def _unique_ids(ids) -> bool:
    """Whether no id occurs twice (a missing id counts as a value: two of them are a repeat).

    Equal ids are neighbours in sorted order, so the sorted ids are compared with their next
    one, :data:`PAIR_BATCH` at a time: the memory is the sort's positions (8 bytes a row), not a
    hash table holding every id (about 65 MiB at a million rows).
    """
    import pyarrow.compute as pc

    if ids.null_count > 1:
        return False
    order = pc.sort_indices(ids)  # any missing id sorts last, alone (counted above)
    for start in range(0, len(ids) - 1, PAIR_BATCH):
        run = ids.take(order[start:start + PAIR_BATCH + 1])
        if pc.any(pc.equal(run[1:], run[:-1])).as_py():
            return False
    return True


def id_positions(ids, lookup) -> np.ndarray:
    """Position of each of ``ids`` in ``lookup``, -1 where absent.

    Arrow's C++ hash of the lookup ids (``pyarrow.compute.index_in``): no Python string or
    hash entry per row. With unique ``lookup`` ids, as ingest guarantees.

    Parameters
    ----------
    ids, lookup : pyarrow.ChunkedArray of large_string, shapes (n,) and (m,)
        :func:`id_array` of each (the lookup ids are joined into one array: Arrow's set
        lookup takes one).

    Returns
    -------
    ndarray of int32 (int64 past 2^31 - 1 lookup rows), shape (n,)
    """
    import pyarrow.compute as pc

    if _same_ids(ids, lookup):  # the same rows in the same order (a table and another stage's of it)
        return np.arange(len(ids), dtype=np.int32 if len(lookup) < 2 ** 31 else np.int64)
    position = pc.index_in(ids, value_set=lookup.combine_chunks()).fill_null(-1)
    return position.to_numpy()


def _same_ids(ids, lookup) -> bool:
    """Whether two id arrays hold the same ids in the same order (no missing id): then no hash is needed.

    One comparison a row into a bitmap; a missing id makes the answer null, so False.
    """
    import pyarrow.compute as pc

    return len(ids) == len(lookup) and pc.all(pc.equal(ids, lookup), skip_nulls=False).as_py() is True


def _index_dtype(n: int):
    """The smallest signed dtype holding a position in ``n`` rows (int32 below 2^31)."""
    return np.int32 if n < 2 ** 31 else np.int64


def pair_positions(current: pd.DataFrame, baseline: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, dict]:
    """Row positions of the paired rows: same id and same gold label, in the current table's order.

    Parameters
    ----------
    current, baseline : DataFrame
        Canonical tables (``id, y_true``, ...); ids unique in each, as ingest guarantees (a
        duplicate is rejected there).

    Returns
    -------
    row_current, row_baseline : ndarray of int32 (int64 for tables past 2^31 rows), shape (n_paired,)
        Positions of each paired row in each table.
    pairing : dict
        ``n_current, n_baseline, shared_ids, label_mismatch, n_paired, coverage_current``.
    """
    ids_c, ids_b = id_array(current["id"]), id_array(baseline["id"])
    if not (_unique_ids(ids_b) and _unique_ids(ids_c)):
        raise ValueError("pair_rows needs unique ids in each table (ingest rejects duplicates)")
    found = id_positions(ids_c, ids_b)
    del ids_c, ids_b  # the Arrow ids (and the hash table) go before the per-row numbers are read
    shared = np.flatnonzero(found >= 0).astype(_index_dtype(len(current)))
    same = current["y_true"].to_numpy()[shared] == baseline["y_true"].to_numpy()[found[shared]]
    row_c = shared[same]
    row_b = found[row_c].astype(_index_dtype(len(baseline)), copy=False)
    pairing = {"n_current": len(current), "n_baseline": len(baseline), "shared_ids": int(shared.size),
               "label_mismatch": int(same.size - np.count_nonzero(same)), "n_paired": int(row_c.size),
               "coverage_current": row_c.size / len(current) if len(current) else float("nan")}
    return row_c, row_b, pairing


def pair_rows(current: pd.DataFrame, baseline: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Rows of both canonical tables with the same id and gold label, as one table.

    :func:`pair_positions` gathered into a frame (small tables: the comparison itself keeps
    the positions only).

    Returns
    -------
    paired : DataFrame
        ``id, y_true, pred_current, conf_current, pred_baseline, conf_baseline,
        row_current, row_baseline`` (the last two: positions in each table), in the
        current table's row order.
    pairing : dict
        As :func:`pair_positions`.
    """
    row_c, row_b, pairing = pair_positions(current, baseline)
    paired = pd.DataFrame({"id": current["id"].astype("string").to_numpy()[row_c],
                           "y_true": current["y_true"].to_numpy(np.int64)[row_c],
                           "pred_current": current["y_pred"].to_numpy(np.int64)[row_c],
                           "conf_current": current["confidence"].to_numpy(float)[row_c],
                           "pred_baseline": baseline["y_pred"].to_numpy(np.int64)[row_b],
                           "conf_baseline": baseline["confidence"].to_numpy(float)[row_b],
                           "row_current": row_c.astype(np.int64), "row_baseline": row_b.astype(np.int64)})
    paired["id"] = paired["id"].astype("string")
    return paired, pairing


def _rng(seed: int, name: str) -> np.random.Generator:
    # One generator per block: a slice's interval does not move when another slice is added.
    return named_rng(seed, f"compare/{name}")


@dataclass(frozen=True)
class PairedCounts:
    """What the comparison reads of the paired rows: count tables and exact sums, nothing per row.

    Made of any set of rows by :func:`paired_counts` and added (``+``) across sets, so a
    comparison built per partition (rows shuffled to partitions by their id, as the compare
    stage does with ``engine: dask``, so that both versions of an id meet) equals the one made of
    the whole tables: counts add, and the loss sums are exact.

    Attributes
    ----------
    n_current, n_baseline : int
        Rows of each table.
    shared_ids, label_mismatch : int
        Ids in both tables; of those, ids whose gold labels differ (never compared).
    alike : bool
        Same prediction and close confidences on every paired row.
    with_proba : bool
        Both tables have class probabilities (the Brier and log-loss tests need them).
    joint : JointCounts
        The paired rows' joint table.
    watch : dict of str to JointCounts
        Each watchlist slice's joint table (its paired rows).
    losses : dict of str to LossSums
        Each loss of :data:`LOSSES` that can be measured.
    """

    n_current: int
    n_baseline: int
    shared_ids: int
    label_mismatch: int
    alike: bool
    with_proba: bool
    joint: JointCounts
    watch: dict
    losses: dict

    @property
    def n_paired(self) -> int:
        return self.joint.n

    def pairing(self) -> dict:
        """``pairing`` of ``metrics/compare.json``."""
        return {"n_current": self.n_current, "n_baseline": self.n_baseline, "shared_ids": self.shared_ids,
                "label_mismatch": self.label_mismatch, "n_paired": self.n_paired,
                "coverage_current": self.n_paired / self.n_current if self.n_current else float("nan")}

    def __add__(self, other: "PairedCounts") -> "PairedCounts":
        if set(self.watch) != set(other.watch) or set(self.losses) != set(other.losses):
            raise ValueError("paired counts of different slices or losses cannot be added")
        return PairedCounts(self.n_current + other.n_current, self.n_baseline + other.n_baseline,
                            self.shared_ids + other.shared_ids, self.label_mismatch + other.label_mismatch,
                            self.alike and other.alike, self.with_proba and other.with_proba,
                            merge_joint(self.joint, other.joint),
                            {k: merge_joint(v, other.watch[k]) for k, v in self.watch.items()},
                            {k: v + other.losses[k] for k, v in self.losses.items()})


def merge_joint(a: JointCounts, b: JointCounts) -> JointCounts:
    """The joint table of the rows of two tables: counts added cell by cell (occupied cells, ascending)."""
    if a.n_classes != b.n_classes:
        raise ValueError(f"joint tables of {a.n_classes} and {b.n_classes} classes cannot be added")
    cells, where = np.unique(np.concatenate([a.codes, b.codes]), return_inverse=True)
    total = np.zeros(cells.size, dtype=np.int64)
    np.add.at(total, where.ravel(), np.concatenate([a.counts, b.counts]))
    return JointCounts(cells.astype(np.int64), total, a.n_classes)


def paired_counts(current: pd.DataFrame, baseline: pd.DataFrame, classes: Sequence[str],
                  slice_masks: Mapping[str, np.ndarray] | None = None, *, confident_threshold: float,
                  pairs: tuple | None = None) -> PairedCounts:
    """:class:`PairedCounts` of two canonical prediction tables (or of one partition of each).

    Parameters
    ----------
    current, baseline : DataFrame
        Canonical predictions (``id, y_true, y_pred, confidence``, ``proba__<class>``) of the
        two versions; ids unique in each.
    classes : sequence of str, length K
    slice_masks : mapping of str to ndarray of bool, shape (len(current),), optional
        Watchlist slices: key -> membership of the *current* table's rows.
    confident_threshold : float
        Wrong with confidence >= this is confidently incorrect.
    pairs : tuple, optional
        :func:`pair_positions` of the two tables, made by the caller (which may then let both
        tables' ``id`` columns go: nothing else here reads them); made here when None.
    """
    k = len(classes)
    row_c, row_b, pairing = pair_positions(current, baseline) if pairs is None else pairs
    codes, alike = _cell_codes(current, baseline, row_c, row_b, k, confident_threshold)
    watch = {key: _joint_of(codes, k, member=np.asarray(mask, dtype=bool), rows=row_c)
             for key, mask in sorted((slice_masks or {}).items())}
    with_proba = probability_matrix(current.iloc[:0], classes) is not None and \
        probability_matrix(baseline.iloc[:0], classes) is not None
    losses = {name: LossSums.of(_paired_loss(baseline, row_b, name, classes),
                                _paired_loss(current, row_c, name, classes))
              for name in LOSSES if name == "brier_top_label" or with_proba}
    return PairedCounts(pairing["n_current"], pairing["n_baseline"], pairing["shared_ids"],
                        pairing["label_mismatch"], alike, with_proba, _joint_of(codes, k), watch, losses)


def compare_predictions(current: pd.DataFrame, baseline: pd.DataFrame, classes: Sequence[str],
                        slice_masks: Mapping[str, np.ndarray] | None = None, *, confident_threshold: float,
                        n_boot: int, level: float, fdr_alpha: float, seed: int, min_rows: int,
                        progress=None, pairs: tuple | None = None) -> dict:
    """The paired comparison of two canonical prediction tables (``metrics/compare.json``).

    :func:`compare_counts` of :func:`paired_counts` (see both for the parameters).
    """
    counts = paired_counts(current, baseline, classes, slice_masks, confident_threshold=confident_threshold,
                           pairs=pairs)
    return compare_counts(counts, classes, confident_threshold=confident_threshold, n_boot=n_boot, level=level,
                          fdr_alpha=fdr_alpha, seed=seed, min_rows=min_rows, progress=progress)


def compare_counts(counts: PairedCounts, classes: Sequence[str], *, confident_threshold: float, n_boot: int,
                   level: float, fdr_alpha: float, seed: int, min_rows: int, progress=None) -> dict:
    """The paired comparison (``metrics/compare.json``) from the paired rows' :class:`PairedCounts`.

    Parameters
    ----------
    counts : PairedCounts
    classes : sequence of str, length K
    confident_threshold : float
        Recorded in ``settings`` (``counts`` was made with it).
    n_boot, level, fdr_alpha, seed, min_rows
        Bootstrap replicates, interval level, BH level, seed, smallest tested subset.
    progress : blindspot.progress.Progress, optional
        Told of each bootstrap block (global, then each slice) as its replicates are
        drawn; it decides whether to print (large data only).

    Returns
    -------
    dict
        ``status``, ``reason``, ``pairing`` and ``settings`` always. ``status`` is
        ``"not_compared"`` with fewer than ``max(min_rows, 1)`` paired rows (``reason``:
        ``"<n> paired rows, fewer than compare.min_rows=<m>"``); otherwise
        ``"compared"`` (``reason`` empty) with ``baseline_is_current`` (1 when both
        versions predict identically on every paired row and every row pairs),
        ``family``, ``global`` (with ``per_class``) and ``watchlist`` (key -> ``n`` and
        slice-scope entries).
    """
    classes = list(classes)
    pairing = counts.pairing()
    out = {"pairing": pairing, "settings": {
        "confident_threshold": confident_threshold, "min_rows": min_rows, "n_boot": n_boot, "ci_level": level,
        "fdr_alpha": fdr_alpha, "test": TEST_METHOD, "fdr_method": FDR_METHOD}}
    too_few = _too_few_rows(counts.n_paired, min_rows)
    if too_few:  # nothing to test: the pairing says why (ids not shared, gold labels differ)
        return {**out, "status": NOT_COMPARED, "reason": too_few}
    identical = counts.alike and pairing["n_paired"] == pairing["n_current"] == pairing["n_baseline"]
    blocks = ["global", *sorted(counts.watch)]
    tick = _ticker(progress, blocks, n_boot)
    glob = compare_table(counts.joint, classes, n_boot=n_boot, level=level,
                         rng=_rng(seed, "global"), min_rows=min_rows, scope="global", tick=tick(0))
    glob.update(_loss_entries(counts, level=level))
    watch = {}
    for block, key in enumerate(blocks[1:], 1):
        joint = counts.watch[key]
        entry = compare_table(joint, classes, n_boot=n_boot, level=level, rng=_rng(seed, f"slice:{key}"),
                              min_rows=min_rows, scope="slice", tick=tick(block))
        watch[key] = {"n": joint.n, **entry}
    tree = {"global": glob, "watchlist": watch}
    family = apply_fdr(tree, fdr_alpha)
    return {**out, "status": COMPARED, "reason": "", "baseline_is_current": int(identical), "family": family, **tree}


def _code_dtype(n_cells: int):
    """The smallest unsigned dtype holding a cell code below ``n_cells``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_cells - 1 <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _cell_codes(current: pd.DataFrame, baseline: pd.DataFrame, row_c: np.ndarray, row_b: np.ndarray, k: int,
                confident_threshold: float) -> tuple[np.ndarray, bool]:
    """Each paired row's cell of the joint table, and whether both versions predict alike.

    The cell is :class:`JointCounts`' flat code of (gold label, baseline prediction, current
    prediction, baseline flag, current flag), a flag being "wrong with confidence >=
    ``confident_threshold``". Made :data:`PAIR_BATCH` rows at a time.

    Returns
    -------
    codes : ndarray of the smallest unsigned dtype holding ``4 K^3 - 1``, shape (n_paired,)
    alike : bool
        Same prediction and close confidences (``numpy.allclose``) on every paired row.
    """
    t_all, pc_all = current["y_true"].to_numpy(), current["y_pred"].to_numpy()
    pb_all = baseline["y_pred"].to_numpy()
    cc_all, cb_all = current["confidence"].to_numpy(float), baseline["confidence"].to_numpy(float)
    codes = np.empty(row_c.size, dtype=_code_dtype(4 * k ** 3))
    alike = True
    for start in range(0, row_c.size, PAIR_BATCH):
        rc, rb = row_c[start:start + PAIR_BATCH], row_b[start:start + PAIR_BATCH]
        t, c, b = t_all[rc].astype(np.int64), pc_all[rc].astype(np.int64), pb_all[rb].astype(np.int64)
        conf_c, conf_b = cc_all[rc], cb_all[rb]
        fb = (b != t) & (conf_b >= confident_threshold)
        fc = (c != t) & (conf_c >= confident_threshold)
        codes[start:start + rc.size] = (((t * k + b) * k + c) * 2 + fb) * 2 + fc
        # allclose is a per-row test: the batches' answers joined equal the whole table's.
        alike = alike and bool(np.array_equal(b, c) and np.allclose(conf_b, conf_c))
    return codes, alike


def _joint_of(codes: np.ndarray, k: int, member: np.ndarray | None = None,
              rows: np.ndarray | None = None) -> JointCounts:
    """:class:`JointCounts` of the paired rows' cell ``codes`` (n_paired,), counted a batch at a time.

    ``member`` (bool, shape (n_current,)) with ``rows`` (each paired row's position in the
    current table) keeps only the paired rows whose current row is a member. Equal to
    :func:`joint_counts` of the same rows.
    """
    size = 4 * k ** 3
    dense = np.zeros(size, dtype=np.int64) if size <= DENSE_CELLS else None
    keys, counts = [], []
    for start in range(0, codes.size, PAIR_BATCH):
        part = codes[start:start + PAIR_BATCH]
        if member is not None:
            part = part[member[rows[start:start + PAIR_BATCH]]]
        if dense is not None:
            dense += np.bincount(part, minlength=size)
        else:  # the distinct cells of each batch, merged below: never a dense table of 4 K^3 cells
            cell, count = np.unique(part, return_counts=True)
            keys.append(cell.astype(np.int64))
            counts.append(count.astype(np.int64))
    if dense is not None:
        occupied = np.flatnonzero(dense)
        return JointCounts(occupied.astype(np.int64), dense[occupied], int(k))
    if not keys:
        return JointCounts(np.zeros(0, np.int64), np.zeros(0, np.int64), int(k))
    cells, where = np.unique(np.concatenate(keys), return_inverse=True)
    total = np.zeros(cells.size, dtype=np.int64)
    np.add.at(total, where.ravel(), np.concatenate(counts))
    return JointCounts(cells, total, int(k))


def _ticker(progress, blocks: Sequence[str], n_boot: int) -> Callable[[int], Callable[[int], None] | None]:
    """Progress callback of each bootstrap block (None without ``progress``).

    Prints "<block>: <done> of <n_boot> bootstrap replicates (step i of n)".
    """
    def tick(block: int):
        if progress is None:
            return None
        name = "global" if block == 0 else f"watchlist slice {blocks[block]}"
        return lambda done: progress.step(block + 1, len(blocks),
                                          f"{name}: {done:,} of {n_boot:,} bootstrap replicates")
    return tick


def _paired_loss(frame: pd.DataFrame, rows: np.ndarray, name: str, classes: Sequence[str]) -> np.ndarray:
    """Loss ``name`` (:func:`row_losses`) of the rows ``rows`` of ``frame``, shape (rows.size,), float.

    Computed :data:`PAIR_BATCH` rows at a time on those rows only: each loss is a function
    of its row alone, so the values equal :func:`row_losses` of the whole table at ``rows``.
    """
    out = np.empty(rows.size, dtype=float)
    for start in range(0, rows.size, PAIR_BATCH):
        part = frame.take(rows[start:start + PAIR_BATCH])
        out[start:start + len(part)] = row_losses(part, classes, (name,))[name]
    return out


def _loss_entries(counts: PairedCounts, *, level: float) -> dict:
    """The paired test of each mean per-row loss of :data:`LOSSES` (untested without probabilities)."""
    out = {}
    for name in LOSSES:
        if name in counts.losses:
            out[name] = loss_entry_of_sums(name, counts.losses[name], level=level)
        else:
            out[name] = _untested(name, counts.n_paired, "class probabilities are missing from one of the two files")
    return out


def baseline_model_config(compare_cfg, model_cfg):
    """The :class:`~blindspot.config.ModelConfig` that reads the baseline file.

    With ``compare.baseline.columns`` null the baseline is read with the current model's
    column mapping and probability prefix; metadata is not needed and not kept.
    """
    b = compare_cfg.baseline
    if b.columns is None:
        return replace(model_cfg, name=b.name, path=b.path, format=b.format, metadata=[])
    return replace(model_cfg, name=b.name, path=b.path, format=b.format, columns=b.columns,
                   probability_prefix=b.probability_prefix, metadata=[])


# --------------------------------------------------------------------------- the baseline file

# Rows of a Parquet baseline validated at a time (engine=local's batches, the texts included, are
# the read's largest temporaries; a quarter of ingest's default costs about 3% more time at 1M rows).
BASELINE_BATCH_ROWS = 1 << 15

# Where a baseline must live: `dvc.yaml` lists this folder as the compare stage's
# dependency, so a baseline elsewhere would change without re-running the comparison.
@dataclass(frozen=True)
class Baseline:
    """The baseline file read for a comparison, or why it cannot be compared.

    Attributes
    ----------
    clean : DataFrame or None
        Its canonical rows (the ingest layout), or None when it cannot be compared.
    reason : str
        One sentence naming what does not fit; empty when ``clean`` is given.
    rows_in, rows_rejected, rows_clean : int
        Records in the file, records that failed validation and clean rows (0 when it cannot be
        compared).
    written : Path or None
        Where its clean rows were written (:func:`read_baseline` with ``out``); ``clean`` is
        then None.
    """

    clean: pd.DataFrame | None
    reason: str
    rows_in: int = 0
    rows_rejected: int = 0
    rows_clean: int = 0
    written: Path | None = None

    @property
    def usable(self) -> bool:
        """Whether it can be compared: its clean rows are held (``clean``) or were written (``written``)."""
        return not self.reason and (self.clean is not None or self.written is not None)


def _first_values(rejected: list, reason: str, column: str, label_map: Mapping) -> list:
    """Distinct raw values of ``column`` in the rejected rows of ``reason``, first seen first."""
    seen: dict = {}
    for row in rejected:
        if row["reason"] == reason and isinstance(row.get("raw"), dict):
            value = row["raw"].get(column)
            seen.setdefault(label_map.get(value, value) if isinstance(value, str) else value, None)
    return list(seen)


def _quote(values: Sequence, most: int = 5) -> str:
    text = ", ".join(repr(v) for v in values[:most])
    return text + (f" and {len(values) - most} more" if len(values) > most else "")


def read_baseline(compare_cfg, model_cfg, ingest_cfg, columns: Sequence[str] | None = None,
                  prefixes: Sequence[str] = (), *, engine: str = "local", dask=None,
                  out: str | Path | None = None) -> Baseline:
    """Read and validate the baseline file with the ingest code, and check it fits the current model.

    The baseline is read like the current predictions (:func:`blindspot.ingest.ingested`,
    same classes, label map and tolerance; with ``compare.baseline.columns`` null, with the
    current model's columns). It cannot be compared, and ``reason`` says why in one
    sentence, when: either side has no id column (rows could only be paired by position);
    the file cannot be read or lacks a configured column (the ingest message); none of its
    records passes validation; or it predicts a class that is not configured (a model of
    other classes). Rows rejected for any other reason are counted, as at ingest.

    Parameters
    ----------
    compare_cfg : CompareConfig
        With ``baseline.path`` set (checked by :func:`check_config`).
    model_cfg : ModelConfig
    ingest_cfg : IngestConfig
    columns : sequence of str, optional
        Keep only these canonical columns of the clean rows (and those starting with one of
        ``prefixes``); every column when None. A Parquet baseline is validated a batch of rows
        at a time, so with the texts left out no table of every text is held.
    prefixes : sequence of str
    engine, dask
        Where it is validated: in this process a batch at a time, or partition by partition on the
        Dask workers (a large Parquet file split into runs of its row groups), the kept columns of
        each partition's clean rows coming back here.
    out : str or Path, optional
        Write the clean rows (the columns asked for) to this Parquet file instead of making a
        frame of them (``Baseline.written``): the Dask workers read it there, a row group at a
        time. The validation still keeps those columns of every clean batch until they are
        written, and each clean id (ingest's duplicate rule).

    Returns
    -------
    Baseline
    """
    from blindspot.ingest import ingested  # the reader stack, only when there is a baseline to read

    model = baseline_model_config(compare_cfg, model_cfg)
    path = model.path
    if model_cfg.columns.id is None:
        return Baseline(None, "the current predictions have no id column (model.columns.id is null), so no review "
                              "can be paired with the baseline's")
    if model.columns.id is None:
        return Baseline(None, f"the baseline {path} is read without an id column (compare.baseline.columns.id is "
                              f"null), so no review can be paired with the current predictions")
    try:
        keep = None if columns is None else (list(columns), list(prefixes))
        with ingested(model, ingest_cfg, engine, dask, keep=keep, batch_rows=BASELINE_BATCH_ROWS) as result:
            counts = {"rows_in": result.rows_in, "rows_rejected": len(result.rejected)}
            reason = _unfit(path, result, model, ingest_cfg)
            clean = None
            if not reason:
                counts["rows_clean"] = _rows_clean(result)
                if out is None:
                    clean = _clean_rows(result, columns, prefixes)
                else:  # only the columns asked for, a table at a time
                    _write_for_workers(out, _clean_tables(result, columns, prefixes))
                    counts["written"] = Path(out)
    except InputError as exc:
        return Baseline(None, _unreadable(path, exc))
    except OSError as exc:  # permissions, a file removed since the config check, ...
        return Baseline(None, f"the baseline {path} cannot be read: {exc.strerror or exc}")
    release_freed_heap()
    return Baseline(clean, reason, **counts)


class SpoolError(BlindspotError):
    """Writing the baseline's clean rows for the workers failed (a full disk, an unwritable folder): not a
    fault of the baseline file, so not reported as one (the stage stops with this line, exit 2)."""


def _write_for_workers(out, tables) -> None:
    try:
        write_parquet_tables(out, tables)
    except OSError as exc:
        raise SpoolError(f"cannot write the baseline's clean rows to {out}: {exc.strerror or exc}") from exc


def _rows_clean(result) -> int:
    """Clean rows of :func:`blindspot.ingest.ingested`'s result (a whole table, or the accounting of batches)."""
    clean = getattr(result, "clean", None)
    return len(clean) if clean is not None else result.rows_clean


def _clean_rows(result, columns: Sequence[str] | None, prefixes: Sequence[str]) -> pd.DataFrame:
    """The clean rows of :func:`blindspot.ingest.ingested`'s result, with the columns asked for only."""
    clean = getattr(result, "clean", None)
    if clean is not None:
        return clean[_wanted(clean.columns, columns, prefixes)]
    import pyarrow as pa

    table = pa.concat_tables(list(_clean_tables(result, columns, prefixes)))
    return table.to_pandas()


def _wanted(names, columns: Sequence[str] | None, prefixes: Sequence[str]) -> list:
    return [n for n in names if columns is None or n in columns or str(n).startswith(tuple(prefixes))]


def _clean_tables(result, columns: Sequence[str] | None, prefixes: Sequence[str]):
    """The clean rows of :func:`blindspot.ingest.ingested`'s result as Arrow tables, the columns asked for only.

    A whole table (a text format) is cut down. Batches (Parquet): with ``columns``, pass 1 kept
    those columns of each batch's clean rows (``result.kept``, handed over: no second
    validation); without, the batches are made again one at a time (the ingest code's pass 2).
    """
    import pyarrow as pa

    clean = getattr(result, "clean", None)
    if clean is not None:
        yield pa.Table.from_pandas(clean[_wanted(clean.columns, columns, prefixes)], preserve_index=False)
        return
    if result.kept is not None:
        tables, result.kept = result.kept, None  # handed over: they go as they are written or joined
        while tables:
            yield tables.pop(0)
        return
    for t in result.source.tables(result.plans):
        if t is not None:
            yield t.select(_wanted(t.schema.names, columns, prefixes))


def _unreadable(path, exc: InputError) -> str:
    """The ingest message in one line: what is wrong, expected, found."""
    where = f" ({exc.where})" if exc.where else ""
    text = exc.problem.rstrip(".")
    text += f"; expected {exc.expected}" if exc.expected else ""
    text += f"; found {exc.found}" if exc.found else ""
    return " ".join(f"the baseline {path}{where} cannot be read as the current model's predictions: {text}".split())


def _unfit(path, ingested, model, ingest_cfg) -> str:
    """Why a read baseline cannot be compared (other classes, no valid record), or ""."""
    predicted = _first_values(ingested.rejected, "unknown_prediction", model.columns.prediction, ingest_cfg.label_map)
    labelled = _first_values(ingested.rejected, "unknown_label", model.columns.label, ingest_cfg.label_map)
    # A model never predicts outside its classes: one such prediction means other classes. Unknown
    # gold labels are the data's (rejected rows, as at ingest) unless no record fits at all.
    if predicted or (labelled and _rows_clean(ingested) == 0):
        foreign = list(dict.fromkeys(predicted + labelled))
        rows = ingested.reasons["unknown_prediction"] + ingested.reasons["unknown_label"]
        return (f"the baseline {path} uses the class(es) {_quote(foreign)} in {rows} of its "
                f"{ingested.rows_in} records, not among the configured classes "
                f"{list(ingest_cfg.classes)}: it is a model of other classes")
    if _rows_clean(ingested) == 0:
        first = ingested.rejected[0] if ingested.rejected else None
        detail = f"; record {first['record']}: {first['detail']}" if first and first.get("detail") else ""
        top = sorted(((c, r) for r, c in ingested.reasons.items() if c), reverse=True)[:3]
        return (f"none of the {ingested.rows_in} records of the baseline {path} passes validation "
                f"(" + ", ".join(f"{c} {r}" for c, r in top) + f"){detail}")
    return ""
