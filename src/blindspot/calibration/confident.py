"""Confidently incorrect and underconfident-correct predictions.

*Confidently incorrect*: wrong, with ``confidence >= threshold``; counted at several
thresholds, overall, by true class and by slice, with Wilson intervals; the rows
themselves are ranked (confidence descending, then id) for the judge and the report.

*Underconfident correct*: right, but with a small margin between the top two class
probabilities (``margin < underconfident_margin``); ranked by margin ascending, then
id. The margin needs every class probability: with two classes it follows from the
confidence (``2c - 1``); with more classes and a confidence only it is unknown and
the list is not produced.

Counting is one table of (group x (confidence band, wrong)) counts, a bincount of each
group's rows (a column of a boolean group matrix, or one column at a time from an
iterator, so that a caller with dozens of slices never holds rows x groups), so overall,
per class and per slice cost the same vectorised pass at any size; the ranked rows are a
mergeable top-k (:class:`blindspot.samples.TopK`).
Review text is copied verbatim into the listed rows: it is untrusted data, never
interpreted here; whoever renders it escapes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Sequence

import numpy as np
import pandas as pd

from blindspot.keys import threshold_key  # the writer's side of the key; the report reads with it too
from blindspot.results.estimate import Estimate
from blindspot.samples import TopK
from blindspot.stats import wilson_interval

# The interval method every rate here names: the name blindspot.metrics.WILSON gives it (a test checks they
# agree; not imported, as blindspot.metrics is no dependency of the calibrate stage).
WILSON = "wilson"


def check_thresholds(thresholds: Sequence[float]) -> list[float]:
    """Sorted, de-duplicated thresholds, each in (0, 1]."""
    out = sorted({float(t) for t in thresholds})
    bad = [t for t in out if not 0 < t <= 1]
    if bad or not out:
        raise ValueError(f"confidence thresholds must be a non-empty list of numbers in (0, 1]. Got {list(thresholds)} instead.")
    return out


def confident_error_counts(correct, confidence, thresholds: Sequence[float], groups=None) -> dict[str, np.ndarray]:
    """Counts behind the confidently-incorrect rates.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float, shape (n,)
    thresholds : sequence of float, length T
    groups : array_like of bool, shape (n, G), or iterator of G ndarray of bool, shape (n,), optional
        Group membership (classes, slices); default one group of every row. An iterator
        yields one group's column at a time, so that its caller need not hold them all.

    Returns
    -------
    dict of ndarray of int
        ``n`` (G,), ``n_errors`` (G,), ``count`` (T, G): wrong with confidence >=
        threshold, ``n_confident`` (T, G): any prediction with confidence >= threshold.
    """
    correct = np.asarray(correct, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    thresholds = np.asarray(thresholds, dtype=float)
    t = thresholds.size
    if groups is None:
        columns = iter([np.ones(confidence.size, dtype=bool)])
    elif isinstance(groups, Iterator):
        columns = groups
    else:
        columns = iter(np.asarray(groups, dtype=bool).T)
    # band = how many thresholds a row reaches (thresholds sorted); per group, a count of its rows in
    # each (band, wrong) cell, summed over bands from the top, counts the rows at or above each threshold.
    order = np.argsort(thresholds, kind="stable")
    cell = 2 * np.searchsorted(thresholds[order], confidence, side="right") + ~correct
    table = np.array([np.bincount(cell[member], minlength=2 * (t + 1)) for member in columns], dtype=np.int64)
    table = table.reshape(-1, t + 1, 2)
    wrong, any_row = table[:, :, 1], table.sum(axis=2)  # (G, T + 1) each
    g = table.shape[0]
    out = {"n": any_row.sum(axis=1), "n_errors": wrong.sum(axis=1),
           "count": np.empty((t, g), np.int64), "n_confident": np.empty((t, g), np.int64)}
    for key, per_band in (("count", wrong), ("n_confident", any_row)):
        at_least = np.cumsum(per_band[:, ::-1], axis=1)[:, ::-1]  # rows with band >= b
        out[key][order, :] = at_least[:, 1:].T
    return out


def confident_error_rates(counts: dict, thresholds: Sequence[float], group: int = 0, *, level: float = 0.95) -> dict:
    """Metrics block of one group from :func:`confident_error_counts`.

    Returns
    -------
    dict threshold_key -> dict with ``threshold``, ``count``, ``rate`` (count / n, an
    encoded :class:`~blindspot.results.estimate.Estimate` with its Wilson interval),
    ``n_confident``, ``error_rate_among_confident`` (count / n_confident, likewise),
    ``share_of_errors`` (count / all errors). A ratio whose denominator is 0 is NaN
    (written null) with its reason: inside the estimate, or ``share_of_errors_reason``.
    """
    out = {}
    n = int(counts["n"][group])
    n_err = int(counts["n_errors"][group])
    for t_i, t in enumerate(thresholds):
        k = int(counts["count"][t_i, group])
        nc = int(counts["n_confident"][t_i, group])
        lo, hi = wilson_interval(k, n, level)
        lo2, hi2 = wilson_interval(k, nc, level)
        # A rate over nothing is not 0: it is written null, with why (the report shows the reason).
        rate = Estimate(k / n if n else np.nan, float(lo), float(hi), WILSON, "" if n else "no rows in this group")
        among = Estimate(k / nc if nc else np.nan, float(lo2), float(hi2), WILSON,
                         "" if nc else f"no prediction with confidence >= {t:g}")
        out[threshold_key(t)] = {
            "threshold": float(t),
            "count": k,
            "rate": rate.encode(),
            "n_confident": nc,
            "error_rate_among_confident": among.encode(),
            "share_of_errors": k / n_err if n_err else np.nan,
        }
        if not n_err:
            out[threshold_key(t)]["share_of_errors_reason"] = ("no rows in this group" if not n
                                                               else "no errors in this group")
    return out


def _slices_of(rows: np.ndarray, slice_keys: Sequence[str], slice_matrix) -> list[list[str]]:
    """Slice keys each listed row belongs to (a loop over the listed rows only)."""
    if slice_matrix is None or not len(slice_keys):
        return [[] for _ in rows]
    sub = slice_matrix.rows(rows) if hasattr(slice_matrix, "rows") else np.asarray(slice_matrix, dtype=bool)[rows]
    keys = np.asarray(slice_keys, dtype=object)
    return [keys[r].tolist() for r in sub]


# The fields of a listed row that only the listed rows need: the stage reads them for those rows
# alone (:func:`blindspot.io.readers.rows_at`), so the texts of every row are never held.
LISTED_FIELDS = ("text", "label", "prediction")


def _contenders(key: np.ndarray, k: int) -> np.ndarray:
    """Indices of the entries of ``key`` (ascending is best) that can be among the best ``k``.

    Those whose key is at most the ``k``-th smallest, ties included, so the exact order by key,
    then id, then row is decided among them alone: the ids of a million candidate rows need not
    be turned into strings to keep a few thousand. Every entry when that key is NaN.
    """
    kth = np.partition(key, k - 1)[k - 1]
    return np.arange(key.size) if np.isnan(kth) else np.flatnonzero(key <= kth)


def ranked_top(ids, mask: np.ndarray, key: np.ndarray, ascending: bool, max_rows: int | None,
               offset: int = 0) -> TopK:
    """The ``mask`` rows ordered by ``key`` then id, the best ``max_rows`` kept (:class:`blindspot.samples.TopK`).

    Parameters
    ----------
    ids : Series or ndarray, shape (n,)
        Row ids (compared as strings); only those of the masked rows are taken out of it.
    mask : ndarray of bool, shape (n,)
    key : ndarray of float, shape (n,)
    ascending : bool
    max_rows : int, optional
    offset : int
        Position of row 0 in the whole table: the kept rows carry global positions, so lists of
        batches merge into the list of the table (:meth:`TopK.merge`).

    Returns
    -------
    TopK of at most ``max_rows`` rows
    """
    pos = np.flatnonzero(mask)
    if max_rows is not None and 0 < max_rows < pos.size:
        pos = pos[_contenders(key[pos] if ascending else -key[pos], max_rows)]
    # An Arrow-backed column gives Python strings for the rows taken alone, not for all of it.
    taken = ids.iloc[pos].to_numpy() if isinstance(ids, pd.Series) else np.asarray(ids)[pos]
    return TopK.of(key[pos], taken.astype(str), pos + offset, k=max_rows, descending=not ascending)


def _ranked(ids, mask: np.ndarray, key: np.ndarray, ascending: bool, max_rows: int | None) -> np.ndarray:
    """Positions of :func:`ranked_top`'s rows, int64 shape (min(mask.sum(), max_rows),)."""
    return ranked_top(ids, mask, key, ascending, max_rows).rows


