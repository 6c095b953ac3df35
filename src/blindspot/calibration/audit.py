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
  (:func:`~blindspot.calibration.advice.recalibration_advice`).
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

import zlib
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from blindspot.calibration.binning import ReliabilityBins
from blindspot.calibration.bootstrap import INTERVAL_METHOD
from blindspot.calibration.confident import (
    check_thresholds,
    confident_error_counts,
    confident_error_rates,
    confident_error_rows,
    underconfident_correct_rows,
)
from blindspot.calibration.metrics import binary_proba_from_confidence, ece_from_bins, mce_from_bins, prediction_margin
from blindspot.calibration.advice import miscalibration_direction, recalibration_advice
from blindspot.calibration.recalibration import recalibration_whatif
from blindspot.calibration.summary import CalibrationSummary, calibration_summary
from blindspot.errors import ConfigError, InputError
from blindspot.io.schema import probability_matrix
from blindspot.stats import bh_qvalues, wilson_interval

SLICE_PREFIXES = (("watch__", "watch"), ("found__", "found"))


@dataclass
class SliceTable:
    """Slice membership aligned with the predictions.

    Attributes
    ----------
    keys : list of str, length S
    sources : list of str, length S
        ``"watch"``, ``"found"`` or ``"watch+found"``.
    matrix : ndarray of bool, shape (n_rows, S)
    """

    keys: list
    sources: list
    matrix: np.ndarray


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
    ids = pd.Index(np.asarray(ids).astype(str))
    if slices is None:
        return SliceTable([], [], np.zeros((len(ids), 0), dtype=bool))
    if "id" not in slices.columns:
        raise InputError(source, "the slice table has no 'id' column.", expected="columns id, watch__<key>..., found__<key>...",
                         found=", ".join(map(str, slices.columns[:8])) or "(no columns)")
    sid = slices["id"].astype(str)
    dup = sid[sid.duplicated()]
    if len(dup):
        raise InputError(source, f"the slice table repeats {dup.nunique()} id(s).", field="id",
                         expected="one row per prediction id", found=f"{dup.iloc[0]!r} more than once")
    table = slices.assign(id=sid).set_index("id")
    merged: dict[str, tuple[list, np.ndarray]] = {}
    for col in table.columns:
        for prefix, kind in SLICE_PREFIXES:
            if str(col).startswith(prefix):
                key = metric_key(str(col)[len(prefix):])
                member = table[col].reindex(ids).fillna(False).to_numpy(dtype=bool)
                if key in merged:
                    kinds, prev = merged[key]
                    merged[key] = (kinds + [kind], prev | member)
                else:
                    merged[key] = ([kind], member)
    keys = sorted(merged)
    matrix = np.column_stack([merged[k][1] for k in keys]) if keys else np.zeros((len(ids), 0), dtype=bool)
    sources = ["+".join(sorted(set(merged[k][0]), key=("watch", "found").index)) for k in keys]
    return SliceTable(keys, sources, matrix)


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
        (``ece_ci_low`` descending, then ``ece_debiased`` descending, then key).
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


