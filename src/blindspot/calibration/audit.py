"""The calibrate stage's computation: predictions (+ slices) -> metrics, ranked rows, bins.

:func:`audit_batches` is everything the stage does between reading and writing: from the
predictions kept as batches (:mod:`blindspot.calibration.batch`, in the stage's process or on
Dask workers) it adds up what each batch counts, and returns a :class:`CalibrationAudit` holding
the metrics mapping (``metrics/calibration.json``), the ranked row lists and every set of bins a
plot needs, so the stage only writes and draws what was computed here. Every number is made from
integer counts and fixed-point sums, so any batches give the same bytes.
:func:`audit_calibration` runs it on a frame held in this process.

Slices
------
``data/interim/slices.parquet`` (from the slice stage) has ``id`` then one boolean
column per slice: ``watch__<key>`` (watchlist) or ``found__<key>`` (discovered)
(:mod:`blindspot.calibration.membership`). A prediction absent from the file belongs
to no slice, other columns are ignored, zero slice columns mean no slices. A slice listed
under both prefixes is one slice (``source: "watch+found"``). Its metrics live under
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
- ``recalibration``: before/after table (:func:`~blindspot.calibration.whatif.whatif_of_parts`),
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

from dataclasses import dataclass, field
from functools import partial, reduce
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from blindspot.bits import BitColumns
from blindspot.calibration.advice import miscalibration_direction, recalibration_advice
from blindspot.calibration.batch import (
    HISTOGRAM_BINS,
    BatchSettings,
    CalibrationBatch,
    add_counts,
    batch_counts,
    batch_top,
    listed_details,
)
from blindspot.calibration.blocks import block_totals
from blindspot.calibration.confident import (
    LISTED_FIELDS,
    WILSON,
    check_thresholds,
    confident_error_rates,
    listed_rows,
)
from blindspot.calibration.membership import metric_key, slice_table
from blindspot.calibration.metrics import ece_from_bins, mce_from_bins
from blindspot.calibration.summary import CalibrationSummary, summary_of_totals
from blindspot.calibration.whatif import whatif_of_parts
from blindspot.engine.batches import LocalParts
from blindspot.errors import ConfigError, InputError
from blindspot.io.readers import PREDICTION_BATCH_ROWS
from blindspot.results.estimate import Estimate
from blindspot.seeding import named_rng
from blindspot.stats import bh_qvalues, wilson_interval


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
    histogram : dict
        The confidence histogram: ``edges`` (:data:`~blindspot.calibration.batch.HISTOGRAM_BINS` + 1,),
        ``correct`` and ``incorrect`` counts per bin, ``wrong_at`` threshold -> wrong rows at or above it.
    classes : list of str
    """

    metrics: dict
    overall: CalibrationSummary
    slices: dict = field(default_factory=dict)
    worst_slices: list = field(default_factory=list)
    recalibration_bins: dict = field(default_factory=dict)
    confident_rows: list = field(default_factory=list)
    underconfident_rows: list = field(default_factory=list)
    histogram: dict = field(default_factory=dict)
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


def _unavailable(proba_source: str, k: int) -> dict:
    """The metrics that need class probabilities, with why, when there are none (module docstring)."""
    if proba_source != "none":
        return {}
    why = f"needs class probabilities (only a confidence was given, {k} classes)"
    names = ("brier", "log_loss", "classwise_ece", "underconfident_correct", "multiclass_temperature_scaling")
    return {name: why for name in names}


def batch_settings(classes: Sequence[str], cfg, seed: int) -> BatchSettings:
    """The :class:`~blindspot.calibration.batch.BatchSettings` of a checked config (:func:`check_config`)."""
    return BatchSettings(classes=tuple(classes), thresholds=tuple(check_config(cfg)),
                         underconfident_margin=float(cfg.underconfident_margin),
                         max_listed_rows=cfg.max_listed_rows, seed=int(seed))


