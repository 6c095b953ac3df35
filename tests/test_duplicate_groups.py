"""The per-partition reduce of the duplicate checks (blindspot.duplicates.DigestGroups).

Records of any split of the rows merge into the records of all of them; buckets' counts add
up to the whole; with the row positions as ranks the counts give exactly the numbers of the
in-memory reference (groups numbered by first appearance); with a seeded hash of the ids
as ranks, the same rows in any order give the same numbers.
"""

import json
from dataclasses import astuple, fields

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot import duplicates, profiling
from blindspot.duplicates import DIGEST, DigestGroups, DuplicateCounts
from blindspot.samples import row_hash


def pool_of_digests(rng, k: int) -> np.ndarray:
    """``k`` distinct digests, some pairs sharing their first half and some their second:
    grouping must read all 128 bits."""
    halves = rng.integers(0, 2 ** 64, size=(k, 2), dtype=np.uint64)
    halves[1::4, 0] = halves[0::4, 0][: len(halves[1::4])]  # same first half, different second
    halves[2::4, 1] = halves[0::4, 1][: len(halves[2::4])]  # same second half, different first
    halves = np.unique(halves, axis=0)
    return np.ascontiguousarray(halves).view(DIGEST).reshape(-1)


def table(rng, n: int, k: int, n_labels: int = 3):
    """``n`` rows drawing their digest from ``k`` distinct ones (k small: many repeats)."""
    pool = pool_of_digests(rng, max(k, 1))
    digests = pool[rng.integers(0, len(pool), n)]
    labels = rng.integers(0, n_labels, n).astype(np.int64)
    correct = rng.random(n) < rng.random()
    ids = np.array([f"row-{i}" for i in rng.permutation(10 * n + 1)[:n]], dtype=object)
    return digests, labels, correct, ids


def assert_same_groups(a: DigestGroups, b: DigestGroups):
    assert a.digests.dtype == b.digests.dtype == DIGEST
    assert np.array_equal(a.digests.view(np.uint64), b.digests.view(np.uint64))
    for f in fields(DigestGroups)[1:]:
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert x.dtype == y.dtype and np.array_equal(x, y), f.name


def same_dict(a: dict, b: dict) -> bool:
    """Equal values and key order, NaN equal to NaN."""
    return json.dumps(a) == json.dumps(b)


def reference(digests, labels, correct, level=0.95):
    codes = duplicates.digest_codes(digests)
    return (profiling.duplicate_profile_of_groups(codes, labels),
            duplicates.duplicate_accuracy_of_groups(codes, labels, correct, level=level))


def from_groups(groups: DigestGroups, level=0.95):
    c = groups.counts()
    return duplicates.duplicate_profile_from_counts(c), duplicates.duplicate_accuracy_from_counts(c, level)


rows_strategy = st.tuples(st.integers(0, 400), st.integers(1, 60), st.integers(1, 4), st.integers(0, 2 ** 32))


# ---------------------------------------------------------------- merging and buckets

def ranked(shape):
    """A drawn table's rows ranked as the stage ranks them, and their records:
    ``(n, rng, (digests, labels, correct, rank), records)``."""
    n, k, n_labels, seed = shape
    rng = np.random.default_rng(seed)
    digests, labels, correct, ids = table(rng, n, k, n_labels)
    rank = row_hash(seed, ids, "profile/duplicate_representative")
    return n, rng, (digests, labels, correct, rank), DigestGroups.of(digests, labels, correct, rank)


@settings(max_examples=200, deadline=None)
@given(rows_strategy, st.lists(st.floats(0, 1), max_size=6))
def test_records_of_all_rows_equal_the_merge_of_any_split_in_any_order(shape, cuts):
    n, rng, (digests, labels, correct, rank), whole = ranked(shape)

    perm = rng.permutation(n)
    bounds = [0, *sorted(int(c * n) for c in cuts), n]
    parts = [DigestGroups.of(digests[p], labels[p], correct[p], rank[p])
             for p in (perm[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:]))]
    rng.shuffle(parts)
    folded = DigestGroups.empty()
    for part in parts:
        folded = part.merge(folded) if rng.random() < 0.5 else folded.merge(part)
    assert_same_groups(folded, whole)
    assert_same_groups(DigestGroups.merged(parts), whole)
    assert folded.counts() == whole.counts()


