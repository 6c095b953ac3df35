"""The judge stage's library side: choose candidates, judge them, measure the judge.

:func:`judge_predictions` is the orchestration only: the config is checked by
:mod:`~blindspot.judge.checks`, the backend built by :mod:`~blindspot.judge.backends`,
candidates chosen by :mod:`~blindspot.judge.select`, asked by :mod:`~blindspot.judge.run`,
screened for injection by :mod:`~blindspot.judge.injection` and measured by
:mod:`~blindspot.judge.metrics`; this module adds the per-candidate rows of
``data/interim/judgments.jsonl``.

``metrics/judge.json`` must be byte-identical whenever the inputs, the params and the
cache content are (DVC reproducibility), yet a first run makes calls and a second run
only hits the cache. So the metrics hold nothing about *this run*:

- ``cache.cached`` / ``cache.pending_calls``: candidates whose answer is in the cache
  after the run, and distinct questions a next run would still send (timeouts, HTTP
  errors, budget cuts). Both are functions of the cache content, identical on re-runs.
- Per-run accounting (calls made, cache hits, HTTP attempts, tokens) goes to the stage
  log and to the run log ``data/judge_cache/last_run.json`` (git-ignored, not a DVC
  output). A second run shows ``calls: 0`` there and in its log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from blindspot import text_features
from blindspot.io.readers import rows_at
from blindspot.io.schema import probability_matrix
from blindspot.judge.agreement import confident_learning_suspects
from blindspot.judge.backends import make_backend
from blindspot.judge.cache import JudgeCache
from blindspot.judge.checks import check_config
from blindspot.judge.injection import THRESHOLD as INJECTION_THRESHOLD
from blindspot.judge.injection import injection_signals
from blindspot.judge.metrics import Judged, judge_metrics
from blindspot.judge.protocol import JudgeBackend, JudgeRequest, Verdict, as_classes
from blindspot.judge.run import judge_requests
from blindspot.judge.select import RULES, RankKeys, select_candidates

RUN_LOG_NAME = "last_run.json"
#: Columns read for every row (with the probability columns): what choosing candidates and
#: confident learning need. The others are read a batch at a time (see judge_predictions).
WHOLE_COLUMNS = ("confidence", "correct", "y_true", "y_pred")
#: Columns read for the chosen rows only, in a second pass over the batches.
CANDIDATE_COLUMNS = ("record", "id", "label", "prediction", "text")


@dataclass
class JudgeResult:
    """Outputs of :func:`judge_predictions`.

    rows : list of dict (data/interim/judgments.jsonl, one per candidate, by record)
    metrics : dict (metrics/judge.json)
    run : dict (the run log: this run's calls, cache hits, attempts, tokens)
    """

    rows: list
    metrics: dict
    run: dict


def judge_predictions(frame: pd.DataFrame, cfg, *, classes: Sequence[str], seed: int, n_boot: int, ci_level: float,
                      cache_path: str | Path, backend: Optional[JudgeBackend] = None,
                      log: Optional[logging.Logger] = None,
                      batches: Optional[Callable[[Sequence[str]], Iterable[pd.DataFrame]]] = None,
                      cues: Optional[tuple] = None, ranks: Optional[RankKeys] = None) -> JudgeResult:
    """Select candidates from the canonical predictions table, judge them, and measure the judge.

    Parameters
    ----------
    frame : DataFrame, shape (n_rows, ...)
        The canonical table (:mod:`blindspot.io.schema`); with ``batches``, its
        :data:`WHOLE_COLUMNS` and probability columns are enough.
    cfg : blindspot.config.JudgeConfig
    classes : sequence of str
        ``ingest.classes``: class indices in ``y_true``/``y_pred`` refer to these.
    seed, n_boot, ci_level
        Shared settings (``seed``, ``stats.n_boot``, ``stats.ci_level``).
    cache_path : path
        The persistent reply cache (:mod:`blindspot.judge.cache`).
    backend : JudgeBackend, optional
        Overrides ``cfg.backend`` (tests).
    log : logging.Logger, optional
    batches : callable, optional
        ``batches(names)`` gives the table's columns ``names`` in row order, a batch of
        rows at a time (an iterable of DataFrames:
        :func:`blindspot.io.readers.predictions_batches`). Called up to three times: the
        texts for the cue detectors over every row, keeping one bool a row each (unless
        ``cues``), the ids for the rank keys, keeping three uint64 a row (unless ``ranks``),
        then the :data:`CANDIDATE_COLUMNS` of the chosen rows. ``frame`` as one batch
        when None (it then needs an ``id`` column).
    cues : (sarcasm, mixed), optional
        Every row's cue flags (ndarray of bool, shape (n_rows,) each), computed elsewhere
        (engine=dask: on the workers, :func:`join_cue_flags`); then the texts are read only
        for the chosen rows.
    ranks : RankKeys, optional
        Every row's seeded rank keys (arrays of shape (n_rows,)), ``RankKeys.of(ids, seed)``
        computed elsewhere (engine=dask: on the workers, :func:`rank_keys_of` joined by
        :meth:`RankKeys.join`). They rank the rows by id, so the candidates, the
        judgments and the metrics do not depend on the order of the rows.
    """
    classes = as_classes(classes)
    check_config(cfg, classes)
    backend = backend or make_backend(cfg, classes)
    confidence = frame["confidence"].to_numpy(dtype=float)
    correct = frame["correct"].to_numpy(dtype=bool)
    if batches is None:
        def batches(names):
            return [frame[list(names)]]
    # The cues of every row, a batch of texts at a time: the whole table's texts are never held.
    sarcasm, mixed = cues if cues is not None else cue_flags(batch["text"] for batch in batches(["text"]))
    # The draws' keys from the ids, a batch at a time: only three uint64 a row are kept, never the ids.
    if ranks is None:
        ranks = RankKeys.join(rank_keys_of(batch["id"], seed=seed) for batch in batches(["id"]))
    confidently_incorrect = ~correct & (confidence >= cfg.confident_threshold)
    selection = select_candidates(confidently_incorrect, sarcasm, mixed, confidence,
                                  max_candidates=cfg.max_candidates, random_sample_size=cfg.random_sample_size,
                                  ranks=ranks)
    cand = frame.iloc[selection.index]
    # Texts, ids and labels of the chosen rows only (a few hundred), fetched by position in a second pass.
    fetched = rows_at(batches(CANDIDATE_COLUMNS), selection.index, CANDIDATE_COLUMNS).set_axis(cand.index)
    cand = cand.assign(**{name: fetched[name] for name in CANDIDATE_COLUMNS})
    requests = [JudgeRequest(text=str(t), label=str(y), classes=classes) for t, y in zip(cand["text"], cand["label"])]
    cache = JudgeCache(cache_path)
    if cache.bad_lines and log:
        log.warning("%s: %d unreadable line(s) dropped (an interrupted write?)", cache_path, cache.bad_lines)
    outcomes, keys, stats = _judge_in_turn(requests, selection, backend, cache, max_calls=cfg.max_calls, log=log)

    proba = probability_matrix(frame, classes)
    y_true = frame["y_true"].to_numpy(dtype=np.int64)
    cl_suspect = None
    cl_thresholds = None
    if proba is not None:
        cl_suspect, cl_thresholds = confident_learning_suspects(y_true, proba)
    cues = injection_signals(cand["text"])
    injection = cues["score"].to_numpy() >= INJECTION_THRESHOLD
    rows = _rows(cand, selection, outcomes, keys, injection, cues["signals"].tolist(), cl_suspect, classes)
    metrics = judge_metrics(Judged.build(cand, selection, outcomes, classes), keys=keys, cache=cache,
                            injection=injection, cl_suspect=cl_suspect, cl_thresholds=cl_thresholds, backend=backend,
                            cfg=cfg, seed=seed, n_boot=n_boot, ci_level=ci_level, breaker=stats.breaker)
    run = {"backend": backend.name, "model": backend.model, "prompt_version": backend.prompt_version,
           "candidates": len(requests), "max_calls": cfg.max_calls, **stats.to_dict()}
    return JudgeResult(rows=rows, metrics=metrics, run=run)


def _judge_in_turn(requests: list, selection, backend, cache, **kw) -> tuple[list, list, object]:
    """:func:`~blindspot.judge.run.judge_requests` asked in the order the rules chose the candidates
    (``selection.turn``), its outcomes and keys given back in candidate (table) order.

    ``max_calls`` cuts the last questions asked: in this order they are the last chosen (the
    random sample goes first), the same rows whatever the order of the table.
    """
    ask = np.argsort(selection.turn, kind="stable") if selection.turn is not None else np.arange(len(requests))
    outcomes, keys, stats = judge_requests([requests[i] for i in ask], backend, cache, **kw)
    back = np.argsort(ask)
    return [outcomes[i] for i in back], [keys[i] for i in back], stats


def cue_flags(batches: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """The sarcasm and mixed-sentiment cues of every row, from a table's texts read a batch at a time.

    The detectors are per-text functions, so the flags are those of the whole column at
    once; only one batch's texts and their :func:`~blindspot.text_features.prepare` are
    held at a time. (Here rather than in text_features: any change to that file changes
    the offline judge's fingerprint, hence every cache key.)

    Parameters
    ----------
    batches : iterable of Series of str
        The texts in row order, a batch at a time.

    Returns
    -------
    sarcasm, mixed : ndarray of bool, shape (n_rows,)
    """
    return join_cue_flags(cue_flags_of(batch) for batch in batches)


def cue_flags_of(texts) -> tuple[np.ndarray, np.ndarray]:
    """The sarcasm and mixed-sentiment cues of one batch of texts (Series of str, shape (n,)), each shape (n,)."""
    prepared = text_features.prepare(texts)  # one pass shared by both cue detectors
    return text_features.sarcasm_cues(prepared), text_features.mixed_sentiment(prepared)


def rank_keys_of(ids, *, seed: int) -> RankKeys:
    """The selection's rank keys of one batch of ids (Series, shape (n,)): :meth:`RankKeys.of`, a
    module-level function so that :func:`blindspot.engine.batches.map_batches` can send it to workers."""
    return RankKeys.of(ids, seed)


def cues_and_ranks_of(frame: pd.DataFrame, *, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], RankKeys]:
    """One batch's :func:`cue_flags_of` (from ``text``) and :func:`rank_keys_of` (from ``id``), in one read.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        The ``id`` and ``text`` columns of consecutive rows.
    seed : int

    Returns
    -------
    (sarcasm, mixed) : ndarray of bool, shape (n,) each
    ranks : RankKeys
        Arrays of shape (n,).
    """
    return cue_flags_of(frame["text"]), rank_keys_of(frame["id"], seed=seed)


def join_cue_flags(parts: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive batches' :func:`cue_flags_of`, joined in row order."""
    sarcasm, mixed = [np.zeros(0, dtype=bool)], [np.zeros(0, dtype=bool)]
    for s, m in parts:
        sarcasm.append(s)
        mixed.append(m)
    return np.concatenate(sarcasm), np.concatenate(mixed)


def _rows(cand, selection, outcomes, keys, injection, injection_cues, cl_suspect, classes) -> list[dict]:
    rows = []
    cl = None if cl_suspect is None else cl_suspect[selection.index]
    for i, (row, outcome, key) in enumerate(zip(cand.itertuples(index=False), outcomes, keys)):
        ok = isinstance(outcome, Verdict)
        rows.append({
            "record": int(row.record), "id": str(row.id), "label": str(row.label), "prediction": str(row.prediction),
            "confidence": float(row.confidence), "correct": bool(row.correct),
            "selected_by": str(selection.selected_by[i]),
            **{rule: bool(selection.member[rule][i]) for rule in RULES},
            "cl_suspect": None if cl is None else bool(cl[i]),
            "injection_suspected": bool(injection[i]),
            "injection_signals": list(injection_cues[i]),  # why it was flagged (or nearly: one weak signal)
            "status": "ok" if ok else "failed",
            "verdict": outcome.to_dict() if ok else None,
            "judge_agrees_with_gold": (outcome.sentiment == row.label) if ok else None,
            "judge_agrees_with_model": (outcome.sentiment == row.prediction) if ok else None,
            "failure": None if ok else outcome.to_dict(),
            "cache_key": key,
            "text": str(row.text),
        })
    return rows