def block_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one block, independent of every other block."""
    return np.random.default_rng([int(seed), zlib.crc32(name.encode("utf-8"))])


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


def audit_calibration(
    frame: pd.DataFrame,
    slices: pd.DataFrame | None,
    *,
    classes: Sequence[str],
    cfg,
    n_boot: int,
    ci_level: float,
    seed: int,
    slices_source: str = "slices",
) -> CalibrationAudit:
    """Run the whole calibration audit.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        Canonical predictions (:mod:`blindspot.io.schema`).
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

    Returns
    -------
    CalibrationAudit
    """
    thresholds = check_config(cfg)
    classes = list(classes)
    k = len(classes)
    if len(frame) == 0:
        raise InputError("predictions", "no predictions to calibrate.", expected="at least one row", found="0 rows")
    correct = frame["correct"].to_numpy(bool)
    conf = frame["confidence"].to_numpy(float)
    y_true = frame["y_true"].to_numpy(np.intp)
    y_pred = frame["y_pred"].to_numpy(np.intp)
    proba = probability_matrix(frame, classes)
    unavailable: dict[str, str] = {}
    if proba is not None:
        proba_source = "given"
    elif k == 2:
        proba, proba_source = binary_proba_from_confidence(y_pred, conf), "reconstructed_from_confidence"
    else:
        proba_source = "none"
        why = f"needs class probabilities (only a confidence was given, {k} classes)"
        for name in ("brier", "log_loss", "classwise_ece", "underconfident_correct", "multiclass_temperature_scaling"):
            unavailable[name] = why
    st = slice_table(frame["id"], slices, source=slices_source)
    block = dict(n_bins=cfg.n_bins, n_boot=n_boot, ci_level=ci_level)

    def summarise(mask, name):
        yt = y_true if mask is None else y_true[mask]
        pr = proba if (proba is None or mask is None) else proba[mask]
        c = correct if mask is None else correct[mask]
        cf = conf if mask is None else conf[mask]
        return calibration_summary(c, cf, y_true=yt if pr is not None else None, proba=pr,
                                   rng=block_rng(seed, name), **block)

    overall = summarise(None, "overall")

    # Confidently incorrect: one pass over [all rows | each true class | each slice].
    groups = np.column_stack([np.ones(len(frame), bool), y_true[:, None] == np.arange(k)[None, :], st.matrix])
    counts = confident_error_counts(correct, conf, thresholds, groups)

    def rates(g):
        return confident_error_rates(counts, thresholds, g, level=ci_level)

    by_class = {}
    for i, name in enumerate(classes):
        pred_mask = y_pred == i
        entry = {"n_true": int((y_true == i).sum()), "n_predicted": int(pred_mask.sum()),
                 "confidently_incorrect": rates(1 + i)}
        if overall.classwise is not None:
            entry["classwise_ece"] = ece_from_bins(overall.classwise[i])
            entry["classwise_mce"] = mce_from_bins(overall.classwise[i])
        if pred_mask.sum() >= cfg.min_n:
            entry["when_predicted"] = {"status": "ok", **summarise(pred_mask, f"class:{name}").metrics}
        else:
            entry["when_predicted"] = _too_small(pred_mask.sum(), cfg.min_n)
        by_class[metric_key(name)] = entry

    slice_metrics, slice_summaries = {}, {}
    for j, key in enumerate(st.keys):
        mask = st.matrix[:, j]
        n_s = int(mask.sum())
        if n_s < cfg.min_n:
            slice_metrics[key] = {**_too_small(n_s, cfg.min_n), "source": st.sources[j]}
            continue
        summ = summarise(mask, f"slice:{key}")
        slice_summaries[key] = summ
        slice_metrics[key] = {"status": "ok", "source": st.sources[j], **summ.metrics,
                              "confidently_incorrect": rates(1 + k + j)}
    # One BH family over every slice's calibration test.
    tested = list(slice_summaries)
    q = bh_qvalues([slice_metrics[s]["ece_p_value"] for s in tested])
    for s, qv in zip(tested, q):
        slice_metrics[s]["ece_q_value"] = float(qv)
    # Most credibly miscalibrated first: highest ECE lower bound, then highest debiased ECE, then key.
    worst = sorted(tested, key=lambda s: (-np.nan_to_num(slice_metrics[s]["ece_ci_low"], nan=-1.0),
                                          -np.nan_to_num(slice_metrics[s]["ece_debiased"], nan=-1.0), s))[: cfg.n_worst]

    margin = prediction_margin(proba) if proba is not None else None
    proba_of_label = proba[np.arange(len(frame)), y_true] if proba is not None else None
    max_rows = cfg.max_listed_rows
    confident_rows = confident_error_rows(frame, thresholds, margin=margin, proba_of_label=proba_of_label,
                                          slice_keys=st.keys, slice_matrix=st.matrix, max_rows=max_rows)
    if margin is not None:
        under_mask = correct & (margin < cfg.underconfident_margin)
        u = int(under_mask.sum())
        lo, hi = wilson_interval(u, len(frame), ci_level)
        underconfident = {"status": "ok", "margin_below": cfg.underconfident_margin, "count": u,
                          "rate": u / len(frame), "rate_ci_low": float(lo), "rate_ci_high": float(hi)}
        under_rows = underconfident_correct_rows(frame, margin, cfg.underconfident_margin, slice_keys=st.keys,
                                                 slice_matrix=st.matrix, max_rows=max_rows)
    else:
        underconfident = {"status": "unavailable", "reason": unavailable["underconfident_correct"]}
        under_rows = []

    recal_bins: dict[str, ReliabilityBins] = {}
    try:
        recal, recal_bins = recalibration_whatif(correct, conf, y_true=y_true if proba is not None else None,
                                                 proba=proba, n_bins=cfg.n_bins, n_splits=cfg.recalibration_folds,
                                                 seed=seed, thresholds=thresholds, n_boot=n_boot,
                                                 ci_level=ci_level, rng=block_rng(seed, "recalibration"))
        recal = {"status": "ok", **recal,
                 "advice": recalibration_advice(recal, overall.metrics, thresholds, ci_level=ci_level)}
    except ValueError as exc:  # too few rows (or one class of correctness) to cross-fit
        recal = {"status": "unavailable", "reason": str(exc)}
        unavailable["recalibration"] = str(exc)

    n_conf_total = int(counts["count"][0, 0])
    metrics = {
        "n": len(frame),
        "classes": classes,
        "probabilities": proba_source,
        "n_bins": cfg.n_bins,
        "n_boot": n_boot,
        "ci_level": ci_level,
        "min_n": cfg.min_n,
        "interval_method": INTERVAL_METHOD,
        "confident_thresholds": thresholds,
        "overall": overall.metrics,
        "miscalibration_direction": miscalibration_direction(overall.metrics, ci_level=ci_level),
        "confidently_incorrect": rates(0),
        "underconfident_correct": underconfident,
        "by_class": by_class,
        "slices": slice_metrics,
        "slice_counts": {"total": len(st.keys), "evaluated": len(tested), "too_small": len(st.keys) - len(tested)},
        "worst_slices": worst,
        "recalibration": recal,
        "listed_rows": {"confident_errors": len(confident_rows), "confident_errors_total": n_conf_total,
                        "underconfident_correct": len(under_rows),
                        "max_listed_rows": max_rows if max_rows is not None else np.nan},
        "unavailable": unavailable,
    }
    return CalibrationAudit(metrics=metrics, overall=overall, slices=slice_summaries, worst_slices=worst,
                            recalibration_bins=recal_bins, confident_rows=confident_rows,
                            underconfident_rows=under_rows, correct=correct, confidence=conf, classes=classes)
