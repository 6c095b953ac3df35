"""Read a predictions file into a table of raw values, or stop with a clear message.

Only *file-level* problems are raised here (missing, empty, not UTF-8, UTF-16, broken
JSON or CSV syntax, an unreadable Parquet file, ambiguous column names, no record that
parses): they make the whole file unusable. A single record that cannot be used as read
is not a file problem: it is returned in :attr:`RawTable.unparsed` with its reason and
ends in ``rejected.jsonl``:

- ``unparseable_record``: broken JSON on its line, not an object, nested too deeply for
  the JSON reader, or a number of more digits than Python reads (4,300);
- ``record_too_large``: a record (a JSON Lines line, or a row's fields together) above
  ``max_record_bytes``, when no single field is above ``max_field_bytes``;
- ``field_too_large``: a field above ``max_field_bytes`` (text, or a nested value's JSON);
- ``invalid_unicode``: a key or value holding a lone UTF-16 surrogate (``"\\ud800"``),
  which no UTF-8 file can store.

Row-level checks of the contract (types, labels, probabilities) live in
:mod:`blindspot.io.schema`.

Cost: every check above is a rare branch behind a test that is cheap for ordinary
data (a line length, a whole-column maximum, one search of the text for a surrogate
escape, Arrow's byte lengths). On 200,000 rows JSON Lines and Parquet read as fast as
without them; a JSON array pays about 4% (its text columns' longest values).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
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
MAX_FIELD_BYTES = 1 << 20  # defaults of ingest.max_field_bytes / ingest.max_record_bytes
MAX_RECORD_BYTES = 4 << 20
_PROGRESS_EVERY = 4096  # records between two looks at the clock
# A lone surrogate can only come from a \uD800-\uDFFF escape: the text itself is strict UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # a literal prefix: a fast scan
_SURROGATE = re.compile("[\ud800-\udfff]")
_WS = re.compile(r"[ \t\n\r]*")
# Inside a JSON value: a string (escapes included) or a bracket.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_SCALAR_END = re.compile(r"[^,\]\}\s]*")


def _lone_escape(text: str) -> bool:
    """Whether ``text`` holds a surrogate escape that is not half of a pair.

    A high escape must be followed by a low one, a low one preceded by a high one; emoji
    written by ``json.dumps(ensure_ascii=True)`` are such pairs and decode to text.
    """
    def escape(at: int):
        # The escape at ``at``, if one starts there: its backslash must not itself be escaped.
        match = _SURROGATE_ESCAPE.match(text, at) if at >= 0 else None
        if match is None:
            return None
        k = at
        while k > 0 and text[k - 1] == "\\":
            k -= 1
        return match if (at - k) % 2 == 0 else None

    for found in _SURROGATE_ESCAPE.finditer(text):
        start, end = found.span()
        if escape(start) is None:
            continue  # "\\ud800" is a backslash and the letters ud800
        if found.group()[3] in "89abAB":  # high half: a low escape must follow
            after = escape(end)
            if after is None or after.group()[3] not in "cdefCDEF":
                return True
        else:  # low half: a high escape must precede
            before = escape(start - 6)
            if before is None or before.group()[3] not in "89abAB":
                return True
    return False


def Progress(*args, **kwargs):  # noqa: N802 (stands for the class)
    """A :class:`blindspot.progress.Progress`, imported on first use.

    Only reading a raw input reports progress: the stages that merely load ingest's
    Parquet output (:func:`read_predictions`) import this module without depending on
    ``blindspot/progress.py`` (tests/test_dvc_yaml.py checks every import is a dependency).
    """
    from blindspot.progress import Progress as _Progress

    return _Progress(*args, **kwargs)


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
        Records set aside while reading: ``record``, ``line``, ``raw`` (the line as
        text, or the parsed object), ``detail``, and ``reason`` / ``field`` (see the
        module docstring; ``unparseable_record`` and None when absent).
    objects : list of dict or None
        For JSON formats, the parsed records themselves, so a rejected row is kept
        exactly as written (an absent key stays absent).
    notes : dict
        What the reader did to the file as a whole, for ``metrics/ingest.json``
        (``bom_stripped``: 1 when a UTF-8 byte-order mark was skipped).
    unnamed : list
        Columns that have no name in the file (a CSV header cell left empty, which
        pandas calls ``Unnamed: k``).
    """

    frame: pd.DataFrame
    record: np.ndarray
    line: np.ndarray
    typed: bool
    fmt: str
    unparsed: list = field(default_factory=list)
    objects: list | None = None
    notes: dict = field(default_factory=dict)
    unnamed: list = field(default_factory=list)

    @property
    def n_records(self) -> int:
        return len(self.frame) + len(self.unparsed)


@dataclass(frozen=True)
class Limits:
    """Size caps (bytes of UTF-8) above which a field or a record is rejected, not read."""

    max_field_bytes: int = MAX_FIELD_BYTES
    max_record_bytes: int = MAX_RECORD_BYTES
    # Columns whose size validation bounds anyway (the probability mapping): not sized here.
    exempt: tuple = ()


def sha256_text(text: str) -> str:
    """Hex sha256 of ``text`` as UTF-8 (lone surrogates kept as their escapes)."""
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()


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


def _utf16_kind(data: bytes) -> str | None:
    """"UTF-16" / "UTF-32" (with the byte order) when ``data`` looks like it, else None.

    With a byte-order mark the answer is certain. Without one, text that is mostly ASCII
    has a NUL in every other byte in UTF-16: that pattern over the first 4 KiB decides.
    """
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32 (with a byte-order mark)"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 (with a byte-order mark)"
    head = data[:4096]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.4 and nul_even < 0.05:
        return "UTF-16 little-endian (no byte-order mark)"
    if nul_even > 0.4 and nul_odd < 0.05:
        return "UTF-16 big-endian (no byte-order mark)"
    return None


