"""Conjunction enumeration and the "explained by a parent" rule."""

from itertools import combinations

import numpy as np
import pytest

from blindspot.slices import discovery as dv
from blindspot.slices.evaluate import cells


def case(seed=0, n=500):
    rng = np.random.default_rng(seed)
    matrix = rng.random((n, 5)) < np.array([0.5, 0.4, 0.3, 0.2, 0.05])
    matrix[:, 1] = ~matrix[:, 0] & (rng.random(n) < 0.8)  # same feature as column 0: disjoint values
    features = ["a", "a", "b", "c", "d"]
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.8, y_true, 1 - y_true)
    return matrix, features, y_true, y_pred


def test_enumeration_is_exactly_the_supported_cross_feature_conjunctions():
    matrix, features, y_true, y_pred = case()
    got = dv.enumerate_conjunctions(matrix, features, cells(y_true, y_pred, 2), 2, max_depth=3, min_support=30)
    expected = []
    for depth in (1, 2, 3):
        for combo in combinations(range(5), depth):
            if len({features[j] for j in combo}) < depth:
                continue
            n = np.logical_and.reduce(matrix[:, combo], axis=1).sum()
            parts = [matrix[:, j].sum() for j in combo]
            if n >= 30 and (depth == 1 or n < min(parts)):
                expected.append(combo)
    assert sorted(got.members) == sorted(expected)
    for m, n, e in zip(got.members, got.counts.n, got.counts.errors):  # oracle counts
        mask = np.logical_and.reduce(matrix[:, m], axis=1)
        assert n == mask.sum() and e == (y_true[mask] != y_pred[mask]).sum()


def test_identical_conjunctions_are_not_enumerated():
    matrix = np.zeros((100, 2), bool)
    matrix[:50, 0] = True
    matrix[:40, 1] = True  # subset of column 0: the pair is column 1 again
    got = dv.enumerate_conjunctions(matrix, ["x", "y"], cells(np.zeros(100, int), np.zeros(100, int), 2), 2,
                                    max_depth=2, min_support=10)
    assert got.members == [(0,), (1,)]


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="max_depth must be at least 1; got 0"):
        dv.enumerate_conjunctions(np.zeros((3, 1), bool), ["x"], np.zeros(3, np.int64), 2, max_depth=0,
                                  min_support=1)


def test_explained_by_parent():
    members = [(0,), (1,), (0, 1), (0, 2)]
    score = np.array([[5.0, np.nan], [1.0, 2.0], [4.0, 3.0], [9.0, 1.0]])
    got = dv.explained_by_parent(members, score)
    # (0,1): parent (0,) scores 5 >= 4 on metric 0; on metric 1 (0,) untested, (1,) 2 < 3.
    # (0,2): parent (2,) absent, (0,) 5 < 9.
    assert got.tolist() == [[False, False], [False, False], [True, False], [False, False]]


def test_packed_predicates_give_the_same_candidates():
    from blindspot.bits import BitColumns

    matrix, features, y_true, y_pred = case()
    cell = cells(y_true, y_pred, 2)
    dense = dv.enumerate_conjunctions(matrix, features, cell, 2, max_depth=3, min_support=30)
    packed = dv.enumerate_conjunctions(BitColumns.from_dense(matrix), features, cell.astype(np.int8), 2,
                                       max_depth=3, min_support=30)
    assert packed.members == dense.members
    for name in ("n", "errors", "support", "correct"):
        np.testing.assert_array_equal(getattr(packed.counts, name), getattr(dense.counts, name))
