"""Equal-mass edges from batches: the same bits as np.percentile of the whole column, whatever the split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.calibration.binning import bin_edges
from blindspot.calibration.quantiles import (
    SortedKeys,
    float_keys,
    float_of_keys,
    group_sizes,
    order_statistics,
    percentile_edges,
)
from blindspot.engine.batches import LocalParts


def _parts(values, members, rng, n_batches):
    """The rows shuffled and cut into ``n_batches`` batches at random points, as kept states."""
    order = rng.permutation(values.size)
    cuts = np.sort(rng.integers(0, values.size + 1, size=n_batches - 1))
    return LocalParts([SortedKeys.of(values[rows], None if members is None else [m[rows] for m in members])
                       for rows in np.split(order, cuts)])


def test_keys_order_and_tie_as_the_values_do_and_come_back_as_them():
    rng = np.random.default_rng(0)
    special = [-np.inf, -1e308, -1.0, -5e-324, -0.0, 0.0, 5e-324, 2.2e-308, 0.5, 1.0, 1e308, np.inf]
    x = np.concatenate([special, rng.normal(0, 1, 150), np.round(rng.random(100), 1)])
    k = float_keys(x)
    assert k.dtype == np.uint64 and k.shape == x.shape
    assert np.array_equal(k[:, None] < k[None, :], x[:, None] < x[None, :])
    assert np.array_equal(k[:, None] == k[None, :], x[:, None] == x[None, :])
    back = float_of_keys(k)
    assert np.array_equal(back, x) and not np.signbit(back[x == 0]).any()  # -0.0 comes back as 0.0
    assert np.signbit(x[4])  # the input is untouched


def test_a_nan_cannot_be_ordered():
    with pytest.raises(ValueError, match="2 of 4 values are NaN"):
        float_keys([0.1, np.nan, 0.3, np.nan])


@pytest.mark.parametrize("n_batches", [1, 3, 7])
def test_order_statistics_are_the_sorted_column_s(n_batches):
    rng = np.random.default_rng(n_batches)
    x = np.round(rng.random(2000), 2)  # many ties
    member = rng.random(x.size) < 0.3
    parts = _parts(x, [np.ones(x.size, bool), member], rng, n_batches)
    assert group_sizes(parts).tolist() == [x.size, int(member.sum())]
    ranks = rng.integers(0, int(member.sum()), size=50)
    got = order_statistics(parts, np.r_[np.zeros(50, int), np.ones(50, int)], np.r_[ranks, ranks])
    assert np.array_equal(got[:50], np.sort(x)[ranks])
    assert np.array_equal(got[50:], np.sort(x[member])[ranks])


def test_edges_are_np_percentile_s_bits_for_any_size_ties_split_and_order():
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 400))
        n_bins = int(rng.integers(2, 21))
        x = rng.beta(5, 1, size=n)
        if trial % 3 == 0:
            x = np.round(x, 1)
        if trial % 4 == 0:
            x[: n // 2] = 1.0
        parts = _parts(x, None, rng, int(rng.integers(1, 6)))
        got = percentile_edges(parts, n_bins)[0]
        assert got.tobytes() == bin_edges(x, n_bins=n_bins, strategy="quantile").tobytes(), (n, n_bins)


def test_every_group_gets_its_own_edges_and_an_empty_one_the_default():
    rng = np.random.default_rng(3)
    x = rng.random(3000)
    members = [np.ones(x.size, bool), rng.random(x.size) < 0.1, np.zeros(x.size, bool), np.arange(x.size) == 17]
    got = percentile_edges(_parts(x, members, rng, 4), 10)
    for g, m in enumerate(members):
        want = bin_edges(x[m], n_bins=10, strategy="quantile")
        assert got[g].tobytes() == want.tobytes(), g
    assert np.array_equal(got[2], np.linspace(0, 1, 11)) and np.all(got[3] == x[17])


def _state(frame):
    conf = frame["confidence"].to_numpy(float)
    return SortedKeys.of(conf, [np.ones(conf.size, bool), frame["y_pred"].to_numpy() == 1])


def test_states_kept_on_dask_workers_give_the_same_edges_as_here(tmp_path):
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig
    from blindspot.engine.batches import resident_parts

    rng = np.random.default_rng(11)
    n = 5000
    frame = pd.DataFrame({"confidence": np.round(rng.beta(6, 1, size=n), 3), "y_pred": rng.integers(0, 3, n)})
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=700)
    x, pred1 = frame["confidence"].to_numpy(), frame["y_pred"].to_numpy() == 1
    want = [bin_edges(x, n_bins=15, strategy="quantile"), bin_edges(x[pred1], n_bins=15, strategy="quantile")]
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    for engine in ("local", "dask"):
        with resident_parts(path, ["confidence", "y_pred"], _state, engine=engine, dask=cfg, batch_rows=600) as parts:
            got = percentile_edges(parts, 15)
        assert [g.tobytes() for g in got] == [w.tobytes() for w in want], engine
