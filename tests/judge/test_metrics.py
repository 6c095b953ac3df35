"""judge.metrics on hand-built outcomes: the blocks of metrics/judge.json without a run."""

import numpy as np
import pandas as pd

from blindspot.judge.metrics import (
    Judged,
    confidently_incorrect_sides,
    failure_counts,
    no_verdict_reason,
    status_block,
)
from blindspot.judge.protocol import JudgeFailure, Verdict
from blindspot.judge.select import RULES, Selection

CLASSES = ("negative", "neutral", "positive")


def verdict(sentiment):
    return Verdict(sentiment=sentiment, sarcasm=False, mixed_sentiment=False, register="plain",
                   gold_label_wrong=False, gold_label_reason="", confidence=0.9, rationale="")


def judged(outcomes, gold, model, confidently_incorrect):
    n = len(outcomes)
    member = {rule: np.zeros(n, bool) for rule in RULES}
    member["confidently_incorrect"] = np.asarray(confidently_incorrect, bool)
    selection = Selection(index=np.arange(n), member=member, selected_by=np.array(["confidently_incorrect"] * n),
                          available={})
    cand = pd.DataFrame({"y_true": gold, "y_pred": model})
    return Judged.build(cand, selection, outcomes, CLASSES)


def test_no_verdict_reason():
    assert no_verdict_reason([], 0).startswith("no candidates")
    assert no_verdict_reason([verdict("negative"), JudgeFailure("timeout", "slow")], 2) is None
    reason = no_verdict_reason([JudgeFailure("timeout", "slow"), JudgeFailure("timeout", "slow"),
                                JudgeFailure("refusal", "no")], 3)
    assert reason == "no verdicts: all 3 candidates failed (refusal 1, timeout 2), e.g. slow"


def test_sides_failures_and_status():
    j = judged([verdict("negative"), verdict("positive"), verdict("neutral"), JudgeFailure("skipped", "breaker")],
               gold=[0, 0, 0, 0], model=[2, 2, 2, 2], confidently_incorrect=[1, 1, 1, 1])
    assert j.judge.tolist() == [0, 2, 1, -1] and j.ok.tolist() == [True, True, True, False]
    assert confidently_incorrect_sides(j) == {"n": 3, "with_gold": 1, "with_model": 1, "with_neither": 1}
    kinds = failure_counts(j)
    assert kinds["skipped"] == 1 and kinds["total"] == 1 and sum(kinds.values()) == 2
    status = status_block(j, kinds, "the breaker opened")
    assert status == {"candidates": 4, "judged": 3, "failed": 0, "skipped": 1, "breaker": "the breaker opened",
                      "reason": "1 of 4 candidates skipped: the breaker opened; 3 judged before it opened"}
