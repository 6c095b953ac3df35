"""Quantiles read off value counts: numpy's own numbers, without the rows."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.slices.valuecounts import linear_quantiles, merge_value_counts, order_statistics, value_counts

ROWS = st.lists(st.integers(-5, 40), min_size=1, max_size=80)


@settings(max_examples=80, deadline=None)
@given(ROWS, st.integers(1, 12))
def test_order_statistics_are_numpys_lower_quantiles(rows, q):
    levels = np.linspace(0, 1, q + 1)
    distinct, counts = value_counts(np.asarray(rows, dtype=float))
    expected = np.quantile(np.asarray(rows, dtype=float), levels, method="lower")
    assert np.array_equal(order_statistics(distinct, counts, levels), expected)


@settings(max_examples=120, deadline=None)
@given(ROWS, st.integers(2, 12))
def test_linear_quantiles_are_numpys_to_the_bit(rows, m):
    levels = np.arange(1, m) / m  # the word-count bins' levels
    x = np.asarray(rows, dtype=float)
    distinct, counts = value_counts(x)
    assert np.array_equal(linear_quantiles(distinct.astype(float), counts, levels), np.quantile(x, levels))
    edge = np.array([0.0, 0.5, 1.0])
    assert np.array_equal(linear_quantiles(distinct.astype(float), counts, edge), np.quantile(x, edge))


@given(ROWS, ROWS)
def test_counts_add_up(a, b):
    merged = merge_value_counts(value_counts(a), value_counts(b))
    whole = value_counts(a + b)
    assert np.array_equal(merged[0], whole[0]) and np.array_equal(merged[1], whole[1])
