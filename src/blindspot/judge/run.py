"""Ask a backend about many requests: cache first, a budget cap, a concurrency limit.

Answers are stored as they arrive: each reply goes to the cache file (appended and
flushed) the moment its call returns, so a run killed midway keeps every answer already
paid for and a resume sends none of them again.

A circuit breaker: after :data:`BREAKER_CALLS` consecutive transport failures
(timeouts, HTTP errors, credential echoes; any reply, even a garbled one, resets the
count) the backend is down or unusable rather than flaky. No further question is sent:
calls already in flight finish and are kept, and every question not yet answered is
recorded as a ``skipped`` failure whose detail says why. The run goes on to write its
outputs; it never stops the pipeline.

Per run, every distinct question (cache key) is asked at most once; questions already
in the cache cost nothing; at most ``max_calls`` are sent (the rest become
``budget_exhausted`` failures, in candidate order, so which ones is deterministic);
at most ``backend.concurrency`` are in flight at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import islice
from typing import Sequence

from blindspot.judge.cache import JudgeCache, cache_key
from blindspot.judge.parsing import parse_reply
from blindspot.judge.protocol import TRANSPORT_KINDS, JudgeBackend, JudgeFailure, JudgeRequest, Reply, TransportError

BREAKER_CALLS = 5


@dataclass
class RunStats:
    """What one run cost. Per-run numbers: logged and written to the run log, never to metrics.

    Attributes
    ----------
    requests : int
        Candidates asked about.
    questions : int
        Distinct cache keys among them.
    cache_hits : int
        Distinct questions answered from the cache.
    calls : int
        Distinct questions sent to the backend this run.
    attempts : int
        HTTP requests made, retries included (``calls`` for the offline backend).
    budget_exhausted : int
        Distinct questions not sent because ``max_calls`` was reached.
    skipped : int
        Distinct questions not sent because the circuit breaker opened.
    breaker : str or None
        Why the circuit breaker opened (None when it did not).
    transport_failures : Counter
        Timeouts and HTTP errors this run, by kind.
    tokens : Counter
        Token usage reported by the server for this run's calls.
    """

    requests: int = 0
    questions: int = 0
    cache_hits: int = 0
    calls: int = 0
    attempts: int = 0
    budget_exhausted: int = 0
    skipped: int = 0
    breaker: str | None = None
    transport_failures: Counter = field(default_factory=Counter)
    tokens: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {"requests": self.requests, "questions": self.questions, "cache_hits": self.cache_hits,
                "calls": self.calls, "attempts": self.attempts, "budget_exhausted": self.budget_exhausted,
                "skipped": self.skipped, "breaker": self.breaker,
                "transport_failures": dict(sorted(self.transport_failures.items())), "tokens": dict(sorted(self.tokens.items()))}


def judge_requests(requests: Sequence[JudgeRequest], backend: JudgeBackend, cache: JudgeCache, *, max_calls: int,
                   log: logging.Logger | None = None) -> tuple[list, list, RunStats]:
    """Judge every request.

    Parameters
    ----------
    requests : sequence of JudgeRequest, length n
    backend : JudgeBackend
    cache : JudgeCache
        Read first; every new reply is written to it as it arrives, and the file is saved at the end.
    max_calls : int
        Most distinct questions sent to the backend in this run.
    log : logging.Logger, optional

    Returns
    -------
    outcomes : list of Verdict or JudgeFailure, length n
    keys : list of str, length n
        Each request's cache key.
    stats : RunStats
    """
    log = log or logging.getLogger("judge")
    keys = [cache_key(backend.name, backend.model, backend.prompt_version, r.text, r.label) for r in requests]
    first: dict[str, JudgeRequest] = {}
    for key, request in zip(keys, requests):
        first.setdefault(key, request)
    stats = RunStats(requests=len(requests), questions=len(first))
    _drop_contaminated(backend, cache, log)
    misses = [k for k in first if k not in cache]
    stats.cache_hits = stats.questions - len(misses)
    send, cut = misses[:max(max_calls, 0)], misses[max(max_calls, 0):]
    stats.budget_exhausted = len(cut)
    failed: dict[str, JudgeFailure] = {
        k: JudgeFailure("budget_exhausted", f"not sent: judge.max_calls={max_calls} calls already made in this run")
        for k in cut}
    if send:
        failed.update(_send(send, first, backend, cache, stats, log))
    if backend.name == "offline":
        # Stale offline verdicts cost nothing to recompute: keep the file to what this run used.
        used = set(first)
        cache.retain(lambda entry: entry.get("backend") != "offline" or entry["key"] in used)
    cache.save()

    outcomes = []
    for key, request in zip(keys, requests):
        reply = cache.get(key)
        outcomes.append(failed[key] if reply is None else parse_reply(reply, request.classes))
    return outcomes, keys, stats


def _drop_contaminated(backend: JudgeBackend, cache: JudgeCache, log: logging.Logger) -> None:
    """Drop cached replies that carry the backend's API key (backends that can tell: ``contaminated``).

    A cache written before the credential screen existed may hold an echoed key: such
    entries are dropped (and asked again), so the final rewrite of the file removes them.
    """
    contaminated = getattr(backend, "contaminated", None)
    if not callable(contaminated):
        return
    dropped = cache.retain(lambda entry: not contaminated(Reply.from_dict(entry["reply"])))
    if dropped:
        log.warning("%d cached repl%s carried the API key: dropped from %s", dropped,
                    "y" if dropped == 1 else "ies", cache.path)


def _send(send: list[str], first: dict[str, JudgeRequest], backend: JudgeBackend, cache: JudgeCache,
          stats: RunStats, log: logging.Logger) -> dict[str, JudgeFailure]:
    """Ask the backend the questions ``send`` (cache keys); returns the failures by key.

    Updates ``stats`` (calls, attempts, transport failures, tokens, breaker, skipped).
    After an open breaker, every question of ``send`` without a reply is ``skipped``.
    """
    prepare = getattr(backend, "prepare", None)
    if callable(prepare):
        prepare([first[k] for k in send])
    log.info("asking %s (%s, %s) %d question(s), %d at a time; %d answered from the cache",
             backend.name, backend.model, backend.prompt_version, len(send), backend.concurrency, stats.cache_hits)
    attempts_before = getattr(backend, "attempts_made", 0)
    failed = _ask_concurrently(send, first, backend, cache, stats, log)
    if stats.breaker is not None:
        for key in send:
            if key not in failed and key not in cache:
                failed[key] = JudgeFailure("skipped", f"not sent: {stats.breaker}")
                stats.skipped += 1
    # Backends that retry count their HTTP requests; for the others a call is one attempt.
    made = getattr(backend, "attempts_made", None)
    stats.attempts = stats.calls if made is None else made - attempts_before
    return failed


def _ask_concurrently(send: list[str], first: dict[str, JudgeRequest], backend: JudgeBackend, cache: JudgeCache,
                      stats: RunStats, log: logging.Logger) -> dict[str, JudgeFailure]:
    """At most ``backend.concurrency`` calls in flight; nothing new is sent once the breaker opens."""
    failed: dict[str, JudgeFailure] = {}
    streak = 0  # consecutive transport failures, in the order the calls returned
    width = max(1, int(backend.concurrency))
    queue = iter(send)
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="judge") as pool:
        # The next call is submitted only when one returns, so once the breaker opens
        # nothing new is sent (calls in flight finish and are kept).
        futures = {pool.submit(backend.complete, first[k]): k for k in islice(queue, width)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    key = futures[future]
                    failure, streak = _settle(future, key, first[key], backend, cache, stats, streak, log)
                    if failure is not None:
                        failed[key] = failure
                    if stats.breaker is None:
                        for k in islice(queue, 1):
                            nxt = pool.submit(backend.complete, first[k])
                            futures[nxt] = k
                            pending.add(nxt)
        except BaseException:
            cache.save()  # a bug or a config error: stop sending, keep what was paid for
            raise
    return failed


def _settle(future, key: str, request: JudgeRequest, backend: JudgeBackend, cache: JudgeCache, stats: RunStats,
            streak: int, log: logging.Logger) -> tuple[JudgeFailure | None, int]:
    """Record one returned call: store its reply, or count its failure and maybe open the breaker.

    Returns
    -------
    failure : JudgeFailure or None
    streak : int
        Consecutive transport failures including this call (any reply resets it to 0).
    """
    stats.calls += 1
    try:
        reply = future.result()
    except TransportError as exc:
        stats.transport_failures[exc.failure.kind] += 1
        streak = streak + 1 if exc.failure.kind in TRANSPORT_KINDS else 0
        if streak >= BREAKER_CALLS and stats.breaker is None:
            stats.breaker = (f"the circuit breaker opened after {streak} consecutive failed calls "
                             f"to the {backend.name} backend ({backend.model}), the last: "
                             f"{exc.failure.kind}: {exc.failure.detail}")
            log.warning("%s; the remaining questions are skipped", stats.breaker)
        return exc.failure, streak
    stats.tokens.update(reply.usage)
    # Stored the moment it arrives: a killed run keeps every answer paid for.
    cache.put(key, reply, backend=backend.name, model=backend.model, prompt_version=backend.prompt_version,
              text=request.text, label=request.label)
    return None, 0
