"""Calibration blocks of groups of rows spread over kept batches: their totals, with no process holding every row.

A block of calibration numbers (all rows, a predicted class, a slice: a *group*) is made from its
:class:`~blindspot.calibration.summary.BlockTotals` by
:func:`~blindspot.calibration.summary.summary_of_totals`. :func:`block_totals` gets every group's
totals from batches of rows kept where they were made (:func:`blindspot.engine.batches.resident_parts`:
this process's batches, or row groups on Dask workers), in three steps:

1. each batch sorts the order-preserving keys of each group's confidences once, kept beside it
   (:meth:`~blindspot.engine.batches.LocalParts.derive`); counting rounds over them give every
   group's equal-mass edges (:func:`~blindspot.calibration.quantiles.percentile_queries`); the
   first group's interior edges also cut the rows into ``n_bins`` buckets for the AUROC (any
   boundaries give the same AUROC; these cost no more rounds);
2. each batch counts its cells against those edges (:class:`~blindspot.calibration.cells.
   CalibrationCells`), and the cells are added;
3. each batch cuts its rows into the AUROC's buckets, each row once with its groups a bit each,
   every bucket is reduced where its parts meet (:meth:`~blindspot.engine.batches.LocalParts.shuffle`),
   and each group's bucket counts are added in key order (:mod:`blindspot.calibration.auroc`).

Every step is integer counting or integer sums, so the totals, and the blocks made from them, are the
same bits for any batches, either engine and any order of the rows; against a group's rows in one
process (:func:`~blindspot.calibration.summary.totals_of_rows`) they differ in the last bits of the
float sums only (tested to 1e-9, intervals included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from blindspot.calibration.auroc import auroc_of_buckets, bucket_u
from blindspot.calibration.cells import CalibrationCells
from blindspot.calibration.quantiles import (SortedKeys, edges_of, float_keys, group_sizes, order_statistics,
                                             percentile_queries)
from blindspot.calibration.summary import BlockTotals



@dataclass(frozen=True)
class BatchRows:
    """One batch's rows as the calibration blocks read them: the state kept per batch.

    Attributes
    ----------
    correct : ndarray of bool, shape (n,)
    confidence : ndarray of float, shape (n,)
    losses : dict name -> ndarray of float, shape (n,)
        ``brier_top_label`` first, then ``brier`` and ``log_loss`` with probabilities.
    members : tuple of ndarray of bool, each shape (n,)
        Group ``g``'s rows of this batch.
    y_true : ndarray of int, shape (n,), or None
    proba : ndarray of float, shape (n, K), or None
    """

    correct: np.ndarray
    confidence: np.ndarray
    losses: dict
    members: tuple
    y_true: np.ndarray | None = None
    proba: np.ndarray | None = None


def _sorted_keys(rows: BatchRows) -> SortedKeys:
    return SortedKeys.of(rows.confidence, rows.members)


def _cells(rows: BatchRows, edges_width: np.ndarray, edges_mass: list) -> CalibrationCells:
    return CalibrationCells.of(rows.correct, rows.confidence, rows.losses, rows.members, edges_width, edges_mass,
                               y_true=rows.y_true, proba=rows.proba)


def _auroc_parts(rows: BatchRows, bounds: np.ndarray) -> list:
    """Bucket ``b``'s part of this batch: ``(keys, correct, membership, n_groups)`` of its rows in bucket ``b``.

    Every row goes once, with its groups a bit each (``membership``, uint8 shape (m, ceil(G / 8))),
    not once per group it is in: the shuffle moves about ``9 + G / 8`` bytes a row.
    """
    key = float_keys(rows.confidence)
    order = np.argsort(key, kind="stable")
    key, correct = key[order], np.asarray(rows.correct, dtype=bool)[order]
    members = list(rows.members)
    member = np.packbits(np.column_stack([np.asarray(m, dtype=bool)[order] for m in members]), axis=1)
    # Bucket b holds bounds[b - 1] <= key < bounds[b] (bucket_rows' rule), a run of the sorted keys.
    cuts = np.concatenate(([0], np.searchsorted(key, bounds, side="left"), [key.size]))
    return [(key[lo:hi].copy(), correct[lo:hi].copy(), member[lo:hi].copy(), len(members))
            for lo, hi in zip(cuts[:-1], cuts[1:])]


def _auroc_reduce(parts: list) -> list:
    """One bucket's pair counts, per group (:func:`~blindspot.calibration.auroc.bucket_u`), from its part of
    every batch."""
    n_groups = parts[0][3]
    key = np.concatenate([p[0] for p in parts])
    correct = np.concatenate([p[1] for p in parts])
    member = np.unpackbits(np.concatenate([p[2] for p in parts]), axis=1, count=n_groups).astype(bool)
    order = np.argsort(key, kind="stable")  # sorted once: each group's keys are then sorted runs of it
    key, correct, member = key[order], correct[order], member[order]
    return [bucket_u([(key[m & correct], key[m & ~correct])]) for m in member.T]


def block_totals(parts, losses: Sequence[str], *, n_bins: int, with_table: bool = True) -> list[BlockTotals]:
    """Every group's :class:`~blindspot.calibration.summary.BlockTotals` from kept batches of rows.

    Parameters
    ----------
    parts : LocalParts or DaskParts of BatchRows
        Every batch of the rows (:func:`blindspot.engine.batches.resident_parts`), at least one, each
        with the same groups and losses: :class:`BatchRows`, or any state with its attributes (the
        stage's :class:`~blindspot.calibration.batch.CalibrationBatch`, the what-if's
        :class:`~blindspot.calibration.whatif.After`).
    losses : sequence of str
        The loss names, in the block's order.
    n_bins : int
        Bins of both binnings.
    with_table : bool
        Whether the cell bootstrap's table is wanted (intervals are drawn).

    Returns
    -------
    list of BlockTotals, one per group
    """
    keys = parts.derive(_sorted_keys)
    try:
        sizes = group_sizes(keys)
        edge_groups, edge_ranks = percentile_queries(sizes, n_bins)
        values = order_statistics(keys, edge_groups, edge_ranks)
    finally:
        keys.release()
    edges_mass = edges_of(sizes, n_bins, values)
    # The AUROC's buckets: every row cut at the first group's interior equal-mass edges (all rows, in the
    # calibrate stage), so a reduce holds about n / n_bins rows; any cuts give the same AUROC.
    bounds = float_keys(edges_mass[0][1:-1])
    edges_width = np.linspace(0.0, 1.0, n_bins + 1)
    mapped = parts.map(_cells, edges_width, edges_mass)
    cells = mapped[0]
    for more in mapped[1:]:
        cells = cells + more
    buckets = parts.shuffle(_auroc_parts, _auroc_reduce, n_bins, bounds)
    totals = []
    for g in range(len(sizes)):
        auroc = auroc_of_buckets([bucket[g] for bucket in buckets])
        totals.append(cells.totals(g, losses, auroc=auroc, with_table=with_table))
    return totals
