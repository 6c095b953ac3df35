"""Read a predictions file into a table of raw values, or stop with a clear message.

Only *file-level* problems are raised here (missing, empty, not UTF-8, a BOM, broken
JSON or CSV syntax, an unreadable Parquet file): they make the whole file unusable.
A single record that cannot be parsed (a broken line in JSON Lines) is not a file
problem: it is returned in :attr:`RawTable.unparsed` and ends in ``rejected.jsonl``.
Row-level checks (types, labels, probabilities) live in :mod:`blindspot.io.schema`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from blindspot.errors import InputError

FORMATS = ("json", "jsonl", "csv", "tsv", "parquet")
_SUFFIXES = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
BOM = b"\xef\xbb\xbf"


@dataclass
class RawTable:
    """Records as found in the file, before validation.

    Attributes
    ----------
    frame : DataFrame, shape (n_parsed, n_fields)
        One row per parsed record, object columns holding the values as parsed.
        A field absent from a record is ``pd.NA``-like missing (``None``/NaN).
    record : ndarray of int, shape (n_parsed,)
        1-based record number of each row in the file.
    line : ndarray of int, shape (n_parsed,)
        1-based line where each record starts (0 when the format has no lines).
    typed : bool
        True when values keep their JSON/Parquet types; False for CSV, where
        every value is text and numbers must be parsed.
    fmt : str
        The format read.
    unparsed : list of dict
        Records that could not be parsed at all: ``record``, ``line``, ``raw``
        (the line as text) and ``detail``.
    objects : list of dict or None
        For JSON formats, the parsed records themselves, so a rejected row is kept
        exactly as written (an absent key stays absent).
    """

    frame: pd.DataFrame
    record: np.ndarray
    line: np.ndarray
    typed: bool
    fmt: str
    unparsed: list = field(default_factory=list)
    objects: list | None = None

    @property
    def n_records(self) -> int:
        return len(self.frame) + len(self.unparsed)


def detect_format(path: Path, fmt: str = "auto") -> str:
    """The file's format: ``fmt`` if given, else from the suffix."""
    if fmt != "auto":
        if fmt not in FORMATS:
            raise InputError(path, "unknown format in config (model.format).", expected=" | ".join(("auto",) + FORMATS), found=repr(fmt))
        return fmt
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise InputError(
            path,
            "cannot tell the file format from its name.",
            expected="a name ending in " + ", ".join(sorted(_SUFFIXES)),
            found=repr(path.suffix or "(no suffix)"),
            hint="rename the file or set model.format.",
        )
    return found


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _decode(path: Path, data: bytes, allow_bom: bool) -> str:
    """UTF-8 text of ``data``; refuses a BOM (unless allowed) and invalid bytes."""
    if data.startswith(BOM):
        if not allow_bom:
            raise InputError(
                path,
                "the file starts with a UTF-8 byte-order mark (BOM).",
                where="line 1",
                expected="UTF-8 without a BOM",
                found="bytes EF BB BF",
                hint="re-save the file as plain UTF-8, or set ingest.allow_bom=true to skip the mark.",
            )
        data = data[len(BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 4].hex(" ").upper()
        raise InputError(
            path,
            "the file is not valid UTF-8.",
            where=f"line {line}, column {col} (byte offset {exc.start})",
            expected="UTF-8 text",
            found=f"bytes {bad}",
            hint="re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
        ) from None


def _json_records(path: Path, text: str) -> RawTable:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        line, col = _line_col(text, exc.pos)
        raise InputError(path, f"invalid JSON: {exc.msg}.", where=f"line {line}, column {col}",
                         expected="a JSON array of objects (or JSON Lines in a .jsonl file)") from None
    if isinstance(doc, dict):
        # A lone object is a one-record file; a dict of columns is not in the contract.
        doc = [doc]
    if not isinstance(doc, list):
        raise InputError(path, "the JSON document is not an array of records.", where="line 1",
                         expected="a JSON array of objects", found=type(doc).__name__)
    records = list(range(1, len(doc) + 1))
    objects, numbers, unparsed = [], [], []
    for k, item in zip(records, doc):
        if isinstance(item, dict):
            objects.append(item)
            numbers.append(k)
        else:
            unparsed.append({"record": k, "line": 0, "raw": item,
                             "detail": f"record is a JSON {type(item).__name__}, expected an object"})
    frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
    n = np.asarray(numbers, dtype=np.int64)
    return RawTable(frame.astype(object), n, np.zeros_like(n), True, "json", unparsed, objects)


def _jsonl_records(path: Path, text: str) -> RawTable:
    objects, numbers, lines, unparsed = [], [], [], []
    record = 0
    decode = json.JSONDecoder().decode
    for lineno, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue  # blank lines (and the final newline) are not records
        record += 1
        try:
            item = decode(raw)
        except json.JSONDecodeError as exc:
            unparsed.append({"record": record, "line": lineno, "raw": raw,
                             "detail": f"invalid JSON at column {exc.pos + 1}: {exc.msg}"})
            continue
        if not isinstance(item, dict):
            unparsed.append({"record": record, "line": lineno, "raw": raw,
                             "detail": f"line is a JSON {type(item).__name__}, expected an object"})
            continue
        objects.append(item)
        numbers.append(record)
        lines.append(lineno)
    frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
    return RawTable(frame.astype(object), np.asarray(numbers, dtype=np.int64),
                    np.asarray(lines, dtype=np.int64), True, "jsonl", unparsed, objects)


def _csv_records(path: Path, text: str, sep: str, fmt: str) -> RawTable:
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_values=[], quoting=csv.QUOTE_MINIMAL)
    except pd.errors.ParserError as exc:
        raise InputError(path, f"cannot parse {fmt.upper()}: {str(exc).strip()}",
                         expected=f"one header line, then rows with the same number of {'tabs' if sep == chr(9) else 'commas'}") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file has no header and no rows.", expected="a header line naming the columns") from None
    frame = frame.astype(object).mask(frame == "", None)  # an empty cell is a missing value
    n = np.arange(1, len(frame) + 1, dtype=np.int64)
    # Row k starts on line k + 1 unless quoted cells span lines; the record number is exact.
    return RawTable(frame, n, n + 1, False, fmt, [])


