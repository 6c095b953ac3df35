"""Per-batch shortlists, merged, choose what select_candidates chooses from every row."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.judge.agreement import OwnClassSums, confident_learning_suspects
from blindspot.judge.select import DRAWS, RankKeys, select_candidates
from blindspot.judge.shortlist import Scan, Shortlist, reduce_scans


@st.composite
def tables(draw):
    n = draw(st.integers(0, 120))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    confidence = rng.integers(5, 10, n) / 10  # few values: many ties, broken by key then position
    wrong = rng.random(n) < draw(st.floats(0, 1))
    sarcasm = rng.random(n) < draw(st.floats(0, 1))
    mixed = rng.random(n) < draw(st.floats(0, 1))
    ids = np.array([f"r{i}" for i in rng.permutation(n)], dtype=object)
    cuts = np.sort(rng.integers(0, n + 1, draw(st.integers(0, 5))))
    return (wrong, sarcasm, mixed, confidence, RankKeys.of(ids, 3), cuts, draw(st.integers(0, 40)),
            draw(st.integers(0, 40)))


def _part(keys: RankKeys, lo: int, hi: int) -> RankKeys:
    return RankKeys(**{d: getattr(keys, d)[lo:hi] for d in DRAWS})


@settings(max_examples=300, deadline=None)
@given(tables())
def test_merged_shortlists_choose_what_every_row_chooses(case):
    wrong, sarcasm, mixed, confidence, keys, cuts, max_candidates, random_sample_size = case
    n = confidence.size
    budget = dict(max_candidates=max_candidates, random_sample_size=random_sample_size)
    whole = select_candidates(wrong, sarcasm, mixed, confidence, ranks=keys, **budget)
    bounds = [0, *cuts.tolist(), n]
    parts = [Shortlist.of(wrong[lo:hi], sarcasm[lo:hi], mixed[lo:hi], confidence[lo:hi], _part(keys, lo, hi),
                          offset=lo, **budget) for lo, hi in zip(bounds[:-1], bounds[1:])]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    got = merged.select()
    assert got.index.tolist() == whole.index.tolist()
    assert got.selected_by.tolist() == whole.selected_by.tolist()
    assert got.turn.tolist() == whole.turn.tolist()
    assert got.available == whole.available
    for rule, member in whole.member.items():
        assert got.member[rule].tolist() == member.tolist()
    # What is kept stays bounded by the budget, not by the rows.
    assert merged.rows.size <= min(random_sample_size, max_candidates) + 3 * max_candidates


def test_a_shortlist_keeps_a_few_rows_of_many():
    rng = np.random.default_rng(0)
    n = 50_000
    keys = RankKeys.of(np.arange(n).astype(str), 1)
    s = Shortlist.of(rng.random(n) < 0.1, rng.random(n) < 0.05, rng.random(n) < 0.05, rng.random(n), keys,
                     max_candidates=250, random_sample_size=100)
    assert s.rows.size <= 100 + 3 * 250 and s.n_rows == n


def test_shortlists_of_other_budgets_do_not_merge():
    keys = RankKeys.of(["a"], 1)
    a = Shortlist.of([True], [False], [False], [0.9], keys, max_candidates=2, random_sample_size=1)
    b = Shortlist.of([True], [False], [False], [0.9], keys, max_candidates=3, random_sample_size=1, offset=1)
    with pytest.raises(ValueError, match="different budgets"):
        a.merge(b)


def test_scans_of_batches_reduce_with_their_offsets():
    keys = RankKeys.of([f"r{i}" for i in range(6)], 2)
    wrong = np.array([0, 1, 0, 1, 0, 1], bool)
    conf = np.array([0.5, 0.9, 0.5, 0.95, 0.5, 0.99])
    parts = [Scan(Shortlist.of(wrong[lo:hi], np.zeros(hi - lo, bool), np.zeros(hi - lo, bool), conf[lo:hi],
                               _part(keys, lo, hi), max_candidates=2, random_sample_size=0), None)
             for lo, hi in ((0, 2), (2, 5), (5, 6))]
    scan = reduce_scans(parts)
    assert scan.shortlist.n_rows == 6 and scan.shortlist.select().index.tolist() == [3, 5]  # the two most confident
    assert reduce_scans([]) is None


def test_own_class_sums_merge_exactly_and_are_the_class_means():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(3), 2000)
    y = rng.integers(0, 3, 2000)
    whole = OwnClassSums.of(y, p)
    halves = OwnClassSums.of(y[:700], p[:700]).merge(OwnClassSums.of(y[700:], p[700:]))
    order = rng.permutation(2000)
    shuffled = OwnClassSums.of(y[order], p[order])
    for other in (halves, shuffled):
        assert other.thresholds.tobytes() == whole.thresholds.tobytes()
    means = np.array([p[y == k, k].mean() for k in range(3)])
    np.testing.assert_allclose(whole.thresholds, means, rtol=0, atol=1e-15)
    flags, thresholds = confident_learning_suspects(y, p)
    assert thresholds.tobytes() == whole.thresholds.tobytes() and flags.dtype == bool