def _decode(path: Path, data: bytes) -> tuple[str, bool]:
    """UTF-8 text of ``data`` and whether a leading BOM was skipped; refuses UTF-16 and invalid bytes."""
    kind = _utf16_kind(data)
    if kind is not None:
        encoding = "utf-32" if kind.startswith("UTF-32") else "utf-16"
        raise InputError(
            path,
            f"the file is encoded in {kind}, not UTF-8.",
            where="line 1",
            expected="UTF-8 text",
            found="bytes " + data[:4].hex(" ").upper(),
            hint=f"convert it: `iconv -f {encoding} -t utf-8 {path} > {path.with_name(path.stem + '.utf8' + path.suffix)}`, "
                 "then point model.path at the new file.",
        )
    bom = data.startswith(BOM)
    if bom:
        data = data[len(BOM):]  # what every mainstream reader does; noted in metrics/ingest.json
    try:
        return data.decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 4].hex(" ").upper()
        raise InputError(
            path,
            "the file is not valid UTF-8.",
            where=f"line {line}, column {col} (byte offset {exc.start + (3 if bom else 0)})",
            expected="UTF-8 text",
            found=f"bytes {bad}",
            hint="re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`).",
        ) from None


# --------------------------------------------------------------------------- record screening


def _lone_surrogate(value, path: str = "") -> str | None:
    """The key path of the first string (key or value) holding a lone surrogate, else None."""
    stack = [(value, path)]
    while stack:
        v, where = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                return where or "(value)"
        elif isinstance(v, dict):
            for k, item in v.items():
                name = f"{where}.{k}" if where else str(k)
                if isinstance(k, str) and _SURROGATE.search(k):
                    return escape_surrogates(name)
                stack.append((item, name))
        elif isinstance(v, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(v))
    return None


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate written as its ``\\udXXX`` escape (writable as UTF-8)."""
    if _SURROGATE.search(text):
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _value_json(value) -> str:
    """JSON text of a nested value (for its size); deep values are sized by their repr."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return repr(value)


def _field_size(value) -> tuple[int, str]:
    """UTF-8 size of a field and its sha256 (text as is, anything else as JSON)."""
    text = value if isinstance(value, str) else _value_json(value)
    data = text.encode("utf-8", "backslashreplace")
    return len(data), hashlib.sha256(data).hexdigest()


def _oversize_field(obj: dict, limits: Limits) -> tuple[str, int, str] | None:
    """(field, bytes, sha256) of the first field of ``obj`` above the field cap, else None."""
    for key, value in obj.items():
        if isinstance(value, (str, dict, list)):
            # A str of n characters holds at most 4n bytes of UTF-8: most skip the encoding.
            if isinstance(value, str) and 4 * len(value) <= limits.max_field_bytes:
                continue
            size, digest = _field_size(value)
            if size > limits.max_field_bytes:
                return escape_surrogates(str(key)), size, digest
    return None


def _too_large_detail(name: str, size: int, digest: str, limits: Limits) -> str:
    return (f"field {name!r} is {size:,} bytes, above ingest.max_field_bytes ({limits.max_field_bytes:,}); "
            f"sha256 {digest}; not kept")


def _placeholder(size: int, digest: str) -> str:
    """What stands in rejected.jsonl for a value too large to copy."""
    return f"<not kept: {size} bytes, sha256 {digest}>"


def _surrogate_detail(where: str) -> str:
    return (f"{where} holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape), "
            "which is not text: no UTF-8 file can store it")


def _screen_object(obj: dict, record: int, line: int, text_len: int, check_surrogates: bool,
                   limits: Limits) -> dict | None:
    """An ``unparsed`` entry when a parsed record cannot be kept, else None.

    ``text_len`` is the record's length in characters in the file: no field is longer,
    so a short record skips the field sizes.
    """
    if check_surrogates:
        where = _lone_surrogate(obj)
        if where is not None:
            return {"record": record, "line": line, "raw": obj, "reason": "invalid_unicode",
                    "field": where.split(".")[0].split("[")[0], "detail": _surrogate_detail(where)}
    if 4 * text_len > limits.max_field_bytes:
        big = _oversize_field(obj, limits)
        if big is not None:
            name, size, digest = big
            raw = {k: (_placeholder(size, digest) if escape_surrogates(str(k)) == name else v) for k, v in obj.items()}
            return {"record": record, "line": line, "raw": raw, "reason": "field_too_large", "field": name,
                    "detail": _too_large_detail(name, size, digest, limits)}
    return None


def _record_too_large(raw: str, record: int, line: int, limits: Limits) -> dict | None:
    """An ``unparsed`` entry for a record text above the record cap, else None."""
    if 4 * len(raw) <= limits.max_record_bytes:
        return None
    size = len(raw.encode("utf-8"))
    if size <= limits.max_record_bytes:
        return None
    return {"record": record, "line": line, "raw": raw, "reason": "record_too_large", "field": None,
            "detail": f"record is {size:,} bytes, above ingest.max_record_bytes ({limits.max_record_bytes:,}); "
                      f"sha256 {sha256_text(raw)}; not kept"}


def _parse_failure(exc: BaseException) -> str:
    """Detail for a record the JSON reader gave up on without a syntax error."""
    if isinstance(exc, RecursionError):
        return "values nested too deeply for the JSON reader (about 1,000 levels or more)"
    if "integer string conversion" in str(exc):
        return "holds an integer of more than 4,300 digits, more than Python reads"
    return f"cannot be read as JSON: {exc}"


# --------------------------------------------------------------------------- JSON


