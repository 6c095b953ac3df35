"""engine=dask: a worker validates its partition file in batches of rows, and nothing it reports changes.

A partition larger than the batch size is cut into several batches on its worker
(:func:`blindspot.engine.ingest.account_partition`): each batch's rows are numbered as the whole
input numbers them, so the rejected rows keep their record numbers, and the batches' clean rows
are the partition's. Through the whole map and reduce (:class:`~blindspot.engine.ingest.DaskPartitions`
on an in-process cluster, small batches) the accounting, rejected rows and written file are the
whole input's, including when a rule reads across batches or partitions (the two-pass fallback).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.ingest import DaskPartitions, account_partition
from blindspot.engine.partitions import Partition, partition_files, plan
from blindspot.engine.stream import two_passes
from blindspot.ingest import ingest_file, ingest_metrics, write_clean
from blindspot.progress import Progress

N, N_PARTS = 90, 3  # partitions of 30 rows


def rows(n: int = N) -> pd.DataFrame:
    labels = np.array(["negative", "positive"])[np.arange(n) % 2]
    return pd.DataFrame({"id": [f"r{k}" for k in range(n)], "text": [f"review {k}" for k in range(n)],
                         "label": labels, "prediction": labels, "confidence": 0.9,
                         "visits": (np.arange(n) % 4).astype(float)})


def ingest_cfg() -> IngestConfig:
    return dataclasses.replace(IngestConfig(), classes=["negative", "positive"])


def write_parts(root, frame: pd.DataFrame):
    """``frame`` as one file (all.parquet) and as N_PARTS partition files (parts/); the partitions."""
    (root / "parts").mkdir(parents=True)
    frame.to_parquet(root / "all.parquet", index=False)
    step = len(frame) // N_PARTS
    for k in range(N_PARTS):
        frame.iloc[k * step:(k + 1) * step].to_parquet(root / "parts" / f"part-{k}.parquet", index=False)
    return plan(partition_files(str(root / "parts")))


def test_a_partition_is_validated_in_several_batches_with_its_record_numbers(tmp_path):
    frame = rows()
    frame.loc[33, "label"] = "unknown"            # partition 2, its batch 1 (batches of 7)
    frame.loc[47, "confidence"] = float("nan")    # partition 2, its batch 3
    frame.loc[59, "id"] = frame.loc[58, "id"]     # partition 2, a duplicate inside its last batch
    parts = write_parts(tmp_path, frame)
    part = parts[1]
    assert (part.offset, part.rows) == (30, 30)
    cfg = ModelConfig(path="unused")
    batched = account_partition(part, cfg, ingest_cfg(), 7, keep_table=True)["batches"]
    whole = account_partition(part, cfg, ingest_cfg(), 1000, keep_table=True)["batches"]
    assert [b["rows_in"] for b in batched] == [7, 7, 7, 7, 2] and len(whole) == 1
    # The rejected rows keep the record numbers the whole input gives them: row 33 is record 34.
    rejected = [row for b in batched for row in b["rejected"]]
    assert [(r["record"], r["reason"]) for r in rejected] == [(34, "unknown_label"), (48, "missing_field"),
                                                              (60, "duplicate_id")]
    assert rejected == whole[0]["rejected"]
    assert np.array_equal(np.concatenate([b["record"] for b in batched]), whole[0]["record"])
    clean = pd.concat([b["table"].to_pandas() for b in batched], ignore_index=True)
    pd.testing.assert_frame_equal(clean, whole[0]["table"].to_pandas())


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as c:
        yield c


def planted() -> pd.DataFrame:
    """Rules that read across batches and partitions: the two-pass fallback."""
    frame = rows()
    frame.loc[40, "id"] = frame.loc[3, "id"]      # used again in a later partition
    frame.loc[44, "id"] = frame.loc[31, "id"]     # used again in a later batch of the same partition
    frame.loc[12, "label"] = "unknown"
    frame.loc[75, "visits"] = 2.5                 # whole numbers but in the last partition: float64 for all
    frame.loc[50, "visits"] = None                # missing in one batch only: float64 there alone
    return frame


def clean_input() -> pd.DataFrame:
    """Rejections inside one batch only, every column typed alike everywhere: one pass."""
    frame = rows()
    frame.loc[12, "label"] = "unknown"
    frame.loc[62, "id"] = frame.loc[61, "id"]
    return frame


@pytest.mark.parametrize("name, frame, batch_rows, one_pass", [
    ("planted", planted(), 7, False), ("planted", planted(), 1000, False),
    ("clean", clean_input(), 7, True), ("clean", clean_input(), 1000, True),
])
def test_dask_partitions_in_small_batches_give_the_whole_files_accounting_and_bytes(
        tmp_path, client, name, frame, batch_rows, one_pass):
    parts = write_parts(tmp_path, frame)
    ingest = ingest_cfg()
    whole = ingest_file(ModelConfig(path=str(tmp_path / "all.parquet")), ingest)
    write_clean(whole, tmp_path / "whole.parquet")
    model = ModelConfig(path=str(tmp_path / "parts"))
    for out in (tmp_path / "out" / "predictions.parquet", None):
        source = DaskPartitions(client, parts, model, ingest, batch_rows)
        result = two_passes(source, model, ingest, Progress("validating", total=N), out)
        try:
            assert source.n_batches == ([5, 5, 5] if batch_rows == 7 else [1, 1, 1])
            assert ingest_metrics(result) == ingest_metrics(whole), name
            assert result.rejected == whole.rejected, name
            assert result.one_pass is (one_pass and out is not None), name
            target = out or tmp_path / "two-pass.parquet"
            write_clean(result, target)
        finally:
            result.discard()
        assert target.read_bytes() == (tmp_path / "whole.parquet").read_bytes(), name
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["predictions.parquet"]


def test_a_partition_without_rows_is_read_whole(tmp_path):
    """A file without rows is not cut into batches: its reader's stop is the whole file's."""
    from blindspot.errors import InputError
    from blindspot.engine.worker import raise_remote

    path = tmp_path / "empty.parquet"
    rows().iloc[:0].to_parquet(path, index=False)
    result = account_partition(Partition(str(path), 0, 0), ModelConfig(path="unused"), ingest_cfg(), 7)
    with pytest.raises(InputError) as whole:
        ingest_file(ModelConfig(path=str(path)), ingest_cfg())
    with pytest.raises(InputError) as batched:
        raise_remote(result)
    assert result.get("read") and str(batched.value) == str(whole.value)
