"""The recalibration what-if from kept batches of rows: no process holds every row.

:mod:`blindspot.calibration.recalibration` holds the maps (temperature scaling, isotonic
regression) and what is read off them; this module runs the cross-fitted what-if over the
batches the calibrate stage keeps (:mod:`blindspot.calibration.batch`, here or on Dask workers),
in four passes, each integer counting or a few rows:

1. **Folds.** Within each class of correctness (when the smaller has at least ``n_splits`` rows;
   else over all rows) the rows are ranked by their seeded hash (:func:`~blindspot.calibration.
   recalibration.fold_hashes`) and cut into ``n_splits`` runs of consecutive ranks whose sizes
   differ by at most one: fold ``f`` holds ranks ``[f s / K, (f + 1) s / K)`` of a class of
   ``s`` rows. Only the ``K - 1`` hashes at the cuts are needed, order statistics found by
   counting rounds (:func:`~blindspot.calibration.quantiles.order_statistics`); a row's fold is
   then where its hash falls among them. So folds are the same for the rows in any order or
   batches, each holds its share of wrong rows to within one, and fold sizes differ by at most two.
2. **Fit samples.** Each fold's map is fitted on at most :data:`~blindspot.calibration.
   recalibration.MAX_FIT_ROWS` of its training rows, those of smallest fit rank
   (:func:`~blindspot.calibration.recalibration.fit_ranks`): the largest rank kept is again an
   order statistic, and each batch sends the rows at or below it. They are fitted in rank order
   (ties by position), so the fitted maps are bitwise the same for any batches.
3. **After each map.** Each batch applies its rows' fold maps and keeps the confidences after
   (a derived state); the blocks of numbers after the map are made from them as every other
   block is (:func:`~blindspot.calibration.blocks.block_totals`), and one map counts the
   confident errors that cross each threshold and the (bin before, bin after, correct) cells with
   fixed-point sums of both confidences behind the paired ECE interval
   (:class:`~blindspot.calibration.cells.CalibrationCells`).
4. The headline (:func:`~blindspot.calibration.recalibration.headline`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from blindspot.calibration.blocks import block_totals
from blindspot.calibration.bootstrap import resample_cells
from blindspot.calibration.cells import CalibrationCells
from blindspot.calibration.metrics import brier_rows, ece_from_bins, log_loss_rows, mce_from_bins, top_label_brier_rows
from blindspot.calibration.quantiles import SortedKeys, group_sizes, order_statistics
from blindspot.calibration import recalibration
from blindspot.calibration.recalibration import (
    apply_isotonic,
    apply_temperature,
    apply_top_label_temperature,
    confident_after_block,
    confident_after_counts,
    ece_change_of_cells,
    fit_isotonic,
    fit_ranks,
    fit_temperature,
    fit_top_label_temperature,
    fold_hashes,
    headline,
)
from blindspot.calibration.summary import BlockTotals, totals_of_rows
from blindspot.results.estimate import Estimate

_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class Folds:
    """Where each row's fold begins: the hashes at the cuts (module docstring, pass 1).

    Attributes
    ----------
    n_splits : int
    cuts : tuple of ndarray of uint64, each shape (n_splits - 1,)
        ``(wrong rows' cuts, right rows' cuts)`` when stratified, else ``(every row's cuts,)``.
    """

    n_splits: int
    cuts: tuple

    def of(self, correct: np.ndarray, hashes: np.ndarray) -> np.ndarray:
        """Each row's fold, shape (n,), the smallest unsigned dtype that holds ``n_splits - 1``."""
        dtype = np.min_scalar_type(self.n_splits - 1)
        if len(self.cuts) == 1:
            return np.searchsorted(self.cuts[0], hashes, side="right").astype(dtype)
        out = np.empty(hashes.size, dtype=dtype)
        for stratum, cuts in zip((~correct, correct), self.cuts):
            out[stratum] = np.searchsorted(cuts, hashes[stratum], side="right")
        return out


def _strata(batch, stratified: bool) -> SortedKeys:
    if not stratified:
        return SortedKeys((np.sort(batch.hashes),))
    return SortedKeys((np.sort(batch.hashes[~batch.correct]), np.sort(batch.hashes[batch.correct])))


def fold_cuts(parts, n_splits: int) -> Folds:
    """The folds of every row of the kept batches (module docstring, pass 1).

    Raises
    ------
    ValueError
        With fewer than ``2 * n_splits`` rows or fewer than 2 folds.
    """
    if n_splits < 2:
        raise ValueError(f"recalibration needs at least 2 folds. Got n_splits={n_splits} instead.")
    keys = parts.derive(_strata, True)
    try:
        sizes = group_sizes(keys)
        n = int(sizes.sum())
        if n < 2 * n_splits:
            raise ValueError(f"cross-fitting {n_splits} folds needs at least {2 * n_splits} rows. Got {n} instead.")
        if sizes.min() < n_splits:  # too few of one kind to stratify: one ranking of every row
            keys.release()
            keys = parts.derive(_strata, False)
            sizes = np.array([n], dtype=np.int64)
        groups = np.repeat(np.arange(sizes.size), n_splits - 1)
        ranks = np.concatenate([np.arange(1, n_splits) * s // n_splits for s in sizes])
        values = order_statistics(keys, groups, ranks, as_keys=True)
    finally:
        keys.release()
    return Folds(n_splits, tuple(values.reshape(sizes.size, n_splits - 1)))


def _fit_keys(batch, folds: Folds) -> SortedKeys:
    """Fit ranks of each fold's training rows, then of every row, sorted (pass 2's groups)."""
    fold, rank = folds.of(batch.correct, batch.hashes), fit_ranks(batch.hashes)
    return SortedKeys((*(np.sort(rank[fold != f]) for f in range(folds.n_splits)), np.sort(rank)))


def _fit_part(batch, folds: Folds, largest: np.ndarray) -> list:
    """Per group of pass 2, this batch's rows with fit rank at most ``largest[g]``:
    ``(rank, position, correct, confidence, y_true, proba)``."""
    fold, rank = folds.of(batch.correct, batch.hashes), fit_ranks(batch.hashes)
    out = []
    for g, top in enumerate(largest):
        at = np.flatnonzero((rank <= top) & ((fold != g) if g < folds.n_splits else True))
        out.append((rank[at], batch.start + at, batch.correct[at], batch.confidence[at],
                    None if batch.proba is None else batch.y_true[at],
                    None if batch.proba is None else batch.proba[at]))
    return out


def fit_samples(parts, folds: Folds) -> list:
    """Each fold's fit sample, then every row's (module docstring, pass 2), in fit-rank order.

    Returns
    -------
    list of (correct, confidence, y_true, proba), length n_splits + 1
        ``y_true`` and ``proba`` None without probabilities.
    """
    keys, cap = parts.derive(_fit_keys, folds), recalibration.MAX_FIT_ROWS
    try:
        sizes = group_sizes(keys)
        big = np.flatnonzero(sizes > cap)
        largest = np.full(sizes.size, _ALL, dtype=np.uint64)
        if big.size:
            largest[big] = order_statistics(keys, big, np.full(big.size, cap - 1), as_keys=True)
    finally:
        keys.release()
    mapped = parts.map(_fit_part, folds, largest)
    samples = []
    for g in range(sizes.size):
        pieces = [m[g] for m in mapped]
        rank, pos = (np.concatenate([p[i] for p in pieces]) for i in (0, 1))
        order = np.lexsort((pos, rank))[:cap]
        cols = [None if pieces[0][i] is None else np.concatenate([p[i] for p in pieces])[order] for i in (2, 3, 4, 5)]
        samples.append(tuple(cols))
    return samples


@dataclass(frozen=True)
class Maps:
    """Each fold's fitted map of one method: temperatures, or isotonic knots."""

    method: str
    temperatures: np.ndarray | None = None
    knots: tuple | None = None


def fit_maps(samples: list, n_splits: int, multiclass: bool) -> tuple[Maps, Maps, float]:
    """Temperature scaling and isotonic maps per fold, and the temperature of every row's sample."""
    def temperature(s):
        correct, conf, y, proba = s
        return fit_temperature(y, proba) if multiclass else fit_top_label_temperature(correct, conf)

    temps = np.array([temperature(samples[f]) for f in range(n_splits)])
    knots = tuple(fit_isotonic(samples[f][1], samples[f][0].astype(float)) for f in range(n_splits))
    return Maps("temperature_scaling", temperatures=temps), Maps("isotonic", knots=knots), temperature(samples[-1])


@dataclass(frozen=True, eq=False)
class After:
    """One batch after one method's map (module docstring, pass 3): what the blocks read, and ``before``."""

    correct: np.ndarray
    confidence: np.ndarray
    before: np.ndarray
    losses: dict
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None

    @property
    def members(self) -> tuple:
        return (np.ones(self.confidence.size, dtype=bool),)


def _after(batch, folds: Folds, maps: Maps) -> After:
    """``batch`` with each row's confidence after its fold's map (and the losses of the probabilities after)."""
    fold = folds.of(batch.correct, batch.hashes)
    conf = np.empty(batch.confidence.size)
    losses = {}
    if maps.method == "temperature_scaling" and batch.proba is not None:
        after = np.empty_like(batch.proba)
        for f, t in enumerate(maps.temperatures):
            at = fold == f
            after[at] = apply_temperature(batch.proba[at], t)
        conf[:] = after.max(axis=1)
        losses = {"brier": brier_rows(batch.y_true, after), "log_loss": log_loss_rows(batch.y_true, after)}
    else:
        for f in range(folds.n_splits):
            at = fold == f
            conf[at] = (apply_top_label_temperature(batch.confidence[at], maps.temperatures[f])
                        if maps.method == "temperature_scaling" else apply_isotonic(*maps.knots[f], batch.confidence[at]))
    return After(batch.correct, conf, batch.confidence,
                 {"brier_top_label": top_label_brier_rows(batch.correct, conf), **losses})


def _paired(after: After, edges_before: np.ndarray, edges_after: np.ndarray, thresholds: Sequence[float]) -> tuple:
    """This batch's (bin before, bin after, correct) cells with fixed-point sums of both, and its crossings."""
    cells = CalibrationCells.of(after.correct, after.before, {"after": after.confidence}, after.members, edges_before,
                                [edges_after], mass_values=after.confidence)
    return cells, confident_after_counts(after.correct, after.before, after.confidence, thresholds)


def _before(batch, thresholds: Sequence[float]) -> np.ndarray:
    return confident_after_counts(batch.correct, batch.confidence, batch.confidence, thresholds)


def scores_of_totals(t: BlockTotals) -> dict:
    """The what-if's scores of a block (``ece``, ``ece_equal_mass``, ``mce``, the losses, ``overconfidence``)."""
    out = {"ece": ece_from_bins(t.bins), "ece_equal_mass": ece_from_bins(t.bins_equal_mass), "mce": mce_from_bins(t.bins),
           "brier_top_label": t.losses["brier_top_label"], "overconfidence": t.mean_confidence - t.accuracy}
    out.update({name: t.losses[name] for name in ("brier", "log_loss") if name in t.losses})
    return out


def whatif_of_parts(parts, before: BlockTotals, *, n_bins: int, n_splits: int, thresholds: Sequence[float] = (),
                    n_boot: int = 0, ci_level: float = 0.95, rng: np.random.Generator | None = None) -> tuple[dict, dict]:
    """The recalibration what-if of every row of the kept batches (module docstring).

    Parameters
    ----------
    parts : LocalParts or DaskParts
        Batches with ``start``, ``correct``, ``confidence``, ``hashes`` (:func:`~blindspot.calibration.
        recalibration.fold_hashes` of the ids), ``y_true`` and ``proba`` (None without probabilities).
    before : BlockTotals
        The block of every row as given (its ``n_bins`` equal-width and equal-mass bins and losses).
    n_bins, n_splits, thresholds, n_boot, ci_level, rng
        As :func:`recalibration_whatif` takes them.

    Returns
    -------
    metrics, bins
        As :func:`recalibration_whatif`.
    """
    folds = fold_cuts(parts, n_splits)
    multiclass = "brier" in before.losses
    ts, iso, t_all = fit_maps(fit_samples(parts, folds), n_splits, multiclass)
    n = before.n
    scores = scores_of_totals(before)
    if thresholds:
        counts = np.sum(parts.map(_before, thresholds), axis=0)
        scores["confidently_incorrect"] = confident_after_block(counts, n, thresholds, level=ci_level)
    methods, bins = {}, {"none": before.bins}
    for maps in (ts, iso):  # in this order: the methods share ``rng``
        after = parts.derive(_after, folds, parts.shared(maps))  # the knots go to each worker once
        try:
            losses = ["brier_top_label", *(["brier", "log_loss"] if maps.method == "temperature_scaling"
                                           and multiclass else [])]
            totals = block_totals(after, losses, n_bins=n_bins, with_table=False)[0]
            mapped = after.map(_paired, before.bins.edges, totals.bins.edges, thresholds)
        finally:
            after.release()
        block = scores_of_totals(totals)
        block["ece"] = Estimate(block["ece"]).encode()  # no interval without n_boot
        bins[maps.method] = totals.bins
        if thresholds:
            counts = np.sum([m[1] for m in mapped], axis=0)
            block["confidently_incorrect"] = confident_after_block(counts, n, thresholds, level=ci_level)
        if n_boot > 0:
            cells = mapped[0][0]
            for more in mapped[1:]:
                cells = cells + more[0]
            codes, reps, sums = resample_cells(cells.count_table(0, ["confidence", "after"]), n_boot=n_boot, rng=rng)
            block.update(ece_change_of_cells(codes, reps, sums["confidence"], sums["after"], n, before.bins,
                                              totals.bins, n_boot=n_boot, level=ci_level, rng=rng))
        methods[maps.method] = block
    return headline(scores, methods, t_all, ts.temperatures, multiclass=multiclass, n_splits=n_splits,
                    with_intervals=n_boot > 0), bins


@dataclass(frozen=True)
class _Rows:
    """Rows held here, as one batch (:func:`recalibration_whatif`)."""

    correct: np.ndarray
    confidence: np.ndarray
    hashes: np.ndarray
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None
    start: int = 0


def recalibration_whatif(correct, confidence, *, y_true=None, proba=None, hashes=None, n_bins: int = 10,
                         n_splits: int = 5, seed: int = 0, thresholds: Sequence[float] = (), n_boot: int = 0,
                         ci_level: float = 0.95,
                         rng: np.random.Generator | None = None) -> tuple[dict, dict]:
    """Scores before and after cross-fitted temperature scaling and isotonic regression, of rows held here.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float, shape (n,)
    y_true : array_like of int, shape (n,), optional
    proba : array_like of float, shape (n, n_classes), optional
    hashes : array_like of uint64, shape (n,), optional
        :func:`~blindspot.calibration.recalibration.fold_hashes` of the rows' ids: the folds and fit
        samples are ranked by them, so the what-if is the same for the rows in any order. Without
        them the row positions stand for the ids (``fold_hashes(range(n), seed)``) and the what-if
        depends on the rows' order: a caller with ids should pass their hashes.
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
        also holds ``confidently_incorrect.<conf_ge_..>``
        (:func:`~blindspot.calibration.recalibration.confident_after`; for ``none`` it is the
        data as given). With ``n_boot > 0`` each method also holds
        :func:`~blindspot.calibration.recalibration.ece_change`'s keys.
    bins : dict method -> ReliabilityBins
        Equal-width bins after each method (for the before/after plot).
    """
    from blindspot.engine.batches import LocalParts

    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    hashes = fold_hashes(range(correct.size), seed) if hashes is None else np.asarray(hashes, dtype=np.uint64)
    if hashes.shape != correct.shape:
        raise ValueError(f"one hash a row is needed: {hashes.shape} hashes for {correct.shape} rows.")
    if proba is not None:
        proba, y_true = np.asarray(proba, dtype=float), np.asarray(y_true)
    before = totals_of_rows(correct, confidence, y_true=y_true, proba=proba, n_bins=n_bins, with_table=False)
    if n_boot > 0 and rng is None:
        rng = np.random.default_rng(seed)
    rows = _Rows(correct, confidence, hashes, y_true if proba is not None else None, proba)
    return whatif_of_parts(LocalParts([rows]), before, n_bins=n_bins, n_splits=n_splits, thresholds=thresholds,
                           n_boot=n_boot, ci_level=ci_level, rng=rng)
