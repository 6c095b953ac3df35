"""Candidate selection rules on hand-made cue arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blindspot.judge.select import select_candidates


def select(wrong, sarcasm, mixed, confidence, *, budget, n_random, seed=0):
    return select_candidates(wrong, sarcasm, mixed, confidence, max_candidates=budget, random_sample_size=n_random,
                             rng=np.random.default_rng(seed))


W = np.array([0, 1, 1, 0, 0, 0, 1, 0, 0, 0], dtype=bool)
S = np.array([0, 0, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
M = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
C = np.array([0.5, 0.85, 0.99, 0.7, 0.6, 0.6, 0.9, 0.5, 0.5, 0.5])


def test_targeted_order_without_random_sample():
    sel = select(W, S, M, C, budget=4, n_random=0)
    # confidently incorrect by confidence (2, 6, 1), then the sarcasm row not already taken (3).
    assert sel.index.tolist() == [1, 2, 3, 6]
    assert dict(zip(sel.index.tolist(), sel.selected_by.tolist())) == {
        2: "confidently_incorrect", 6: "confidently_incorrect", 1: "confidently_incorrect", 3: "sarcasm_cue"}
    # Row 2 meets both rules, row 3 both cues: every membership is recorded.
    assert sel.member["sarcasm_cue"].tolist() == [False, True, True, False]
    assert sel.member["mixed_cue"].tolist() == [False, False, True, False]
    assert sel.available == {"rows": 10, "confidently_incorrect": 3, "sarcasm_cue": 2, "mixed_cue": 3}


def test_budget_cut_keeps_the_most_confident_errors():
    sel = select(W, S, M, C, budget=2, n_random=0)
    assert sel.index.tolist() == [2, 6]


def test_random_sample_comes_first_and_targeted_rows_fill_the_rest():
    sel = select(W, S, M, C, budget=7, n_random=3, seed=1)
    assert len(sel.index) == 7 and sel.member["random_sample"].sum() == 3
    assert set(np.flatnonzero(W)) <= set(sel.index)  # all confidently incorrect rows fit
    # Rows both sampled and targeted are chosen once and keep both memberships.
    assert (sel.targeted | sel.member["random_sample"]).all()


def test_whole_budget_random_is_a_plain_random_sample():
    sel = select(W, S, M, C, budget=5, n_random=10)
    assert len(sel.index) == 5 and sel.member["random_sample"].all() and not (sel.selected_by != "random_sample").any()


def test_same_seed_same_choice_other_seed_other_sample():
    z = np.zeros(1000, dtype=bool)
    c = np.full(1000, 0.5)
    a = select(z, z, z, c, budget=50, n_random=50, seed=3).index
    assert np.array_equal(a, select(z, z, z, c, budget=50, n_random=50, seed=3).index)
    assert not np.array_equal(a, select(z, z, z, c, budget=50, n_random=50, seed=4).index)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"sarcasm_cue must have shape \(10,\), got \(3,\)"):
        select(W, S[:3], M, C, budget=3, n_random=0)
    with pytest.raises(ValueError, match="must be >= 0"):
        select(W, S, M, C, budget=-1, n_random=0)


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.floats(0, 1)), max_size=40),
       st.integers(0, 50), st.integers(0, 50))
def test_budget_and_priority_invariants(rows, budget, n_random):
    w, s, m, c = (np.array([r[k] for r in rows], dtype=float if k == 3 else bool) for k in range(4))
    if not rows:
        w = s = m = np.zeros(0, dtype=bool)
        c = np.zeros(0)
    sel = select(w, s, m, c, budget=budget, n_random=n_random)
    n = len(rows)
    sampled = sel.member["random_sample"]
    assert sampled.sum() == min(n_random, budget, n)
    # Every sampled row is chosen; targeted rows fill the rest of the budget: |sample U targeted|, capped.
    targeted_total = int((w | s | m).sum())
    union = int(sampled.sum()) + targeted_total - int((sampled & sel.targeted).sum())
    assert len(sel.index) == min(budget, union)
    assert len(np.unique(sel.index)) == len(sel.index)
    # If any confidently incorrect row was left out, the budget is full.
    if w.sum() > sel.member["confidently_incorrect"].sum():
        assert len(sel.index) == budget
