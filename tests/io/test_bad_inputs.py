"""The malformed-input corpus in tests/data/bad/: every file gets a clear message.

File-level problems stop the ingest stage with exit status 2 and a message naming the
file, the place, the field, what was expected and what was found, and no traceback.
Row-level problems send the row to rejected.jsonl with its reason; nothing is lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from blindspot.config import IngestConfig, ModelConfig
from blindspot.errors import InputError
from blindspot.ingest import check_usable, ingest_file, ingest_metrics
from blindspot.results import undeclared
from blindspot.results.ingest import INGEST

from _paths import DATA, ROOT

BAD = DATA / "bad"

# file -> fragments the message must contain
FILE_LEVEL = {
    "empty.json": ["empty.json", "the file is empty", "found:    0 bytes"],
    "whitespace_only.jsonl": ["the file is empty", "bytes of white space"],
    "utf16.jsonl": ["encoded in UTF-16 (with a byte-order mark)", "line 1", "FF FE", "iconv -f utf-16 -t utf-8"],
    "utf16_no_bom.csv": ["UTF-16 little-endian (no byte-order mark)", "iconv -f utf-16 -t utf-8"],
    "pretty_array.jsonl": ["no record could be read", "record 1 (line 1)", "invalid JSON at column 2",
                           "looks like one JSON array", "model.format=json"],
    "nul_filled.jsonl": ["no record could be read", "its only record does not parse", "512 NUL bytes"],
    "duplicate_columns.csv": ["duplicate column names in the CSV header", "'label' 2 times"],
    "unnamed_column.csv": ["record 1", "column 6 has no name but holds values", "1 values, the first \"x\"",
                           "model.metadata"],
    "columns_object.json": ["object of columns, not an array of records", "orient='records'"],
    "wrong_classes.jsonl": ["field 'label'", "the configured classes do not match the file: 5 of 5 labels",
                            "ingest.classes ['negative', 'neutral', 'positive']",
                            "labels \"1\" (3 rows), \"0\" (2 rows); predictions \"1\" (3 rows), \"0\" (2 rows)",
                            "`dvc exp run -S 'ingest.classes=[\"0\",\"1\"]'`"],
    "latin1.csv": ["not valid UTF-8", "line 3, column 6", "bytes E9"],
    "truncated.json": ["invalid JSON", "line 3, column", "expected: a JSON array of objects"],
    "not_an_array.json": ["not an array of records", "found:    str"],
    "missing_label_column.csv": ["required column(s) missing", "label (column 'label')", "'gold'", "model.columns"],
    "no_records.json": ["holds no records", "0 records"],
    "header_only.csv": ["holds no records"],
    "ragged.csv": ["cannot parse CSV"],
    "predictions.txt": ["cannot tell the file format", "'.txt'", "model.format"],
    "corrupt.parquet": ["cannot read Parquet"],
    "single_class.jsonl": ["single-class data", "field 'label'", "all labelled 'positive'"],
    "all_rejected.jsonl": ["no usable rows", "all 3 records were rejected", "confidence_out_of_range 3"],
}

# file -> (reason, field, fragment of the detail, record number)
ROW_LEVEL = {
    "row_missing_text.jsonl": ("missing_field", "text", "missing", 3),
    "row_null_label.jsonl": ("missing_field", "label", "missing", 3),
    "row_confidence_is_text.jsonl": ("wrong_type", "confidence", "found str \"high\"", 3),
    "row_confidence_is_bool.jsonl": ("wrong_type", "confidence", "found bool", 3),
    "row_text_is_number.jsonl": ("wrong_type", "text", "expected text, found int 12345", 3),
    "row_empty_text.jsonl": ("empty_text", "text", "empty or only white space", 3),
    "row_unknown_label.jsonl": ("unknown_label", "label", "\"mixed\" is not one of the configured classes", 3),
    "row_label_case_variant.jsonl": ("unknown_label", "label", "case/whitespace variant of 'positive'", 3),
    "row_unknown_prediction.jsonl": ("unknown_prediction", "prediction", "\"pos\"", 3),
    "row_nan_confidence.jsonl": ("non_finite", "confidence", "nan", 3),
    "row_confidence_out_of_range.jsonl": ("confidence_out_of_range", "confidence", "found 1.3", 3),
    "row_probabilities_sum.jsonl": ("probabilities_not_normalised", "probabilities", "sum to 1.2", 3),
    "row_probabilities_missing_class.jsonl": ("probabilities_invalid", "probabilities", "expected keys ['negative', 'neutral', 'positive']", 3),
    "row_probability_negative.jsonl": ("probabilities_invalid", "probabilities", "in [0, 1]", 3),
    "row_probabilities_not_object.jsonl": ("wrong_type", "probabilities", "expected an object", 3),
    "row_prediction_not_argmax.jsonl": ("prediction_not_argmax", "prediction", "must be the argmax", 3),
    "row_confidence_not_max.jsonl": ("confidence_not_max", "confidence", "0.7 differs from the largest probability 0.9", 3),
    "row_duplicate_id.jsonl": ("duplicate_id", "id", "already used by record 1", 3),
    "row_broken_json_line.jsonl": ("unparseable_record", None, "invalid JSON", 3),
    "row_line_is_array.jsonl": ("unparseable_record", None, "expected an object", 3),
    "row_not_an_object.json": ("unparseable_record", None, "record is a JSON int", 3),
    "row_csv_confidence_not_number.csv": ("wrong_type", "confidence", "\"abc\"", 3),
    "row_csv_infinite_confidence.csv": ("non_finite", "confidence", "inf", 3),
    "row_csv_empty_label.csv": ("missing_field", "label", "missing", 3),
    "row_lone_surrogate.jsonl": ("invalid_unicode", "text", "text holds a lone UTF-16 surrogate", 3),
    "row_integer_2_63.jsonl": ("confidence_out_of_range", "confidence", "found 9223372036854775808", 3),
    "row_1e400.jsonl": ("non_finite", "confidence", "confidence is inf", 3),
    "row_5000_digits.jsonl": ("unparseable_record", None, "more than 4,300 digits", 3),
    "row_label_is_list.jsonl": ("wrong_type", "label", "expected text, found list [\"positive\"]", 3),
    "row_id_infinity.jsonl": ("wrong_type", "id", "expected text or an integer, found float inf", 3),
}

# file -> what reading it notes in metrics/ingest.json (all rows clean)
ACCEPTED = {
    "bom.jsonl": {"bom_stripped": 1},
}


def _ingest(path):
    return ingest_file(ModelConfig(path=str(path)), IngestConfig())


def test_corpus_has_at_least_25_files_all_covered():
    files = {p.name for p in BAD.iterdir() if p.is_file()}
    assert len(files) >= 25
    assert files == set(FILE_LEVEL) | set(ROW_LEVEL) | set(ACCEPTED)


@pytest.mark.parametrize("name", sorted(FILE_LEVEL))
def test_file_level_message(name):
    with pytest.raises(InputError) as info:
        result = _ingest(BAD / name)
        check_usable(result, BAD / name, "rejected.jsonl")
    message = str(info.value)
    for fragment in FILE_LEVEL[name]:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


@pytest.mark.parametrize("name", sorted(ROW_LEVEL))
def test_row_level_rejection(name):
    reason, field, fragment, record = ROW_LEVEL[name]
    result = _ingest(BAD / name)
    assert len(result.clean) == 2, "the two good rows survive"
    assert [r["reason"] for r in result.rejected] == [reason]
    rejected = result.rejected[0]
    assert rejected["field"] == field
    assert fragment in rejected["detail"], rejected["detail"]
    assert rejected["record"] == record
    assert rejected["raw"] is not None
    json.dumps(rejected, allow_nan=False)  # strict JSON: NaN kept as its name
    metrics = ingest_metrics(result)
    assert metrics["rows_in"] == metrics["rows_clean"] + metrics["rows_rejected"] == 3
    assert metrics["rejected_by_reason"][reason] == 1


def test_jsonl_rejection_names_the_line():
    result = _ingest(BAD / "row_broken_json_line.jsonl")
    assert result.rejected[0]["line"] == 3
    assert result.rejected[0]["raw"].startswith('{"id": "x"')


def test_rejected_row_is_kept_verbatim():
    result = _ingest(BAD / "row_missing_text.jsonl")
    raw = result.rejected[0]["raw"]
    assert "text" not in raw and raw["id"] == "x" and raw["probabilities"]["positive"] == 0.9


def test_missing_file_and_directory():
    with pytest.raises(InputError, match="file not found"):
        _ingest(BAD / "no_such_file.json")
    with pytest.raises(InputError, match="is a directory"):
        _ingest(BAD)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_with_a_note(name):
    result = _ingest(BAD / name)
    metrics = ingest_metrics(result)
    assert metrics["rows_in"] == metrics["rows_clean"] == 2 and not result.rejected
    for key, value in ACCEPTED[name].items():
        assert metrics[key] == value


def test_no_bom_is_noted_as_zero():
    assert ingest_metrics(_ingest(BAD / "row_missing_text.jsonl"))["bom_stripped"] == 0


def test_label_map_resolves_a_declared_alias():
    cfg = IngestConfig(label_map={"Positive ": "positive"})
    result = ingest_file(ModelConfig(path=str(BAD / "row_label_case_variant.jsonl")), cfg)
    assert len(result.clean) == 3 and not result.rejected


def _in_workspace(params_for, name, overrides=None):
    """A scratch workspace whose model.path is a copy of ``name`` under data/raw (inputs must be inside)."""
    workdir = params_for({"model.path": f"data/raw/{name}", **(overrides or {})})
    (workdir / "data/raw").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(BAD / name, workdir / "data/raw" / name)
    return workdir


@pytest.mark.parametrize("name", ["truncated.json", "single_class.jsonl", "missing_label_column.csv",
                                  "pretty_array.jsonl", "nul_filled.jsonl", "utf16.jsonl", "wrong_classes.jsonl"])
def test_stage_exits_2_without_traceback(name, params_for):
    workdir = _in_workspace(params_for, name)
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.ingest"], cwd=workdir, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("ingest: error: ")
    assert name in proc.stderr


def test_stage_keeps_rejected_rows_before_stopping(params_for):
    workdir = _in_workspace(params_for, "all_rejected.jsonl")
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.ingest"], cwd=workdir, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    lines = (workdir / "data/interim/rejected.jsonl").read_text().splitlines()
    assert [json.loads(line)["reason"] for line in lines] == ["confidence_out_of_range"] * 3
    metrics = json.loads((workdir / "metrics/ingest.json").read_text())
    assert metrics["rows_in"] == 3 and metrics["rows_rejected"] == 3
    assert undeclared(metrics, INGEST) == []  # the stage writes only declared keys
