"""``metrics/judge.json``: what the judge said about the candidates, and how far to trust it.

:func:`judge_metrics` builds the whole mapping from one :class:`Judged` (the candidates
and their outcomes as arrays) plus the cache, the backend and the settings. Each block
has its own function below; each bootstrap draws from its own named stream
(:func:`blindspot.seeding.named_rng`), so the blocks can be computed in any order.

Every key is declared in :mod:`blindspot.results.judge`; each number with an interval is an
:class:`~blindspot.results.Estimate` naming its method (kappa: percentile bootstrap of the
confusion-matrix counts; rates: Wilson) and, when its value is null, why.

Nothing here depends on *this run* (calls made, cache hits): see
:mod:`blindspot.judge.pipeline` for why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from blindspot.judge.agreement import agreement_score
from blindspot.judge.protocol import FAILURE_KINDS, JudgeFailure, Verdict
from blindspot.judge.select import RULES, Selection
from blindspot.metrics import WILSON
from blindspot.results import Estimate
from blindspot.seeding import named_rng
from blindspot.stats import wilson_interval

REASON_CHARS = 300  # a failure's detail quoted in a reason is cut here
CL_METHOD = ("confident learning: p_label < t_label and p_j >= t_j for another class j; "
             "t_k = mean p_k over rows labelled k")


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


@dataclass(frozen=True)
class Judged:
    """The candidates and what the judge said about each (every array has length n = candidates).

    Attributes
    ----------
    outcomes : list of Verdict or JudgeFailure
    selection : Selection
        Why each candidate was chosen.
    classes : tuple of str
    ok : ndarray of bool
        The candidate has a verdict.
    judge : ndarray of int64
        The judge's class index; -1 without a verdict.
    gold, model : ndarray of int64
        The gold label's and the model's class index.
    nothing : str or None
        :func:`no_verdict_reason`: why no candidate has a verdict (None when some have one).
    """

    outcomes: list
    selection: Selection
    classes: tuple
    ok: np.ndarray
    judge: np.ndarray
    gold: np.ndarray
    model: np.ndarray
    nothing: Optional[str]

    @classmethod
    def build(cls, cand: pd.DataFrame, selection: Selection, outcomes: Sequence, classes: Sequence[str]) -> "Judged":
        """From the candidate rows of the canonical table (``y_true``, ``y_pred``) and their outcomes."""
        index = {c: k for k, c in enumerate(classes)}
        return cls(outcomes=list(outcomes), selection=selection, classes=tuple(classes),
                   ok=np.array([isinstance(o, Verdict) for o in outcomes], dtype=bool),
                   judge=np.array([index[o.sentiment] if isinstance(o, Verdict) else -1 for o in outcomes],
                                  dtype=np.int64),
                   gold=cand["y_true"].to_numpy(dtype=np.int64), model=cand["y_pred"].to_numpy(dtype=np.int64),
                   nothing=no_verdict_reason(outcomes, len(outcomes)))

    @property
    def n(self) -> int:
        return len(self.outcomes)

    def flag(self, name: str) -> np.ndarray:
        """A boolean verdict field per candidate (False without a verdict), shape (n,)."""
        return np.array([bool(getattr(o, name)) if isinstance(o, Verdict) else False for o in self.outcomes],
                        dtype=bool)


def _with_reasons(score: dict, no_rows: str) -> dict:
    """An agreement score (:func:`agreement_score`) encoded, each estimate whose value is null saying why.

    With rows, only kappa can be undefined (the rate and its Wilson interval always
    exist); without rows both are, for the same reason.
    """
    n, kappa, rate = score["n"], score["kappa"], score["agreement_rate"]
    if n == 0:
        kappa, rate = replace(kappa, reason=no_rows), replace(rate, reason=no_rows)
    elif not kappa.ok:  # NaN: chance agreement is 1
        kappa = replace(kappa, reason=f"kappa is undefined on these {n} rows: both readings put every row in the "
                                      f"same class, so chance agreement is 1")
    return {"n": n, "kappa": kappa.encode(), "agreement_rate": rate.encode()}


def _count_table(a: np.ndarray, b: np.ndarray) -> dict:
    return {"both": int((a & b).sum()), "judge_only": int((a & ~b).sum()), "cl_only": int((~a & b).sum()),
            "neither": int((~a & ~b).sum())}


def failure_counts(j: Judged) -> dict:
    """Failed candidates by kind (every kind of :data:`FAILURE_KINDS`, zeros included) and ``total``."""
    kinds = {kind: 0 for kind in FAILURE_KINDS}
    for o in j.outcomes:
        if isinstance(o, JudgeFailure):
            kinds[o.kind] += 1
    kinds["total"] = int(j.n - j.ok.sum())
    return kinds


def agreement_block(j: Judged, *, seed: int, n_boot: int, ci_level: float) -> dict:
    """Kappa of the judge with gold and with the model, on the random sample, the targeted rows and all judged."""
    subsets = {"random_sample": j.selection.member["random_sample"], "targeted": j.selection.targeted,
               "all_judged": np.ones(j.n, dtype=bool)}
    agreement = {}
    for subset, mask in subsets.items():
        m = mask & j.ok
        n_subset = int(mask.sum())
        words = subset.replace("_", " ")
        no_rows = j.nothing or (f"no {words} candidates" if n_subset == 0 else
                                f"none of the {n_subset} {words} candidates has a verdict")
        agreement[subset] = {"n_candidates": n_subset}
        for ref_name, ref in (("gold", j.gold), ("model", j.model)):
            score = agreement_score(ref[m], j.judge[m], n_classes=len(j.classes), n_boot=n_boot, level=ci_level,
                                    rng=named_rng(seed, f"agreement/{subset}/{ref_name}"))
            agreement[subset][ref_name] = _with_reasons(score, no_rows)
    return agreement


def confidently_incorrect_sides(j: Judged) -> dict:
    """On the judged confidently incorrect candidates: does the judge side with gold, the model, or neither?"""
    ci_mask = j.selection.member["confidently_incorrect"] & j.ok
    sides = {"n": int(ci_mask.sum()), "with_gold": int((ci_mask & (j.judge == j.gold)).sum()),
             "with_model": int((ci_mask & (j.judge == j.model)).sum())}
    sides["with_neither"] = sides["n"] - sides["with_gold"] - sides["with_model"]
    return sides


def verdict_counts(j: Judged, *, ci_level: float, random_sample_reason: Optional[str]) -> dict:
    """How many verdicts flag each nuance, and the gold-wrong rate on the random sample (Wilson interval).

    ``random_sample_reason`` is why the random sample has no verdict (given when it has none).
    """
    gold_wrong = j.flag("gold_label_wrong")
    random_ok = j.selection.member["random_sample"] & j.ok
    k_wrong, n_random = int((gold_wrong & random_ok).sum()), int(random_ok.sum())
    low, high = wilson_interval(k_wrong, n_random, ci_level)
    rate = Estimate(k_wrong / n_random if n_random else float("nan"), float(low), float(high), WILSON,
                    "" if n_random else (random_sample_reason or ""))
    random_rate = {"n": n_random, "count": k_wrong, "rate": rate.encode()}
    technical = [isinstance(o, Verdict) and o.register == "technical" for o in j.outcomes]
    return {
        "sarcasm": int(j.flag("sarcasm").sum()), "mixed_sentiment": int(j.flag("mixed_sentiment").sum()),
        "technical_register": int(np.array(technical, dtype=bool).sum()),
        "gold_label_wrong": int(gold_wrong.sum()),
        "gold_label_wrong_random_sample": random_rate,
    }


@dataclass(frozen=True)
class LabelIssues:
    """Confident learning over the whole table, as the judge's metrics read it.

    Attributes
    ----------
    candidates : ndarray of bool, shape (n_candidates,)
        Each candidate's flag (:func:`blindspot.judge.agreement.suspect_flags`), in candidate order.
    suspected : int
        Rows of the whole table flagged.
    rows : int
        Rows of the whole table.
    thresholds : ndarray of float, shape (K,)
    """

    candidates: np.ndarray
    suspected: int
    rows: int
    thresholds: np.ndarray


def label_issues_block(j: Judged, issues: Optional[LabelIssues], *, seed: int, n_boot: int, ci_level: float) -> dict:
    """Confident learning's suspected label errors, and how they line up with the judge's "gold looks wrong".

    Parameters
    ----------
    j : Judged
    issues : LabelIssues or None
        None without class probabilities.
    """
    if issues is None:
        return {"available": 0, "reason": "the input has no class probabilities"}
    gold_wrong, ok = j.flag("gold_label_wrong"), j.ok
    total, rows = issues.suspected, issues.rows
    low, high = wilson_interval(total, rows, ci_level)
    cl_cand = np.asarray(issues.candidates, dtype=bool)
    flag_agreement = agreement_score(cl_cand[ok].astype(np.int64), gold_wrong[ok].astype(np.int64), n_classes=2,
                                     n_boot=n_boot, level=ci_level, rng=named_rng(seed, "agreement/label_issue_flags"))
    rate = Estimate(total / rows if rows else float("nan"), float(low), float(high), WILSON,
                    "" if rows else "the predictions have no rows")
    return {
        "available": 1,
        "method": CL_METHOD,
        "confident_learning": {"n": rows, "suspected": total, "rate": rate.encode(),
                               "thresholds": {c: float(t) for c, t in zip(j.classes, issues.thresholds)}},
        "judged": {"n": int(ok.sum()), **_count_table(gold_wrong[ok], cl_cand[ok]),
                   "flag_agreement": _with_reasons(flag_agreement, j.nothing or "no judged candidates")},
    }


def status_block(j: Judged, kinds: dict, breaker: Optional[str]) -> dict:
    """Candidates judged, failed and skipped, and one sentence on why some have no verdict."""
    n, judged = j.n, int(j.ok.sum())
    skipped = kinds["skipped"]
    if judged == n:
        reason = None if n else j.nothing
    elif breaker is not None:
        reason = f"{skipped} of {n} candidates skipped: {breaker}"
        if j.nothing is None:
            reason += f"; {judged} judged before it opened"
    else:
        reason = j.nothing or f"{n - judged} of {n} candidates have no verdict (see failures)"
    return {"candidates": n, "judged": judged, "failed": kinds["total"] - skipped, "skipped": skipped,
            "breaker": breaker, "reason": reason}


def judge_metrics(j: Judged, *, keys: Sequence[str], cache, injection: np.ndarray,
                  label_issues: Optional[LabelIssues] = None, backend, cfg, seed: int, n_boot: int, ci_level: float,
                  breaker: Optional[str] = None) -> dict:
    """The content of ``metrics/judge.json``.

    Parameters
    ----------
    j : Judged
    keys : sequence of str, length n
        Each candidate's cache key.
    cache : JudgeCache
        After the run (``cached`` and ``pending_calls`` are functions of its content).
    injection : ndarray of bool, shape (n,)
        Candidates whose text looks like an attempt to instruct the judge.
    label_issues : LabelIssues, optional
        See :func:`label_issues_block`.
    backend : JudgeBackend
    cfg : blindspot.config.JudgeConfig
    seed, n_boot, ci_level
        Shared settings (``seed``, ``stats.n_boot``, ``stats.ci_level``).
    breaker : str, optional
        Why the circuit breaker opened (:class:`blindspot.judge.run.RunStats`).
    """
    n, sel = j.n, j.selection
    kinds = failure_counts(j)
    agreement = agreement_block(j, seed=seed, n_boot=n_boot, ci_level=ci_level)
    return {
        "backend": backend.name, "model": backend.model, "prompt_version": backend.prompt_version,
        "candidates": {"n": n, **{rule: int(sel.member[rule].sum()) for rule in RULES},
                       "targeted": int(sel.targeted.sum()),
                       "selected_by": {rule: int((sel.selected_by == rule).sum()) for rule in RULES}},
        "available": sel.available,
        "budget": {"max_candidates": cfg.max_candidates, "random_sample_size": cfg.random_sample_size,
                   "max_calls": cfg.max_calls, "confident_threshold": cfg.confident_threshold},
        "coverage": float(j.ok.sum() / n) if n else float("nan"),
        **({} if n else {"coverage_reason": j.nothing}),
        "judged": int(j.ok.sum()),
        "failures": kinds,
        "status": status_block(j, kinds, breaker),
        "cache": {"cached": sum(1 for k in keys if k in cache), "pending_calls": len({k for k in keys if k not in cache}),
                  "questions": len(set(keys))},
        "injection_suspected": int(injection.sum()),
        "verdicts": verdict_counts(j, ci_level=ci_level,
                                   random_sample_reason=agreement["random_sample"]["gold"]["kappa"].get("reason")),
        "agreement": agreement,
        "confidently_incorrect_sides": confidently_incorrect_sides(j),
        "label_issues": label_issues_block(j, label_issues, seed=seed, n_boot=n_boot, ci_level=ci_level),
        "ci_level": ci_level,
    }
