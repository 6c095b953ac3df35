"""engine=dask's partitions of a large Parquet file: ranges of its row groups, numbered as the whole file.

:func:`~blindspot.engine.partitions.plan` cuts a file of more than ``max_rows`` rows at row-group
boundaries; each range keeps the number of records before it in the whole input (``offset``), and
the worker's read of a range (:func:`blindspot.engine.worker._read`) gives the very records, with
the very numbers, that reading the whole file gives in those rows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.partitions import PARTITION_ROWS, Partition, partition_files, plan, row_group_ranges
from blindspot.engine.worker import _read
from blindspot.ingest import read_input


def rows(n: int) -> pd.DataFrame:
    labels = np.array(["negative", "positive"])[np.arange(n) % 2]
    return pd.DataFrame({"id": [f"r{k}" for k in range(n)], "text": [f"review {k}" for k in range(n)],
                         "label": labels, "prediction": labels, "confidence": 0.9})


def write(path: Path, frame: pd.DataFrame, row_group_size: int) -> Path:
    frame.to_parquet(path, index=False, row_group_size=row_group_size)
    return path


def greedy(sizes: list, max_rows: int) -> list:
    """The ranges written out by hand: a list of group lists, a new list when the next group would overflow."""
    groups = []
    for k, n in enumerate(sizes):
        if groups and sum(sizes[g] for g in groups[-1]) > 0 and sum(sizes[g] for g in groups[-1]) + n > max_rows:
            groups.append([k])
        elif groups:
            groups[-1].append(k)
        else:
            groups.append([k])
    return [(g[0], g[-1] + 1) for g in groups]


@pytest.mark.parametrize(("sizes", "max_rows", "expected"), [
    ([500, 500, 500, 500, 300], 1000, [(0, 2), (2, 4), (4, 5)]),
    ([500, 500, 500, 500, 300], 999, [(0, 1), (1, 2), (2, 3), (3, 5)]),   # 500 + 300 fit
    ([3000, 10, 10], 1000, [(0, 1), (1, 3)]),      # a group above the bound is a range of its own
    ([10, 3000, 10], 1000, [(0, 1), (1, 2), (2, 3)]),
    ([0, 400, 0, 700], 1000, [(0, 3), (3, 4)]),    # an empty group joins its neighbours' range
    ([], 1000, []),
])
def test_row_group_ranges(sizes, max_rows, expected):
    assert row_group_ranges(sizes, max_rows) == expected == greedy(sizes, max_rows)


def test_row_group_ranges_cover_every_group_once_in_order():
    rng = np.random.default_rng(5)
    for _ in range(200):
        sizes = [int(n) for n in rng.integers(0, 900, size=int(rng.integers(1, 30)))]
        ranges = row_group_ranges(sizes, 1000)
        assert ranges == greedy(sizes, 1000)
        assert [k for start, stop in ranges for k in range(start, stop)] == list(range(len(sizes)))
        assert all(sum(sizes[start:stop]) <= 1000 or stop - start == 1 for start, stop in ranges)


def test_a_file_above_the_bound_is_split_into_row_group_ranges(tmp_path):
    path = write(tmp_path / "big.parquet", rows(2300), 500)  # row groups of 500, 500, 500, 500, 300 rows
    parts = plan([path], max_rows=1000)
    assert parts == [Partition(str(path), 0, 1000, (0, 2)), Partition(str(path), 1000, 1000, (2, 4)),
                     Partition(str(path), 2000, 300, (4, 5))]
    assert plan([path]) == [Partition(str(path), 0, 2300)]  # under PARTITION_ROWS: whole
    assert PARTITION_ROWS > 2300


def test_a_file_of_one_huge_row_group_stays_whole(tmp_path):
    path = write(tmp_path / "one.parquet", rows(2300), 5000)
    assert plan([path], max_rows=1000) == [Partition(str(path), 0, 2300)]


def test_a_directory_mixing_small_and_large_files(tmp_path):
    frame = rows(3000)
    write(tmp_path / "a.parquet", frame.iloc[:120], 500)                 # small: whole
    write(tmp_path / "b.parquet", frame.iloc[120:2420], 500)             # 2,300 rows: three ranges
    write(tmp_path / "c.parquet", frame.iloc[2420:2420], 500)            # no row: left out
    write(tmp_path / "d.parquet", frame.iloc[2420:], 200)                # 580 rows in 3 groups: whole
    got = [(Path(p.path).name, p.offset, p.rows, p.row_groups) for p in plan(partition_files(str(tmp_path)), 1000)]
    assert got == [("a.parquet", 0, 120, None), ("b.parquet", 120, 1000, (0, 2)), ("b.parquet", 1120, 1000, (2, 4)),
                   ("b.parquet", 2120, 300, (4, 5)), ("d.parquet", 2420, 580, None)]
    # Offsets are the running sum of the rows before each partition, and the rows sum to the input's.
    assert [o for _, o, _, _ in got] == list(np.cumsum([0] + [n for _, _, n, _ in got])[:-1])
    assert sum(n for _, _, n, _ in got) == len(frame)


def test_a_range_reads_the_whole_files_records_with_their_numbers(tmp_path):
    frame = rows(2300)
    frame.loc[1234, "confidence"] = float("nan")  # a missing value read as None in both
    path = write(tmp_path / "big.parquet", frame, 500)
    model = ModelConfig(path=str(path))
    ingest = dataclasses.replace(IngestConfig(), classes=["negative", "positive"])
    whole = read_input(model, ingest)
    for part in plan([path], max_rows=1000):
        table = _read(part, model, ingest)
        start = part.offset
        assert table.record.tolist() == list(range(start + 1, start + part.rows + 1))
        expected = whole.frame.iloc[start:start + part.rows].reset_index(drop=True)
        pd.testing.assert_frame_equal(table.frame.reset_index(drop=True), expected)
        assert table.line.tolist() == whole.line[start:start + part.rows].tolist() and table.typed == whole.typed
