"""One batch of the predictions as the calibrate stage keeps it, and what each pass takes from it.

The calibration audit (:mod:`blindspot.calibration.audit`) never holds the rows of the whole
table. Each batch (a row group on a Dask worker, or a block of rows in the stage's process)
is made once into a :class:`CalibrationBatch`: its numeric columns, its slice membership a bit
a row, the seeded hash its recalibration folds are ranked by, and its best rows for the two
ranked listings (:class:`blindspot.samples.TopK`, kept with their global positions, so the
merged lists are the one-pass lists). The audit then maps small functions over the kept
batches, each returning integer counts or short lists that add up exactly:

- :func:`batch_counts`: class counts, the confident-error table, the underconfident count, the
  confidence histogram;
- the calibration blocks (:func:`blindspot.calibration.blocks.block_totals`, reading
  ``correct``, ``confidence``, ``losses``, ``members``, ``y_true`` and ``proba``);
- :func:`listed_details`: what the listed rows' records need, for those rows only;
- the recalibration what-if (:mod:`blindspot.calibration.whatif`, reading ``start``, ``correct``,
  ``confidence``, ``hashes``, ``y_true`` and ``proba``).

Groups
------
A batch's :attr:`CalibrationBatch.members` are the calibration blocks' groups in this order:
every row, then rows *predicted* as each class, then each slice (``1 + K + S``). The
confident-error counts use rows whose *true* class it is (:func:`batch_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from dataclasses import dataclass
from itertools import chain
from typing import Sequence

import numpy as np
import pandas as pd

from blindspot.bits import BitColumns
from blindspot.calibration.confident import confident_error_counts, ranked_top
from blindspot.calibration.membership import rows_of_file
from blindspot.calibration.metrics import (
    binary_proba_from_confidence,
    brier_rows,
    log_loss_rows,
    prediction_margin,
    top_label_brier_rows,
)
from blindspot.calibration.recalibration import fold_hashes
from blindspot.io.schema import probability_matrix
from blindspot.samples import TopK

HISTOGRAM_BINS = 20  # equal-width bins of the confidence histogram (plots/reliability.py draws them)


@dataclass(frozen=True)
class BatchSettings:
    """What every batch is made with: the classes and the calibrate config's row-level settings.

    Attributes
    ----------
    classes : tuple of str, length K
    thresholds : tuple of float
        The confident-error thresholds, checked and sorted.
    underconfident_margin : float
    max_listed_rows : int or None
        Rows kept by each listing (None: every candidate).
    seed : int
        Of the recalibration folds' hash.
    """

    classes: tuple
    thresholds: tuple
    underconfident_margin: float
    max_listed_rows: int | None
    seed: int


def class_codes(column: pd.Series) -> np.ndarray:
    """Class indices, shape (n,): integers as stored (ingest writes one byte a row), anything else as intp.

    Every use compares them, indexes with them or casts them first, so their width changes no number.
    """
    codes = column.to_numpy()
    return codes if codes.dtype.kind in "iu" else column.to_numpy(np.intp)


def probabilities(frame: pd.DataFrame, classes: Sequence[str], y_pred: np.ndarray, conf: np.ndarray):
    """Class probabilities as given, rebuilt from a binary confidence, or none.

    Returns
    -------
    proba : ndarray of float, shape (n, K), or None
    source : str
        ``given``, ``reconstructed_from_confidence`` or ``none``.
    """
    proba = probability_matrix(frame, list(classes))
    if proba is not None:
        return proba, "given"
    if len(classes) == 2:
        return binary_proba_from_confidence(y_pred, conf), "reconstructed_from_confidence"
    return None, "none"


class _Members(SequenceABC):
    """A batch's group memberships (module docstring), each made when asked for: ndarray of bool, shape (n,)."""

    def __init__(self, batch: "CalibrationBatch"):
        self.batch = batch

    def __len__(self) -> int:
        return 1 + len(self.batch.classes) + self.batch.slices.shape[1]

    def __getitem__(self, g: int) -> np.ndarray:
        b, k = self.batch, len(self.batch.classes)
        if not 0 <= g < len(self):
            raise IndexError(g)
        if g == 0:
            return np.ones(b.n, dtype=bool)
        if g <= k:
            return b.y_pred == g - 1
        return b.slices.column(g - 1 - k)


