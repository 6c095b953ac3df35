"""Reading every supported format, and the canonical table validate() builds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.config import ColumnsConfig, IngestConfig, ModelConfig
from blindspot.ingest import ingest_file, ingest_metrics
from blindspot.io.readers import read_raw
from blindspot.io.schema import REASONS, metadata_columns, probability_matrix, validate

CLASSES = ["negative", "neutral", "positive"]
RECORDS = [
    {"id": "r1", "text": "Worked well", "label": "positive", "prediction": "positive", "confidence": 0.7,
     "probabilities": {"negative": 0.1, "neutral": 0.2, "positive": 0.7}, "age_band": "65+", "visits": 3},
    {"id": "r2", "text": "Rash and nausea", "label": "negative", "prediction": "positive", "confidence": 0.6,
     "probabilities": {"negative": 0.3, "neutral": 0.1, "positive": 0.6}, "age_band": "18-29", "visits": 1},
    {"id": "r3", "text": "It is fine", "label": "neutral", "prediction": "neutral", "confidence": 0.5,
     "probabilities": {"negative": 0.25, "neutral": 0.5, "positive": 0.25}, "age_band": None, "visits": 2},
]


def _flat(records):
    rows = []
    for r in records:
        row = {k: v for k, v in r.items() if k != "probabilities"}
        row.update({f"p_{c}": r["probabilities"][c] for c in CLASSES})
        rows.append(row)
    return pd.DataFrame(rows)


def _write_all_formats(tmp_path):
    paths = {}
    paths["json"] = tmp_path / "p.json"
    paths["json"].write_text(json.dumps(RECORDS))
    paths["jsonl"] = tmp_path / "p.jsonl"
    paths["jsonl"].write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    flat = _flat(RECORDS)
    paths["csv"] = tmp_path / "p.csv"
    flat.to_csv(paths["csv"], index=False)
    paths["parquet"] = tmp_path / "p.parquet"
    flat.to_parquet(paths["parquet"], index=False)
    return paths


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "parquet"])
def test_every_format_gives_the_same_canonical_table(tmp_path, fmt):
    path = _write_all_formats(tmp_path)[fmt]
    prefix = "p_" if fmt in ("csv", "parquet") else None
    result = ingest_file(ModelConfig(path=str(path), probability_prefix=prefix), IngestConfig())
    clean = result.clean
    assert not result.rejected
    assert clean["id"].tolist() == ["r1", "r2", "r3"]
    assert clean["y_true"].tolist() == [2, 0, 1]
    assert clean["y_pred"].tolist() == [2, 2, 1]
    assert clean["correct"].tolist() == [True, False, True]
    np.testing.assert_allclose(probability_matrix(clean, CLASSES), [[0.1, 0.2, 0.7], [0.3, 0.1, 0.6], [0.25, 0.5, 0.25]])
    assert metadata_columns(clean) == ["meta__age_band", "meta__visits"]
    assert clean["meta__age_band"].isna().tolist() == [False, False, True]
    assert clean["meta__visits"].tolist() == [3, 1, 2]


def test_jsonl_named_json_is_read_as_lines(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    assert read_raw(path).fmt == "jsonl"


def test_column_mapping_and_confidence_from_probabilities(tmp_path):
    renamed = [{"uid": r["id"], "review": r["text"], "gold": r["label"], "pred": r["prediction"],
                "probs": r["probabilities"]} for r in RECORDS]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(renamed))
    cols = ColumnsConfig(id="uid", text="review", label="gold", prediction="pred", confidence=None, probabilities="probs")
    result = ingest_file(ModelConfig(path=str(path), columns=cols), IngestConfig())
    assert result.clean["confidence"].tolist() == [0.7, 0.6, 0.5]
    assert metadata_columns(result.clean) == []


def test_confidence_only_and_generated_ids(tmp_path):
    path = tmp_path / "conf_only.csv"
    _flat(RECORDS).drop(columns=[f"p_{c}" for c in CLASSES] + ["id"]).to_csv(path, index=False)
    cols = ColumnsConfig(id=None, probabilities=None)
    result = ingest_file(ModelConfig(path=str(path), columns=cols), IngestConfig())
    assert result.clean["id"].tolist() == ["row-1", "row-2", "row-3"]
    assert not result.has_probabilities and probability_matrix(result.clean, CLASSES) is None


def test_argmax_tie_is_accepted(tmp_path):
    tie = dict(RECORDS[0], prediction="negative", confidence=0.45,
               probabilities={"negative": 0.45, "neutral": 0.1, "positive": 0.45})
    path = tmp_path / "tie.json"
    path.write_text(json.dumps([tie, RECORDS[1]]))
    result = ingest_file(ModelConfig(path=str(path)), IngestConfig())
    assert not result.rejected and result.clean["prediction"].tolist() == ["negative", "positive"]


def test_bundled_v1_is_fully_clean(repo_root):
    result = ingest_file(ModelConfig(path=str(repo_root / "data/raw/predictions/v1.json")), IngestConfig())
    metrics = ingest_metrics(result)
    assert metrics["rows_in"] == metrics["rows_clean"] == 979 and metrics["rows_rejected"] == 0
    assert result.clean["label"].value_counts().to_dict() == {"positive": 633, "negative": 256, "neutral": 90}
    assert metadata_columns(result.clean) == ["meta__condition", "meta__drug", "meta__date", "meta__useful_count"]
    assert result.clean["id"].is_unique


_corruptions = st.sampled_from([
    ("confidence", 1.5), ("confidence", -0.1), ("confidence", "x"), ("label", "LOUD"), ("label", None),
    ("prediction", 7), ("text", ""), ("probabilities", {"negative": 1.0}), ("id", "r1"), ("text", None),
])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 29), _corruptions), max_size=20))
def test_accounting_holds_under_any_corruption(tmp_path_factory, edits):
    rows = [dict(RECORDS[i % 3], id=f"r{i}") for i in range(30)]
    for index, (field, value) in edits:
        rows[index] = dict(rows[index], **{field: value})
    path = tmp_path_factory.mktemp("h") / "p.json"
    path.write_text(json.dumps(rows))
    result = validate(read_raw(path), path=path, classes=CLASSES, columns=ColumnsConfig())
    metrics = ingest_metrics(result)
    assert metrics["rows_in"] == 30 == metrics["rows_clean"] + metrics["rows_rejected"]
    assert set(r["reason"] for r in result.rejected) <= set(REASONS)
    assert sorted(result.clean["record"].tolist() + [r["record"] for r in result.rejected]) == list(range(1, 31))
    assert result.clean["id"].is_unique


def test_predictions_batches_concatenate_to_the_table_read_whole(tmp_path):
    """Batches of the validated table hold the same columns, dtypes and values as read_predictions."""
    import pandas as pd

    from blindspot.io.readers import predictions_batches, read_predictions
    from blindspot.io.writers import write_parquet

    n = 1000
    frame = pd.DataFrame({"id": pd.array([f"r{i}" for i in range(n)], dtype="string[pyarrow]"),
                          "text": pd.array([f"text {i % 7}" for i in range(n)], dtype="string[pyarrow]"),
                          "y_true": (pd.RangeIndex(n) % 3).astype("int8"),
                          "proba__a": [i / n for i in range(n)], "proba__b": [1 - i / n for i in range(n)],
                          "meta__m": ["x" if i % 2 else None for i in range(n)]})
    path = write_parquet(tmp_path / "p.parquet", frame)
    whole = read_predictions(path, ["id", "text", "meta__m"], ["proba__"])
    batches = list(predictions_batches(path, ["id", "text", "meta__m"], ["proba__"], batch_rows=300))
    assert [len(b) for b in batches] == [300, 300, 300, 100]
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)
    assert list(whole.columns) == ["id", "text", "proba__a", "proba__b", "meta__m"]
    assert list(predictions_batches(write_parquet(tmp_path / "e.parquet", frame.iloc[:0]), ["id"])) == []


def _mixed_table(tmp_path, n: int = 1000):
    from blindspot.io.writers import write_parquet

    frame = pd.DataFrame({"id": pd.array([f"r{i}" for i in range(n)], dtype="string[pyarrow]"),
                          "text": pd.array([f"text {i % 7}" if i % 5 else None for i in range(n)],
                                           dtype="string[pyarrow]"),
                          "y_true": (pd.RangeIndex(n) % 3).astype("int8"),
                          "meta__m": ["x" if i % 2 else None for i in range(n)],
                          "meta__age": [float(i % 90) for i in range(n)]})
    return write_parquet(tmp_path / "p.parquet", frame)


def test_read_rows_at_equals_rows_at_of_the_batches(tmp_path, monkeypatch):
    """Taking the rows in Arrow gives what rows_at of pandas batches gives: same order, dtypes, repeats, errors."""
    from blindspot.io import readers

    import pyarrow.parquet as pq

    path = _mixed_table(tmp_path)
    monkeypatch.setattr(readers, "PREDICTION_BATCH_ROWS", 128)  # several batches, rows taken from each
    columns = ["text", "id", "y_true"]
    # Row groups of 100 rows (read_rows_at reads only those holding a wanted row), with the file's metadata.
    pq.write_table(pq.read_table(path), path, row_group_size=100)
    for positions in ([999, 0, 500, 500, 129, 128, 127], list(range(0, 1000, 7)), [3], [250, 251]):
        expected = readers.rows_at(readers.predictions_batches(path, columns, batch_rows=128), positions, columns)
        pd.testing.assert_frame_equal(readers.read_rows_at(path, positions, columns), expected)
    empty = readers.read_rows_at(path, [], columns)
    assert list(empty.columns) == columns and len(empty) == 0
    with pytest.raises(IndexError, match="past the table"):
        readers.read_rows_at(path, [5, 1000], columns)


def test_parquet_columns_reads_each_column_as_read_predictions_does(tmp_path):
    from blindspot.io.readers import ParquetColumns, read_predictions

    path = _mixed_table(tmp_path)
    lazy = ParquetColumns(path, ["meta__"])
    whole = read_predictions(path, [], ["meta__"])
    assert list(lazy.columns) == list(whole.columns) == ["meta__m", "meta__age"] and len(lazy) == 1000
    for name in lazy.columns:
        pd.testing.assert_series_equal(lazy[name], whole[name])
    with pytest.raises(KeyError):
        lazy["id"]  # not offered: only the prefixed columns