def confident_error_positions(frame: pd.DataFrame, thresholds: Sequence[float], max_rows: int | None = None
                              ) -> np.ndarray:
    """Positions of the confidently incorrect rows, ranked by confidence descending then id.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        ``id``, ``confidence``, ``correct``.
    thresholds : sequence of float
        A row is listed when wrong with confidence >= the smallest threshold.
    max_rows : int, optional
        Keep only the top rows.

    Returns
    -------
    ndarray of int64, shape (m,)
    """
    conf = frame["confidence"].to_numpy(float)
    wrong = ~frame["correct"].to_numpy(bool)
    return _ranked(frame["id"], wrong & (conf >= min(thresholds)), conf, False, max_rows)


def underconfident_correct_positions(frame: pd.DataFrame, margin, below: float, max_rows: int | None = None
                                     ) -> np.ndarray:
    """Positions of the correct rows with ``margin < below``, ranked by margin ascending then id.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        ``id``, ``correct``.
    margin : array_like of float, shape (n,)
    below : float
    max_rows : int, optional

    Returns
    -------
    ndarray of int64, shape (m,)
    """
    margin = np.asarray(margin, dtype=float)
    mask = frame["correct"].to_numpy(bool) & (margin < below)
    return _ranked(frame["id"], mask, margin, True, max_rows)


