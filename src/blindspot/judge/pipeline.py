"""The judge stage's library side: choose candidates, judge them, measure the judge.

:func:`judge_predictions` is the orchestration only: the config is checked by
:mod:`~blindspot.judge.checks`, the backend built by :mod:`~blindspot.judge.backends`,
the table scanned a batch at a time into mergeable shortlists by :mod:`~blindspot.judge.shortlist`,
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
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import pandas as pd

from blindspot import text_features
from blindspot.io.readers import rows_at
from blindspot.io.schema import PROBA_PREFIX, proba_columns, probability_matrix
from blindspot.judge.agreement import suspect_flags
from blindspot.judge.backends import make_backend
from blindspot.judge.cache import JudgeCache
from blindspot.judge.checks import check_config
from blindspot.judge.injection import THRESHOLD as INJECTION_THRESHOLD
from blindspot.judge.injection import injection_signals
from blindspot.judge.metrics import Judged, LabelIssues, judge_metrics
from blindspot.judge.protocol import JudgeBackend, JudgeRequest, Verdict, as_classes
from blindspot.judge.run import judge_requests
from blindspot.judge.select import RULES, RankKeys
from blindspot.judge.shortlist import Scan, reduce_scans, scan_frame

RUN_LOG_NAME = "last_run.json"
#: Columns every batch's scan reads (with the probability columns): the cue detectors' texts, the
#: rank keys' ids, and what the rules and confident learning read.
SCAN_COLUMNS = ("id", "text", "confidence", "correct", "y_true")
#: Columns read for the chosen rows only, in the last pass over the batches (with the probabilities).
WHOLE_COLUMNS = ("confidence", "correct", "y_true", "y_pred")
CANDIDATE_COLUMNS = ("record", "id", "label", "prediction", "text")
#: ``batches(names, prefixes)``: the table's columns, a batch of consecutive rows at a time.
Batches = Callable[[Sequence[str], Sequence[str]], Iterable[pd.DataFrame]]


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


def judge_predictions(frame: Optional[pd.DataFrame], cfg, *, classes: Sequence[str], seed: int, n_boot: int,
                      ci_level: float, cache_path: str | Path, backend: Optional[JudgeBackend] = None,
                      log: Optional[logging.Logger] = None, batches: Optional[Batches] = None,
                      map_batches: Optional[Callable] = None,
                      read_rows: Optional[Callable[[np.ndarray, list], pd.DataFrame]] = None,
                      has_probabilities: Optional[bool] = None) -> JudgeResult:
    """Select candidates from the canonical predictions table, judge them, and measure the judge.

    The table is read a batch at a time, never held: one pass leaves each batch's
    :class:`~blindspot.judge.shortlist.Scan` (the rows the selection could choose, the counts,
    confident learning's own-class sums), merged; a second pass counts the rows confident
    learning flags; a third reads the chosen rows' texts, ids and labels. What the stage holds
    is a few hundred rows, at any size of table.

    Parameters
    ----------
    frame : DataFrame, shape (n_rows, ...), or None
        The canonical table (:mod:`blindspot.io.schema`), read as one batch; None when
        ``batches`` gives the rows.
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
        ``batches(names, prefixes)`` gives the table's columns ``names`` and those starting with
        one of ``prefixes``, in row order, a batch of rows at a time (an iterable of DataFrames:
        :func:`blindspot.io.readers.predictions_batches`).
    map_batches : callable, optional
        ``map_batches(fn, names, prefixes)``: ``fn`` of every batch, in row order, as a list
        (:func:`blindspot.engine.batches.map_batches`, which runs it on Dask workers with
        ``engine: dask``); default: ``fn`` of each of ``batches(names, prefixes)`` here.
    read_rows : callable, optional
        ``read_rows(positions, columns)``: the rows at ``positions`` (ascending), those columns
        (:func:`blindspot.io.readers.read_rows_at`, which takes them while the batch is still
        Arrow: no Python string for the texts of the other rows); default: from ``batches``.
    has_probabilities : bool, optional
        Whether the table has class probability columns, for a table with no row (its batches
        cannot say: the stage reads the file's columns); default: ``frame``'s columns, else False.
    """
    classes = as_classes(classes)
    check_config(cfg, classes)
    backend = backend or make_backend(cfg, classes)
    if batches is None:
        def batches(names, prefixes=()):
            return [frame[_columns_of(frame, names, prefixes)]]
    if map_batches is None:
        def map_batches(fn, names, prefixes=()):
            return [fn(batch) for batch in batches(names, prefixes)]
    scan = reduce_scans(map_batches(partial(scan_of, seed=seed, classes=tuple(classes),
                                            confident_threshold=cfg.confident_threshold,
                                            max_candidates=cfg.max_candidates,
                                            random_sample_size=cfg.random_sample_size),
                                    list(SCAN_COLUMNS), [PROBA_PREFIX]))
    if scan is None:  # a table with no row: its (empty) scan, for the same fields
        if has_probabilities is None:
            has_probabilities = frame is not None and probability_matrix(frame, classes) is not None
        scan = scan_of(_empty_batch(classes, has_probabilities), seed=seed, classes=tuple(classes),
                       confident_threshold=cfg.confident_threshold, max_candidates=cfg.max_candidates,
                       random_sample_size=cfg.random_sample_size)
    selection = scan.shortlist.select()
    # Texts, ids, labels and probabilities of the chosen rows only (a few hundred), fetched by position.
    wanted = list(WHOLE_COLUMNS) + list(CANDIDATE_COLUMNS)
    proba_names = proba_columns(classes) if scan.own_class is not None else []
    if read_rows is None:
        def read_rows(positions, columns):
            return rows_at(batches(columns, []), positions, columns)
    cand = read_rows(selection.index, wanted + proba_names)
    requests = [JudgeRequest(text=str(t), label=str(y), classes=classes) for t, y in zip(cand["text"], cand["label"])]
    cache = JudgeCache(cache_path)
    if cache.bad_lines and log:
        log.warning("%s: %d unreadable line(s) dropped (an interrupted write?)", cache_path, cache.bad_lines)
    outcomes, keys, stats = _judge_in_turn(requests, selection, backend, cache, max_calls=cfg.max_calls, log=log)

    label_issues = None
    if scan.own_class is not None:
        thresholds = scan.own_class.thresholds
        counted = map_batches(partial(count_suspects, classes=tuple(classes), thresholds=thresholds),
                              ["y_true"], [PROBA_PREFIX])
        flags = suspect_flags(cand["y_true"].to_numpy(dtype=np.int64), cand[proba_names].to_numpy(dtype=float),
                              thresholds)
        label_issues = LabelIssues(flags, int(sum(counted)), scan.shortlist.n_rows, thresholds)
    cues = injection_signals(cand["text"])
    injection = cues["score"].to_numpy() >= INJECTION_THRESHOLD
    rows = _rows(cand, selection, outcomes, keys, injection, cues["signals"].tolist(),
                 None if label_issues is None else label_issues.candidates, classes)
    metrics = judge_metrics(Judged.build(cand, selection, outcomes, classes), keys=keys, cache=cache,
                            injection=injection, label_issues=label_issues, backend=backend,
                            cfg=cfg, seed=seed, n_boot=n_boot, ci_level=ci_level, breaker=stats.breaker)
    run = {"backend": backend.name, "model": backend.model, "prompt_version": backend.prompt_version,
           "candidates": len(requests), "max_calls": cfg.max_calls, **stats.to_dict()}
    return JudgeResult(rows=rows, metrics=metrics, run=run)


def scan_of(frame: pd.DataFrame, *, seed: int, classes: tuple, confident_threshold: float, max_candidates: int,
            random_sample_size: int) -> Scan:
    """One batch's :class:`~blindspot.judge.shortlist.Scan`: the cue detectors on its texts, the rank
    keys of its ids, its shortlist and own-class sums (rows counted from 0 in the batch).

    A module-level function, so that :func:`blindspot.engine.batches.map_batches` sends it to the
    workers with ``engine: dask``.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        :data:`SCAN_COLUMNS` of consecutive rows, and the probability columns when the table has them.
    seed : int
    classes : tuple of str
    confident_threshold, max_candidates, random_sample_size
        ``judge.*``.
    """
    return scan_frame(frame, cues=cue_flags_of(frame["text"]), keys=RankKeys.of(frame["id"], seed),
                      proba=probability_matrix(frame, classes),
                      confident_threshold=confident_threshold, max_candidates=max_candidates,
                      random_sample_size=random_sample_size)


def count_suspects(frame: pd.DataFrame, *, classes: tuple, thresholds: np.ndarray) -> int:
    """Rows of one batch (``y_true`` and the probability columns) that confident learning flags under ``thresholds``."""
    return int(suspect_flags(frame["y_true"].to_numpy(dtype=np.int64), probability_matrix(frame, classes),
                             thresholds).sum())


def _columns_of(frame: pd.DataFrame, names, prefixes) -> list:
    """``names``, then the frame's columns starting with one of ``prefixes``."""
    return list(names) + [c for c in frame.columns if c not in names and c.startswith(tuple(prefixes))]


def _empty_batch(classes, probabilities: bool) -> pd.DataFrame:
    """A batch of no row, with the probability columns when the table has them."""
    columns = {"id": pd.Series([], dtype=object), "text": pd.Series([], dtype=object),
               "confidence": pd.Series([], dtype=float), "correct": pd.Series([], dtype=bool),
               "y_true": pd.Series([], dtype=np.int64)}
    return pd.DataFrame({**columns, **({c: pd.Series([], dtype=float) for c in proba_columns(classes)}
                                       if probabilities else {})})


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


def join_cue_flags(parts: Iterable) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive batches' :func:`cue_flags_of`, joined in row order."""
    sarcasm, mixed = [np.zeros(0, dtype=bool)], [np.zeros(0, dtype=bool)]
    for s, m in parts:
        sarcasm.append(s)
        mixed.append(m)
    return np.concatenate(sarcasm), np.concatenate(mixed)


def _rows(cand, selection, outcomes, keys, injection, injection_cues, cl, classes) -> list[dict]:
    """The rows of ``judgments.jsonl``, one per candidate (``cl``: each one's confident-learning flag, or None)."""
    rows = []
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
