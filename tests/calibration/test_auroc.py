"""The bucketed exact AUROC: equal to independent counts, and the same bits however the rows are split."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from blindspot.calibration.auroc import (
    BucketU,
    auroc_of_buckets,
    bucket_rows,
    bucket_u,
    edges_from_values,
    exact_auroc,
)
from blindspot.calibration.quantiles import float_keys
from blindspot.calibration.summary import confidence_auroc

MAX_KEY = np.iinfo(np.uint64).max


def rows(n, *, seed, decimals=None):
    """Confidences in [0, 1] whose correctness rises with them (an AUROC well away from 0.5)."""
    rng = np.random.default_rng(seed)
    confidence = rng.beta(4, 2, n)
    if decimals is not None:
        confidence = np.round(confidence, decimals)
    correct = rng.random(n) < confidence
    return correct, confidence


def pair_count_auroc(correct, confidence) -> float:
    """Every (correct, wrong) pair compared in Python: 1 above, 1/2 tied, as an exact fraction rounded once."""
    right = [c for c, ok in zip(confidence, correct) if ok]
    wrong = [c for c, ok in zip(confidence, correct) if not ok]
    u2 = sum(2 * (r > w) + (r == w) for r in right for w in wrong)
    return float(Fraction(u2, 2 * len(right) * len(wrong)))


def bucketed_auroc(batches, edges) -> float:
    """Each batch mapped alone, each bucket reduced from its parts of every batch (in reverse batch order)."""
    mapped = [bucket_rows(confidence, correct, edges) for correct, confidence in batches]
    n_buckets = len(edges) + 1
    assert all(len(m) == n_buckets for m in mapped)
    return auroc_of_buckets([bucket_u([m[b] for m in reversed(mapped)]) for b in range(n_buckets)])


def random_batches(correct, confidence, n_batches, rng):
    """The rows shuffled, then cut at random points into n_batches batches (some may be empty)."""
    order = rng.permutation(correct.size)
    cuts = np.sort(rng.integers(0, correct.size + 1, n_batches - 1))
    return [(c, x) for c, x in zip(np.split(correct[order], cuts), np.split(confidence[order], cuts))]


# --------------------------------------------------------------------------- NaN (the key itself: test_quantiles.py)


def test_nan_is_refused_with_its_count():
    with pytest.raises(ValueError, match="1 of 2"):
        exact_auroc([True, False], [np.nan, 0.5])


# --------------------------------------------------------------------------- one batch against independent counts


@pytest.mark.parametrize("decimals", [None, 2])
def test_equals_sklearn_and_the_rank_sum_form(decimals):
    correct, confidence = rows(20_000, seed=1, decimals=decimals)
    if decimals is not None:
        assert np.unique(confidence).size < 110  # ties everywhere
    got = exact_auroc(correct, confidence)
    assert 0.6 < got < 0.9
    assert got == pytest.approx(roc_auc_score(correct, confidence), abs=1e-12)
    assert got == pytest.approx(confidence_auroc(correct, confidence), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_equals_a_pair_count_exactly(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 120))
    correct = rng.random(n) < 0.6
    correct[:2] = [True, False]
    # A few distinct values, zeros of both signs among them: many ties, within and across classes.
    confidence = rng.choice([-0.0, 0.0, 0.25, 0.5, 0.5000000000000001, 0.9, 1.0], n)
    if seed % 2:
        confidence = rng.random(n)
    assert exact_auroc(correct, confidence) == pair_count_auroc(correct, confidence)


# --------------------------------------------------------------------------- batches and buckets


@pytest.mark.parametrize("decimals", [None, 2])
def test_the_same_bits_whatever_the_batches_and_buckets(decimals):
    correct, confidence = rows(5000, seed=7, decimals=decimals)
    reference = exact_auroc(correct, confidence)
    assert reference == pytest.approx(roc_auc_score(correct, confidence), abs=1e-12)
    rng = np.random.default_rng(8)
    sample = rng.choice(confidence, 500, replace=False)
    lo, hi = float_keys([confidence.min(), confidence.max()])
    edge_sets = {f"{b} buckets": edges_from_values(sample, b) for b in (1, 2, 5, 64)}
    edge_sets["all below the rows"] = np.zeros(3, dtype=np.uint64)  # everything in the last bucket
    edge_sets["all above the rows"] = np.full(4, MAX_KEY, dtype=np.uint64)  # everything in the first
    edge_sets["repeated, empty buckets between"] = np.array([lo, lo, lo + 1, hi, hi, MAX_KEY], dtype=np.uint64)
    assert edge_sets["1 buckets"].size == 0
    assert edge_sets["64 buckets"].size > (40 if decimals else 60)
    for name, edges in edge_sets.items():
        for n_batches in (1, 3, 7):
            batches = random_batches(correct, confidence, n_batches, rng)
            assert bucketed_auroc(batches, edges) == reference, (name, n_batches)


def test_the_buckets_partition_the_rows_and_keep_ties_together():
    correct, confidence = rows(3000, seed=3, decimals=2)
    edges = edges_from_values(confidence, 16)
    parts = bucket_rows(confidence, correct, edges)
    sizes = [r.size + w.size for r, w in parts]
    assert sum(sizes) == correct.size and sum(r.size for r, _ in parts) == correct.sum()
    assert len(parts) == edges.size + 1 and max(sizes) < correct.size / 4  # balanced, not one bucket
    bucket_of = {}
    for b, (right, wrong) in enumerate(parts):
        for k in np.concatenate([right, wrong]).tolist():
            assert bucket_of.setdefault(k, b) == b  # a value lives in one bucket only
        for keys in (right, wrong):
            assert np.all(keys[1:] >= keys[:-1])
    assert list(bucket_of.values()) == sorted(bucket_of.values())  # keys ascend with the bucket
    u = [bucket_u([p]) for p in parts]
    assert sum(b.n_correct for b in u) == correct.sum() and sum(b.n_wrong for b in u) == (~correct).sum()


def test_a_bucket_counts_twice_u_by_hand():
    # correct at 0.2, 0.5, 0.9; wrong at 0.1, 0.5, 0.5, 0.95
    # 0.2: above 0.1 -> 2; 0.5: above 0.1 (2) + ties with two 0.5s (1 + 1) -> 4; 0.9: above three -> 6
    parts = bucket_rows([0.5, 0.1, 0.2, 0.5, 0.9, 0.95, 0.5], [False, False, True, True, True, False, False],
                        np.zeros(0, dtype=np.uint64))
    assert bucket_u(parts) == BucketU(n_correct=3, n_wrong=4, u2=12)
    assert auroc_of_buckets([bucket_u(parts)]) == 12 / 24
    # Split at 0.5: below, one correct over one wrong (u2 2); above, 0.5 and 0.9 against 0.5, 0.5, 0.95 (u2 2 + 4)
    # and the 2 correct rows above the 1 wrong row below (2 * 2 * 1).
    split = [bucket_u([p]) for p in bucket_rows([0.5, 0.1, 0.2, 0.5, 0.9, 0.95, 0.5],
                                                [False, False, True, True, True, False, False],
                                                float_keys([0.5]))]
    assert split == [BucketU(1, 1, 2), BucketU(2, 3, 6)]
    assert auroc_of_buckets(split) == 12 / 24


def test_counts_past_two_to_the_53_are_divided_exactly():
    """Ten billion rows' counts: U2 is not a float, and dividing the floats would round twice."""
    n1, n0, u2 = 9451636615, 5893143322, 13942126818862981423
    expected = float(Fraction(u2, 2 * n1 * n0))
    assert float(u2) / float(2 * n1 * n0) != expected  # the case is one where it matters
    assert auroc_of_buckets([BucketU(n1, n0, u2)]) == expected
    # The same pairs with 1000 wrong rows in a lower bucket: each is below every correct row.
    assert auroc_of_buckets([BucketU(0, 1000, 0), BucketU(n1, n0 - 1000, u2 - 2 * n1 * 1000)]) == expected