def _skip_value(text: str, pos: int) -> int:
    """Index just past the JSON value starting at ``pos`` (syntax assumed sound up to its end)."""
    if text[pos] == '"':
        match = _TOKEN.match(text, pos)
        return match.end() if match else len(text)
    if text[pos] not in "[{":
        return _SCALAR_END.match(text, pos).end()
    depth = 0
    for match in _TOKEN.finditer(text, pos):
        token = match.group()
        if token in "[{":
            depth += 1
        elif token in "]}":
            depth -= 1
            if depth == 0:
                return match.end()
    return len(text)


def _json_error(path: Path, text: str, exc: json.JSONDecodeError) -> InputError:
    line, col = _line_col(text, exc.pos)
    hint = None
    if "\x00" in text:
        hint = f"the file holds {text.count(chr(0)):,} NUL bytes: it was cut short or is not a text file; write it again."
    return InputError(path, f"invalid JSON: {exc.msg}.", where=f"line {line}, column {col}",
                      expected="a JSON array of objects (or JSON Lines in a .jsonl file)", hint=hint)


def _decode_one(decode, path: Path, text: str, pos: int):
    """``(value, end)`` of the JSON value at ``pos``; a value the decoder gives up on is the exception.

    A syntax error stops the file; a value nested too deeply or a number too long costs only
    its own record (``_skip_value`` finds where it ends).
    """
    try:
        return decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _json_error(path, text, exc) from None
    except (ValueError, RecursionError) as exc:
        return exc, _skip_value(text, pos)


def _json_values(path: Path, text: str, progress: Progress):
    """Yield ``(k, value, start, end)`` for each element of a top-level JSON array.

    Elements are read one at a time, so one the reader gives up on (nested too deeply, a
    number too long) costs only that record: ``value`` is then the exception. A syntax
    error anywhere stops the file. A top-level value that is not an array is yielded whole
    as element 1.
    """
    decode = json.JSONDecoder().raw_decode
    pos = _WS.match(text).end()
    if not text.startswith("[", pos):
        value, end = _decode_one(decode, path, text, pos)
        rest = _WS.match(text, end).end()
        if rest != len(text):
            line, col = _line_col(text, rest)
            raise InputError(path, "invalid JSON: extra data after the document.", where=f"line {line}, column {col}",
                             expected="a JSON array of objects (or JSON Lines in a .jsonl file)")
        yield 1, value, pos, end
        return
    pos = _WS.match(text, pos + 1).end()
    k = 0
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            k += 1
            value, end = _decode_one(decode, path, text, pos)
            yield k, value, pos, end
            if k % _PROGRESS_EVERY == 0:
                progress.update(k)
            pos = _WS.match(text, end).end()
            if text.startswith(",", pos):
                pos = _WS.match(text, pos + 1).end()
                continue
            if text.startswith("]", pos):
                pos += 1
                break
            exc = json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            raise _json_error(path, text, exc) from None
    pos = _WS.match(text, pos).end()
    if pos != len(text):
        raise _json_error(path, text, json.JSONDecodeError("Extra data", text, pos)) from None


def _json_records(path: Path, text: str, limits: Limits) -> RawTable:
    surrogates = _lone_escape(text)
    if not text.startswith("[", _WS.match(text).end()):
        return _json_document(path, text, limits, surrogates)
    try:
        # The whole array in one C call (reading element by element costs twice as much: the
        # decoder's key memo is cleared after each call).
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(path, text, exc) from None
    except (ValueError, RecursionError):
        return _json_elements(path, text, limits, surrogates)  # one element costs only its record
    objects, numbers, unparsed = [], [], []
    for k, item in enumerate(doc, start=1):
        if isinstance(item, dict):
            where = _lone_surrogate(item) if surrogates else None  # before pandas sees the text
            if where is None:
                objects.append(item)
                numbers.append(k)
            else:
                unparsed.append({"record": k, "line": 0, "raw": item, "reason": "invalid_unicode",
                                 "field": where.split(".")[0].split("[")[0], "detail": _surrogate_detail(where)})
        else:
            unparsed.append({"record": k, "line": 0, "raw": item,
                             "detail": f"record is a JSON {type(item).__name__}, expected an object"})
    del doc
    frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
    n = np.asarray(numbers, dtype=np.int64)
    table = RawTable(frame.astype(object), n, np.zeros_like(n), True, "json", unparsed, objects)
    if 4 * len(text) > min(limits.max_field_bytes, limits.max_record_bytes):
        table = _apply_screen(table, limits)
    return table


def _json_elements(path: Path, text: str, limits: Limits, surrogates: bool) -> RawTable:
    """A JSON array read element by element, when reading it whole failed on one of them."""
    progress = Progress(f"reading {path}")
    objects, numbers, unparsed = [], [], []
    n_values = 0
    for k, item, start, end in _json_values(path, text, progress):
        n_values = k
        if isinstance(item, BaseException):
            raw = text[start:end]
            unparsed.append({"record": k, "line": 0, "raw": raw, "detail": _parse_failure(item)})
        elif isinstance(item, dict):
            flagged = _screen_object(item, k, 0, end - start, surrogates, limits)
            if flagged is None:
                objects.append(item)
                numbers.append(k)
            else:
                unparsed.append(flagged)
        else:
            unparsed.append({"record": k, "line": 0, "raw": item,
                             "detail": f"record is a JSON {type(item).__name__}, expected an object"})
    progress.finish(n_values)
    frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
    n = np.asarray(numbers, dtype=np.int64)
    return RawTable(frame.astype(object), n, np.zeros_like(n), True, "json", unparsed, objects)