@dataclass(eq=False)
class CalibrationBatch:
    """One batch's rows as every pass of the audit reads them.

    Attributes
    ----------
    start : int
        Position of the batch's first row in the predictions.
    classes : tuple of str, length K
    correct : ndarray of bool, shape (n,)
    confidence : ndarray of float, shape (n,)
    y_true, y_pred : ndarray of int, shape (n,)
    proba : ndarray of float, shape (n, K), or None
    proba_source : str
        :func:`probabilities`' source.
    hashes : ndarray of uint64, shape (n,)
        :func:`~blindspot.calibration.recalibration.fold_hashes` of the ids.
    slices : BitColumns, shape (n, S)
        Slice membership, in the audit's slice order.
    confident : TopK
        The batch's best confidently incorrect rows (confidence descending, then id), global positions.
    underconfident : TopK or None
        Its best underconfident correct rows (margin ascending, then id); None without probabilities.
    """

    start: int
    classes: tuple
    correct: np.ndarray
    confidence: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    proba_source: str
    hashes: np.ndarray
    slices: BitColumns
    confident: TopK
    underconfident: TopK | None

    @classmethod
    def of(cls, frame: pd.DataFrame, start: int, slices: BitColumns, settings: BatchSettings) -> "CalibrationBatch":
        """The batch of ``frame``'s rows.

        Parameters
        ----------
        frame : DataFrame, shape (n, ...)
            ``id``, ``confidence``, ``y_true``, ``y_pred``, ``correct`` and the ``proba__`` columns when given.
        start : int
            Position of its first row in the predictions.
        slices : BitColumns, shape (n, S)
            Its rows' slice membership.
        settings : BatchSettings
        """
        conf = frame["confidence"].to_numpy(float)
        correct = frame["correct"].to_numpy(bool)
        y_pred = class_codes(frame["y_pred"])
        proba, source = probabilities(frame, settings.classes, y_pred, conf)
        ids = frame["id"]
        cap = settings.max_listed_rows
        confident = ranked_top(ids, ~correct & (conf >= settings.thresholds[0]), conf, False, cap, start)
        under = None
        if proba is not None:
            margin = prediction_margin(proba)
            under = ranked_top(ids, correct & (margin < settings.underconfident_margin), margin, True, cap, start)
        return cls(start=int(start), classes=tuple(settings.classes), correct=correct, confidence=conf,
                   y_true=class_codes(frame["y_true"]), y_pred=y_pred, proba=proba, proba_source=source,
                   hashes=fold_hashes(ids, settings.seed), slices=slices, confident=confident, underconfident=under)

    @property
    def n(self) -> int:
        return self.confidence.size

    @property
    def losses(self) -> dict:
        """Per-row losses, ``brier_top_label`` first, then ``brier`` and ``log_loss`` with probabilities (n,) each."""
        out = {"brier_top_label": top_label_brier_rows(self.correct, self.confidence)}
        if self.proba is not None:
            out["brier"] = brier_rows(self.y_true, self.proba)
            out["log_loss"] = log_loss_rows(self.y_true, self.proba)
        return out

    @property
    def members(self) -> _Members:
        """The calibration blocks' groups (module docstring)."""
        return _Members(self)