@settings(max_examples=150, deadline=None)
@given(rows_strategy, st.integers(0, 10))
def test_buckets_hold_each_digest_whole_and_their_counts_add_up(shape, bits):
    n, rng, (digests, labels, correct, rank), whole = ranked(shape)
    buckets = whole.buckets(2 ** bits)
    assert len(buckets) == 2 ** bits
    for b, bucket in enumerate(buckets):
        assert (duplicates.digest_buckets(bucket.digests, 2 ** bits) == b).all()
    assert_same_groups(DigestGroups.merged(buckets), whole)
    assert DuplicateCounts.total(b.counts() for b in buckets) == whole.counts()
    # A batch's buckets are the same digests' records as the whole table's: merging bucket b
    # of every batch gives bucket b of the table.
    half = n // 2
    first = DigestGroups.of(digests[:half], labels[:half], correct[:half], np.arange(half))
    second = DigestGroups.of(digests[half:], labels[half:], correct[half:], np.arange(half, n))
    positions = DigestGroups.of(digests, labels, correct, np.arange(n)).buckets(2 ** bits)
    for a, b, want in zip(first.buckets(2 ** bits), second.buckets(2 ** bits), positions):
        assert_same_groups(a.merge(b), want)


def test_buckets_split_by_the_leading_bits():
    halves = np.array([[0, 5], [2 ** 63, 1], [2 ** 62, 0], [2 ** 64 - 1, 9], [2 ** 63, 1]], dtype=np.uint64)
    d = halves.view(DIGEST).reshape(-1)
    groups = DigestGroups.of(d, [0, 1, 0, 0, 1], [True] * 5, np.arange(5))
    assert [len(b) for b in groups.buckets(4)] == [1, 1, 1, 1]
    assert [int(b.size.sum()) for b in groups.buckets(2)] == [2, 3]
    assert duplicates.digest_buckets(d, 4).tolist() == [0, 2, 1, 3, 2]
    assert duplicates.digest_buckets(d, 1).tolist() == [0] * 5
    for bad in (0, 3, 6, 2 ** 33):
        with pytest.raises(ValueError, match="power of two"):
            groups.buckets(bad)


# ---------------------------------------------------------------- against the reference

