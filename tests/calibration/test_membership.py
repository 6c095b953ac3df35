"""Slice membership read a batch at a time from a slice table in the predictions' row order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.calibration.membership import SlicesNotAligned, rows_of_file, slice_columns, slice_table


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(1)
    n = 1000
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "watch__a.b": rng.random(n) < 0.3,
                          "found__a.b": rng.random(n) < 0.2,
                          "found__c": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5),
                                               dtype="boolean"), "note": ["x"] * n})
    path = tmp_path / "slices.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=300)
    return path, frame


def test_slice_columns_merge_prefixes_into_keys():
    keys, sources, merged = slice_columns(["id", "found__z", "watch__a.b", "found__a.b", "note"])
    assert keys == ["a_b", "z"] and sources == ["watch+found", "found"]
    assert merged == {"a_b": ["watch__a.b", "found__a.b"], "z": ["found__z"]}


@pytest.mark.parametrize("start, n", [(0, 1000), (0, 300), (290, 20), (599, 402 - 1), (950, 50), (123, 7)])
def test_rows_of_any_range_across_row_groups_equal_the_join(table, start, n):
    path, frame = table
    _, _, merged = slice_columns(frame.columns)
    ids = frame["id"].iloc[start:start + n]
    got = rows_of_file(str(path), start, ids, merged)
    expected = slice_table(ids.tolist(), frame)  # the join on id, NA as "not in the slice"
    np.testing.assert_array_equal(got.dense(), expected.dense())


def test_rows_not_the_batchs_are_refused(table):
    path, frame = table
    _, _, merged = slice_columns(frame.columns)
    with pytest.raises(SlicesNotAligned, match="other ids"):
        rows_of_file(str(path), 10, frame["id"].iloc[11:21], merged)
    with pytest.raises(SlicesNotAligned, match="not all in"):
        rows_of_file(str(path), 995, frame["id"].iloc[990:1000], merged)