def _parquet_records(path: Path) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}", expected="a Parquet file") from None
    frame = table.to_pandas(types_mapper=None).astype(object)
    # Missing values become None. Only a column with Arrow nulls, or floats (NaN), can hold one:
    # the others skip the whole-column check (a second pass over a million objects each).
    maybe_missing = [str(f.name) for f, col in zip(table.schema, table.columns)
                     if col.null_count or pa.types.is_floating(f.type)]
    if len(frame) and not frame.columns.is_unique:
        frame = frame.where(frame.notna(), None)
    elif len(frame) and maybe_missing:
        part = frame[maybe_missing]
        frame[maybe_missing] = part.where(part.notna(), None)
    n = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, n, np.zeros_like(n), True, "parquet", [])


def read_raw(path: str | Path, fmt: str = "auto", *, allow_bom: bool = False) -> RawTable:
    """Read a predictions file into a :class:`RawTable`.

    Parameters
    ----------
    path : str or Path
        JSON array, JSON Lines, CSV, TSV or Parquet.
    fmt : str
        ``"auto"`` (from the suffix) or one of :data:`FORMATS`.
    allow_bom : bool
        Skip a leading UTF-8 byte-order mark instead of refusing the file.

    Raises
    ------
    InputError
        When the file is missing, empty or unreadable as a whole.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found.", hint="check model.path (paths are relative to the repository root).")
    if path.is_dir():
        raise InputError(path, "is a directory, not a file.", hint="point model.path at one predictions file.")
    fmt = detect_format(path, fmt)
    if fmt == "parquet":
        table = _parquet_records(path)
    else:
        data = path.read_bytes()
        if not data.strip():
            raise InputError(path, "the file is empty.", expected="at least one prediction record",
                             found=f"{len(data)} bytes{' of white space' if data else ''}")
        text = _decode(path, data, allow_bom)
        if fmt == "json" and text.lstrip().startswith("{") and "\n{" in text.strip():
            fmt = "jsonl"  # several top-level objects, one a line: JSON Lines named .json
        if fmt == "json":
            table = _json_records(path, text)
        elif fmt == "jsonl":
            table = _jsonl_records(path, text)
        else:
            table = _csv_records(path, text, "\t" if fmt == "tsv" else ",", fmt)
    if table.n_records == 0:
        raise InputError(path, "the file holds no records.", expected="at least one prediction record", found="0 records")
    return table


def read_predictions(path: str | Path) -> pd.DataFrame:
    """Load the validated table ingest wrote (see :mod:`blindspot.io.schema`)."""
    return pd.read_parquet(path, engine="pyarrow")