def test_unsorted_edges_are_refused():
    with pytest.raises(ValueError, match="non-decreasing"):
        bucket_rows([0.1, 0.2], [True, False], np.array([5, 3], dtype=np.uint64))


# --------------------------------------------------------------------------- through the engine


def _auroc_map(frame, *, edges):
    """A Source map: the batch's row count, and its rows' bucket parts."""
    return len(frame), bucket_rows(frame["confidence"], frame["correct"], edges)


def _auroc_reduce(parts):
    return bucket_u(parts[0])


def test_shuffle_buckets_on_the_local_engine_gives_the_whole_tables_auroc(tmp_path):
    from blindspot.engine.batches import Source, shuffle_buckets

    n = 2000
    correct, confidence = rows(n, seed=11, decimals=2)
    frame = pd.DataFrame({"id": pd.array([f"r{i}" for i in range(n)], dtype="string[pyarrow]"),
                          "confidence": confidence, "correct": correct})
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=300)
    edges = edges_from_values(confidence[:200], 8)
    source = Source(path, ["confidence", "correct"], partial(_auroc_map, edges=edges))
    smalls, reduced = shuffle_buckets([source], _auroc_reduce, edges.size + 1, engine="local", batch_rows=128)
    assert len(smalls[0]) > 10 and sum(smalls[0]) == n  # many batches
    assert len(reduced) == edges.size + 1 and sum(b.n_correct + b.n_wrong > 0 for b in reduced) > 4
    assert auroc_of_buckets(reduced) == exact_auroc(correct, confidence)


# --------------------------------------------------------------------------- edge cases


def test_one_class_or_no_row_gives_nan():
    assert math.isnan(exact_auroc([True, True, True], [0.1, 0.5, 0.9]))
    assert math.isnan(exact_auroc([False, False], [0.1, 0.5]))
    assert math.isnan(exact_auroc([True], [0.7]))
    assert math.isnan(exact_auroc([], []))
    assert math.isnan(auroc_of_buckets([]))


def test_equal_values_give_one_half():
    assert exact_auroc([True, False, True, False, False], [0.8] * 5) == 0.5
    assert exact_auroc([True, False], [-0.0, 0.0]) == 0.5
    assert exact_auroc([False, True], [-0.0, 0.0]) == 0.5


def test_edges_from_values():
    assert edges_from_values([], 5).size == 0
    assert edges_from_values([0.3, 0.1], 1).size == 0
    np.testing.assert_array_equal(edges_from_values(np.arange(100.0), 4), float_keys([25.0, 50.0, 75.0]))
    np.testing.assert_array_equal(edges_from_values([0.5] * 10 + [0.9], 4), float_keys([0.5]))
    with pytest.raises(ValueError, match="at least 1"):
        edges_from_values([0.1], 0)
