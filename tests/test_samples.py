"""Mergeable per-row selections: the merge of any split equals the one-pass result."""

import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.samples import Reservoir, TopK, hash_order, hash_sample, row_hash


@st.composite
def scored_rows(draw):
    n = draw(st.integers(0, 80))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    score = rng.integers(0, 6, n) / 5  # many ties, so the id tie-break matters
    ids = np.array([f"r{i}" for i in rng.permutation(n)], dtype=object)
    left = rng.random(n) < draw(st.floats(0, 1))
    k = draw(st.one_of(st.none(), st.integers(0, 30)))
    return score, ids, left, k, draw(st.booleans())


@settings(max_examples=300, deadline=None)
@given(scored_rows())
def test_top_k_of_two_halves_merged_equals_top_k_of_all(case):
    score, ids, left, k, descending = case
    rows = np.arange(score.size)
    whole = TopK.of(score, ids, k=k, descending=descending)
    a = TopK.of(score[left], ids[left], rows[left], k=k, descending=descending)
    b = TopK.of(score[~left], ids[~left], rows[~left], k=k, descending=descending)
    for merged in (a.merge(b), b.merge(a)):
        np.testing.assert_array_equal(merged.rows, whole.rows)


@settings(max_examples=100, deadline=None)
@given(scored_rows())
def test_top_k_is_the_sort_by_score_then_id(case):
    score, ids, _, k, descending = case
    frame = pd.DataFrame({"k": score, "id": ids.astype(str), "pos": np.arange(score.size)})
    order = frame.sort_values(["k", "id"], ascending=[not descending, True], kind="mergesort")["pos"].to_numpy()
    expected = order if k is None else order[:k]
    np.testing.assert_array_equal(TopK.of(score, ids, k=k, descending=descending).rows, expected)


@settings(max_examples=300, deadline=None)
@given(scored_rows(), st.integers(0, 2**31))
def test_reservoir_of_two_halves_merged_equals_the_one_pass_sample(case, seed):
    _, ids, left, k, _ = case
    k = 5 if k is None else k
    rows = np.arange(ids.size)
    whole = Reservoir.of(ids, k=k, seed=seed)
    merged = Reservoir.of(ids[left], rows[left], k=k, seed=seed).merge(Reservoir.of(ids[~left], rows[~left], k=k,
                                                                                      seed=seed))
    np.testing.assert_array_equal(merged.rows, whole.rows)
    assert len(whole.rows) == min(k, ids.size)


def test_the_reservoir_depends_on_the_seed_and_ids_only():
    ids = np.array([f"id-{i}" for i in range(1000)])
    shuffled = np.random.default_rng(0).permutation(1000)
    a = Reservoir.of(ids, k=20, seed=7)
    b = Reservoir.of(ids[shuffled], shuffled, k=20, seed=7)
    assert set(a.ids) == set(b.ids) and (np.sort(a.rows) == np.sort(b.rows)).all()
    assert set(Reservoir.of(ids, k=20, seed=8).ids) != set(a.ids)


def test_the_reservoir_is_roughly_uniform():
    ids = np.array([str(i) for i in range(200)])
    hits = np.zeros(200)
    for seed in range(300):
        hits[Reservoir.of(ids, k=20, seed=seed).rows] += 1
    # Each row is drawn with probability 0.1: 30 times in 300 samples on average.
    assert 15 < hits.min() and hits.max() < 50 and abs(hits.mean() - 30) < 1e-9


def test_row_hash_is_stable():
    assert row_hash(1, ["a"])[0] == row_hash(1, np.array(["a"]))[0]
    assert row_hash(1, ["a"])[0] != row_hash(2, ["a"])[0]


def test_mismatched_selections_do_not_merge():
    with pytest.raises(ValueError, match="different k"):
        TopK.of([1.0], ["a"], k=1).merge(TopK.of([1.0], ["b"], k=2))
    with pytest.raises(ValueError, match="different k or seed"):
        Reservoir.of(["a"], k=1, seed=1).merge(Reservoir.of(["b"], k=1, seed=2))
    with pytest.raises(ValueError, match="k must be"):
        Reservoir.of(["a"], k=-1, seed=1)