def _json_document(path: Path, text: str, limits: Limits, surrogates: bool) -> RawTable:
    """A JSON file whose top level is not an array: one object is a one-record file."""
    ((_, doc, start, end),) = _json_values(path, text, Progress(""))
    if isinstance(doc, dict) and doc and all(isinstance(v, list) for v in doc.values()):
        raise InputError(path, "the JSON document is an object of columns, not an array of records.", where="line 1",
                         expected="a JSON array of objects, one per prediction",
                         found="an object whose keys " + ", ".join(repr(str(k)) for k in list(doc)[:5]) + " hold lists",
                         hint="write records, e.g. pandas `df.to_json(path, orient='records')`.")
    if isinstance(doc, dict):
        flagged = _screen_object(doc, 1, 0, end - start, surrogates, limits)
        objects = [doc] if flagged is None else []
        unparsed = [] if flagged is None else [flagged]
    elif isinstance(doc, BaseException):
        objects, unparsed = [], [{"record": 1, "line": 0, "raw": text[start:end], "detail": _parse_failure(doc)}]
    else:
        raise InputError(path, "the JSON document is not an array of records.", where="line 1",
                         expected="a JSON array of objects", found=type(doc).__name__)
    frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
    n = np.ones(len(objects), dtype=np.int64)
    return RawTable(frame.astype(object), n, np.zeros_like(n), True, "json", unparsed, objects)


def _jsonl_records(path: Path, text: str, limits: Limits) -> RawTable:
    objects, numbers, lines, unparsed = [], [], [], []
    record = 0
    decode = json.JSONDecoder().decode
    surrogates = _lone_escape(text)
    # Below this many characters a line can hold no field (or record) above the caps: one
    # comparison a line keeps the size checks off the common path.
    short = min(limits.max_field_bytes, limits.max_record_bytes) // 4
    split = text.split("\n")
    n_lines = len(split) - (split[-1] == "")  # the final newline ends a line, it starts none
    progress = Progress(f"reading {path}", total=n_lines)
    for lineno, raw in enumerate(split, start=1):
        if lineno % _PROGRESS_EVERY == 0:
            progress.update(lineno)
        if not raw.strip():
            continue  # blank lines (and the final newline) are not records
        record += 1
        long_line = len(raw) > short
        try:
            item = decode(raw)
        except json.JSONDecodeError as exc:
            unparsed.append({"record": record, "line": lineno, "raw": raw,
                             "detail": f"invalid JSON at column {exc.pos + 1}: {exc.msg}"})
            continue
        except (ValueError, RecursionError) as exc:
            unparsed.append({"record": record, "line": lineno, "raw": raw, "detail": _parse_failure(exc)})
            continue
        if not isinstance(item, dict):
            unparsed.append({"record": record, "line": lineno, "raw": raw,
                             "detail": f"line is a JSON {type(item).__name__}, expected an object"})
            continue
        if long_line or (surrogates and _lone_escape(raw)):
            # A field above its cap is named (so a huge line is read once, to say which field).
            flagged = _screen_object(item, record, lineno, len(raw), surrogates, limits)
            if flagged is None and long_line:
                flagged = _record_too_large(raw, record, lineno, limits)
            if flagged is not None:
                unparsed.append(flagged)
                continue
        objects.append(item)
        numbers.append(record)
        lines.append(lineno)
    progress.finish(n_lines)
    frame = pd.DataFrame.from_records(objects) if objects else pd.DataFrame()
    return RawTable(frame.astype(object), np.asarray(numbers, dtype=np.int64),
                    np.asarray(lines, dtype=np.int64), True, "jsonl", unparsed, objects)


# --------------------------------------------------------------------------- CSV and Parquet


def _check_names(path: Path, names: list, what: str) -> None:
    """Stop on duplicate column names: which of two 'label' columns is the label is not guessed."""
    counts = Counter(str(n) for n in names if str(n).strip())
    dup = [(name, c) for name, c in counts.items() if c > 1]
    if dup:
        raise InputError(
            path,
            f"duplicate column names in the {what}.",
            expected="each column named once",
            found=", ".join(f"{name!r} {c} times" for name, c in dup),
            hint="rename or drop the extra columns.",
        )


_SCALAR_KINDS = frozenset({"floating", "integer", "mixed-integer-float", "boolean", "empty", "decimal", "datetime",
                           "datetime64", "date", "time", "timedelta", "period", "complex"})
_CHUNK = 1024  # values sized together by one json.dumps
_BATCH_ROWS = 1 << 16  # Parquet rows decoded at a time
_SAMPLE = 4096  # leading values of a Parquet text column that tell whether it has few distinct values


def _text_lengths(arr: np.ndarray) -> np.ndarray:
    return np.fromiter((len(v) if v.__class__ is str else 0 for v in arr), dtype=np.int64, count=len(arr))


def _chunk_bounds(arr: np.ndarray) -> np.ndarray:
    """Upper bounds on the UTF-8 size of each value of a column of nested values (or bytes).

    Each value is bounded by the length of its chunk of values as ASCII JSON, which is at
    least its UTF-8 size; a chunk that cannot be serialised (too deep) is bounded by
    infinity, so its rows are measured one by one.
    """
    bounds = np.empty(len(arr), dtype=np.float64)
    for start in range(0, len(arr), _CHUNK):
        try:
            bounds[start:start + _CHUNK] = len(json.dumps(arr[start:start + _CHUNK].tolist(), default=str))
        except (RecursionError, ValueError, TypeError):
            bounds[start:start + _CHUNK] = np.inf
    return bounds


