"""The bit-packed boolean columns against the numpy matrix they pack."""

import numpy as np
import pytest

from blindspot.bits import BitColumns, pack
from blindspot.counts import CountTable


@pytest.fixture(params=[0, 1, 7, 8, 9, 61, 200])
def dense(request):
    rng = np.random.default_rng(request.param)
    return rng.random((request.param, 11)) < 0.3


def test_every_view_equals_the_dense_matrix(dense):
    bits = BitColumns.from_dense(dense)
    n, p = dense.shape
    assert bits.shape == (n, p) and len(bits) == n and bits.bits.shape == (p, (n + 7) // 8)
    np.testing.assert_array_equal(np.asarray(bits), dense)
    for j in range(p):
        np.testing.assert_array_equal(bits.column(j), dense[:, j])
    for lo, hi in [(0, n), (3, n), (0, 5), (9, 17), (8, 16), (n, n), (n - 1, n + 4)]:
        lo_, hi_ = max(0, min(lo, n)), max(0, min(hi, n))
        np.testing.assert_array_equal(bits.block(lo, hi), dense[lo_:max(lo_, hi_)])
        for j in (0, p - 1):
            np.testing.assert_array_equal(bits.column(j, slice(lo_, hi_)), dense[lo_:hi_, j])
    positions = np.random.default_rng(1).integers(0, n, 25) if n else np.zeros(0, int)
    np.testing.assert_array_equal(bits.rows(positions), dense[positions])
    np.testing.assert_array_equal(np.asarray(bits.select([4, 0, 4])), dense[:, [4, 0, 4]])


def test_packed_one_mask_at_a_time_equals_packed_at_once(dense):
    n = dense.shape[0]
    np.testing.assert_array_equal(BitColumns.stacked([pack(dense[:, j], n) for j in range(dense.shape[1])], n).bits,
                                  BitColumns.from_dense(dense).bits)
    assert BitColumns.stacked([], n).shape == (n, 0)
    assert BitColumns.empty(n, 3).dense().shape == (n, 3) and not BitColumns.empty(n, 3).dense().any()


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="a mask of shape \\(4,\\) given for 5 rows"):
        pack(np.ones(4, bool), 5)
    with pytest.raises(ValueError, match="do not hold 20 rows"):
        BitColumns(np.zeros((2, 2), np.uint8), 20)
    with pytest.raises(ValueError, match="consecutive"):
        BitColumns.empty(10, 1).column(0, slice(0, 10, 2))


@pytest.mark.parametrize("block_rows", [8, 13, 64, 1 << 16])
def test_counting_packed_columns_equals_counting_the_matrix(block_rows):
    rng = np.random.default_rng(3)
    n, p, n_cells = 1001, 9, 5
    dense = rng.random((n, p)) < 0.4
    cell = rng.integers(0, n_cells, n).astype(np.int8)
    parents = np.array([[0], [3], [8]])
    for par in (None, parents):
        want = CountTable.from_membership(dense, cell.astype(np.int64), n_cells, parents=par)
        got = CountTable.from_membership(BitColumns.from_dense(dense), cell, n_cells, parents=par,
                                         block_rows=block_rows)
        np.testing.assert_array_equal(got.counts, want.counts)
        # the oracle: every (parent AND column, cell) by boolean indexing
        pm = np.ones((n, 1), bool) if par is None else dense[:, par[:, 0]]
        oracle = np.array([[[np.sum(pm[:, q] & dense[:, j] & (cell == c)) for c in range(n_cells)]
                            for j in range(p)] for q in range(pm.shape[1])]).reshape(-1, n_cells)
        np.testing.assert_array_equal(got.counts, oracle)


def test_edges_are_refused_or_empty_like_numpy():
    bits = BitColumns.from_dense(np.eye(12, 3, dtype=bool))
    assert bits.column(0, slice(10, 5)).shape == (0,)
    np.testing.assert_array_equal(bits.column(-1, slice(2, 5)), np.eye(12, 3, dtype=bool)[2:5, -1])
    with pytest.raises(IndexError):
        bits.column(3)
    with pytest.raises(IndexError, match="row positions must lie in \\[0, 12\\)"):
        bits.rows([-1])
    with pytest.raises(IndexError):
        bits.rows([12])
    with pytest.raises(ValueError, match="unpacking copies"):
        np.asarray(bits).__class__  # the default (copy=None) unpacks
        bits.__array__(copy=False)


@pytest.mark.parametrize("sizes", [[8, 16], [3, 5, 9], [0, 7, 1, 13]])
def test_bit_columns_join_at_any_offset(sizes):
    rng = np.random.default_rng(len(sizes))
    dense = [rng.random((n, 3)) < 0.5 for n in sizes]
    joined = BitColumns.concat([BitColumns.from_dense(d) for d in dense])
    assert np.array_equal(joined.dense(), np.concatenate(dense))