def batch_of_file(frame: pd.DataFrame, start: int, *, slices: str | None, merged: dict,
                  settings: BatchSettings) -> CalibrationBatch:
    """The batch of the predictions' rows in ``frame`` (first row ``start``), its slices read from ``slices``.

    ``slices`` is the slice table written in the predictions' row order (None: no slices) and
    ``merged`` its :func:`~blindspot.calibration.membership.slice_columns`; raises
    :class:`~blindspot.calibration.membership.SlicesNotAligned` when its rows there are not these.
    """
    n = len(frame)
    bits = rows_of_file(slices, start, frame["id"], merged) if slices is not None else BitColumns.empty(n)
    return CalibrationBatch.of(frame, start, bits, settings)


def batch_counts(batch: CalibrationBatch, thresholds: Sequence[float], underconfident_margin: float) -> dict:
    """The batch's counts, each adding up over batches.

    Returns
    -------
    dict with
        ``n``; ``n_true``, ``n_predicted`` (K,); ``confident``: :func:`~blindspot.calibration.confident.
        confident_error_counts` over the groups [every row | true class i | slice j]; ``underconfident``:
        correct rows with margin below ``underconfident_margin`` (None without probabilities);
        ``hist_correct``, ``hist_incorrect`` (:data:`HISTOGRAM_BINS`,) confidence histograms;
        ``proba_source``.
    """
    k, b = len(batch.classes), batch
    columns = chain([np.ones(b.n, bool)], (b.y_true == i for i in range(k)),
                    (b.slices.column(j) for j in range(b.slices.shape[1])))  # one group's column at a time
    edges = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    under = None
    if b.proba is not None:
        under = int((b.correct & (prediction_margin(b.proba) < underconfident_margin)).sum())
    return {"n": b.n, "n_true": np.bincount(b.y_true.astype(np.intp), minlength=k)[:k],
            "n_predicted": np.bincount(b.y_pred.astype(np.intp), minlength=k)[:k],
            "confident": confident_error_counts(b.correct, b.confidence, thresholds, columns),
            "underconfident": under,
            "hist_correct": np.histogram(b.confidence[b.correct], edges)[0],
            "hist_incorrect": np.histogram(b.confidence[~b.correct], edges)[0],
            "proba_source": b.proba_source}


def add_counts(parts: Sequence[dict]) -> dict:
    """:func:`batch_counts` of every batch added up (the first batch's ``proba_source``)."""
    out = dict(parts[0])
    out["confident"] = dict(out["confident"])
    for p in parts[1:]:
        out["n"] += p["n"]
        for name in ("n_true", "n_predicted", "hist_correct", "hist_incorrect"):
            out[name] = out[name] + p[name]
        for name, value in p["confident"].items():
            out["confident"][name] = out["confident"][name] + value
        if out["underconfident"] is not None:
            out["underconfident"] += p["underconfident"]
    return out


def batch_top(batch: CalibrationBatch) -> tuple:
    """The batch's two ranked lists: ``(confident, underconfident)``."""
    return batch.confident, batch.underconfident


def listed_details(batch: CalibrationBatch, positions: np.ndarray) -> dict:
    """What the records of the listed rows in this batch need, for those rows only.

    Parameters
    ----------
    positions : ndarray of int64, shape (m,)
        Listed rows' global positions, ascending (any batch's).

    Returns
    -------
    dict of arrays over the positions that fall in this batch, in that order
        ``rows`` (global positions), ``confidence``, ``margin`` and ``probability_of_label``
        (None without probabilities), ``slices`` (bool, shape (m_b, S)).
    """
    lo, hi = np.searchsorted(positions, [batch.start, batch.start + batch.n])
    rows = np.asarray(positions[lo:hi], dtype=np.int64)
    at = rows - batch.start
    out = {"rows": rows, "confidence": batch.confidence[at], "margin": None, "probability_of_label": None,
           "slices": batch.slices.rows(at)}
    if batch.proba is not None:
        sub = batch.proba[at]
        out["margin"] = prediction_margin(sub)
        out["probability_of_label"] = sub[np.arange(at.size), batch.y_true[at].astype(np.intp)]
    return out
