"""Property tests: no input makes ingest raise anything but a BlindspotError.

Over raw bytes in every text format (random, and valid files mutated byte by byte), over
Parquet tables with columns of any Arrow type, and over arbitrary JSON values in every
field (lone surrogates, huge integers, NaN, nesting, hostile literals). On success the
accounting holds, every record number appears exactly once (clean or rejected), and
what the stage writes (rejected.jsonl as strict JSON, the Parquet table) can be written.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blindspot.config import ColumnsConfig, IngestConfig, ModelConfig
from blindspot.errors import BlindspotError
from blindspot.ingest import check_usable, ingest_file, ingest_metrics
from blindspot.io.readers import read_predictions
from blindspot.io.writers import write_jsonl, write_parquet

SETTINGS = settings(max_examples=120, deadline=timedelta(seconds=10),
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
PROBS = {"negative": 0.05, "neutral": 0.05, "positive": 0.9}
GOOD = [
    {"id": "a", "text": "Great drug.", "label": "positive", "prediction": "positive", "confidence": 0.9,
     "probabilities": PROBS, "age": "65+"},
    {"id": "b", "text": "Awful.", "label": "negative", "prediction": "negative", "confidence": 0.8,
     "probabilities": {"negative": 0.8, "neutral": 0.1, "positive": 0.1}, "age": "18-29"},
    {"id": "c", "text": "Fine.", "label": "neutral", "prediction": "neutral", "confidence": 0.6,
     "probabilities": {"negative": 0.2, "neutral": 0.6, "positive": 0.2}, "age": None},
]


def _seed(fmt: str) -> bytes:
    """A valid file of GOOD in ``fmt``: what the mutations start from."""
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in GOOD).encode()
    if fmt == "json":
        return json.dumps(GOOD, indent=1).encode()
    sep = "\t" if fmt == "tsv" else ","
    head = ["id", "text", "label", "prediction", "confidence", "probabilities", "age"]
    out = io.StringIO()
    import csv
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(head)
    for r in GOOD:
        writer.writerow([json.dumps(r[h]) if h == "probabilities" else ("" if r[h] is None else r[h]) for h in head])
    return out.getvalue().encode()


def _holds(path, tmp_path, model=None, ingest=None):
    """Ingest ``path``; on success check the accounting and write what the stage writes."""
    try:
        result = ingest_file(model or ModelConfig(path=str(path)), ingest or IngestConfig(max_field_bytes=4096,
                                                                                          max_record_bytes=16384))
    except BlindspotError:
        return None
    metrics = ingest_metrics(result)
    assert metrics["rows_in"] == metrics["rows_clean"] + metrics["rows_rejected"]
    numbers = sorted(result.clean["record"].tolist() + [r["record"] for r in result.rejected])
    assert numbers == list(range(1, metrics["rows_in"] + 1)), "each record exactly once"
    assert all(r["reason"] in metrics["rejected_by_reason"] for r in result.rejected)
    write_jsonl(tmp_path / "rejected.jsonl", result.rejected, digits=None)  # strict JSON, UTF-8
    for line in (tmp_path / "rejected.jsonl").read_text(encoding="utf-8").splitlines():
        assert len(line) < 20_000, "rejected.jsonl stays bounded"
    try:
        check_usable(result, path, "rejected.jsonl")
    except BlindspotError:
        return result
    write_parquet(tmp_path / "clean.parquet", result.clean)
    assert len(read_predictions(tmp_path / "clean.parquet")) == metrics["rows_clean"]
    return result


# --------------------------------------------------------------------------- bytes

_NASTY = [b"\x00", b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\\ud800", b"NaN", b"1e400", b"9" * 5000,
          b"[" * 3000, b"]", b"{", b"}", b'"', b",", b"\n", b"\r\n", b"\t", b"\\", b"null", b"true", b"-", b"\x1b[31m",
          "\u202e".encode(), b"0", b"2" * 20]
_edits = st.lists(st.tuples(st.floats(0, 1), st.sampled_from(["insert", "delete", "replace"]),
                            st.sampled_from(_NASTY) | st.binary(max_size=8)), max_size=6)


def _mutate(data: bytes, edits) -> bytes:
    for where, op, chunk in edits:
        k = int(where * len(data))
        if op == "insert":
            data = data[:k] + chunk + data[k:]
        elif op == "delete":
            data = data[:k] + data[k + len(chunk) + 1:]
        else:
            data = data[:k] + chunk + data[k + len(chunk):]
    return data


@SETTINGS
@given(fmt=st.sampled_from(["jsonl", "json", "csv", "tsv"]), edits=_edits,
       junk=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=300)))
def test_any_bytes_in_any_text_format(tmp_path_factory, fmt, edits, junk):
    tmp_path = tmp_path_factory.mktemp("bytes")
    path = tmp_path / f"p.{fmt}"
    path.write_bytes(junk if junk is not None else _mutate(_seed(fmt), edits))
    _holds(path, tmp_path)


# --------------------------------------------------------------------------- Parquet

_ARROW = [
    pa.array(["x", "y", "z"]), pa.array(["positive", "negative", "neutral"]), pa.array([0.9, float("nan"), float("inf")]),
    pa.array([1, 2, 3]), pa.array([2**64 - 1, 0, 1], type=pa.uint64()), pa.array([True, False, None]),
    pa.array([b"\xff", b"ok", None]), pa.array([[1], [], None]), pa.array([{"a": 1}, {"a": None}, None]),
    pa.array([[("k", 1.0)], [], None], type=pa.map_(pa.string(), pa.float64())), pa.array([None, None, None]),
    pa.array(["a\x00b", "", "\ud7ff\u202e"]), pa.array([0.9, 0.8, 0.7]), pa.array(["1", "0", "1"]),
    pa.array([{"negative": 0.1, "neutral": 0.1, "positive": 0.8}] * 3),
]


_VALID = {"id": pa.array(["a", "b", "c"]), "text": pa.array(["x", "y", "z"]),
          "label": pa.array(["positive", "negative", "neutral"]), "prediction": pa.array(["positive", "negative", "neutral"]),
          "confidence": pa.array([0.9, 0.8, 0.6]), "probabilities": pa.array([r["probabilities"] for r in GOOD])}


@SETTINGS
@given(columns=st.dictionaries(st.sampled_from(["id", "text", "label", "prediction", "confidence", "probabilities",
                                                "m", "", "p_positive"]),
                               st.sampled_from(range(len(_ARROW))) | st.none(), max_size=5))
def test_any_parquet_column_types(tmp_path_factory, columns):
    tmp_path = tmp_path_factory.mktemp("pq")
    path = tmp_path / "p.parquet"
    table = dict(_VALID)  # a valid file, then some columns of another type (None: the column is absent)
    for name, k in columns.items():
        if k is None:
            table.pop(name, None)
        else:
            table[name] = _ARROW[k]
    pq.write_table(pa.table(table) if table else pa.table({"x": [1]}), path)
    _holds(path, tmp_path)


# --------------------------------------------------------------------------- JSON values in every field

_scalars = (st.none() | st.booleans() | st.integers() | st.sampled_from([2**63, -(2**64), 10**400, 10**30])
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text(st.characters(blacklist_categories=()), max_size=12)  # lone surrogates included
            | st.sampled_from(["positive", "negative", "neutral", "", " ", "\x00", "Positive", "0", "1"]))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(st.characters(blacklist_categories=()), max_size=6), inner, max_size=3),
                       max_leaves=8)
_LITERALS = ["[" * 2000 + "]" * 2000, "9" * 5000, "-" + "1" * 4400, "1e400", "-1e999", "NaN", "Infinity",
             '"\\ud800"', '"\\udfff\\ud800"', '"' + "x" * 5000 + '"', "[" * 30 + "1" + "]" * 30]
_KEEP = object()
_FIELDS = ["id", "text", "label", "prediction", "confidence", "probabilities", "age", "\ud800k", ""]
_record_edits = st.dictionaries(st.sampled_from(_FIELDS),
                                _values | st.sampled_from(_LITERALS).map(lambda s: ("LITERAL", s)), max_size=4)


def _dump(record: dict) -> str:
    """JSON text of a record; ("LITERAL", s) values are written as the raw text s."""
    parts = []
    for key, value in record.items():
        text = value[1] if isinstance(value, tuple) and value[:1] == ("LITERAL",) else json.dumps(value)
        parts.append(json.dumps(key) + ": " + text)
    return "{" + ", ".join(parts) + "}"


@SETTINGS
@given(fmt=st.sampled_from(["jsonl", "json"]), n=st.integers(1, 6),
       edits=st.lists(_record_edits, min_size=1, max_size=6), drop=st.sets(st.sampled_from(_FIELDS[:6])),
       whole=st.none() | st.sampled_from(_LITERALS) | _values.map(json.dumps))
def test_arbitrary_json_values_in_every_field(tmp_path_factory, fmt, n, edits, drop, whole):
    tmp_path = tmp_path_factory.mktemp("json")
    records = []
    for k in range(n):
        record = {key: v for key, v in dict(GOOD[k % 3], id=f"r{k}").items() if key not in drop}
        record.update(edits[k % len(edits)])
        records.append(_dump(record))
    if whole is not None:
        records.append(whole)  # a record that is not an object at all
    path = tmp_path / f"p.{fmt}"
    path.write_text("\n".join(records) + "\n" if fmt == "jsonl" else "[" + ",\n".join(records) + "]", encoding="utf-8")
    _holds(path, tmp_path)
    # Confidence-only and flat-prefix mappings read the same values through other code paths.
    _holds(path, tmp_path, ModelConfig(path=str(path), columns=ColumnsConfig(probabilities=None)))
