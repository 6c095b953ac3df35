"""The judge stage's library side: choose candidates, judge them, measure the judge.

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
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from blindspot import text_features
from blindspot.errors import ConfigError
from blindspot.io.schema import probability_matrix
from blindspot.judge.agreement import agreement_score, confident_learning_suspects
from blindspot.judge.cache import JudgeCache
from blindspot.judge.checks import BACKENDS, check_config
from blindspot.judge.injection import THRESHOLD as INJECTION_THRESHOLD
from blindspot.judge.injection import injection_signals
from blindspot.judge.offline import OfflineJudge
from blindspot.judge.protocol import FAILURE_KINDS, JudgeBackend, JudgeFailure, JudgeRequest, Verdict, as_classes
from blindspot.judge.run import judge_requests
from blindspot.judge.select import RULES, select_candidates
from blindspot.stats import wilson_interval

RUN_LOG_NAME = "last_run.json"
INTERVAL_METHOD = ("kappa: percentile bootstrap of the confusion-matrix counts (multinomial, stats.n_boot replicates); "
                   "rates: Wilson score")


def make_backend(cfg, classes: Sequence[str]) -> JudgeBackend:
    """The backend ``cfg.backend`` names (``cfg``: :class:`blindspot.config.JudgeConfig`).

    Raises
    ------
    ConfigError
        Unknown backend, unknown prompt, bad HTTP settings, or a key variable that is not set.
    """
    if cfg.backend == "offline":
        return OfflineJudge(classes, cfg.offline)
    if cfg.backend == "openai":
        from blindspot.judge.http import OpenAIJudge
        from blindspot.judge.prompt import load_prompt

        return OpenAIJudge(cfg.http, load_prompt(cfg.prompt_version))
    raise ConfigError(f"judge.backend must be one of {list(BACKENDS)}, got {cfg.backend!r}")


def _rng(seed: int, name: str) -> np.random.Generator:
    """A generator per named computation, so adding one never shifts another's stream."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(name.encode("utf-8"))]))


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
                      log: Optional[logging.Logger] = None) -> JudgeResult:
    """Select candidates from the canonical predictions table, judge them, and measure the judge.

    Parameters
    ----------
    frame : DataFrame, shape (n_rows, ...)
        The canonical table (:mod:`blindspot.io.schema`).
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
    """
    classes = as_classes(classes)
    check_config(cfg, classes)
    backend = backend or make_backend(cfg, classes)
    confidence = frame["confidence"].to_numpy(dtype=float)
    correct = frame["correct"].to_numpy(dtype=bool)
    texts = text_features.prepare(frame["text"])  # one pass shared by both cue detectors
    confidently_incorrect = ~correct & (confidence >= cfg.confident_threshold)
    selection = select_candidates(confidently_incorrect, text_features.sarcasm_cues(texts),
                                  text_features.mixed_sentiment(texts), confidence,
                                  max_candidates=cfg.max_candidates, random_sample_size=cfg.random_sample_size,
                                  rng=_rng(seed, "select"))
    cand = frame.iloc[selection.index]
    requests = [JudgeRequest(text=str(t), label=str(y), classes=classes) for t, y in zip(cand["text"], cand["label"])]
    cache = JudgeCache(cache_path)
    if cache.bad_lines and log:
        log.warning("%s: %d unreadable line(s) dropped (an interrupted write?)", cache_path, cache.bad_lines)
    outcomes, keys, stats = judge_requests(requests, backend, cache, max_calls=cfg.max_calls, log=log)

    proba = probability_matrix(frame, classes)
    y_true = frame["y_true"].to_numpy(dtype=np.int64)
    cl_suspect = None
    cl_thresholds = None
    if proba is not None:
        cl_suspect, cl_thresholds = confident_learning_suspects(y_true, proba)
    cues = injection_signals(cand["text"])
    injection = cues["score"].to_numpy() >= INJECTION_THRESHOLD
    rows = _rows(cand, selection, outcomes, keys, injection, cues["signals"].tolist(), cl_suspect, classes)
    metrics = _metrics(frame, cand, selection, outcomes, keys, cache, injection, cl_suspect, cl_thresholds,
                       backend, cfg, classes, seed, n_boot, ci_level, breaker=stats.breaker)
    run = {"backend": backend.name, "model": backend.model, "prompt_version": backend.prompt_version,
           "candidates": len(requests), "max_calls": cfg.max_calls, **stats.to_dict()}
    return JudgeResult(rows=rows, metrics=metrics, run=run)


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