def _screen_frame(table: RawTable, limits: Limits) -> dict:
    """Rows to set aside: a field or a record above the caps.

    Returns ``{row position: (reason, field, detail, {field: placeholder})}``. Each text
    column's longest value is found first (one pass in C): when even the sum of these
    cannot reach a cap, nothing is measured row by row (the common case). Columns in
    ``limits.exempt`` are left to validation (a probability mapping must hold one
    number per class, or its row is rejected anyway).
    """
    frame, flagged = table.frame, {}
    n = len(frame)
    if not n:
        return flagged
    texts, bounds, reach = {}, {}, 0.0
    for name in frame.columns:
        if frame[name].dtype != object or name in limits.exempt:
            continue
        arr = frame[name].to_numpy(dtype=object)
        kind = pd.api.types.infer_dtype(arr, skipna=True)
        if kind in _SCALAR_KINDS:
            continue
        if kind == "string":
            texts[name] = arr
            try:
                longest = max(map(len, arr))  # all text: one pass in C
            except TypeError:  # a missing value (None, NaN) among the text
                longest = int(_text_lengths(arr).max())
            reach += 4 * longest  # a character is at most 4 bytes of UTF-8
        else:
            bounds[name] = _chunk_bounds(arr)
            reach += float(bounds[name].max())
    if reach <= min(limits.max_field_bytes, limits.max_record_bytes):
        return flagged
    for name, arr in texts.items():
        bounds[name] = 4 * _text_lengths(arr)
    matrix = np.column_stack(list(bounds.values()))
    rows = np.flatnonzero((matrix.max(axis=1) > limits.max_field_bytes) | (matrix.sum(axis=1) > limits.max_record_bytes))
    for i in rows:
        record_bytes = 0
        for name in bounds:
            value = frame[name].iat[i]
            if isinstance(value, (str, bytes, dict, list)):
                size, digest = _field_size(bytes_text(value) if isinstance(value, bytes) else value)
                record_bytes += size
                if size > limits.max_field_bytes:
                    flagged[int(i)] = ("field_too_large", str(name), _too_large_detail(str(name), size, digest, limits),
                                       {name: _placeholder(size, digest)})
                    break
        else:
            if record_bytes > limits.max_record_bytes:
                flagged[int(i)] = ("record_too_large", None,
                                   f"record's fields total {record_bytes:,} bytes, above ingest.max_record_bytes "
                                   f"({limits.max_record_bytes:,}); not kept",
                                   {name: "<not kept>" for name in bounds})
    return flagged


def _apply_screen(table: RawTable, limits: Limits) -> RawTable:
    """Move the rows :func:`_screen_frame` flags from the frame (and objects) to ``unparsed``."""
    flagged = _screen_frame(table, limits)
    if not flagged:
        return table
    frame = table.frame
    for i, (reason, name, detail, replace) in flagged.items():
        row = table.objects[i] if table.objects is not None else dict(frame.iloc[i].items())
        raw = {k: (replace[k] if k in replace else v) for k, v in row.items()}
        table.unparsed.append({"record": int(table.record[i]), "line": int(table.line[i]), "raw": raw,
                               "reason": reason, "field": name, "detail": detail})
    keep = np.ones(len(frame), dtype=bool)
    keep[list(flagged)] = False
    table.frame = frame[keep].reset_index(drop=True)
    table.record = table.record[keep]
    table.line = table.line[keep]
    if table.objects is not None:
        table.objects = [o for o, k in zip(table.objects, keep) if k]
    return table


def _csv_records(path: Path, text: str, sep: str, fmt: str) -> RawTable:
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
    except csv.Error:
        header = []
    _check_names(path, header, f"{fmt.upper()} header")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_values=[], quoting=csv.QUOTE_MINIMAL)
    except pd.errors.ParserError as exc:
        raise InputError(path, f"cannot parse {fmt.upper()}: {str(exc).strip()}",
                         expected=f"one header line, then rows with the same number of {'tabs' if sep == chr(9) else 'commas'}") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "the file has no header and no rows.", expected="a header line naming the columns") from None
    # pandas names an empty header cell "Unnamed: k"; schema decides what an unnamed column may hold.
    unnamed = [c for c, h in zip(frame.columns, header) if not h.strip()] if len(header) == len(frame.columns) else []
    frame = frame.astype(object).mask(frame == "", None)  # an empty cell is a missing value
    n = np.arange(1, len(frame) + 1, dtype=np.int64)
    # Row k starts on line k + 1 unless quoted cells span lines; the record number is exact.
    return RawTable(frame, n, n + 1, False, fmt, [], unnamed=unnamed)


def _plain(value):
    """A nested Parquet value as plain data (map entries as [key, value] pairs, UTF-8 bytes as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        # Text stored as bytes without the UTF8 annotation is text; other bytes stay bytes (not text).
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value
    return value


def bytes_text(value: bytes) -> str:
    """Bytes as text: their UTF-8 when valid, else ``0x`` and their hex digits."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + value.hex()


def _text_objects(column) -> np.ndarray:
    """An Arrow string column as an object array of ``str`` (``None`` where null).

    A column of few distinct values (labels, predictions, metadata) is dictionary-encoded
    first, so each distinct value becomes one Python string that every row holding it
    shares: a million rows then cost their pointers (8 MB), not a million string objects
    (about 60 MB). Equal values compare equal either way, so nothing downstream can tell.
    A column of mostly distinct values (texts, ids) is converted directly: encoding it
    would only add a hash table and a copy of every value.
    """
    import pyarrow.compute as pc

    sample = column.slice(0, _SAMPLE)
    if len(sample) == 0 or 2 * pc.count_distinct(sample).as_py() > len(sample):
        return column.to_numpy(zero_copy_only=False)
    encoded = pc.dictionary_encode(column.combine_chunks() if hasattr(column, "combine_chunks") else column)
    distinct = np.empty(len(encoded.dictionary) + 1, dtype=object)  # the last slot: None, for nulls
    distinct[:-1] = encoded.dictionary.to_pylist()
    codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return distinct[codes]