@dataclass(frozen=True)
class _Audit:
    """What every step of :func:`audit_batches` shares: the kept batches, the settings and the added counts.

    Attributes
    ----------
    parts : LocalParts or DaskParts of CalibrationBatch
    keys, sources : list of str, length S
        The slices, in the batches' order.
    settings : BatchSettings
    cfg : CalibrationConfig
    counts : dict
        :func:`~blindspot.calibration.batch.add_counts` of every batch.
    n_boot, ci_level
    """

    parts: object
    keys: list
    sources: list
    settings: BatchSettings
    cfg: object
    counts: dict
    n_boot: int
    ci_level: float

    @property
    def classes(self) -> list:
        return list(self.settings.classes)

    @property
    def thresholds(self) -> list:
        return list(self.settings.thresholds)

    @property
    def with_proba(self) -> bool:
        return self.counts["proba_source"] != "none"

    def summarise(self, totals, name: str) -> CalibrationSummary:
        """The block of ``totals`` (a :class:`~blindspot.calibration.summary.BlockTotals`), on the stream ``name``."""
        return summary_of_totals(totals, n_boot=self.n_boot, ci_level=self.ci_level,
                                 rng=named_rng(self.settings.seed, name))


def _by_class(a: _Audit, totals: list, overall: CalibrationSummary, rates: Callable[[int], dict]) -> dict:
    """``by_class.<class>`` (module docstring); ``rates(g)`` is the confident-error block of group ``g``."""
    min_n, by_class = a.cfg.min_n, {}
    for i, name in enumerate(a.classes):
        n_pred = int(a.counts["n_predicted"][i])
        entry = {"n_true": int(a.counts["n_true"][i]), "n_predicted": n_pred, "confidently_incorrect": rates(1 + i)}
        if overall.classwise is not None:
            entry["classwise_ece"] = ece_from_bins(overall.classwise[i])
            entry["classwise_mce"] = mce_from_bins(overall.classwise[i])
        if n_pred >= min_n:
            entry["when_predicted"] = {"status": "ok", **a.summarise(totals[1 + i], f"class:{name}").metrics}
        else:
            entry["when_predicted"] = _too_small(n_pred, min_n)
        by_class[metric_key(name)] = entry
    return by_class


