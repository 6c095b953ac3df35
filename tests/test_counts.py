"""The count-table core: merge of any split equals the whole, views equal independent counts, resampling."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.counts import CountTable
from blindspot.stats import resample_counts


@st.composite
def rows_and_split(draw, max_groups=4, max_cells=5):
    n = draw(st.integers(0, 60))
    g = draw(st.integers(1, max_groups))
    c = draw(st.integers(1, max_cells))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    group = rng.integers(0, g, n)
    cell = rng.integers(0, c, n)
    value = rng.normal(size=n)
    member = rng.random((n, g)) < 0.4
    left = rng.random(n) < draw(st.floats(0, 1))
    return group, cell, value, member, left, g, c


@settings(max_examples=200, deadline=None)
@given(rows_and_split())
def test_merge_of_two_halves_equals_the_table_of_all_rows(case):
    group, cell, value, _, left, g, c = case
    whole = CountTable.from_codes(group, cell, g, c, sums={"v": value}, moments=True)
    a = CountTable.from_codes(group[left], cell[left], g, c, sums={"v": value[left]}, moments=True)
    b = CountTable.from_codes(group[~left], cell[~left], g, c, sums={"v": value[~left]}, moments=True)
    merged = a.merge(b)
    np.testing.assert_array_equal(merged.counts, whole.counts)  # integers: exact
    assert merged.counts.dtype == np.int64
    np.testing.assert_allclose(merged.sums["v"], whole.sums["v"], atol=1e-12)
    np.testing.assert_allclose(merged.m2["v"], whole.m2["v"], atol=1e-10)
    # A fixed order of addition: the same merge twice gives the same bits.
    assert merged.sums["v"].tobytes() == a.merge(b).sums["v"].tobytes()


@settings(max_examples=200, deadline=None)
@given(rows_and_split())
def test_merge_of_membership_tables_equals_the_whole(case):
    _, cell, _, member, left, _, c = case
    whole = CountTable.from_membership(member, cell, c)
    merged = CountTable.from_membership(member[left], cell[left], c).merge(
        CountTable.from_membership(member[~left], cell[~left], c))
    np.testing.assert_array_equal(merged.counts, whole.counts)


@settings(max_examples=200, deadline=None)
@given(rows_and_split())
def test_merge_of_keyed_tables_aligns_the_keys(case):
    group, cell, value, _, left, _, c = case
    keys = (group * 7 + cell) * 3  # any integers, some absent from either part
    whole = CountTable.from_keys(keys, sums={"v": value})
    merged = CountTable.from_keys(keys[left], sums={"v": value[left]}).merge(
        CountTable.from_keys(keys[~left], sums={"v": value[~left]}))
    np.testing.assert_array_equal(merged.cell_names, whole.cell_names)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    np.testing.assert_allclose(merged.sums["v"], whole.sums["v"], atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 6))
def test_the_confusion_view_equals_scikit_learn(seed, n, k):
    import warnings

    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(seed)
    y_true, y_pred = rng.integers(0, k, n), rng.integers(0, k, n)
    table = CountTable.from_codes(y_true, y_pred, k, k)
    with warnings.catch_warnings():  # one class only: scikit-learn warns, its matrix is right
        warnings.simplefilter("ignore", UserWarning)
        expected = confusion_matrix(y_true, y_pred, labels=np.arange(k))
    np.testing.assert_array_equal(table.counts, expected)


@settings(max_examples=100, deadline=None)
@given(rows_and_split())
def test_rates_and_membership_counts_equal_numpy(case):
    group, cell, value, member, _, g, c = case
    table = CountTable.from_codes(group, cell, g, c, sums={"v": value})
    wanted = [0] if c == 1 else [0, c - 1]
    for j in range(g):
        rows = group == j
        expected = np.isin(cell[rows], wanted).mean() if rows.any() else np.nan
        np.testing.assert_allclose(table.rate(wanted)[j], expected, equal_nan=True)
        for cc in range(c):
            hit = rows & (cell == cc)
            assert table.counts[j, cc] == hit.sum()
            np.testing.assert_allclose(table.sums["v"][j, cc], value[hit].sum(), atol=1e-12)
    overlap = CountTable.from_membership(member, cell, c)
    for j in range(g):
        np.testing.assert_array_equal(overlap.counts[j], np.bincount(cell[member[:, j]], minlength=c))


def test_conjunction_counts_equal_counting_each_pair():
    rng = np.random.default_rng(3)
    member = rng.random((500, 5)) < 0.5
    cell = rng.integers(0, 4, 500)
    parents = np.array([[0], [1], [3]])
    table = CountTable.from_membership(member, cell, 4, parents=parents, block_rows=64)
    for q, (par,) in enumerate(parents):
        for p in range(5):
            rows = member[:, par] & member[:, p]
            np.testing.assert_array_equal(table.counts[q * 5 + p], np.bincount(cell[rows], minlength=4))


def test_resample_keeps_the_total_and_the_callers_draws():
    rng = np.random.default_rng(0)
    table = CountTable.from_codes(rng.integers(0, 3, 400), rng.integers(0, 3, 400), 3, 3)
    reps, sums = table.resample(np.random.default_rng(5), 50)
    assert reps.shape == (50, 3, 3) and sums == {}
    assert (reps.sum(axis=(1, 2)) == 400).all()
    np.testing.assert_array_equal(reps, resample_counts(table.counts, 50, np.random.default_rng(5)))
    calls = []

    def draw(counts, n_boot, gen):
        calls.append(n_boot)
        return np.broadcast_to(counts, (n_boot, *counts.shape))

    reps, _ = table.resample(rng, 4, draw=draw)
    assert calls == [4] and (reps == table.counts).all()


def test_resampled_sums_follow_the_resampled_counts():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 6, 1000)
    value = keys + rng.random(1000)
    table = CountTable.from_keys(keys, sums={"v": value}, moments=True)
    reps, sums = table.resample(np.random.default_rng(2), 2000)
    assert (reps.sum(axis=(1, 2)) == 1000).all()
    # Each cell's resampled total is centred on its count times its mean.
    np.testing.assert_allclose(sums["v"].mean(axis=0), reps.mean(axis=0) * table.mean("v"), rtol=0.01)


def test_an_empty_table_resamples_to_zeros():
    table = CountTable.from_codes([], [], 2, 3)
    reps, _ = table.resample(np.random.default_rng(0), 3)
    assert reps.shape == (3, 2, 3) and not reps.any()


def test_codes_out_of_range_and_mismatched_tables_are_refused():
    with pytest.raises(ValueError, match="cell holds codes outside"):
        CountTable.from_codes([0, 1], [0, 3], 2, 3)
    with pytest.raises(ValueError, match="differ in shape"):
        CountTable.from_codes([0, 1], [0], 2, 3)
    with pytest.raises(ValueError, match="different groups or cells"):
        CountTable.from_codes([0], [0], 1, 2).merge(CountTable.from_codes([0], [0], 1, 3))
    with pytest.raises(ValueError, match="different sums"):
        CountTable.from_codes([0], [0], 1, 2, sums={"v": [1.0]}).merge(CountTable.from_codes([0], [0], 1, 2))


def test_unit_sums_are_exact_in_any_order_and_any_split():
    from fractions import Fraction

    import blindspot.counts as counts

    rng = np.random.default_rng(8)
    v = rng.random(5000) ** 3  # many small values: the truncation to 2^-52 is exercised
    g = rng.integers(0, 4, 5000)
    whole = counts.unit_sums(v, g, 4)
    order = rng.permutation(v.size)
    assert np.array_equal(counts.unit_sums(v[order], g[order], 4), whole)
    assert np.array_equal(counts.unit_sums(v[:1234], g[:1234], 4) + counts.unit_sums(v[1234:], g[1234:], 4), whole)
    n = np.bincount(g, minlength=4)
    exact = np.array([float(sum(Fraction(x) for x in v[g == k]) / int(n[k])) for k in range(4)])
    # Truncation moves each value down by less than 2^-52, so the mean by less than that too.
    assert np.all(np.abs(counts.unit_means(whole, n) - exact) <= 2.0 ** -52)
    assert np.isnan(counts.unit_means(np.zeros((1, 2), np.int64), [0])[0])  # a group with no row


def test_unit_sums_split_their_work_without_changing_a_bit(monkeypatch):
    import blindspot.counts as counts

    v = np.linspace(0, 1, 1001)
    g = np.arange(1001) % 3
    whole = counts.unit_sums(v, g, 3)
    monkeypatch.setattr(counts, "UNIT_CHUNK", 10)
    assert np.array_equal(counts.unit_sums(v, g, 3), whole)


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_unit_sums_refuse_values_outside_the_unit_interval(bad):
    from blindspot.counts import unit_sums

    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        unit_sums([0.5, bad], [0, 0], 1)