def _count_table(a: np.ndarray, b: np.ndarray) -> dict:
    return {"both": int((a & b).sum()), "judge_only": int((a & ~b).sum()), "cl_only": int((~a & b).sum()),
            "neither": int((~a & ~b).sum())}


REASON_CHARS = 300  # a failure's detail quoted in a reason is cut here


def no_verdict_reason(outcomes: Sequence, n_candidates: int) -> Optional[str]:
    """Why no candidate has a verdict, in one sentence (None when some have one).

    Parameters
    ----------
    outcomes : sequence of Verdict or JudgeFailure, length n
    n_candidates : int
        ``n``; 0 when the selection was empty.

    Returns
    -------
    str or None
        E.g. ``no verdicts: all 12 candidates failed (abstained 12), e.g. class '0' has no
        polarity; set judge.offline.polarity``.
    """
    if n_candidates == 0:
        return "no candidates: the selection is empty (no rows, or judge.max_candidates is 0)"
    failures = [o for o in outcomes if isinstance(o, JudgeFailure)]
    if len(failures) < len(outcomes):
        return None
    counts = Counter(f.kind for f in failures)
    top = counts.most_common(1)[0][0]
    example = next(f.detail for f in failures if f.kind == top)
    if len(example) > REASON_CHARS:
        example = example[:REASON_CHARS - 3] + "..."
    kinds = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items()))
    return f"no verdicts: all {len(failures)} candidates failed ({kinds}), e.g. {example}"


def _with_reasons(score: dict, no_rows: Optional[str]) -> dict:
    """An agreement score with ``reason``, why its null values (NaN) could not be measured, when it has any.

    With rows, only kappa and its interval can be undefined (the rates and Wilson
    intervals always exist), so one ``reason`` key serves every null of the score.
    """
    if score["n"] == 0:
        score["reason"] = no_rows
    elif score["kappa"] != score["kappa"]:  # NaN: chance agreement is 1
        score["reason"] = (f"kappa is undefined on these {score['n']} rows: both readings put every row in the same "
                           f"class, so chance agreement is 1")
    return score