def _object_frame(table: list, texts: list) -> pd.DataFrame:
    """``table[0]`` as a pandas frame of object columns; the columns ``texts`` through :func:`_text_objects`.

    The caller hands its table over in a one-item list and keeps no reference: each text column's
    Arrow buffers are released as soon as its objects exist, and the text never becomes
    a pandas string column first (a second copy of every text while the objects are
    made). pandas converts the other columns, and restores an index the file's pandas
    metadata names.
    """
    objects, names_in_order = {}, list(table[0].schema.names)
    for name in texts:
        objects[name] = _text_objects(table[0].column(name))
        table[0] = table[0].drop_columns([name])
    rows, names = table[0].num_rows, names_in_order
    rest = table.pop().to_pandas(types_mapper=None)
    if len(rest.index) != rows:  # only text columns: none left to carry the rows
        rest = pd.DataFrame(index=pd.RangeIndex(rows))
    frame = {}
    for name in names:  # the file's order; a column pandas made the index is not among rest's columns
        if name in objects:
            frame[name] = pd.Series(objects.pop(name), dtype=object, index=rest.index)
        elif name in rest.columns:
            frame[name] = rest[name].astype(object)
    return pd.DataFrame(frame, index=rest.index)


def _read_parquet(path: Path, columns=None):
    """The Arrow table of ``columns`` (all when None), decoded a batch of rows at a time.

    Same table as ``pyarrow.parquet.read_table`` (columns in chunks); without reading the
    whole file into memory first, reading a million rows of text peaks about 160 MB lower.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path, pre_buffer=False)
    schema = file.schema_arrow if columns is None else pa.schema(
        [file.schema_arrow.field(n) for n in columns], metadata=file.schema_arrow.metadata)
    return pa.Table.from_batches(list(file.iter_batches(batch_size=_BATCH_ROWS, columns=columns)), schema=schema)


def _unread_bound(path: Path, schema, names: list) -> int | None:
    """The sum of the longest value of each string column in ``names``, read one column at a time.

    None when one of them is nested or binary (the row screen must see it). Used to make
    sure that leaving columns unread cannot hide a field or record above the caps.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    bound = 0
    for name in names:
        t = schema.field(name).type
        if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
            return None
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            column = _read_parquet(path, [name]).column(0)
            bound += int(pc.max(pc.binary_length(column)).as_py() or 0)
    return bound