def confident_error_rows(
    frame: pd.DataFrame,
    thresholds: Sequence[float],
    *,
    margin=None,
    proba_of_label=None,
    slice_keys: Sequence[str] = (),
    slice_matrix=None,
    max_rows: int | None = None,
) -> list[dict]:
    """Confidently incorrect rows, ranked by confidence descending then id.

    Parameters
    ----------
    frame : DataFrame
        Canonical predictions (``id``, ``text``, ``label``, ``prediction``,
        ``confidence``, ``correct``), shape (n, ...).
    thresholds : sequence of float
        A row is listed when wrong with confidence >= the smallest threshold;
        ``bands`` lists every threshold it reaches.
    margin, proba_of_label : array_like of float, shape (n,), optional
        Top-1 minus top-2 probability; probability given to the true label.
    slice_keys : sequence of str, length S
    slice_matrix : array_like of bool, shape (n, S), or an object whose ``rows(positions)`` gives those rows' (m, S), optional
    max_rows : int, optional
        Keep only the top rows.

    Returns
    -------
    list of dict
        ``rank``, ``id``, ``text``, ``label``, ``prediction``, ``confidence``,
        ``bands``, ``slices`` and, when known, ``margin`` and ``probability_of_label``.
    """
    rows = confident_error_positions(frame, thresholds, max_rows)
    return listed_rows(frame, rows, frame.iloc[rows], thresholds=sorted(thresholds), margin=margin,
                       proba_of_label=proba_of_label, slice_keys=slice_keys, slice_matrix=slice_matrix)


def underconfident_correct_rows(
    frame: pd.DataFrame,
    margin,
    below: float,
    *,
    slice_keys: Sequence[str] = (),
    slice_matrix=None,
    max_rows: int | None = None,
) -> list[dict]:
    """Correct rows with ``margin < below``, ranked by margin ascending then id.

    Same fields as :func:`confident_error_rows`, without ``bands``.
    """
    rows = underconfident_correct_positions(frame, margin, below, max_rows)
    return listed_rows(frame, rows, frame.iloc[rows], thresholds=None, margin=margin, proba_of_label=None,
                       slice_keys=slice_keys, slice_matrix=slice_matrix)


def listed_rows(frame: pd.DataFrame, rows, fields: pd.DataFrame, *, thresholds, margin, proba_of_label, slice_keys,
                slice_matrix) -> list[dict]:
    """The JSON Lines records of the ranked rows (see :func:`confident_error_rows`).

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        ``id`` and ``confidence`` of every row.
    rows : ndarray of int, shape (m,)
        The listed rows' positions, in rank order.
    fields : DataFrame, shape (m, ...)
        ``text``, ``label`` and ``prediction`` of the listed rows, in the same order.
    thresholds : sequence of float or None
        Sorted; None lists no ``bands``.
    margin, proba_of_label : array_like of float, shape (n,), optional
    slice_keys : sequence of str, length S
    slice_matrix : array_like of bool, shape (n, S), or an object whose ``rows(positions)`` gives those rows' (m, S), optional

    Returns
    -------
    list of dict, length m
    """
    sub = frame.iloc[rows]
    conf = sub["confidence"].to_numpy(float)
    cols = {
        "id": sub["id"].astype(str).tolist(),
        "text": fields["text"].astype(str).tolist(),
        "label": fields["label"].astype(str).tolist(),
        "prediction": fields["prediction"].astype(str).tolist(),
        "confidence": conf.tolist(),
    }
    if margin is not None:
        cols["margin"] = np.asarray(margin, float)[rows].tolist()
    if proba_of_label is not None:
        cols["probability_of_label"] = np.asarray(proba_of_label, float)[rows].tolist()
    if thresholds is not None:
        t = np.asarray(thresholds)
        cols["bands"] = [t[c >= t].tolist() for c in conf]
    cols["slices"] = _slices_of(rows, slice_keys, slice_matrix)
    names = list(cols)
    return [{"rank": i + 1, **{k: cols[k][i] for k in names}} for i in range(len(rows))]
