"""Inputs built to break ingest: each ends as a rejected row with its reason, or a file-level message.

Generated here rather than kept in tests/data/bad/ when they are large (nesting 100,000
deep, megabyte fields) or binary (Parquet with nested columns). Every case also goes
through the writers the stage uses, since a value ingest accepts but Parquet or strict
JSON cannot store is a crash too, one step later.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.config import ColumnsConfig, IngestConfig, ModelConfig
from blindspot.errors import InputError
from blindspot.ingest import ingest_file, ingest_metrics
from blindspot.io.readers import read_predictions
from blindspot.io.schema import RAW_KEEP_CHARS
from blindspot.io.writers import write_jsonl, write_parquet

GOOD = [
    {"id": "a", "text": "Great drug, it works.", "label": "positive", "prediction": "positive", "confidence": 0.9},
    {"id": "b", "text": "Terrible side effects.", "label": "negative", "prediction": "negative", "confidence": 0.8},
]


def _jsonl(tmp_path, third: str, name="p.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in GOOD) + third + "\n", encoding="utf-8")
    return path


def _run(path, tmp_path, **ingest):
    """Ingest, write what the stage writes, and check the accounting; returns (result, metrics)."""
    result = ingest_file(ModelConfig(path=str(path)), IngestConfig(**ingest))
    metrics = ingest_metrics(result)
    assert metrics["rows_in"] == metrics["rows_clean"] + metrics["rows_rejected"]
    write_jsonl(tmp_path / "rejected.jsonl", result.rejected, digits=None)
    write_parquet(tmp_path / "clean.parquet", result.clean)
    return result, metrics


def _one_rejected(result):
    assert len(result.rejected) == 1, result.rejected
    return result.rejected[0]


# --------------------------------------------------------------------------- JSON values


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_values_nested_100000_deep_are_one_rejected_record(tmp_path, fmt):
    deep = "[" * 100_000 + "]" * 100_000
    third = '{"id": "c", "text": "x", "label": "positive", "prediction": "positive", "confidence": 0.9, "m": ' + deep + "}"
    if fmt == "jsonl":
        path = _jsonl(tmp_path, third)
    else:
        path = tmp_path / "p.json"
        path.write_text("[" + ",".join(json.dumps(r) for r in GOOD) + "," + third + "]")
    result, _ = _run(path, tmp_path)
    row = _one_rejected(result)
    assert row["reason"] == "unparseable_record" and row["record"] == 3
    assert "nested too deeply" in row["detail"]
    assert row["raw_truncated"] and row["raw_bytes"] == len(third) and len(row["raw"]) <= RAW_KEEP_CHARS + 3
    assert result.clean["id"].tolist() == ["a", "b"]


def test_a_readable_but_deep_metadata_value_is_kept_as_bounded_text(tmp_path):
    deep = "[" * 300 + "1" + "]" * 300
    path = _jsonl(tmp_path, '{"id": "c", "text": "x", "label": "positive", "prediction": "positive", '
                            '"confidence": 0.9, "m": ' + deep + "}")
    result, _ = _run(path, tmp_path)
    assert not result.rejected
    stored = read_predictions(tmp_path / "clean.parquet")["meta__m"].tolist()
    assert pd.isna(stored[0]) and pd.isna(stored[1]) and "nested deeper than 64 levels" in stored[2]


def test_an_integer_of_5000_digits_is_rejected_in_a_json_array_too(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("[" + ",".join(json.dumps(r) for r in GOOD) + ',{"id": "c", "confidence": ' + "9" * 5000 + "}]")
    result, _ = _run(path, tmp_path)
    row = _one_rejected(result)
    assert row["reason"] == "unparseable_record" and "4,300 digits" in row["detail"]


@pytest.mark.parametrize("where", ["text", "label", "metadata value", "metadata key", "nested key"])
def test_a_lone_surrogate_anywhere_is_invalid_unicode(tmp_path, where):
    record = dict(GOOD[0], id="c", m="fine", n={"k": "v"})
    key = {"text": "text", "label": "label", "metadata value": "m"}.get(where)
    if key:
        record[key] = "half \ud800 pair"
    elif where == "metadata key":
        record["bad\udfff"] = 1
    else:
        record["n"] = {"deep\ud800": 1}
    path = _jsonl(tmp_path, json.dumps(record))  # ensure_ascii: the surrogate is written as \\ud800
    result, metrics = _run(path, tmp_path)
    row = _one_rejected(result)
    assert row["reason"] == "invalid_unicode" and "lone UTF-16 surrogate" in row["detail"]
    assert metrics["rejected_by_reason"]["invalid_unicode"] == 1
    written = (tmp_path / "rejected.jsonl").read_text(encoding="utf-8")
    assert "\\\\ud800" in written or "\\\\udfff" in written  # kept, escaped, readable as UTF-8


def test_huge_numbers_in_every_field(tmp_path):
    rows = [
        dict(GOOD[0], id="c", confidence=2**63),
        dict(GOOD[0], id="d", confidence=10**400),
        dict(GOOD[0], id=2**64),
        dict(GOOD[0], id=1e300),
        dict(GOOD[0], id="g", m=2**64),
        dict(GOOD[0], id="h", m=10**400),
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in GOOD + rows))
    result, _ = _run(path, tmp_path)
    reasons = {r["record"]: (r["reason"], r["field"]) for r in result.rejected}
    assert reasons == {3: ("confidence_out_of_range", "confidence"), 4: ("confidence_out_of_range", "confidence"),
                       6: ("wrong_type", "id")}
    assert result.clean["id"].tolist() == ["a", "b", str(2**64), "g", "h"]
    assert "found 1000000000000" in next(r["detail"] for r in result.rejected if r["record"] == 4)


def test_an_integer_beyond_the_float_range_as_a_probability(tmp_path):
    p = {"negative": 0.05, "neutral": 0.05, "positive": 0.9}
    q = {"negative": 0.8, "neutral": 0.1, "positive": 0.1}
    rows = [dict(GOOD[0], probabilities=p), dict(GOOD[1], probabilities=q),
            dict(GOOD[0], id="c", probabilities=dict(p, negative=10**400))]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result, _ = _run(path, tmp_path)
    assert [(r["reason"], r["field"]) for r in result.rejected] == [("probabilities_invalid", "probabilities")]


def test_nan_and_infinity_literals(tmp_path):
    rows = ['{"id": NaN, "text": "x", "label": "positive", "prediction": "positive", "confidence": 0.9}',
            '{"id": "d", "text": "x", "label": NaN, "prediction": "positive", "confidence": 0.9}',
            '{"id": "e", "text": "x", "label": "positive", "prediction": "positive", "confidence": -Infinity}',
            '{"id": "f", "text": "x", "label": "positive", "prediction": "positive", "confidence": 0.9, "m": Infinity}']
    path = _jsonl(tmp_path, "\n".join(rows))
    result, _ = _run(path, tmp_path)
    assert [(r["reason"], r["field"]) for r in result.rejected] == [
        ("wrong_type", "id"), ("wrong_type", "label"), ("non_finite", "confidence")]
    json.dumps(result.rejected, allow_nan=False)


def test_integer_labels_match_classes_named_by_their_digits(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"text": "x", "label": k % 2, "prediction": 1, "confidence": 0.7} for k in range(4)]))
    result = ingest_file(ModelConfig(path=str(path), columns=ColumnsConfig(id=None, probabilities=None)),
                         IngestConfig(classes=["0", "1"]))
    assert not result.rejected and result.clean["label"].tolist() == ["0", "1", "0", "1"]


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "parquet"])
def test_a_field_above_max_field_bytes_is_rejected_with_length_and_sha256_not_copied(tmp_path, fmt):
    big = "é" * 3000  # 6,000 bytes of UTF-8
    frame = pd.DataFrame(GOOD + [dict(GOOD[0], id="c", text=big)])
    path = tmp_path / f"p.{fmt}"
    if fmt == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    elif fmt == "json":
        frame.to_json(path, orient="records", force_ascii=False)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    result, metrics = _run(path, tmp_path, max_field_bytes=5000)
    row = _one_rejected(result)
    digest = hashlib.sha256(big.encode()).hexdigest()
    assert (row["reason"], row["field"], row["record"]) == ("field_too_large", "text", 3)
    assert "6,000 bytes" in row["detail"] and "ingest.max_field_bytes (5,000)" in row["detail"] and digest in row["detail"]
    assert big not in json.dumps(row, ensure_ascii=False) and row["raw"]["text"].startswith("<not kept: 6000 bytes")
    assert metrics["rejected_by_reason"]["field_too_large"] == 1


def test_a_record_above_max_record_bytes_is_rejected(tmp_path):
    third = json.dumps(dict(GOOD[0], id="c", text="x" * 1500, note="y" * 1500))
    result, _ = _run(_jsonl(tmp_path, third), tmp_path, max_record_bytes=2500)
    row = _one_rejected(result)
    assert row["reason"] == "record_too_large" and hashlib.sha256(third.encode()).hexdigest() in row["detail"]


def test_a_line_above_the_record_cap_names_the_field_that_made_it_so(tmp_path):
    third = json.dumps(dict(GOOD[0], id="c", text="t" * 5000))
    result, _ = _run(_jsonl(tmp_path, third), tmp_path, max_field_bytes=1000, max_record_bytes=2000)
    row = _one_rejected(result)
    assert (row["reason"], row["field"]) == ("field_too_large", "text") and "5,000 bytes" in row["detail"]


def test_rejected_jsonl_stays_small_whatever_the_input(tmp_path):
    # A 2 MiB field (above the 1 MiB default) and a 100 KB raw record of a row rejected for its label.
    rows = [dict(GOOD[0], id="c", text="z" * (2 << 20)), dict(GOOD[0], id="d", label="nope", note="n" * 100_000)]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in GOOD + rows))
    result, _ = _run(path, tmp_path)
    assert [r["reason"] for r in result.rejected] == ["field_too_large", "unknown_label"]
    assert (tmp_path / "rejected.jsonl").stat().st_size < 3 * RAW_KEEP_CHARS
    cut = result.rejected[1]
    assert cut["raw_truncated"] and cut["raw_bytes"] > 100_000
    full = json.dumps(rows[1], ensure_ascii=False).encode()
    assert cut["raw_sha256"] == hashlib.sha256(full).hexdigest() and cut["raw_bytes"] == len(full)


# --------------------------------------------------------------------------- Parquet types, NUL


def _parquet(tmp_path, **extra):
    base = {"id": ["a", "b", "c"], "text": ["x", "y", "z"], "label": ["positive", "negative", "positive"],
            "prediction": ["positive", "negative", "positive"], "confidence": [0.9, 0.8, 0.7]}
    base.update(extra)
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table(base), path)
    return path


@pytest.mark.parametrize("column, stored", [
    (pa.array([{"a": 1, "b": [1, 2]}, {"a": 2, "b": []}, None]), ['{"a": 1, "b": [1, 2]}', '{"a": 2, "b": []}', None]),
    (pa.array([[1], [2, 3], None]), ["[1]", "[2, 3]", None]),
    (pa.array([b"\x00\xff", b"ok", None]), ["0x00ff", "ok", None]),
    (pa.array([[("k", 1)], [], None], type=pa.map_(pa.string(), pa.int64())), ['[["k", 1]]', "[]", None]),
    (pa.array([2**64 - 1, 2, 3], type=pa.uint64()), [float(2**64 - 1), 2.0, 3.0]),
])
def test_parquet_nested_binary_and_uint64_metadata_is_stored(tmp_path, column, stored):
    result, _ = _run(_parquet(tmp_path, m=column), tmp_path)
    assert not result.rejected
    got = read_predictions(tmp_path / "clean.parquet")["meta__m"]
    assert [None if pd.isna(v) else v for v in got.tolist()] == stored


def test_parquet_nested_and_binary_contract_fields_are_wrong_type_rows(tmp_path):
    path = _parquet(tmp_path, text=pa.array([b"x", b"y", b"\xff"]), label=pa.array([["positive"], ["negative"], ["positive"]]),
                    confidence=pa.array([{"p": 0.9}, {"p": 0.8}, {"p": 0.7}]))
    result, _ = _run(path, tmp_path)
    # Bytes that are UTF-8 are text (b"x"); b"\xff" is not, and is kept in rejected.jsonl as hex.
    assert [(r["reason"], r["field"]) for r in result.rejected] == [("wrong_type", "label")] * 2 + [("wrong_type", "text")]
    assert result.rejected[2]["raw"]["text"] == "0xff" and "found bytes" in result.rejected[2]["detail"]


def test_nul_and_control_characters_survive_parquet(tmp_path):
    rows = [dict(GOOD[0], text="nul\x00 esc\x1b[31m bidi\u202e end", m="v\x00w", **{"k\x00": "name"}), GOOD[1]]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result, _ = _run(path, tmp_path)
    back = read_predictions(tmp_path / "clean.parquet")
    assert back["text"].iloc[0] == rows[0]["text"]  # kept as is: the report escapes it
    assert back["meta__m"].iloc[0] == "v\x00w" and back["meta__k\x00"].iloc[0] == "name"


def test_a_trailing_comma_header_is_an_empty_column_left_out(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,text,label,prediction,confidence,,\na,x,positive,positive,0.9,,\nb,y,negative,negative,0.8,,\n")
    result, _ = _run(path, tmp_path)
    assert not result.rejected and result.metadata == []


def test_mixed_types_in_a_metadata_column_become_text(tmp_path):
    rows = [dict(GOOD[0], m="a"), dict(GOOD[1], m=1), dict(GOOD[0], id="c", m=[1, {"b": True}])]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _run(path, tmp_path)
    assert read_predictions(tmp_path / "clean.parquet")["meta__m"].tolist() == ["a", "1", '[1, {"b": true}]']


# --------------------------------------------------------------------------- class list


def test_wrong_classes_with_flat_probability_columns_name_the_labels_not_a_missing_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("text,label,prediction,p_0,p_1\nx,0,0,0.8,0.2\ny,1,1,0.3,0.7\nz,1,0,0.6,0.4\n")
    with pytest.raises(InputError) as info:
        ingest_file(ModelConfig(path=str(path), probability_prefix="p_",
                                columns=ColumnsConfig(id=None, confidence=None, probabilities=None)), IngestConfig())
    message = str(info.value)
    assert "p_negative" not in message and "the configured classes do not match the file" in message
    assert 'ingest.classes=["0","1"]' in message


def test_many_unknown_labels_list_the_top_few_and_quote_odd_names(tmp_path):
    names = [f"class {k}" for k in range(8)]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(dict(GOOD[0], id=f"r{k}", label=names[k % 8], prediction=names[0])) + "\n"
                            for k in range(40)))
    with pytest.raises(InputError) as info:
        ingest_file(ModelConfig(path=str(path)), IngestConfig())
    message = str(info.value)
    assert "and 3 more" in message and '"class 0",' in message and "40 of 40 labels" in message


def test_a_few_unknown_labels_are_row_rejections_not_a_stop(tmp_path):
    rows = GOOD * 3 + [dict(GOOD[0], id="z", label="mixed")]
    rows = [dict(r, id=f"r{k}") for k, r in enumerate(rows)]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result, _ = _run(path, tmp_path)
    assert [r["reason"] for r in result.rejected] == ["unknown_label"]



def test_only_unpaired_surrogate_escapes_count_as_lone():
    from blindspot.io.readers import _lone_escape

    assert not _lone_escape(json.dumps("emoji \U0001F600 and \U0001F9EA written as escaped pairs"))
    assert not _lone_escape("no escapes at all")
    for text in ("a\ud800", "\udfff", "\udc00\ud800", "x\U0001F600\ud83d"):
        assert _lone_escape(json.dumps(text)), text
    assert not _lone_escape(json.dumps("a backslash and the letters \\ud800"))
    # A literal "\\ud800" before a real low escape does not pair with it.
    assert _lone_escape(json.dumps("\\ud800") [:-1] + json.dumps("\udc00")[1:])


def test_emoji_as_escaped_pairs_are_text(tmp_path):
    path = _jsonl(tmp_path, json.dumps(dict(GOOD[0], id="c", text="works \U0001F600")))
    result, _ = _run(path, tmp_path)
    assert not result.rejected and result.clean["text"].iloc[2] == "works \U0001F600"