def test_draws_ranked_by_id_hash_do_not_depend_on_row_order():
    """A sample and an order ranked by row_hash pick the same ids for the rows in any order."""
    ids = np.array([f"id{i}" for i in range(503)], dtype=object)
    shuffled = np.random.default_rng(3).permutation(ids.size)
    for draw in (lambda h: hash_sample(h, 40), lambda h: hash_order(h)[:60]):
        assert set(ids[draw(row_hash(9, ids, "x"))]) == set(ids[shuffled][draw(row_hash(9, ids[shuffled], "x"))])


def test_row_hash_names_and_seeds_give_other_draws():
    ids = np.array([f"id{i}" for i in range(200)], dtype=object)
    a = set(hash_sample(row_hash(9, ids, "a"), 20))
    assert a != set(hash_sample(row_hash(9, ids, "b"), 20))
    assert a != set(hash_sample(row_hash(10, ids, "a"), 20))
    assert set(hash_sample(row_hash(9, ids, "a"), 20)) == a
    assert hash_sample(row_hash(9, ids), 500).tolist() == list(range(200))  # more than n: every row
    assert hash_sample(row_hash(9, ids), 0).size == 0


def test_row_hash_matches_a_hand_computed_value():
    """The hash is pandas' SipHash of the string, mixed by splitmix64 with the salt of (seed, name):
    recomputed here from its definition, by Python integers."""
    def mix(x):
        x = (x + 0x9E3779B97F4A7C15) % 2 ** 64
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % 2 ** 64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % 2 ** 64
        return x ^ (x >> 31)

    sip = int(pd.util.hash_pandas_object(pd.Series(["abc"], dtype="string"), index=False).iloc[0])
    salt = mix((7 ^ (zlib.crc32(b"judge") << 32)) % 2 ** 64)
    assert int(row_hash(7, ["abc"], "judge")[0]) == mix(sip ^ salt)


def test_row_hash_is_the_same_whatever_holds_the_ids(monkeypatch):
    """Arrays, lists, Series (Arrow-backed, or indexed in another order), chunked Arrow arrays and
    ranges give the same hashes, over several blocks with the last one short."""
    import pyarrow as pa

    import blindspot.samples as samples

    monkeypatch.setattr(samples, "HASH_BLOCK", 7)
    ids = np.array([f"id-{i}" for i in range(40)], dtype=object)
    expected = samples.row_hash(5, ids, "x")
    chunked = pa.chunked_array([pa.array(list(part), pa.large_string()) for part in (ids[:13], ids[13:])])
    for given in (list(ids), pd.Series(ids, dtype="string[pyarrow]"), pd.Series(ids, index=np.arange(40)[::-1]),
                  chunked, pa.array(list(ids))):
        np.testing.assert_array_equal(samples.row_hash(5, given, "x"), expected)
    # Without ids the positions stand for them, hashed as the strings "0", "1", ...
    np.testing.assert_array_equal(samples.row_hash(5, range(40), "x"), samples.row_hash(5, [str(i) for i in range(40)], "x"))


def test_row_hashes_of_several_names_are_each_names_row_hash():
    from blindspot.samples import row_hashes

    ids = np.array([f"id-{i}" for i in range(300)], dtype=object)
    for got, name in zip(row_hashes(4, ids, ["a", "b", ""]), ["a", "b", ""]):
        np.testing.assert_array_equal(got, row_hash(4, ids, name))
    assert row_hashes(4, ids, []) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 300), st.integers(0, 320), st.lists(st.floats(0, 1), max_size=5), st.integers(0, 2**32 - 1))
def test_smallest_keys_of_any_blocks_are_the_first_of_the_whole_order(n, k, cuts, seed):
    """The running bottom-k over blocks equals ranking all rows at once, ties (many: few key values) by row."""
    from blindspot.samples import smallest_keys

    keys = np.random.default_rng(seed).integers(0, 20, n).astype(np.uint64)
    rows = np.arange(n, dtype=np.int64) * 3 + 7  # positions need not be 0..n-1, only ascending
    bounds = [0, *sorted(int(c * n) for c in cuts), n]
    got = smallest_keys(((keys[lo:hi], rows[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])), k)
    assert got.tolist() == rows[hash_order(keys)][:k].tolist()