def _by_slice(a: _Audit, totals: list, rates: Callable[[int], dict]) -> tuple[dict, dict]:
    """``slices.<key>`` (module docstring), with one BH family over every evaluated slice's ECE test.

    Returns
    -------
    metrics : dict key -> dict
        Every slice: ``too_small`` ones with their reason.
    summaries : dict key -> CalibrationSummary
        The evaluated slices only, in key order.
    """
    min_n, k = a.cfg.min_n, len(a.classes)
    metrics, summaries = {}, {}
    for j, key in enumerate(a.keys):
        n_s = totals[1 + k + j].n
        if n_s < min_n:
            metrics[key] = {**_too_small(n_s, min_n), "source": a.sources[j]}
            continue
        summaries[key] = summ = a.summarise(totals[1 + k + j], f"slice:{key}")
        metrics[key] = {"status": "ok", "source": a.sources[j], **summ.metrics,
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


def _details(parts) -> dict:
    """:func:`~blindspot.calibration.batch.listed_details` of every batch, joined in row order."""
    found = [d for d in parts if d["rows"].size]
    if not found:
        return {}
    out = {"rows": np.concatenate([d["rows"] for d in found]),
           "confidence": np.concatenate([d["confidence"] for d in found]),
           "slices": np.concatenate([d["slices"] for d in found])}
    for name in ("margin", "probability_of_label"):
        out[name] = None if found[0][name] is None else np.concatenate([d[name] for d in found])
    return out


def _records(top, details: dict, fields: pd.DataFrame, keys: list, *, thresholds, with_label: bool) -> list[dict]:
    """The JSON Lines records of one ranked list (:func:`~blindspot.calibration.confident.listed_rows`)."""
    if not top.rows.size:
        return []
    at = np.searchsorted(details["rows"], top.rows)
    frame = pd.DataFrame({"id": top.ids, "confidence": details["confidence"][at]})
    margin = None if details["margin"] is None else details["margin"][at]
    label = details["probability_of_label"][at] if with_label and details["probability_of_label"] is not None else None
    return listed_rows(frame, np.arange(at.size), fields.iloc[at].reset_index(drop=True), thresholds=thresholds,
                       margin=margin, proba_of_label=label, slice_keys=keys, slice_matrix=details["slices"][at])


def _listed_rows(a: _Audit, fetch: Callable[[np.ndarray], pd.DataFrame]) -> tuple[list, dict, list]:
    """The ranked confident errors, the underconfident-correct block and its ranked rows.

    Each batch's best rows are merged (:meth:`blindspot.samples.TopK.merge`: the one-pass lists);
    then the batches give what the records need of the listed rows, and ``fetch`` their text,
    label and prediction, in one call each.
    """
    tops = a.parts.map(batch_top)
    confident = reduce(lambda x, y: x.merge(y), [t[0] for t in tops])
    under = reduce(lambda x, y: x.merge(y), [t[1] for t in tops]) if a.with_proba else None
    listed = np.union1d(confident.rows, under.rows if under is not None else np.zeros(0, np.int64))
    details = _details(a.parts.map(listed_details, listed)) if listed.size else {}
    fields = fetch(listed)  # in ``listed`` order, as ``details``
    confident_rows = _records(confident, details, fields, a.keys, thresholds=a.thresholds, with_label=True)
    if under is None:
        why = _unavailable("none", len(a.classes))["underconfident_correct"]
        return confident_rows, {"status": "unavailable", "reason": why}, []
    u, n = int(a.counts["underconfident"]), int(a.counts["n"])
    lo, hi = wilson_interval(u, n, a.ci_level)
    underconfident = {"status": "ok", "margin_below": a.settings.underconfident_margin, "count": u,
                      "rate": Estimate(u / n, float(lo), float(hi), WILSON).encode()}
    return confident_rows, underconfident, _records(under, details, fields, a.keys, thresholds=None, with_label=False)


def _recalibration(a: _Audit, overall: CalibrationSummary, before) -> tuple[dict, dict]:
    """``recalibration`` with its advice, and the bins after each method (empty when it could not run).

    ``before`` is every row's :class:`~blindspot.calibration.summary.BlockTotals`; the what-if runs over
    the kept batches (:func:`~blindspot.calibration.whatif.whatif_of_parts`).
    """
    try:
        recal, bins = whatif_of_parts(a.parts, before, n_bins=a.cfg.n_bins, n_splits=a.cfg.recalibration_folds,
                                      thresholds=a.thresholds, n_boot=a.n_boot, ci_level=a.ci_level,
                                      rng=named_rng(a.settings.seed, "recalibration"))
    except ValueError as exc:  # too few rows (or one class of correctness) to cross-fit
        return {"status": "unavailable", "reason": str(exc)}, {}
    advice = recalibration_advice(recal, overall.metrics, a.thresholds, ci_level=a.ci_level)
    return {"status": "ok", **recal, "advice": advice}, bins


def _frame_fields(frame: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The listed rows' text, label and prediction, from a frame that holds them."""
    return frame.iloc[positions][list(LISTED_FIELDS)].reset_index(drop=True)


def _histogram(a: _Audit) -> dict:
    """The confidence histogram's counts (:attr:`CalibrationAudit.histogram`)."""
    wrong = a.counts["confident"]["count"][:, 0]
    return {"edges": np.linspace(0, 1, HISTOGRAM_BINS + 1), "correct": a.counts["hist_correct"],
            "incorrect": a.counts["hist_incorrect"], "wrong_at": dict(zip(a.thresholds, wrong.tolist()))}


def audit_batches(parts, *, keys: Sequence[str], sources: Sequence[str], settings: BatchSettings, cfg, n_boot: int,
                  ci_level: float, fetch: Callable[[np.ndarray], pd.DataFrame]) -> CalibrationAudit:
    """The whole calibration audit from kept batches (:mod:`blindspot.calibration.batch`).

    Parameters
    ----------
    parts : LocalParts or DaskParts of CalibrationBatch
        Every batch of the predictions, in row order (:func:`blindspot.engine.batches.resident_parts`).
    keys, sources : sequence of str, length S
        The slices of the batches' membership, in that order.
    settings : BatchSettings
        What the batches were made with (:func:`batch_settings`).
    cfg : CalibrationConfig
    n_boot : int
    ci_level : float
    fetch : callable
        ``fetch(positions)``: ``text``, ``label`` and ``prediction`` of the rows at ``positions``
        (ndarray of int, shape (m,), ascending), as a DataFrame of m rows in that order; called once.

    Returns
    -------
    CalibrationAudit

    Raises
    ------
    InputError
        When there is no row.
    """
    if not len(parts):
        raise InputError("predictions", "no predictions to calibrate.", expected="at least one row", found="0 rows")
    counts = add_counts(parts.map(batch_counts, settings.thresholds, settings.underconfident_margin))
    a = _Audit(parts=parts, keys=list(keys), sources=list(sources), settings=settings, cfg=cfg, counts=counts,
               n_boot=n_boot, ci_level=ci_level)
    confident_rows, underconfident, under_rows = _listed_rows(a, fetch)
    losses = ["brier_top_label", *(["brier", "log_loss"] if a.with_proba else [])]
    totals = block_totals(parts, losses, n_bins=cfg.n_bins, with_table=n_boot > 0)
    overall = a.summarise(totals[0], "overall")
    rates = partial(confident_error_rates, counts["confident"], a.thresholds, level=ci_level)
    slice_metrics, slice_summaries = _by_slice(a, totals, rates)
    recal, recal_bins = _recalibration(a, overall, totals[0])
    unavailable = {**_unavailable(counts["proba_source"], len(a.classes)),
                   **({"recalibration": recal["reason"]} if recal["status"] != "ok" else {})}
    worst = _worst_slices(slice_metrics, list(slice_summaries), cfg.n_worst)
    n_keys, n_tested = len(a.keys), len(slice_summaries)
    metrics = {
        "n": int(counts["n"]), "classes": a.classes, "probabilities": counts["proba_source"], "n_bins": cfg.n_bins,
        "n_boot": n_boot, "ci_level": ci_level, "min_n": cfg.min_n, "confident_thresholds": a.thresholds,
        "overall": overall.metrics,
        "miscalibration_direction": miscalibration_direction(overall.metrics, ci_level=ci_level),
        "confidently_incorrect": rates(0),
        "underconfident_correct": underconfident,
        "by_class": _by_class(a, totals, overall, rates),
        "slices": slice_metrics,
        "slice_counts": {"total": n_keys, "evaluated": n_tested, "too_small": n_keys - n_tested},
        "worst_slices": worst,
        "recalibration": recal,
        "listed_rows": {"confident_errors": len(confident_rows),
                        "confident_errors_total": int(counts["confident"]["count"][0, 0]),
                        "underconfident_correct": len(under_rows),
                        "max_listed_rows": cfg.max_listed_rows if cfg.max_listed_rows is not None else np.nan},
        "unavailable": unavailable,
    }
    return CalibrationAudit(metrics=metrics, overall=overall, slices=slice_summaries, worst_slices=worst,
                            recalibration_bins=recal_bins, confident_rows=confident_rows,
                            underconfident_rows=under_rows, histogram=_histogram(a), classes=a.classes)


def audit_calibration(frame: pd.DataFrame, slices: pd.DataFrame | None, *, classes: Sequence[str], cfg, n_boot: int,
                      ci_level: float, seed: int, slices_source: str = "slices",
                      fetch: Callable[[np.ndarray], pd.DataFrame] | None = None,
                      batch_rows: int = PREDICTION_BATCH_ROWS) -> CalibrationAudit:
    """Run the whole calibration audit on a frame held here: :func:`audit_batches` of its batches.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        Canonical predictions (:mod:`blindspot.io.schema`): ``id``, ``confidence``,
        ``y_true``, ``y_pred``, ``correct``, the ``proba__`` columns when given, and
        ``text``, ``label`` and ``prediction`` unless ``fetch`` is given.
    slices : DataFrame or None
        Slice membership (see module docstring), joined on ``id``; None for no slices.
    classes : sequence of str
        Class names in index order (``cfg.ingest.classes``).
    cfg : CalibrationConfig
    n_boot : int
    ci_level : float
    seed : int
    slices_source : str
        Path of the slice file, for messages.
    fetch : callable, optional
        As :func:`audit_batches` takes it. Default: taken from ``frame``.
    batch_rows : int
        Rows a batch (the numbers are the same for any).

    Returns
    -------
    CalibrationAudit
    """
    settings = batch_settings(classes, cfg, seed)
    table = slice_table(frame["id"], slices, source=slices_source)
    n = len(frame)
    states = [CalibrationBatch.of(frame.iloc[lo:lo + batch_rows], lo,
                                  BitColumns.from_dense(table.block(lo, lo + batch_rows)), settings)
              for lo in range(0, n, batch_rows)]
    return audit_batches(LocalParts(states), keys=table.keys, sources=table.sources, settings=settings, cfg=cfg,
                         n_boot=n_boot, ci_level=ci_level, fetch=fetch or partial(_frame_fields, frame))
