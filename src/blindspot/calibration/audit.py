"""The calibrate stage's computation: predictions (+ slices) -> metrics, ranked rows, bins.

:func:`audit_calibration` is everything the stage does between reading and writing;
it returns a :class:`CalibrationAudit` holding the metrics mapping (``metrics/
calibration.json``), the ranked row lists and every set of bins a plot needs, so the
stage only writes and draws what was computed here.

Slices
------
``data/interim/slices.parquet`` (from the slice stage) has ``id`` then one boolean
column per slice: ``watch__<key>`` (watchlist) or ``found__<key>`` (discovered).
Rows are joined on ``id``; a prediction absent from the file belongs to no slice,
other columns are ignored, zero slice columns mean no slices. A slice listed under
both prefixes is one slice (``source: "watch+found"``). Its metrics live under
``slices.<key>`` whatever its source, so the key stays put when a discovered slice
joins the watchlist. A slice (or a predicted class) with fewer than ``min_n`` rows
gets ``n``, ``status: "too_small"`` and a ``reason`` instead of numbers.

Layout of ``metrics/calibration.json``
--------------------------------------
Every key is declared in :mod:`blindspot.results.calibration` (and listed in
``docs/METRICS.md``); a number with an interval is an encoded
:class:`~blindspot.results.estimate.Estimate` ``{value, ci_low, ci_high, method}``.

- ``overall``: the block of :func:`~blindspot.calibration.summary.calibration_summary`
  (ECE under both binnings with interval, debiased value, noise floor and p value;
  MCE; Brier losses and log loss with intervals; overconfidence; classwise ECE;
  ``confidence_auroc``, a discrimination measure).
- ``confidently_incorrect.conf_ge_<pct>``: count, rate (over all rows) and
  ``error_rate_among_confident`` (over rows at or above the threshold), Wilson
  intervals, ``share_of_errors``. ``underconfident_correct``: count and rate.
- ``by_class.<class>``: ``n_true``, ``n_predicted``, ``classwise_ece`` / ``classwise_mce``
  (``p_class`` against ``1[y = class]``, all rows), ``confidently_incorrect`` among
  rows whose *true* class it is, and ``when_predicted``: the summary block over rows
  *predicted* as the class (top-label calibration conditioned on the true class would
  mix calibration with recall, so it is not reported).
- ``slices.<key>``: ``n``, ``source``, ``status`` and, when ``ok``, the summary block,
  ``ece_q_value`` (BH over every evaluated slice) and ``confidently_incorrect``.
  ``worst_slices`` lists the keys drawn in ``reliability_slices.png``.
- ``recalibration``: before/after table (:func:`~blindspot.calibration.recalibration.recalibration_whatif`),
  with, per method, the confidently incorrect rows after it at each threshold and the
  ECE after with its interval and the paired improvement; ``recalibration.advice.
  conf_ge_<pct>`` says whether recalibration is advised there, by which method, and why
  (:func:`~blindspot.calibration.advice.recalibration_advice`). Its folds and fit samples
  are ranked by a seeded hash of the ids (:func:`~blindspot.calibration.recalibration.
  fold_hashes`), so the what-if is the same for the rows in any order.
- ``miscalibration_direction``: ``overconfident`` / ``underconfident`` /
  ``well_calibrated`` / ``mixed`` / ``unmeasured``
  (:func:`~blindspot.calibration.advice.miscalibration_direction`).
- ``unavailable``: metric -> why it could not be computed; ``listed_rows``: how many
  rows the two JSON Lines files hold.

Randomness
----------
Each block (overall, a class, a slice) draws from its own generator seeded by
``(seed, crc32(block name))``: a slice's interval does not move because another
slice appeared, and reruns are byte-identical.

Probabilities
-------------
With class probabilities everything is computed. With a confidence only and two
classes the probabilities follow from it (``p[pred] = c``, ``p[other] = 1 - c``);
with more classes the multiclass Brier loss, log loss, classwise ECE, the
multiclass temperature scaling and the prediction margin (hence the
underconfident-correct list) cannot be computed, and ``unavailable`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from itertools import chain
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blindspot.bits import BitColumns, pack
from blindspot.calibration.confident import (
    LISTED_FIELDS,
    WILSON,
    check_thresholds,
    confident_error_counts,
    confident_error_positions,
    confident_error_rates,
    listed_rows,
    underconfident_correct_positions,
)
from blindspot.calibration.metrics import binary_proba_from_confidence, ece_from_bins, mce_from_bins, prediction_margin
from blindspot.calibration.advice import miscalibration_direction, recalibration_advice
from blindspot.calibration.recalibration import fold_hashes, recalibration_whatif
from blindspot.calibration.summary import CalibrationSummary, calibration_summary
from blindspot.errors import ConfigError, InputError
from blindspot.io.schema import has_repeats, probability_matrix
from blindspot.memory import release_freed_heap
from blindspot.results.estimate import Estimate
from blindspot.seeding import named_rng
from blindspot.stats import bh_qvalues, wilson_interval

SLICE_PREFIXES = (("watch__", "watch"), ("found__", "found"))


class SliceTable(BitColumns):
    """Slice membership aligned with the predictions, one bit a row per slice.

    Packed, the membership of a few dozen slices costs a few bytes a row where the
    (n, S) boolean matrix costs S; each use unpacks one slice (:meth:`column`) or the
    listed rows (:meth:`rows`) at a time (:class:`blindspot.bits.BitColumns`).

    Attributes
    ----------
    keys : list of str, length S
    sources : list of str, length S
        ``"watch"``, ``"found"`` or ``"watch+found"``.
    bits : ndarray of uint8, shape (S, ceil(n / 8))
        Row ``j`` is slice ``j``'s membership, :func:`numpy.packbits` of a bool (n,).
    n : int
        Rows.
    """

    def __init__(self, keys: Sequence[str], sources: Sequence[str], bits: np.ndarray, n: int):
        super().__init__(bits, n)
        self.keys = list(keys)
        self.sources = list(sources)


def metric_key(name: str) -> str:
    """A name usable as a metrics key: DVC splits keys on dots, so dots become underscores."""
    return str(name).replace(".", "_")


def slice_table(ids, slices: pd.DataFrame | None, *, source: str = "slices") -> SliceTable:
    """Align a slice-membership frame with prediction ids (see module docstring).

    Parameters
    ----------
    ids : array_like of str, shape (n,)
        Prediction ids, in row order.
    slices : DataFrame or None
        ``id`` plus ``watch__<key>`` / ``found__<key>`` boolean columns.
    source : str
        Name used in error messages (the file path).

    Raises
    ------
    InputError
        When ``slices`` has no ``id`` column or repeats an id.
    """
    n = len(ids)
    if slices is None:
        return SliceTable([], [], BitColumns.empty(n).bits, n)
    if "id" not in slices.columns:
        raise InputError(source, "the slice table has no 'id' column.", expected="columns id, watch__<key>..., found__<key>...",
                         found=", ".join(map(str, slices.columns[:8])) or "(no columns)")
    sid = _arrow_ids(slices["id"], lambda v: v.astype(str))
    if has_repeats(sid):  # the message's names only when the check fails
        names = pd.Index(sid.to_numpy(zero_copy_only=False))
        dup = names[names.duplicated()]
        raise InputError(source, f"the slice table repeats {dup.nunique()} id(s).", field="id",
                         expected="one row per prediction id", found=f"{dup[0]!r} more than once")
    position = _slice_rows(_arrow_ids(ids, lambda v: np.asarray(v).astype(str)), sid)
    found = None if position is None else position >= 0
    # Which prefixed columns make each key; each key's membership is then built one column at a time
    # and packed to a bit a row (a million rows by a few dozen slices: a few MB, not one byte a cell).
    merged: dict[str, list] = {}
    for col in slices.columns:
        for prefix, kind in SLICE_PREFIXES:
            if str(col).startswith(prefix):
                merged.setdefault(metric_key(str(col)[len(prefix):]), []).append((kind, col))
    keys = sorted(merged)
    bits = BitColumns.empty(n, len(keys)).bits
    for j, key in enumerate(keys):
        member = np.zeros(n, dtype=bool)  # a prediction absent from the slice table is in no slice
        for _, col in merged[key]:
            given = slices[col].fillna(False).to_numpy(dtype=bool)
            if found is None:
                member |= given
            else:
                member[found] |= given[position[found]]
        bits[j] = pack(member, n)
    sources = ["+".join(sorted({kind for kind, _ in merged[k]}, key=("watch", "found").index)) for k in keys]
    return SliceTable(keys, sources, bits, n)


def _arrow_ids(values, as_str: Callable) -> pa.ChunkedArray:
    """Ids as one Arrow large_string chunked array, shape (n,).

    A column read from Parquet is Arrow already (``string[pyarrow]``, or an Arrow string
    dtype): it is used as it is, with no Python string per row (a million of them are about
    70 MB) and its chunks are not joined (a copy of every id, about 23 bytes a row, held beside
    the column: at 10M rows the slice table's and the predictions' were the stage's peak).
    Anything else becomes text as before the lookup was Arrow's: unchanged when every value is
    a str, else through ``as_str(values)``.
    """
    if _arrow_strings(getattr(values, "dtype", None)) and not values.hasnans:
        arr = pa.array(values)
    else:
        objects = np.asarray(values, dtype=object)
        if pd.api.types.infer_dtype(objects, skipna=False) not in ("string", "empty"):
            objects = np.asarray(as_str(values), dtype=object)
        arr = pa.array(objects, type=pa.large_string())
    arr = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return arr.cast(pa.large_string())


def _arrow_strings(dtype) -> bool:
    """Whether a pandas dtype keeps its values as one Arrow string array."""
    if isinstance(dtype, pd.StringDtype):
        return dtype.storage == "pyarrow"
    return isinstance(dtype, pd.ArrowDtype) and (pa.types.is_string(dtype.pyarrow_dtype)
                                                 or pa.types.is_large_string(dtype.pyarrow_dtype))


def _slice_rows(ids: pa.ChunkedArray, sid: pa.ChunkedArray) -> np.ndarray | None:
    """Row of the slice table holding each prediction id, -1 where none, shape (n,); None when row i holds id i.

    The slice stage writes its table in the predictions' row order, so the ids usually match
    one for one and need no lookup (None: no position array either); otherwise one hash
    lookup serves every column (not one per column).
    """
    if len(sid) == len(ids) and sid.equals(ids):  # value by value, whatever the two chunkings
        return None
    return pc.index_in(ids, value_set=sid.combine_chunks()).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


@dataclass
class CalibrationAudit:
    """Everything the calibrate stage writes.

    Attributes
    ----------
    metrics : dict
        The content of ``metrics/calibration.json``.
    overall : CalibrationSummary
    slices : dict key -> CalibrationSummary
        Slices with at least ``min_n`` rows.
    worst_slices : list of str
        At most ``n_worst`` evaluated slices, most credibly miscalibrated first
        (ECE lower bound descending, then ``ece_debiased`` descending, then key).
    recalibration_bins : dict method -> ReliabilityBins
        Empty when recalibration could not run.
    confident_rows, underconfident_rows : list of dict
        Ranked rows for ``confident_errors.jsonl`` / ``underconfident_correct.jsonl``.
    correct, confidence : ndarray, shape (n,)
        For the confidence histogram.
    classes : list of str
    """

    metrics: dict
    overall: CalibrationSummary
    slices: dict = field(default_factory=dict)
    worst_slices: list = field(default_factory=list)
    recalibration_bins: dict = field(default_factory=dict)
    confident_rows: list = field(default_factory=list)
    underconfident_rows: list = field(default_factory=list)
    correct: np.ndarray | None = None
    confidence: np.ndarray | None = None
    classes: list = field(default_factory=list)


def check_config(cfg) -> list[float]:
    """Validate a :class:`~blindspot.config.CalibrationConfig`; returns the sorted thresholds.

    Raises
    ------
    ConfigError
        Naming the key and echoing the bad value.
    """
    if cfg.n_bins < 2:
        raise ConfigError(f"calibration.n_bins must be at least 2. Got {cfg.n_bins} instead.")
    try:
        thresholds = check_thresholds(cfg.confident_thresholds)
    except ValueError:
        raise ConfigError(f"calibration.confident_thresholds must be numbers in (0, 1]. "
                          f"Got {list(cfg.confident_thresholds)} instead.") from None
    if not 0 < cfg.underconfident_margin <= 1:
        raise ConfigError(f"calibration.underconfident_margin must be in (0, 1]. Got {cfg.underconfident_margin} instead.")
    if cfg.min_n < 1:
        raise ConfigError(f"calibration.min_n must be at least 1. Got {cfg.min_n} instead.")
    if cfg.recalibration_folds < 2:
        raise ConfigError(f"calibration.recalibration_folds must be at least 2. Got {cfg.recalibration_folds} instead.")
    if cfg.max_listed_rows is not None and cfg.max_listed_rows < 0:
        raise ConfigError(f"calibration.max_listed_rows must be null or >= 0. Got {cfg.max_listed_rows} instead.")
    return thresholds


def _too_small(n: int, min_n: int) -> dict:
    return {"n": int(n), "status": "too_small", "reason": f"n={int(n)} is below calibration.min_n={min_n}"}


def _probabilities(frame: pd.DataFrame, classes: list, y_pred: np.ndarray, conf: np.ndarray):
    """Class probabilities as given, rebuilt from a binary confidence, or none (module docstring).

    Returns
    -------
    proba : ndarray of float, shape (n, k), or None
    source : str
        ``given``, ``reconstructed_from_confidence`` or ``none``.
    unavailable : dict metric -> why
        The metrics that need probabilities, when there are none.
    """
    proba = probability_matrix(frame, classes)
    if proba is not None:
        return proba, "given", {}
    k = len(classes)
    if k == 2:
        return binary_proba_from_confidence(y_pred, conf), "reconstructed_from_confidence", {}
    why = f"needs class probabilities (only a confidence was given, {k} classes)"
    names = ("brier", "log_loss", "classwise_ece", "underconfident_correct", "multiclass_temperature_scaling")
    return None, "none", {name: why for name in names}


@dataclass(frozen=True)
class _Rows:
    """The predictions as arrays plus the settings every step of the audit shares.

    Built once by :func:`_rows`; each step of :func:`audit_calibration` reads it and
    returns its part of the metrics, so no step sees another's intermediate state.

    Attributes
    ----------
    frame : DataFrame, shape (n, ...), or None
        None once the rows are listed (its last use; :func:`audit_calibration`).
    classes : list of str, length k
    correct : ndarray of bool, shape (n,)
    conf : ndarray of float, shape (n,)
    y_true, y_pred : ndarray of intp, shape (n,)
    proba : ndarray of float, shape (n, k), or None
    proba_source : str
    unavailable : dict metric -> why (from missing probabilities)
    slices : SliceTable
    hashes : ndarray of uint64, shape (n,)
        :func:`~blindspot.calibration.recalibration.fold_hashes` of the ids, made before the
        ids are let go (8 bytes a row): the recalibration what-if is ranked by them.
    cfg : CalibrationConfig
    thresholds : list of float
        ``cfg.confident_thresholds``, checked and sorted.
    n_boot, ci_level, seed
    """

    frame: pd.DataFrame | None
    classes: list
    correct: np.ndarray
    conf: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    proba_source: str
    unavailable: dict
    slices: SliceTable
    hashes: np.ndarray
    cfg: object
    thresholds: list
    n_boot: int
    ci_level: float
    seed: int

    def summarise(self, mask: np.ndarray | None, name: str) -> CalibrationSummary:
        """:func:`calibration_summary` of the rows in ``mask`` (None: all), on the stream ``name``."""
        def pick(a):
            return a if (a is None or mask is None) else a[mask]

        proba = pick(self.proba)
        return calibration_summary(pick(self.correct), pick(self.conf), y_true=pick(self.y_true) if proba is not None
                                   else None, proba=proba, rng=named_rng(self.seed, name), n_bins=self.cfg.n_bins,
                                   n_boot=self.n_boot, ci_level=self.ci_level)


def _class_codes(column: pd.Series) -> np.ndarray:
    """Class indices, shape (n,): integers as stored (ingest writes one byte a row), anything else as intp.

    Every use compares them, indexes with them or casts them first, so their width changes no number.
    """
    codes = column.to_numpy()
    return codes if codes.dtype.kind in "iu" else column.to_numpy(np.intp)


def _rows(frame: pd.DataFrame, slices: pd.DataFrame | None, *, classes: Sequence[str], cfg, n_boot: int,
          ci_level: float, seed: int, slices_source: str) -> _Rows:
    """Check the config and the rows, then gather what every step needs (:class:`_Rows`)."""
    thresholds = check_config(cfg)
    classes = list(classes)
    if len(frame) == 0:
        raise InputError("predictions", "no predictions to calibrate.", expected="at least one row", found="0 rows")
    conf = frame["confidence"].to_numpy(float)
    y_pred = _class_codes(frame["y_pred"])
    proba, proba_source, unavailable = _probabilities(frame, classes, y_pred, conf)
    return _Rows(frame=frame, classes=classes, correct=frame["correct"].to_numpy(bool), conf=conf,
                 y_true=_class_codes(frame["y_true"]), y_pred=y_pred, proba=proba, proba_source=proba_source,
                 unavailable=unavailable, slices=slice_table(frame["id"], slices, source=slices_source),
                 hashes=fold_hashes(frame["id"], seed), cfg=cfg, thresholds=thresholds, n_boot=n_boot,
                 ci_level=ci_level, seed=seed)


def _confident_counts(rows: _Rows) -> dict:
    """Confidently incorrect counts over the groups [all rows | each true class | each slice].

    Group ``0`` is all rows, ``1 + i`` true class ``i``, ``1 + k + j`` slice ``j``; each
    group's column is built when it is counted (one byte a row at a time, not one per group).
    """
    k, st = len(rows.classes), rows.slices
    columns = chain([np.ones(rows.conf.size, bool)], (rows.y_true == i for i in range(k)),
                    (st.column(j) for j in range(len(st.keys))))
    return confident_error_counts(rows.correct, rows.conf, rows.thresholds, columns)


def _by_class(rows: _Rows, overall: CalibrationSummary, rates: Callable[[int], dict]) -> dict:
    """``by_class.<class>`` (module docstring); ``rates(g)`` is the confident-error block of group ``g``."""
    min_n = rows.cfg.min_n
    by_class = {}
    for i, name in enumerate(rows.classes):
        pred_mask = rows.y_pred == i
        entry = {"n_true": int((rows.y_true == i).sum()), "n_predicted": int(pred_mask.sum()),
                 "confidently_incorrect": rates(1 + i)}
        if overall.classwise is not None:
            entry["classwise_ece"] = ece_from_bins(overall.classwise[i])
            entry["classwise_mce"] = mce_from_bins(overall.classwise[i])
        if pred_mask.sum() >= min_n:
            entry["when_predicted"] = {"status": "ok", **rows.summarise(pred_mask, f"class:{name}").metrics}
        else:
            entry["when_predicted"] = _too_small(pred_mask.sum(), min_n)
        by_class[metric_key(name)] = entry
    return by_class


def _by_slice(rows: _Rows, rates: Callable[[int], dict]) -> tuple[dict, dict]:
    """``slices.<key>`` (module docstring), with one BH family over every evaluated slice's ECE test.

    Returns
    -------
    metrics : dict key -> dict
        Every slice: ``too_small`` ones with their reason.
    summaries : dict key -> CalibrationSummary
        The evaluated slices only, in key order.
    """
    st, min_n, k = rows.slices, rows.cfg.min_n, len(rows.classes)
    metrics, summaries = {}, {}
    for j, key in enumerate(st.keys):
        mask = st.column(j)
        n_s = int(mask.sum())
        if n_s < min_n:
            metrics[key] = {**_too_small(n_s, min_n), "source": st.sources[j]}
            continue
        summaries[key] = summ = rows.summarise(mask, f"slice:{key}")
        metrics[key] = {"status": "ok", "source": st.sources[j], **summ.metrics,
                        "confidently_incorrect": rates(1 + k + j)}
    q = bh_qvalues([metrics[s]["ece_p_value"] for s in summaries])
    for s, qv in zip(summaries, q):
        metrics[s]["ece_q_value"] = float(qv)
    return metrics, summaries


def _worst_slices(slice_metrics: dict, tested: Sequence[str], n_worst: int) -> list[str]:
    """Most credibly miscalibrated first: highest ECE lower bound, then highest debiased ECE, then key."""
    def order(s):
        m = slice_metrics[s]
        return -np.nan_to_num(m["ece"]["ci_low"], nan=-1.0), -np.nan_to_num(m["ece_debiased"], nan=-1.0), s

    return sorted(tested, key=order)[:n_worst]


def _listed_rows(rows: _Rows, fetch: Callable[[np.ndarray], pd.DataFrame]) -> tuple[list, dict, list]:
    """The ranked confident errors, the underconfident-correct block and its ranked rows.

    Both lists are ranked first; then ``fetch`` gives the text, label and prediction of
    the listed rows in one call (the stage reads them from the file for those rows alone).

    Returns
    -------
    confident_rows : list of dict
    underconfident : dict
        ``underconfident_correct`` (``unavailable`` without probabilities).
    under_rows : list of dict
    """
    st, cfg, n = rows.slices, rows.cfg, len(rows.frame)
    margin = prediction_margin(rows.proba) if rows.proba is not None else None
    confident = confident_error_positions(rows.frame, rows.thresholds, cfg.max_listed_rows)
    under = (underconfident_correct_positions(rows.frame, margin, cfg.underconfident_margin, cfg.max_listed_rows)
             if margin is not None else np.zeros(0, np.int64))
    listed = np.union1d(confident, under)
    fields = fetch(listed)
    # Made once the texts are read, not held while they are (8 bytes a row).
    proba_of_label = rows.proba[np.arange(n), rows.y_true] if rows.proba is not None else None

    def rows_of(positions, **kw):
        return listed_rows(rows.frame, positions, fields.iloc[np.searchsorted(listed, positions)], margin=margin,
                           slice_keys=st.keys, slice_matrix=st, **kw)

    confident_rows = rows_of(confident, thresholds=rows.thresholds, proba_of_label=proba_of_label)
    if margin is None:
        return confident_rows, {"status": "unavailable", "reason": rows.unavailable["underconfident_correct"]}, []
    u = int((rows.correct & (margin < cfg.underconfident_margin)).sum())
    lo, hi = wilson_interval(u, n, rows.ci_level)
    underconfident = {"status": "ok", "margin_below": cfg.underconfident_margin, "count": u,
                      "rate": Estimate(u / n, float(lo), float(hi), WILSON).encode()}
    return confident_rows, underconfident, rows_of(under, thresholds=None, proba_of_label=None)


def _recalibration(rows: _Rows, overall: CalibrationSummary) -> tuple[dict, dict]:
    """``recalibration`` with its advice, and the bins after each method (empty when it could not run)."""
    try:
        recal, bins = recalibration_whatif(rows.correct, rows.conf,
                                           y_true=rows.y_true if rows.proba is not None else None, proba=rows.proba,
                                           hashes=rows.hashes, n_bins=rows.cfg.n_bins,
                                           n_splits=rows.cfg.recalibration_folds,
                                           seed=rows.seed, thresholds=rows.thresholds, n_boot=rows.n_boot,
                                           ci_level=rows.ci_level, rng=named_rng(rows.seed, "recalibration"))
    except ValueError as exc:  # too few rows (or one class of correctness) to cross-fit
        return {"status": "unavailable", "reason": str(exc)}, {}
    advice = recalibration_advice(recal, overall.metrics, rows.thresholds, ci_level=rows.ci_level)
    return {"status": "ok", **recal, "advice": advice}, bins


def _frame_fields(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The listed rows' text, label and prediction, from a frame that holds them."""
    return frame.iloc[positions][list(LISTED_FIELDS)].reset_index(drop=True)


def _settings(rows: _Rows) -> dict:
    """The metrics file's header: what was measured, and how."""
    return {"n": rows.conf.size, "classes": rows.classes, "probabilities": rows.proba_source,
            "n_bins": rows.cfg.n_bins, "n_boot": rows.n_boot, "ci_level": rows.ci_level, "min_n": rows.cfg.min_n,
            "confident_thresholds": rows.thresholds}


def audit_calibration(frame: pd.DataFrame, slices: pd.DataFrame | None, *, classes: Sequence[str], cfg, n_boot: int,
                      ci_level: float, seed: int, slices_source: str = "slices",
                      fetch: Callable[[np.ndarray], pd.DataFrame] | None = None) -> CalibrationAudit:
    """Run the whole calibration audit.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        Canonical predictions (:mod:`blindspot.io.schema`): ``id``, ``confidence``,
        ``y_true``, ``y_pred``, ``correct``, the ``proba__`` columns when given, and
        ``text``, ``label`` and ``prediction`` unless ``fetch`` is given.
    slices : DataFrame or None
        Slice membership (see module docstring); None for no slices.
    classes : sequence of str
        Class names in index order (``cfg.ingest.classes``).
    cfg : CalibrationConfig
    n_boot : int
    ci_level : float
    seed : int
    slices_source : str
        Path of the slice file, for messages.
    fetch : callable, optional
        ``fetch(positions)``: ``text``, ``label`` and ``prediction`` of the rows at
        ``positions`` (ndarray of int, shape (m,), ascending), as a DataFrame of m rows in
        that order; called once, for the listed rows. Default: taken from ``frame``.

    Returns
    -------
    CalibrationAudit
    """
    rows = _rows(frame, slices, classes=classes, cfg=cfg, n_boot=n_boot, ci_level=ci_level, seed=seed,
                 slices_source=slices_source)
    slices = None  # rows.slices holds the membership now: a caller that kept no reference frees the frame here
    if fetch is None:
        fetch = partial(_frame_fields, frame)
    # Listed first (each step draws from its own named stream, so the order changes no number): the frame's
    # last use. From here on the audit reads the arrays of ``rows`` alone, so a caller that kept no reference
    # frees the columns the arrays are not views of (the ids, 20-odd bytes a row) before the per-row metrics.
    confident_rows, underconfident, under_rows = _listed_rows(rows, fetch)
    rows, frame, fetch = replace(rows, frame=None), None, None
    release_freed_heap()  # the slice frame, the id lookups' and the listing's small blocks, before the metrics
    overall = rows.summarise(None, "overall")
    counts = _confident_counts(rows)
    rates = partial(confident_error_rates, counts, rows.thresholds, level=ci_level)
    slice_metrics, slice_summaries = _by_slice(rows, rates)
    recal, recal_bins = _recalibration(rows, overall)
    unavailable = {**rows.unavailable, **({"recalibration": recal["reason"]} if recal["status"] != "ok" else {})}
    worst = _worst_slices(slice_metrics, list(slice_summaries), cfg.n_worst)
    n_keys, n_tested = len(rows.slices.keys), len(slice_summaries)
    metrics = {
        **_settings(rows),
        "overall": overall.metrics,
        "miscalibration_direction": miscalibration_direction(overall.metrics, ci_level=ci_level),
        "confidently_incorrect": rates(0),
        "underconfident_correct": underconfident,
        "by_class": _by_class(rows, overall, rates),
        "slices": slice_metrics,
        "slice_counts": {"total": n_keys, "evaluated": n_tested, "too_small": n_keys - n_tested},
        "worst_slices": worst,
        "recalibration": recal,
        "listed_rows": {"confident_errors": len(confident_rows), "confident_errors_total": int(counts["count"][0, 0]),
                        "underconfident_correct": len(under_rows),
                        "max_listed_rows": cfg.max_listed_rows if cfg.max_listed_rows is not None else np.nan},
        "unavailable": unavailable,
    }
    return CalibrationAudit(metrics=metrics, overall=overall, slices=slice_summaries, worst_slices=worst,
                            recalibration_bins=recal_bins, confident_rows=confident_rows,
                            underconfident_rows=under_rows, correct=rows.correct, confidence=rows.conf,
                            classes=rows.classes)
