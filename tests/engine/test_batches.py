"""map_batches: the same results in row order from this process's batches and from Dask's row groups."""

from __future__ import annotations

import operator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.config import DaskConfig
from blindspot.engine.batches import map_batches
from blindspot.io.readers import read_predictions

N, GROUP = 1000, 128


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A validated-table stand-in in row groups of GROUP rows (8 groups, the last one short)."""
    frame = pd.DataFrame({"id": pd.array([f"r{i}" for i in range(N)], dtype="string[pyarrow]"),
                          "text": pd.array([("word " * (i % 9)).strip() for i in range(N)], dtype="string[pyarrow]"),
                          "y_true": (pd.RangeIndex(N) % 3).astype("int8"),
                          "proba__a": [i / N for i in range(N)]})
    path = tmp_path_factory.mktemp("batches") / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=GROUP)
    return path


def test_local_batches_cover_every_row_once_in_order(table):
    pieces = map_batches(table, ["id", "text"], operator.itemgetter("id"), batch_rows=100)
    assert [len(p) for p in pieces] == [100] * 10
    assert pd.concat(pieces, ignore_index=True).tolist() == read_predictions(table, ["id"])["id"].tolist()


def test_an_empty_table_gives_no_batch(tmp_path, table):
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(table).slice(0, 0), empty)
    assert map_batches(empty, ["id"], len) == []


def test_dask_row_groups_give_the_local_results(table):
    """Each row group is one task; the per-row results in order equal the local engine's."""
    pytest.importorskip("distributed")
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    local = map_batches(table, ["text"], operator.itemgetter("text"), batch_rows=GROUP)
    remote = map_batches(table, ["text"], operator.itemgetter("text"), engine="dask", dask=cfg)
    assert [len(r) for r in remote] == [GROUP] * 7 + [N - 7 * GROUP]
    pd.testing.assert_series_equal(pd.concat(remote, ignore_index=True), pd.concat(local, ignore_index=True))
    sums = map_batches(table, [], operator.methodcaller("sum"), prefixes=["proba__"], engine="dask", dask=cfg)
    assert sum(s["proba__a"] for s in sums) == pytest.approx(sum(i / N for i in range(N)))