@settings(max_examples=300, deadline=None)
@given(rows_strategy)
def test_positions_as_ranks_give_the_reference_numbers(shape):
    n, k, n_labels, seed = shape
    digests, labels, correct, _ = table(np.random.default_rng(seed), n, k, n_labels)
    got = from_groups(DigestGroups.of(digests, labels, correct, np.arange(n, dtype=np.uint64)))
    want = reference(digests, labels, correct)
    assert same_dict(got[0], want[0]) and same_dict(got[1], want[1])


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", ["none", "all", "half", "pairs", "one_text", "conflicts"])
def test_positions_as_ranks_give_the_reference_numbers_on_shaped_tables(seed, kind):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    pool = pool_of_digests(rng, 2 * n + 2)
    pick = {"none": lambda: rng.permutation(len(pool))[:n],          # every text once
            "all": lambda: np.repeat(np.arange(n), 2)[:n] if n > 1 else np.zeros(1, int),
            "half": lambda: rng.integers(0, max(n // 2, 1), n),
            "pairs": lambda: np.concatenate([np.arange(n // 3).repeat(2), n + np.arange(n - 2 * (n // 3))]),
            "one_text": lambda: np.zeros(n, int),
            "conflicts": lambda: rng.integers(0, max(n // 10, 1), n)}[kind]()
    digests = pool[rng.permutation(pick)]
    labels = rng.integers(0, 2 if kind == "conflicts" else 5, n)
    if kind == "pairs":  # leakage-like: copies share the label
        labels = duplicates.digest_codes(digests) % 3
    correct = rng.random(n) < 0.8
    for level in (0.9, 0.95):
        got = from_groups(DigestGroups.of(digests, labels, correct, np.arange(n)), level)
        want = reference(digests, labels, correct, level)
        assert same_dict(got[0], want[0]) and same_dict(got[1], want[1])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "X ", " x", "y", "Y", "z", "zz", "w", ""]),
                          st.integers(0, 2), st.booleans()), max_size=40))
def test_text_digests_reduced_give_the_profile_of_the_texts(rows):
    texts, labels, correct = (list(c) for c in zip(*rows)) if rows else ([], [], [])
    exact, normalised = duplicates.text_digests(pd.Series(texts, dtype="string"))
    positions = np.arange(len(texts))
    got = duplicates.duplicate_accuracy_from_counts(DigestGroups.of(normalised, labels, correct, positions).counts(),
                                                    0.95)
    assert same_dict(got, duplicates.duplicate_accuracy(texts, labels, correct, level=0.95))
    got = duplicates.duplicate_profile_from_counts(DigestGroups.of(exact, labels, correct, positions).counts())
    assert same_dict(got, profiling.duplicate_profile(pd.Series(texts, dtype="str"), labels))


def test_reference_counts_and_groups_agree_field_by_field():
    digests, labels, correct, _ = table(np.random.default_rng(5), 500, 80)
    assert (DigestGroups.of(digests, labels, correct, np.arange(500)).counts()
            == duplicates.counts_of_codes(duplicates.digest_codes(digests), labels, correct))


# ---------------------------------------------------------------- the seeded representative

@settings(max_examples=150, deadline=None)
@given(rows_strategy)
def test_shuffled_rows_with_a_hash_rank_give_identical_records(shape):
    n, rng, (digests, labels, correct, rank), whole = ranked(shape)
    p = rng.permutation(n)
    assert_same_groups(DigestGroups.of(digests[p], labels[p], correct[p], rank[p]), whole)
    # The representative is the row of smallest hash (a pandas oracle).
    df = pd.DataFrame({"key": digests.view(np.uint64).reshape(-1, 2).tolist(), "rank": rank, "correct": correct})
    df["key"] = df["key"].map(tuple)
    reps = df.sort_values("rank", kind="stable").drop_duplicates("key")
    sizes = df.groupby("key").size()
    want = int(reps[reps["key"].map(sizes) > 1]["correct"].sum())
    assert whole.counts().duplicated_rep_correct == want


def test_the_representative_follows_the_rank_not_the_position():
    d = pool_of_digests(np.random.default_rng(0), 1)[[0, 0, 0]]
    first_wrong = DigestGroups.of(d, [1, 1, 1], [False, True, True], [9, 4, 7])
    assert first_wrong.rep_rank.tolist() == [4] and first_wrong.rep_correct.tolist() == [True]
    assert first_wrong.counts().duplicated_rep_correct == 1
    by_position = DigestGroups.of(d, [1, 1, 1], [False, True, True], np.arange(3))
    assert by_position.counts().duplicated_rep_correct == 0


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 0, 2]])
def test_a_tie_in_rank_counts_a_correct_representative_however_merged(order):
    d = pool_of_digests(np.random.default_rng(1), 1)[[0, 0, 0]]
    correct, rank = np.array([False, True, False]), np.array([3, 3, 8], dtype=np.uint64)
    singles = [DigestGroups.of(d[[i]], [0], correct[[i]], rank[[i]]) for i in order]
    merged = singles[0].merge(singles[1]).merge(singles[2])
    assert merged.rep_correct.tolist() == [True] and merged.rep_rank.tolist() == [3]
    assert_same_groups(merged, DigestGroups.of(d[order], [0, 0, 0], correct[order], rank[order]))


# ---------------------------------------------------------------- empty inputs and errors

def test_empty_inputs():
    none = np.zeros(0, dtype=DIGEST)
    empty = DigestGroups.of(none, [], [], [])
    assert_same_groups(empty, DigestGroups.empty())
    assert astuple(empty.counts()) == (0,) * len(fields(DuplicateCounts))
    assert empty.counts() == DuplicateCounts() == DuplicateCounts.total([])
    assert all(len(b) == 0 for b in empty.buckets(8))
    assert_same_groups(DigestGroups.merged([]), empty)
    digests, labels, correct, _ = table(np.random.default_rng(2), 50, 10)
    some = DigestGroups.of(digests, labels, correct, np.arange(50))
    assert_same_groups(some.merge(empty), some)
    assert_same_groups(empty.merge(some), some)
    got = from_groups(empty)
    want = reference(none, np.zeros(0, np.int64), np.zeros(0, bool))
    assert same_dict(got[0], want[0]) and same_dict(got[1], want[1])
    assert got[1]["easier_p_value_reason"] == "no text occurs more than once"


def test_of_refuses_rows_of_different_lengths_and_non_integer_codes():
    d = pool_of_digests(np.random.default_rng(3), 2)
    with pytest.raises(ValueError, match="one entry per row"):
        DigestGroups.of(d, [0], [True, False], [0, 1])
    with pytest.raises(ValueError, match="labels must be integers"):
        DigestGroups.of(d, ["a", "b"], [True, False], [0, 1])
    with pytest.raises(ValueError, match="rank must be non-negative"):
        DigestGroups.of(d, [0, 1], [True, False], [0, -1])