def _metrics(frame, cand, selection, outcomes, keys, cache, injection, cl_suspect, cl_thresholds, backend, cfg, classes,
             seed, n_boot, ci_level, *, breaker: Optional[str] = None) -> dict:
    n = len(outcomes)
    ok = np.array([isinstance(o, Verdict) for o in outcomes], dtype=bool)
    index = {c: k for k, c in enumerate(classes)}
    judge = np.array([index[o.sentiment] if isinstance(o, Verdict) else -1 for o in outcomes], dtype=np.int64)
    gold = cand["y_true"].to_numpy(dtype=np.int64)
    model = cand["y_pred"].to_numpy(dtype=np.int64)
    nothing = no_verdict_reason(outcomes, n)

    def flag(name):
        return np.array([bool(getattr(o, name)) if isinstance(o, Verdict) else False for o in outcomes], dtype=bool)

    gold_wrong = flag("gold_label_wrong")
    kinds = {kind: 0 for kind in FAILURE_KINDS}
    for o in outcomes:
        if isinstance(o, JudgeFailure):
            kinds[o.kind] += 1
    kinds["total"] = int(n - ok.sum())

    subsets = {"random_sample": selection.member["random_sample"], "targeted": selection.targeted,
               "all_judged": np.ones(n, dtype=bool)}
    agreement = {}
    for subset, mask in subsets.items():
        m = mask & ok
        n_subset = int(mask.sum())
        no_rows = nothing or (f"no {subset.replace('_', ' ')} candidates" if n_subset == 0 else
                              f"none of the {n_subset} {subset.replace('_', ' ')} candidates has a verdict")
        agreement[subset] = {"n_candidates": n_subset}
        for ref_name, ref in (("gold", gold), ("model", model)):
            score = agreement_score(ref[m], judge[m], n_classes=len(classes), n_boot=n_boot, level=ci_level,
                                    rng=_rng(seed, f"agreement/{subset}/{ref_name}"))
            agreement[subset][ref_name] = _with_reasons(score, no_rows)

    ci_mask = selection.member["confidently_incorrect"] & ok
    sides = {"n": int(ci_mask.sum()), "with_gold": int((ci_mask & (judge == gold)).sum()),
             "with_model": int((ci_mask & (judge == model)).sum())}
    sides["with_neither"] = sides["n"] - sides["with_gold"] - sides["with_model"]

    random_ok = selection.member["random_sample"] & ok
    k_wrong, n_random = int((gold_wrong & random_ok).sum()), int(random_ok.sum())
    low, high = wilson_interval(k_wrong, n_random, ci_level)
    random_rate = {"n": n_random, "count": k_wrong, "rate": k_wrong / n_random if n_random else float("nan"),
                   "rate_ci_low": float(low), "rate_ci_high": float(high)}
    if not n_random:
        random_rate["reason"] = agreement["random_sample"]["gold"]["reason"]
    verdicts = {
        "sarcasm": int(flag("sarcasm").sum()), "mixed_sentiment": int(flag("mixed_sentiment").sum()),
        "technical_register": int(np.array([isinstance(o, Verdict) and o.register == "technical" for o in outcomes],
                                           dtype=bool).sum()),
        "gold_label_wrong": int(gold_wrong.sum()),
        "gold_label_wrong_random_sample": random_rate,
    }

    if cl_suspect is None:
        label_issues = {"available": 0, "reason": "the input has no class probabilities"}
    else:
        total = int(cl_suspect.sum())
        rows = len(cl_suspect)
        low, high = wilson_interval(total, rows, ci_level)
        cl_cand = cl_suspect[selection.index]
        cross = _count_table(gold_wrong[ok], cl_cand[ok])
        flag_agreement = agreement_score(cl_cand[ok].astype(np.int64), gold_wrong[ok].astype(np.int64), n_classes=2,
                                         n_boot=n_boot, level=ci_level, rng=_rng(seed, "agreement/label_issue_flags"))
        label_issues = {
            "available": 1,
            "method": "confident learning: p_label < t_label and p_j >= t_j for another class j; "
                      "t_k = mean p_k over rows labelled k",
            "confident_learning": {"n": rows, "suspected": total, "rate": total / rows if rows else float("nan"),
                                   "rate_ci_low": float(low), "rate_ci_high": float(high),
                                   "thresholds": {c: float(t) for c, t in zip(classes, cl_thresholds)}},
            "judged": {"n": int(ok.sum()), **cross,
                       "flag_agreement": _with_reasons(flag_agreement, nothing or "no judged candidates")},
        }
        if not rows:
            label_issues["confident_learning"]["reason"] = "the predictions have no rows"

    judged = int(ok.sum())
    skipped = kinds["skipped"]
    failed = kinds["total"] - skipped
    if judged == n:
        status_reason = None if n else nothing
    elif breaker is not None:
        status_reason = f"{skipped} of {n} candidates skipped: {breaker}"
        if nothing is None:
            status_reason += f"; {judged} judged before it opened"
    else:
        status_reason = nothing or f"{n - judged} of {n} candidates have no verdict (see failures)"
    status = {"candidates": n, "judged": judged, "failed": failed, "skipped": skipped, "breaker": breaker,
              "reason": status_reason}

    cached = sum(1 for k in keys if k in cache)
    return {
        "backend": backend.name, "model": backend.model, "prompt_version": backend.prompt_version,
        "candidates": {"n": n, **{rule: int(selection.member[rule].sum()) for rule in RULES},
                       "targeted": int(selection.targeted.sum()),
                       "selected_by": {rule: int((selection.selected_by == rule).sum()) for rule in RULES}},
        "available": selection.available,
        "budget": {"max_candidates": cfg.max_candidates, "random_sample_size": cfg.random_sample_size,
                   "max_calls": cfg.max_calls, "confident_threshold": cfg.confident_threshold},
        "coverage": float(ok.sum() / n) if n else float("nan"),
        **({} if n else {"coverage_reason": nothing}),
        "judged": judged,
        "failures": kinds,
        "status": status,
        "cache": {"cached": cached, "pending_calls": len({k for k in keys if k not in cache}),
                  "questions": len(set(keys))},
        "injection_suspected": int(injection.sum()),
        "verdicts": verdicts,
        "agreement": agreement,
        "confidently_incorrect_sides": sides,
        "label_issues": label_issues,
        "interval_method": INTERVAL_METHOD,
        "ci_level": ci_level,
    }