def _parquet_records(path: Path, columns=None, rows=None) -> tuple[RawTable, int | None]:
    """The table, and the sum over its text columns of their longest value in bytes.

    ``rows``: an Arrow table of some of the file's rows (a batch, :func:`read_parquet_rows`) in a
    one-item list handed over, converted instead of reading the file.

    The sum bounds every field and record, so when it is under the caps the row-by-row
    screen is skipped (Arrow computes it in C); None when nested columns need the screen.
    With ``columns`` (names, all in the file), only those are read, and the other columns
    count in the sum (each read alone, then dropped).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}", expected="a Parquet file") from None
    _check_names(path, schema.names, "Parquet schema")
    try:
        # A column asked for and absent: read them all, so that the message naming it lists them all.
        read = None if columns is None or not set(columns) <= set(schema.names) else [
            n for n in schema.names if n in set(columns)]
        bound = 0 if read is None else _unread_bound(path, schema, [n for n in schema.names if n not in read])
        read = None if bound is None else read  # an unread nested column: read it, the screen needs it
        bound = 0 if bound is None else bound
        table = _read_parquet(path, read) if rows is None else rows.pop()
        # Nested and binary columns become plain Python values (lists, dicts, text) that every
        # later step handles; pandas would give numpy arrays and bytes. Text columns become
        # shared str objects (_text_objects), one column at a time.
        converted, texts = {}, []
        index_columns = {c for c in (table.schema.pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)}
        for k, f in enumerate(table.schema):
            t = f.type
            if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
                converted[f.name] = [_plain(v) for v in table.column(k).to_pylist()]
                bound = None
            elif pa.types.is_string(t) or pa.types.is_large_string(t):
                if f.name not in index_columns:  # pandas restores an index column itself
                    texts.append(f.name)
                if bound is not None:
                    bound += int(pc.max(pc.binary_length(table.column(k))).as_py() or 0)
        # Which columns may hold a missing value, asked of Arrow before the table is handed over.
        maybe_missing = [str(f.name) for f, col in zip(table.schema, table.columns)
                         if col.null_count or pa.types.is_floating(f.type)]
        handed = [table]
        del table
        frame = _object_frame(handed, texts)
    except (pa.ArrowException, OSError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}", expected="a Parquet file") from None
    for name, values in converted.items():
        frame[name] = pd.Series(values, dtype=object, index=frame.index)
    # Missing values become None. Only a column with Arrow nulls, or floats (NaN), can hold one:
    # the others skip the whole-column check (a second pass over a million objects each).
    if len(frame) and maybe_missing:
        part = frame[maybe_missing]
        frame[maybe_missing] = part.where(part.notna(), None)
    n = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, n, np.zeros_like(n), True, "parquet", []), bound


# --------------------------------------------------------------------------- entry point


def _no_record_parses(path: Path, table: RawTable, text: str | None) -> InputError:
    """The file-level stop when records exist but none could be read."""
    first = min(table.unparsed, key=lambda u: u["record"])
    where = f"record {first['record']}" + (f" (line {first['line']})" if first.get("line") else "")
    hint = None
    if text is not None and "\x00" in text:
        hint = (f"the file holds {text.count(chr(0)):,} NUL bytes of {len(text):,} characters: it was cut short or "
                "is not a text file; write it again.")
    elif text is not None and table.fmt == "jsonl" and text.lstrip().startswith("["):
        hint = "the file looks like one JSON array (pretty-printed), not JSON Lines: name it .json or set model.format=json."
    elif table.fmt == "jsonl":
        hint = "JSON Lines holds one JSON object per line; a JSON array belongs in a .json file."
    return InputError(
        path,
        "no record could be read: " + (f"none of its {len(table.unparsed):,} records parses." if len(table.unparsed) > 1
                                        else "its only record does not parse."),
        where=where,
        expected="one JSON object per record" if table.fmt in ("json", "jsonl") else "readable records",
        found=first["detail"],
        hint=hint,
    )


def read_raw(path: str | Path, fmt: str = "auto", *, limits: Limits | None = None, columns=None) -> RawTable:
    """Read a predictions file into a :class:`RawTable`.

    Parameters
    ----------
    path : str or Path
        JSON array, JSON Lines, CSV, TSV or Parquet, in UTF-8 (a leading byte-order mark
        is skipped and noted in :attr:`RawTable.notes`).
    fmt : str
        ``"auto"`` (from the suffix) or one of :data:`FORMATS`.
    limits : Limits, optional
        Field and record size caps (defaults: 1 MiB and 4 MiB).
    columns : collection of str, optional
        Parquet only: the columns to read when the file holds every one of them (others
        are only sized, so a field above the caps still sets its row aside); otherwise,
        and for the text formats, every column is read.

    Raises
    ------
    InputError
        When the file is missing, empty or unreadable as a whole, or no record in it
        can be read.
    """
    path = Path(path)
    limits = limits or Limits()
    if not path.exists():
        raise InputError(path, "file not found.", hint="check model.path (paths are relative to the repository root).")
    if path.is_dir():
        raise InputError(path, "is a directory, not a file.", hint="point model.path at one predictions file.")
    fmt = detect_format(path, fmt)
    text = None
    bom = False
    if fmt == "parquet":
        table, bound = _parquet_records(path, columns)
        if bound is None or bound > min(limits.max_field_bytes, limits.max_record_bytes):
            if columns is not None:  # a field may be too large: the screen must see every column
                table, bound = _parquet_records(path)
            table = _apply_screen(table, limits)
    else:
        data = path.read_bytes()
        if not data.strip():
            raise InputError(path, "the file is empty.", expected="at least one prediction record",
                             found=f"{len(data)} bytes{' of white space' if data else ''}")
        text, bom = _decode(path, data)
        del data
        if fmt == "json" and text.lstrip().startswith("{") and "\n{" in text.strip():
            fmt = "jsonl"  # several top-level objects, one a line: JSON Lines named .json
        if fmt == "json":
            table = _json_records(path, text, limits)
        elif fmt == "jsonl":
            table = _jsonl_records(path, text, limits)
        else:
            table = _csv_records(path, text, "\t" if fmt == "tsv" else ",", fmt)
            if 4 * len(text) > min(limits.max_field_bytes, limits.max_record_bytes):  # else no field can be that long
                table = _apply_screen(table, limits)
    if table.n_records == 0:
        hint = None
        if text is not None and "\x00" in text:
            hint = f"the file holds {text.count(chr(0)):,} NUL bytes: it was cut short or is not a text file; write it again."
        raise InputError(path, "the file holds no records.", expected="at least one prediction record", found="0 records",
                         hint=hint)
    if len(table.frame) == 0 and all(u.get("reason", "unparseable_record") == "unparseable_record" for u in table.unparsed):
        raise _no_record_parses(path, table, text)
    table.notes["bom_stripped"] = int(bom)
    return table


def read_parquet_rows(path: str | Path, rows: list, limits: Limits | None = None) -> RawTable:
    """Some rows of a Parquet file as :func:`read_raw` reads the whole file.

    ``rows``: a one-item list holding an Arrow table of them, handed over (emptied here) so that
    its buffers are released as the rows are converted. Records are numbered from 1 within it;
    the caller shifts them to their place in the file.
    """
    limits = limits or Limits()
    table, bound = _parquet_records(Path(path), rows=rows)
    if bound is None or bound > min(limits.max_field_bytes, limits.max_record_bytes):
        table = _apply_screen(table, limits)
    table.notes["bom_stripped"] = 0
    return table


def read_predictions(path: str | Path, columns=None, prefixes=()) -> pd.DataFrame:
    """Load the validated table ingest wrote (see :mod:`blindspot.io.schema`).

    Parameters
    ----------
    path : str or Path
    columns : collection of str, optional
        Read only these columns (those the file holds) and those named with one of
        ``prefixes``, in the file's order; every column when None. A stage that needs a
        few columns of a million rows then leaves the texts on disk.
    prefixes : sequence of str
    """
    if columns is None:
        return pd.read_parquet(path, engine="pyarrow")
    return pd.read_parquet(path, engine="pyarrow", columns=_wanted(path, columns, prefixes))


def _wanted(path, columns, prefixes) -> list:
    """The file's columns that are in ``columns`` or start with one of ``prefixes``, in the file's order."""
    import pyarrow.parquet as pq

    wanted = set(columns)
    return [n for n in pq.read_schema(path).names if n in wanted or str(n).startswith(tuple(prefixes))]


class ParquetColumns:
    """Columns of the validated table read from the file one at a time, when asked for.

    Enough of a DataFrame for code that walks a table's columns one by one (``columns``,
    ``table[name]``, ``len(table)``): the slice audit's metadata predicates, which then
    never hold every metadata column of every row at once.

    Parameters
    ----------
    path : str or Path
    prefixes : sequence of str
        The columns offered: those whose name starts with one of these.
    """

    def __init__(self, path: str | Path, prefixes):
        import pyarrow.parquet as pq

        self.path = Path(path)
        self.columns = pd.Index(_wanted(self.path, (), prefixes), dtype=object)
        self._rows = pq.read_metadata(self.path).num_rows

    def __len__(self) -> int:
        return self._rows

    def __getitem__(self, name: str) -> pd.Series:
        """One column, as :func:`read_predictions` reads it."""
        if name not in self.columns:
            raise KeyError(name)
        return read_predictions(self.path, [name])[name]


PREDICTION_BATCH_ROWS = 1 << 16  # rows of the validated table decoded at a time by predictions_batches


def predictions_batches(path: str | Path, columns, prefixes=(), batch_rows: int = PREDICTION_BATCH_ROWS):
    """The validated table ingest wrote, ``batch_rows`` rows at a time, in row order.

    The columns and dtypes are those :func:`read_predictions` gives for the same ``columns``
    and ``prefixes`` (the file's pandas metadata is applied to each batch), so a per-row
    function gives the same values on the batches as on the whole table. Memory is one
    batch's: a million review texts read whole take about 650 MiB, in batches of 65,536
    about 270 MiB (measured on the scale bench's 1M-row file).

    Yields
    ------
    pandas.DataFrame
        At most ``batch_rows`` rows each, index 0..n-1 within the batch; no batch when
        the table has no row.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    wanted = _wanted(path, columns, prefixes)
    with pq.ParquetFile(path) as source:
        # One row group at a time: the reader's batches over the whole file keep the decoded pages of
        # every row group read so far allocated (a batch's texts more per batch: 920 MiB resident after
        # ten million reviews); a row group's go when the next one starts. A batch never spans two
        # row groups, which changes nothing: every caller's result is independent of the batches.
        for group in range(source.metadata.num_row_groups):
            for batch in source.iter_batches(batch_size=batch_rows, row_groups=[group], columns=wanted):
                yield pa.Table.from_batches([batch]).to_pandas()


def read_rows_at(path: str | Path, positions, columns) -> pd.DataFrame:
    """The rows at ``positions`` of the validated table, read a row group at a time: :func:`rows_at` of
    :func:`predictions_batches`, with the wanted rows taken while the row group is still Arrow.

    Only the row groups holding a wanted row are read, and only the wanted rows are converted
    to pandas (a Python string per text at most for them); memory is one row group's columns
    (ingest writes row groups of 131,072 rows) and the rows kept.

    Parameters
    ----------
    path : str or Path
    positions : array_like of int, shape (m,)
        Row positions in the table, in any order, repeats allowed.
    columns : sequence of str
        Columns of the validated table (all must exist).

    Returns
    -------
    DataFrame, shape (m, len(columns)), index 0..m-1
        The dtypes :func:`read_predictions` gives; object columns when ``positions`` is empty.

    Raises
    ------
    IndexError
        A position lies past the table's last row.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as source:
        # A row group at a time, and only those holding a wanted row: the reader's batches over the
        # whole file keep its decoded pages allocated until the end (Arrow's allocation grows by a
        # batch's texts per batch: 920 MiB resident after ten million rows), one row group read alone
        # frees them when its table goes.
        sizes = [source.metadata.row_group(i).num_rows for i in range(source.metadata.num_row_groups)]
        starts = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        wanted = np.unique(np.asarray(positions, dtype=np.int64))
        needed = set(np.searchsorted(starts, wanted[wanted < starts[-1]], side="right") - 1)
        groups = (source.read_row_group(i, columns=list(columns)) if i in needed else _Skipped(n)
                  for i, n in enumerate(sizes))
        parts, order = _taken(groups, positions, lambda t: t.num_rows, lambda t, rows: t.take(pa.array(rows)))
    if not order.size:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    frame = pa.concat_tables(parts).to_pandas()[list(columns)]
    return frame.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


class _Skipped:
    """A row group :func:`read_rows_at` does not read (no wanted row in it): its size only."""

    def __init__(self, num_rows: int):
        self.num_rows = num_rows


def _taken(batches, positions, size, take) -> tuple[list, np.ndarray]:
    """The wanted rows of each of consecutive batches, read until the last one is found.

    Parameters
    ----------
    batches : iterable
        Consecutive batches of the table, first rows first.
    positions : array_like of int, shape (m,)
        Row positions in the whole table, in any order, repeats allowed.
    size : callable
        ``size(batch)``: its rows.
    take : callable
        ``take(batch, rows)``: the batch's rows at ``rows`` (ndarray of int, ascending).

    Returns
    -------
    parts : list
        ``take`` of each batch holding wanted rows, in order: the rows sorted by position.
    order : ndarray of int, shape (m,)
        The stable argsort of ``positions`` (the parts' rows are ``positions[order]``).

    Raises
    ------
    IndexError
        A position lies past the table's last row.
    """
    positions = np.asarray(positions, dtype=np.int64)
    order = np.argsort(positions, kind="stable")
    wanted = positions[order]
    parts, start = [], 0
    for batch in batches if wanted.size else ():  # nothing to read for no row
        lo, hi = np.searchsorted(wanted, [start, start + size(batch)])
        if hi > lo:
            parts.append(take(batch, wanted[lo:hi] - start))
        start += size(batch)
        if hi == wanted.size:
            break
    missing = wanted.size - sum(size(p) for p in parts)
    if missing:
        raise IndexError(f"rows_at: {missing} of {wanted.size} positions are past the table's {start} rows.")
    return parts, order


def rows_at(batches, positions, columns) -> pd.DataFrame:
    """The rows at ``positions`` of a table given as consecutive batches, in the order given.

    Only the wanted rows of each batch are kept, and reading stops after the batch of the
    last one, so the texts of a few thousand listed rows are read without holding them all.

    Parameters
    ----------
    batches : iterable of DataFrame
        Consecutive rows of the table, first rows first (:func:`predictions_batches`), with ``columns``.
    positions : array_like of int, shape (m,)
        Row positions in the whole table, in any order, repeats allowed.
    columns : sequence of str
        The columns kept (and those of the empty result when ``positions`` is empty).

    Returns
    -------
    DataFrame, shape (m, len(columns)), index 0..m-1
        The batches' dtypes; object columns when ``positions`` is empty.

    Raises
    ------
    IndexError
        A position lies past the table's last row.
    """
    parts, order = _taken(batches, positions, len, lambda b, rows: b.iloc[rows][list(columns)])
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    found = pd.concat(parts, ignore_index=True)
    return found.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
