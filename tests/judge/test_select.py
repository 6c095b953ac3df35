"""Candidate selection rules on hand-made cue arrays; the rank keys come from the rows' ids."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blindspot.judge.select import DRAWS, RankKeys, select_candidates
from blindspot.samples import row_hash


def ids_of(n):
    return np.array([f"r-{i}" for i in range(n)], dtype=object)


def select(wrong, sarcasm, mixed, confidence, *, budget, n_random, seed=0, ids=None):
    ids = ids_of(len(confidence)) if ids is None else ids
    return select_candidates(wrong, sarcasm, mixed, confidence, max_candidates=budget, random_sample_size=n_random,
                             ranks=RankKeys.of(ids, seed))


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


def test_rank_keys_are_the_named_row_hashes_of_the_ids():
    ids = ids_of(25)
    keys = RankKeys.of(ids, 7)
    for draw in DRAWS:
        assert np.array_equal(getattr(keys, draw), row_hash(7, ids, f"judge/{draw}"))
    assert len(keys) == 25


def test_random_sample_is_the_rows_of_smallest_key():
    n, k, seed = 40, 6, 5
    z = np.zeros(n, dtype=bool)
    sel = select(z, z, z, np.full(n, 0.5), budget=k, n_random=k, seed=seed)
    want = np.sort(np.argsort(row_hash(seed, ids_of(n), "judge/random_sample"))[:k])
    assert sel.index.tolist() == want.tolist()


def test_cue_rows_are_cut_by_their_own_keys():
    n, seed = 30, 2
    sarcasm = np.arange(n) < 12
    mixed = (np.arange(n) >= 8) & (np.arange(n) < 25)  # 8-11 have both cues: they count as sarcasm rows
    z = np.zeros(n, dtype=bool)
    sel = select(z, sarcasm, mixed, np.full(n, 0.5), budget=16, n_random=0, seed=seed)
    s_key, m_key = (row_hash(seed, ids_of(n), f"judge/{d}") for d in ("sarcasm_cue", "mixed_cue"))
    # All 12 sarcasm rows fit; the 4 mixed-only rows (12-24) of smallest mixed key fill the rest.
    mixed_only = np.arange(12, 25)
    want = set(range(12)) | set(mixed_only[np.argsort(m_key[mixed_only])[:4]].tolist())
    assert set(sel.index.tolist()) == want
    sel = select(z, sarcasm, mixed, np.full(n, 0.5), budget=5, n_random=0, seed=seed)
    assert set(sel.index.tolist()) == set(np.argsort(s_key[:12])[:5].tolist())
    assert set(sel.selected_by) == {"sarcasm_cue"}


def test_confidence_ties_are_broken_by_key_not_position():
    n, seed = 12, 4
    wrong = np.ones(n, dtype=bool)
    conf = np.full(n, 0.9)
    conf[11] = 0.95  # the most confident row comes first whatever its key
    z = np.zeros(n, dtype=bool)
    sel = select(wrong, z, z, conf, budget=4, n_random=0, seed=seed)
    key = row_hash(seed, ids_of(n), "judge/sarcasm_cue")
    assert set(sel.index.tolist()) == {11} | set(np.argsort(key[:11])[:3].tolist())
    assert set(sel.index.tolist()) != {0, 1, 2, 11}  # the file's first ties would be another choice


def test_random_sample_and_cue_order_are_uniform_over_seeds():
    # Every row is sampled with probability k/n and every cue row is first with probability 1/m:
    # 2000 seeds, binomial standard errors about 0.01 and 0.009, checked at about five of them.
    n, k, seeds = 20, 5, 2000
    z = np.zeros(n, dtype=bool)
    cue = np.arange(n) < 5
    sampled, first = np.zeros(n), np.zeros(n)
    for seed in range(seeds):
        sampled[select(z, z, z, np.full(n, 0.5), budget=k, n_random=k, seed=seed).index] += 1
        first[select(z, cue, z, np.full(n, 0.5), budget=1, n_random=0, seed=seed).index] += 1
    assert np.abs(sampled / seeds - k / n).max() < 0.05
    assert np.abs(first[:5] / seeds - 1 / 5).max() < 0.05 and first[5:].sum() == 0


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.sampled_from([0.8, 0.9, 1.0])),
                min_size=1, max_size=40),
       st.integers(0, 30), st.integers(0, 30), st.randoms(use_true_random=False))
def test_the_same_rows_in_another_order_give_the_same_choice(rows, budget, n_random, rnd):
    w, s, m, c = (np.array([r[k] for r in rows], dtype=float if k == 3 else bool) for k in range(4))
    ids = ids_of(len(rows))
    perm = np.array(rnd.sample(range(len(rows)), len(rows)))

    def chosen(order):
        sel = select(w[order], s[order], m[order], c[order], budget=budget, n_random=n_random, seed=9, ids=ids[order])
        picked = ids[order][sel.index]
        return {i: (by, *(bool(sel.member[r][j]) for r in sel.member)) for j, (i, by) in enumerate(zip(picked, sel.selected_by))}

    assert chosen(perm) == chosen(np.arange(len(rows)))


def test_rank_keys_shapes_are_checked():
    keys = RankKeys.of(ids_of(9), 0)
    with pytest.raises(ValueError, match=r"ranks.random_sample must have shape \(10,\), got \(9,\)"):
        select_candidates(W, S, M, C, max_candidates=3, random_sample_size=1, ranks=keys)


def test_turn_is_the_order_the_rules_chose_the_rows():
    sel = select(W, S, M, C, budget=6, n_random=2, seed=1)
    by_turn = sel.index[np.argsort(sel.turn)]
    key = row_hash(1, ids_of(10), "judge/random_sample")
    sampled = np.argsort(key)[:2]
    mixed_key = row_hash(1, ids_of(10), "judge/mixed_cue")
    mixed_only = sorted((4, 5), key=lambda i: mixed_key[i])
    # The sample by key; then the confidently incorrect by confidence (2, 6, 1); then sarcasm (3), mixed by key.
    want = [int(i) for i in sampled] + [i for i in (2, 6, 1, 3, *mixed_only) if i not in sampled]
    assert by_turn.tolist() == want[:6]
    assert sorted(sel.turn.tolist()) == list(range(6))
