"""engine=local with a Parquet input: read in small batches, it writes what the whole file gives.

Each case plants a rule that reads across batch boundaries (a duplicate id first used in an
earlier batch, a metadata column typed differently by two batches, a batch with no clean row) and
compares the batched ingest (:func:`blindspot.ingest.ingested` with a small ``batch_rows``) with
the whole file read at once (:func:`blindspot.ingest.ingest_file`): the same accounting and
rejected rows, the same clean frame, and the same file bytes whatever the batch size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from blindspot.config import IngestConfig, ModelConfig
from blindspot.errors import InputError
from blindspot.ingest import check_usable, ingest_file, ingest_metrics, ingested, write_clean
from blindspot.io.readers import read_predictions
from blindspot.io.schema import _normalise_metadata, metadata_categories, metadata_kind, type_metadata

N = 60


def rows(n: int = N) -> pd.DataFrame:
    labels = np.array(["negative", "positive"])[np.arange(n) % 2]
    return pd.DataFrame({"id": [f"r{k}" for k in range(n)], "text": [f"review {k}" for k in range(n)],
                         "label": labels, "prediction": labels, "confidence": 0.9})


def model(path) -> ModelConfig:
    return ModelConfig(path=str(path))


def ingest_cfg() -> IngestConfig:
    return dataclasses.replace(IngestConfig(), classes=["negative", "positive"])


def check_batched(tmp_path, frame: pd.DataFrame, batch_sizes=(7, 10, 25, 1000), one_pass=None) -> dict:
    """Ingest ``frame`` whole and in batches of each size; everything must agree. The metrics.

    Each batch size is written twice: from pass 1's file when the batches allow it (``out``; the
    size -> whether they did is checked against ``one_pass`` when given) and always by pass 2 (no
    ``out``). Both must be the whole file's bytes, and no temporary file may be left.
    """
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    whole = ingest_file(model(path), ingest_cfg())
    write_clean(whole, tmp_path / "whole.parquet")
    expected = read_predictions(tmp_path / "whole.parquet")
    written, passes = set(), {}
    for size in batch_sizes:
        for out in (tmp_path / f"b{size}.parquet", None):
            target = out or tmp_path / f"b{size}-two.parquet"
            with ingested(model(path), ingest_cfg(), batch_rows=size, out=out) as result:
                assert ingest_metrics(result) == ingest_metrics(whole), size
                assert result.rejected == whole.rejected, size
                assert result.clean_labels() == whole.clean_labels()
                write_clean(result, target)
                if out is not None:
                    passes[size] = result.one_pass
                else:
                    assert not result.one_pass
            pd.testing.assert_frame_equal(read_predictions(target), expected)
            written.add(target.read_bytes())
    assert written == {(tmp_path / "whole.parquet").read_bytes()}
    assert not list(tmp_path.glob(".*partial")), "a temporary file was left"
    if one_pass is not None:
        assert passes == one_pass
    return ingest_metrics(whole)


def test_a_duplicate_first_used_in_an_earlier_batch(tmp_path):
    frame = rows()
    frame.loc[15, "id"] = frame.loc[3, "id"]      # batch 2 repeats batch 1's id (batches of 10)
    frame.loc[41, "id"] = frame.loc[3, "id"]      # and batch 5 again
    frame.loc[25, "id"] = frame.loc[22, "id"]     # inside one batch only
    frame.loc[2, "label"] = "Positive"            # rejected: its id r2 is free for a later row
    frame.loc[33, "id"] = "r2"
    # Batches of 1000 hold the whole file: nothing is used again across batches, one pass.
    metrics = check_batched(tmp_path, frame, one_pass={7: False, 10: False, 25: False, 1000: True})
    assert metrics["rejected_by_reason"]["duplicate_id"] == 3
    rejected = ingest_file(model(tmp_path / "p.parquet"), ingest_cfg()).rejected
    assert [r["detail"] for r in rejected if r["record"] in (16, 42)] == ["id 'r3' already used by record 4"] * 2


def test_an_id_repeated_inside_a_later_batch_after_its_first_use_earlier(tmp_path):
    frame = rows()
    frame.loc[[12, 14], "id"] = frame.loc[1, "id"]  # both in batch 2; the first use is in batch 1
    metrics = check_batched(tmp_path, frame)
    assert metrics["rejected_by_reason"]["duplicate_id"] == 2


def test_metadata_typed_differently_by_two_batches(tmp_path):
    frame = rows()
    frame["visits"] = (np.arange(N) % 4).astype(float)           # whole numbers: Int64 ...
    frame.loc[50, "visits"] = 2.5                                 # ... but one batch holds a fraction
    frame["flag"] = [None if k < 30 else bool(k % 3) for k in range(N)]   # early batches: no value
    frame["count"] = [None if k % 11 == 0 else float(k) for k in range(N)]
    frame["late"] = [None if k < 45 else f"x{k % 2}" for k in range(N)]
    frame["never"] = pd.Series([None] * N, dtype=object)
    check_batched(tmp_path, frame, one_pass={7: False, 10: False, 25: False, 1000: True})


def test_a_duplicate_dropped_across_batches_changes_a_column_type(tmp_path):
    frame = rows()
    frame["score"] = (np.arange(N) % 3).astype(float)
    frame.loc[27, "score"] = 0.5                   # the only fraction, on a row rejected as a duplicate
    frame.loc[27, "id"] = frame.loc[0, "id"]
    check_batched(tmp_path, frame)


def test_a_clean_input_is_written_in_one_pass(tmp_path):
    frame = rows()
    frame["visits"] = (np.arange(N) % 4).astype(float)                   # Int64 in every batch
    frame["score"] = np.arange(N) / 7                                     # float64 in every batch
    frame["flag"] = [bool(k % 3) if k % 5 else None for k in range(N)]   # boolean, missing in every batch
    frame["shop"] = [f"s{k % 3}" if k % 4 else "" for k in range(N)]     # text, blank in every batch
    frame.loc[3, "label"] = "unknown"                                     # a rejection inside one batch
    frame.loc[8, "id"] = frame.loc[6, "id"]                               # a duplicate inside one batch
    check_batched(tmp_path, frame, batch_sizes=(10, 25, 1000), one_pass={10: True, 25: True, 1000: True})


def test_one_batch_missing_a_whole_number_falls_back(tmp_path):
    frame = rows()
    frame["visits"] = (np.arange(N) % 4).astype(float)
    frame.loc[45, "visits"] = None     # Int64 everywhere, but float64 (NaN) in that batch only: cast in pass 2
    check_batched(tmp_path, frame, batch_sizes=(10, 1000), one_pass={10: False, 1000: True})


def test_a_stop_leaves_no_file(tmp_path):
    frame = rows()
    frame["label"] = "negative"        # single-class: check_usable stops after pass 1 wrote its file
    path, out = tmp_path / "p.parquet", tmp_path / "out" / "predictions.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(InputError, match="single-class"):
        with ingested(model(path), ingest_cfg(), batch_rows=7, out=out) as result:
            assert result.one_pass and list(out.parent.glob(".*partial"))
            check_usable(result, path, "rejected.jsonl")
    assert list(out.parent.iterdir()) == []


def test_a_batch_without_a_clean_row(tmp_path):
    frame = rows()
    frame.loc[10:19, "label"] = "unknown"          # all of batch 2 (batches of 10)
    metrics = check_batched(tmp_path, frame)
    assert metrics["rejected_by_reason"]["unknown_label"] == 10


def test_an_empty_file_stops_as_the_whole_file_does(tmp_path):
    path = tmp_path / "empty.parquet"
    rows().iloc[:0].to_parquet(path, index=False)
    with pytest.raises(InputError) as whole:
        ingest_file(model(path), ingest_cfg())
    with pytest.raises(InputError) as batched:
        with ingested(model(path), ingest_cfg(), batch_rows=7):
            pass
    assert str(batched.value) == str(whole.value) and "no records" in str(whole.value)


@pytest.mark.parametrize("values", [
    [1.0, None, 2.0, 3.5, " ", 4.0],
    [1, True, None, "a", 2.0, {"k": 1}],
    [None, None, None, 1, 2, 3],
    [True, None, False, None, True, False],
    [10**400, 1, None, 2.5, 3, 4],
    ["a", "b", None, "", "c", "d"],
])
def test_a_metadata_column_typed_in_parts_is_typed_as_a_whole(values):
    whole = pd.Series(values, dtype=object)
    kind = metadata_kind(np.unique(metadata_categories(whole, True)))
    for cut in range(len(values) + 1):
        parts = [whole.iloc[:cut].reset_index(drop=True), whole.iloc[cut:].reset_index(drop=True)]
        typed = pd.concat([type_metadata(p, True, kind) for p in parts], ignore_index=True)
        pd.testing.assert_series_equal(typed, _normalise_metadata(whole, True), check_dtype=True)


def test_the_class_list_is_judged_on_the_whole_file(tmp_path):
    frame = rows()
    frame["label"] = frame["prediction"] = np.array(["0", "1"])[np.arange(N) % 2]  # a 0/1 file
    frame.loc[:5, "label"] = "negative"
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    # Probabilities configured too: the message names the classes, not a missing p_negative column.
    cfg = dataclasses.replace(model(path), probability_prefix="p_")
    with pytest.raises(InputError) as whole:
        ingest_file(cfg, ingest_cfg())
    with pytest.raises(InputError) as batched:
        with ingested(cfg, ingest_cfg(), batch_rows=7, out=tmp_path / "out" / "predictions.parquet"):
            pass
    assert str(batched.value) == str(whole.value) and "54 of 60 labels" in str(whole.value)
    assert list((tmp_path / "out").iterdir()) == []  # pass 1's file removed at the stop


@pytest.mark.parametrize("size", [7, 25, 1000])
def test_kept_columns_are_pass_2s_rows_in_one_pass(tmp_path, monkeypatch, size):
    """``keep``: pass 1 keeps a few canonical columns of each batch (a duplicate id across batches
    left out, metadata never kept) and no batch is validated again; the frame they make is the one
    pass 2's tables cut down to those columns make, dtypes included."""
    import pyarrow as pa

    from blindspot.engine.local import ParquetBatches

    frame = rows()
    frame["platform"] = "ios"
    frame.loc[30, "id"] = "r3"  # a duplicate of batch 1's id in a later batch
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    cfg = dataclasses.replace(model(path), metadata=["platform"])
    with ingested(cfg, ingest_cfg(), batch_rows=size) as result:
        tables = [t for t in result.source.tables(result.plans) if t is not None]
        wanted = [n for n in tables[0].schema.names if n in ("id", "y_true", "confidence")]
        expected = pa.concat_tables([t.select(wanted) for t in tables]).to_pandas()
    monkeypatch.setattr(ParquetBatches, "tables", lambda *a: pytest.fail("a second pass"))
    with ingested(cfg, ingest_cfg(), batch_rows=size, keep=(["id", "y_true", "meta__platform"], ["conf"])) as result:
        got = pa.concat_tables(result.kept).to_pandas()
        assert result.reasons["duplicate_id"] == 1 and result.rows_clean == N - 1
    pd.testing.assert_frame_equal(got, expected, check_dtype=True)
