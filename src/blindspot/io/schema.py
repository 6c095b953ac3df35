"""The input contract: row-level validation and the canonical predictions table.

:func:`validate` turns a :class:`~blindspot.io.readers.RawTable` into

- a *clean* frame in the canonical layout every later stage reads
  (``data/interim/predictions.parquet``), and
- a list of *rejected* rows, each kept verbatim with the first reason it failed.

Checks run column-wise over the whole table (no per-row Python loop on the hot
path). File-level checks come first (are the columns there, do the classes fit the file:
a failure stops the run); then the row checks of :data:`ROW_CHECKS`, each a small named
function for one rule, in order: a row is rejected with the first reason it fails (the
names are :data:`REASONS`), and every row is accounted for:
``rows_in == rows_clean + rows_rejected``.

Canonical columns
-----------------
``record`` (1-based position in the file), ``id``, ``text``, ``label``,
``prediction``, ``confidence`` (probability of the predicted class), ``y_true`` and
``y_pred`` (class indices into ``classes``), ``correct``, ``proba__<class>`` for each
class when probabilities were given, and ``meta__<name>`` for each metadata column.

Argmax ties
-----------
With probabilities, ``prediction`` must be *an* argmax: any class whose probability
is within ``tolerance`` of the maximum is accepted, so a tie is never a rejection.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from blindspot.errors import InputError
from blindspot.io.readers import Progress, RawTable, bytes_text, escape_surrogates

PROBA_PREFIX = "proba__"
META_PREFIX = "meta__"
CORE = ("record", "id", "text", "label", "prediction", "confidence", "y_true", "y_pred", "correct")

# Reasons a row can be rejected, as metrics/ingest.json lists them (the rules run in ROW_CHECKS order).
REASONS = (
    "unparseable_record",
    "record_too_large",
    "invalid_unicode",
    "field_too_large",
    "missing_field",
    "wrong_type",
    "empty_text",
    "unknown_label",
    "unknown_prediction",
    "non_finite",
    "confidence_out_of_range",
    "probabilities_invalid",
    "probabilities_not_normalised",
    "prediction_not_argmax",
    "confidence_not_max",
    "duplicate_id",
)


def reason_counts(rejected: list) -> dict:
    """Rejected rows per reason of :data:`REASONS` (zeros included), in that order."""
    counts = Counter(r["reason"] for r in rejected)
    return {reason: counts.get(reason, 0) for reason in REASONS}


@dataclass
class Validated:
    """Outcome of :func:`validate`.

    Attributes
    ----------
    clean : DataFrame, shape (rows_clean, n_columns)
        Canonical layout (see module docstring), ordered by ``record``.
    rejected : list of dict
        ``record``, ``line``, ``reason``, ``field``, ``detail``, ``raw``; by record.
    rows_in : int
        Records in the file (parsed or not).
    has_probabilities : bool
    metadata : list of str
        Metadata column names as in the file (without the prefix).
    notes : dict
        What the reader did to the whole file (see :attr:`RawTable.notes`).
    """

    clean: pd.DataFrame
    rejected: list
    rows_in: int
    has_probabilities: bool
    metadata: list = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    @property
    def reasons(self) -> dict:
        return reason_counts(self.rejected)

    @property
    def rows_clean(self) -> int:
        return len(self.clean)

    def clean_labels(self) -> list:
        """The distinct labels of the clean rows, in the order they first appear."""
        return list(self.clean["label"].unique())


def proba_columns(classes: Sequence[str]) -> list[str]:
    """Canonical probability column names, in class order."""
    return [PROBA_PREFIX + c for c in classes]


def probability_matrix(frame: pd.DataFrame, classes: Sequence[str]) -> np.ndarray | None:
    """Class probabilities of a canonical frame, shape (n_rows, n_classes), or None."""
    cols = proba_columns(classes)
    if not all(c in frame.columns for c in cols):
        return None
    return frame[cols].to_numpy(dtype=float)


def metadata_columns(frame: pd.DataFrame) -> list[str]:
    """Canonical metadata column names present in ``frame``."""
    return [c for c in frame.columns if c.startswith(META_PREFIX)]


# --------------------------------------------------------------------------- helpers


# Speed (a million rows): every check below is a per-value rule, but a clean column is
# recognised as a whole first, by pandas' C type inference over the object array
# (``infer_dtype(skipna=False)``: "string" means every value is a str, "floating" /
# "integer" / "mixed-integer-float" every value an int or float that is not a bool,
# "boolean" every value a bool). The per-value rule then runs only on the rows the
# whole-column answer does not settle (rows of a mixed column, missing candidates), so
# results are the same value for value as applying the rule to every row.
_NUMBER_KINDS = frozenset({"floating", "integer", "mixed-integer-float"})


def _kind(values: pd.Series) -> str | None:
    """Inferred type of every value of an object column (None for other dtypes)."""
    if values.dtype != object:
        return None
    return pd.api.types.infer_dtype(values.to_numpy(), skipna=False)


def _rule(values: pd.Series, rows: np.ndarray, rule: Callable) -> np.ndarray:
    """``rule`` applied to the values at positions ``rows``, as a bool array."""
    arr = values.to_numpy(dtype=object)
    return np.fromiter((rule(v) for v in arr[rows]), dtype=bool, count=len(rows))


def _missing_rule(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _is_missing(values: pd.Series) -> np.ndarray:
    # Only what pandas calls NA can be None or a float NaN: the rule runs on those rows.
    out = np.asarray(pd.isna(values), dtype=bool).copy()
    rows = np.flatnonzero(out)
    if rows.size:
        out[rows] = _rule(values, rows, _missing_rule)
    return out


def _is_str(values: pd.Series) -> np.ndarray:
    if _kind(values) == "string":
        return np.ones(len(values), dtype=bool)
    return values.map(lambda v: isinstance(v, str)).to_numpy(bool)


def _number_rule(v) -> bool:
    # bool is an int subclass; True is not a confidence.
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _is_number(values: pd.Series) -> np.ndarray:
    if values.dtype.kind in "fiu" or _kind(values) in _NUMBER_KINDS:
        return np.ones(len(values), dtype=bool)
    return values.map(_number_rule).to_numpy(bool)


def _blank_rule(v) -> bool:
    return isinstance(v, str) and not v.strip()


def _is_blank(values: pd.Series) -> np.ndarray:
    """Text that is empty or only white space (``not v.strip()``); non-text is not blank."""
    if _kind(values) == "string":
        arr = values.to_numpy(dtype=object)
        return np.fromiter((not v.strip() for v in arr), dtype=bool, count=len(arr))
    return values.map(_blank_rule).to_numpy(bool)


def _to_float(values: pd.Series, typed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numeric view of a column and a mask of values that are not numbers at all."""
    if typed:
        ok = _is_number(values)
        if ok.all():
            return _safe_floats(values.to_numpy()), ~ok
        out = np.full(len(values), np.nan)
        out[ok] = _safe_floats(values[ok].to_numpy())
        return out, ~ok
    parsed = pd.to_numeric(values, errors="coerce").to_numpy(float)
    # Text such as "nan" or "inf" parses: it is a number, just not a finite one.
    bad = np.isnan(parsed)
    rows = np.flatnonzero(bad)
    if rows.size:
        bad[rows] = ~_rule(values, rows, lambda v: isinstance(v, str) and v.strip().lower() in {"nan", "-nan"})
    return parsed, bad


def _fmt(value) -> str:
    """A value as it reads in a message: JSON-like, at most 80 characters."""
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**80:
        text = str(value)[:77]  # digits beyond the 80 shown need not be converted
    else:
        text = _dumps(_verbatim(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


MAX_DEPTH = 64  # nesting kept in rejected.jsonl and metadata text; deeper levels are elided
RAW_KEEP_CHARS = 4096  # a rejected record's raw JSON longer than this is cut, with its size and sha256


def _verbatim(value, depth: int = 0):
    """JSON-safe copy of a raw value.

    Non-finite floats become their names, lone surrogates their escapes, bytes their
    text (:func:`~blindspot.io.readers.bytes_text`), other objects (dates, decimals)
    their ``str``; levels deeper than :data:`MAX_DEPTH` are elided, so writing the copy
    can never exceed the interpreter's recursion limit.
    """
    if isinstance(value, str):
        return escape_surrogates(value)
    if isinstance(value, (bool, int, type(None))):
        return value
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        return float(value)
    if isinstance(value, (dict, list, tuple, np.ndarray)) and depth >= MAX_DEPTH:
        return f"<nested deeper than {MAX_DEPTH} levels: not kept>"
    if isinstance(value, dict):
        return {escape_surrogates(str(k)): _verbatim(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_verbatim(v, depth + 1) for v in value]
    if isinstance(value, np.ndarray):
        return [_verbatim(v, depth + 1) for v in value.tolist()]
    if isinstance(value, np.generic):
        return _verbatim(value.item(), depth)
    if isinstance(value, bytes):
        return bytes_text(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return escape_surrogates(str(value))


def _bounded(raw) -> dict:
    """``raw`` for rejected.jsonl, with ``raw_bytes`` and ``raw_sha256`` when it had to be cut.

    A record's raw form is kept whole up to :data:`RAW_KEEP_CHARS` characters of JSON;
    a longer one is kept as the first characters of its JSON text (of the line itself
    for JSON Lines), so one huge record cannot make rejected.jsonl huge.
    """
    safe = _verbatim(raw)
    if isinstance(safe, str):
        text = safe
    elif isinstance(safe, (dict, list)) and len(safe) * 8 < RAW_KEEP_CHARS and not any(
            isinstance(v, (dict, list)) or (isinstance(v, str) and len(v) > 256)
            for v in (safe.values() if isinstance(safe, dict) else safe)):
        return {"raw": safe}  # small for sure: skip the serialisation (most rejected rows)
    else:
        text = json.dumps(safe, ensure_ascii=False)
    if len(text) <= RAW_KEEP_CHARS:
        return {"raw": safe}
    data = text.encode("utf-8")
    return {"raw": text[:RAW_KEEP_CHARS] + "...", "raw_truncated": True, "raw_bytes": len(data),
            "raw_sha256": hashlib.sha256(data).hexdigest()}


def _label_problem(found, classes: Sequence[str], kind: str) -> str:
    text = f"{kind} {_fmt(found)} is not one of the configured classes {list(classes)}"
    if isinstance(found, str):
        near = [c for c in classes if c.casefold() == found.strip().casefold()]
        if near:
            text += (f"; it is a case/whitespace variant of {near[0]!r}, which is not guessed:"
                     f" add it to ingest.label_map if that is what it means")
    return text


def _normalise_metadata(values: pd.Series, typed: bool) -> pd.Series:
    """One consistent type per metadata column so Parquet can store it.

    All numbers (not bool) -> float64 or Int64; all bool -> boolean; anything else ->
    text (mappings and lists as compact JSON). Missing and empty text -> null. In
    CSV (``typed=False``) a column whose every value parses as a number is numeric.
    """
    missing = _is_missing(values) | _is_blank(values)
    original = values
    if not typed and not missing.all():
        parsed = pd.to_numeric(values.where(~missing, None), errors="coerce")
        if not parsed[~missing].isna().any():
            values = parsed.astype(object)
    present = values[~missing]
    kind = _kind(present)
    if kind == "string":  # all text (the usual case): no per-value conversion needed
        return values.where(~missing, None).astype("string")
    # An object column is all bool exactly when pandas infers "boolean".
    all_bool = kind == "boolean" if kind is not None else present.map(lambda v: isinstance(v, (bool, np.bool_))).all()
    if len(present) and all_bool:
        return values.where(~missing, None).astype("boolean")
    if len(present) and _is_number(present).all():
        try:
            as_float = values.where(~missing, np.nan).astype(float)
        except OverflowError:  # an integer beyond the float range: its digits are kept as text
            as_float = None
            values = original
        if as_float is not None:
            whole = as_float[~missing].to_numpy()
            # Int64 holds whole numbers below 2**63 (uint64 ids and 1e300 stay float64).
            with np.errstate(invalid="ignore"):  # inf % 1 is NaN: not whole, so float64
                whole_numbers = np.all(np.mod(whole, 1) == 0) and np.all(np.abs(whole) < 2.0**63)
            if whole_numbers:
                return as_float.round().astype("Int64")
            return as_float
    return _as_text(values, missing)


def _meta_text(v) -> str:
    """A metadata value in a column typed as text (mappings and lists as compact JSON)."""
    if isinstance(v, (dict, list, tuple, np.ndarray)):
        return json.dumps(_verbatim(v), sort_keys=True, ensure_ascii=False)
    if isinstance(v, bytes):
        return bytes_text(v)
    return str(v)


def _as_text(values: pd.Series, missing: np.ndarray) -> pd.Series:
    return values.where(~missing, None).map(lambda v: None if v is None else _meta_text(v), na_action="ignore").astype("string")


# Typing a metadata column read in batches (a Parquet file in row batches, engine=dask partitions).
# _normalise_metadata decides a column's type from all its values; each value falls in one of these
# categories, and the set of categories among the clean rows decides the type the same way
# (metadata_kind), so a batch can type its own rows as the whole input would (type_metadata).
MISSING, TEXT, BOOL, WHOLE, FRACTION, HUGE, OTHER = range(7)


def _metadata_values(values: pd.Series, typed: bool) -> tuple[pd.Series, np.ndarray]:
    """The values _normalise_metadata types (CSV text that is all numbers parsed), and the missing mask."""
    missing = _is_missing(values) | _is_blank(values)
    if not typed and not missing.all():
        parsed = pd.to_numeric(values.where(~missing, None), errors="coerce")
        if not parsed[~missing].isna().any():
            values = parsed.astype(object)
    return values, missing


def _category(v) -> int:
    if isinstance(v, str):
        return TEXT
    if isinstance(v, (bool, np.bool_)):
        return BOOL
    if not _number_rule(v):
        return OTHER
    try:
        f = float(v)
    except OverflowError:  # an integer beyond the float range
        return HUGE
    return WHOLE if f % 1 == 0 and abs(f) < 2.0**63 else FRACTION


def metadata_categories(values: pd.Series, typed: bool, missing: np.ndarray | None = None) -> np.ndarray:
    """The category of each value of a metadata column, as :func:`metadata_kind` reads them.

    Parameters
    ----------
    values : Series, shape (n,)
        The column as read (object values).
    typed : bool
        As :attr:`RawTable.typed`. CSV text is parsed as numbers only when every value of
        ``values`` parses: a CSV file is typed whole, never in batches.
    missing : ndarray of bool, shape (n,), optional
        The values missing or blank, when known (where the typed column is null): spares the
        per-value look at every text.

    Returns
    -------
    ndarray of int8, shape (n,)
        :data:`MISSING`, :data:`TEXT`, :data:`BOOL`, :data:`WHOLE` (a number that Int64 holds),
        :data:`FRACTION` (any other float), :data:`HUGE` (an integer beyond the float range) or
        :data:`OTHER` (mappings, lists, bytes, dates...).
    """
    if missing is None or not typed:
        values, missing = _metadata_values(values, typed)
    out = np.full(len(values), MISSING, dtype=np.int8)
    rows = np.flatnonzero(~missing)
    present = values.iloc[rows]
    kind = _kind(present)
    if kind == "string":  # the usual cases are decided per column, in C
        out[rows] = TEXT
    elif kind == "boolean":
        out[rows] = BOOL
    elif kind in _NUMBER_KINDS:
        try:
            f = present.to_numpy().astype(float)
        except OverflowError:
            f = None
        if f is not None:
            with np.errstate(invalid="ignore"):
                out[rows] = np.where((np.mod(f, 1) == 0) & (np.abs(f) < 2.0**63), WHOLE, FRACTION)
            return out
    if kind not in ("string", "boolean"):
        out[rows] = np.fromiter((_category(v) for v in present.to_numpy(dtype=object)), dtype=np.int8, count=len(rows))
    return out


def metadata_kind(categories) -> str:
    """The type :func:`_normalise_metadata` gives a column whose present values fall in ``categories``.

    Returns
    -------
    str
        ``"string"`` (all text, or nothing present), ``"boolean"``, ``"Int64"``, ``"float64"``, or
        ``"text"`` (mixed: every value as its text).
    """
    found = set(int(c) for c in categories) - {MISSING}
    if not found or found == {TEXT}:
        return "string"
    if found == {BOOL}:
        return "boolean"
    if found <= {WHOLE, FRACTION}:
        return "Int64" if found == {WHOLE} else "float64"
    return "text"


def type_metadata(values: pd.Series, typed: bool, kind: str) -> pd.Series:
    """A metadata column typed as ``kind`` (:func:`metadata_kind` of the whole column's categories).

    Value for value what :func:`_normalise_metadata` gives the whole column, for any part of it.
    """
    original = values
    values, missing = _metadata_values(values, typed)
    if kind == "string":
        return values.where(~missing, None).astype("string")
    if kind == "boolean":
        return values.where(~missing, None).astype("boolean")
    if kind in ("Int64", "float64"):
        as_float = values.where(~missing, np.nan).astype(float)
        return as_float.round().astype("Int64") if kind == "Int64" else as_float
    return _as_text(original, missing)


def metadata_storage(kind: str, n_missing: int, n_present: int) -> str:
    """The dtype a canonical table holds a metadata column in, given the whole column.

    The canonical table takes each typed column's numpy values (``to_numpy()``), so what pandas
    makes of them depends on the whole column: Int64 with a missing value becomes float64 (NaN),
    boolean with one becomes object, a column with nothing present has no type (object, Arrow null).
    A batch casts its rows to this so that every batch has the schema of the whole.
    """
    if n_present == 0:
        return "object"
    if kind == "Int64":
        return "float64" if n_missing else "int64"
    if kind == "float64":
        return "float64"
    if kind == "boolean":
        return "object" if n_missing else "bool"
    return "str"


def _safe_floats(values) -> np.ndarray:
    """``values`` as float64; an integer beyond the float range becomes +-inf's neighbour, the largest float.

    Python ints have no size limit (JSON ``1e400`` is inf, but ``10**400`` written out is an
    int): they are kept as out-of-range numbers, never an OverflowError.
    """
    arr = np.asarray(values, dtype=object)
    try:
        return arr.astype(float)
    except OverflowError:
        big = np.finfo(float).max
        return np.fromiter((v if not isinstance(v, int) or abs(v) < 2**1023 else (big if v > 0 else -big) for v in arr),
                           dtype=float, count=len(arr))


def _labels_as_text(values: pd.Series) -> pd.Series:
    """Integer labels as their decimal text (JSON ``0``/``1`` match classes ``"0"``/``"1"``, as in CSV).

    Booleans and floats are not converted: ``true`` or ``1.0`` is not a class name.
    """
    if _kind(values) in (None, "string"):
        return values
    return values.map(lambda v: str(v) if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) else v)


def _hydra_item(name: str) -> str:
    """A class name as an element of a Hydra list override: quoted unless a plain word.

    Hydra would read ``0`` as a number and ``null`` or ``true`` as their YAML values, so
    names like those are quoted (``["0","1"]``), as the README shows.
    """
    plain = re.fullmatch(r"[A-Za-z_][\w\-]*", name) and name.lower() not in {"null", "true", "false", "nan", "inf"}
    return name if plain else json.dumps(name, ensure_ascii=False)


def _counts_text(found: dict, top: int = 5) -> tuple[str, list]:
    """"'1' (2,034 rows), '0' (1,966 rows)" for the most frequent text values, and all distinct ones.

    ``found``: text value -> rows (:func:`class_counts`).
    """
    counts = pd.Series(found, dtype=np.int64) if found else pd.Series([], dtype=np.int64)
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    shown = ", ".join(f"{_fmt(k)} ({c:,} rows)" for k, c in counts.head(top).items())
    if len(counts) > top:
        shown += f" and {len(counts) - top:,} more"
    return shown or "no text values", list(counts.index)


def class_counts(mapped: dict) -> dict:
    """Per role (label, prediction): ``rows``, and ``text``, each text value (after label_map) -> rows.

    What :func:`check_class_counts` reads; a batch's counts add up to the whole input's.
    """
    out = {}
    for role in ("label", "prediction"):
        values = mapped[role]
        text = values if _kind(values) == "string" else values[values.map(lambda v: isinstance(v, str))]
        out[role] = {"rows": len(values), "text": {str(k): int(c) for k, c in text.value_counts(sort=False).items()}}
    return out


def add_class_counts(total: dict | None, counts: dict) -> dict:
    """``total`` plus a batch's :func:`class_counts` (a new dict)."""
    out = {role: {"rows": 0, "text": Counter()} for role in ("label", "prediction")}
    for part in (total or {}, counts):
        for role, c in part.items():
            out[role]["rows"] += c["rows"]
            out[role]["text"].update(c["text"])
    return out


def check_class_counts(path: str, counts: dict, required: dict, classes: list) -> None:
    """Stop when most labels or predictions are not configured classes: the class list is wrong, not the rows.

    A few unknown labels are row rejections; a file whose labels are mostly not classes
    (a 0/1 file audited with negative/neutral/positive) gets one sentence naming what it
    holds, instead of a missing ``p_negative`` column or every row rejected. ``counts``:
    :func:`class_counts` of the whole input (summed over its batches).
    """
    bad = {}
    for role in ("label", "prediction"):
        text = counts[role]["text"]
        present = sum(text.values())
        known = sum(c for v, c in text.items() if v in classes)
        if present and known * 2 < present:
            bad[role] = present - known
    if not bad:
        return
    found, names = [], []
    for role in ("label", "prediction"):
        shown, distinct = _counts_text(counts[role]["text"])
        found.append(f"{role}s {shown}")
        names += [d for d in distinct if d not in names]
    names = sorted(names, key=lambda c: (0, int(c), c) if c.isdigit() else (1, 0, c))
    listed = ",".join(_hydra_item(c) for c in names[:20])
    role, k = next(iter(bad.items()))
    raise InputError(
        path,
        f"the configured classes do not match the file: {k:,} of {counts[role]['rows']:,} {role}s are not one of them.",
        field=required[role],
        expected=f"labels and predictions among ingest.classes {list(classes)}",
        found="; ".join(found),
        hint=(f"list the classes the file uses, e.g. `dvc exp run -S 'ingest.classes=[{listed}]'`"
              + (" (and the rest)" if len(names) > 20 else "")
              + ", or map its names onto yours with ingest.label_map."),
    )


def _id_text(v):
    """An id as text: integers (and whole floats) by their digits; anything else unchanged."""
    if isinstance(v, (bool, np.bool_)):
        return v
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))
    return v


def _id_rule(v) -> bool:
    # Floats name an integer exactly only below 2**53; 1e300 or inf is no id.
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer() and abs(v) < 2**53


def _number_text(original, value: float) -> str:
    """How a number reads in a message: an integer as written (cut at 80 characters), else the float."""
    if isinstance(original, (int, np.integer)) and not isinstance(original, (bool, np.bool_)):
        return _fmt(int(original))
    return repr(float(value))


def _named_metadata(path: str, table: RawTable, names: list) -> list:
    """Metadata columns without the unnamed ones that hold nothing; stop on an unnamed one that holds values.

    A CSV header ending in a comma has an empty last name: that column holds no value and
    is left out. A column with values and no name cannot be sliced or reported by name.
    """
    frame = table.frame
    unnamed = set(table.unnamed) | {c for c in frame.columns if not str(c).strip()}
    kept = []
    for name in names:
        if name not in unnamed:
            kept.append(name)
            continue
        present = np.flatnonzero(~(_is_missing(frame[name]) | _is_blank(frame[name])))
        if present.size:
            position = list(frame.columns).index(name) + 1
            raise InputError(
                path,
                f"column {position} has no name but holds values.",
                where=f"record {int(table.record[present[0]])}",
                expected="a name for every column that holds values",
                found=f"{present.size:,} values, the first {_fmt(frame[name].iat[present[0]])}",
                hint="name the column in the file, or list the metadata columns to keep in model.metadata.",
            )
    return kept


def _rejected_row(record, line, reason, field_name, detail, raw) -> dict:
    return {"record": int(record), "line": int(line) or None, "reason": reason, "field": field_name,
            "detail": detail, **_bounded(raw)}


# --------------------------------------------------------------------------- the table under validation


class _Rejections:
    """Row-rejection collector: the first reason each row fails, with its field and detail.

    Checks run in order and each sees only the rows still alive, so a rejected row keeps
    the first reason it failed and is never judged again.
    """

    def __init__(self, n: int):
        self.reason = np.full(n, None, dtype=object)
        self.field = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)

    @property
    def alive(self) -> np.ndarray:
        return pd.isna(self.reason)

    def flag(self, mask: np.ndarray, reason: str, field_name: str, explain: Callable[[int], str]) -> None:
        hit = np.flatnonzero(np.asarray(mask, bool) & self.alive)
        self.reason[hit] = reason
        self.field[hit] = field_name
        for i in hit:  # only failing rows are formatted: cheap when the data is good
            self.detail[i] = explain(int(i))


@dataclass
class _Rows:
    """The table under validation: what the file-level checks found, and what the row checks derive.

    Attributes
    ----------
    table : RawTable
    classes : list of str, length n_classes
    tolerance : float
    required : dict of str to str
        Contract role (text, label, prediction, and id and confidence when configured) ->
        column name, in that order.
    col : dict of str to Series, each shape (n,)
        The required columns, labels and predictions with integers as their decimal text.
    mapped, known : dict of str to Series / ndarray of bool, shape (n,)
        ``label`` and ``prediction`` after ``label_map``, and whether each is a configured class.
    prob_col : str or None
        The column of class -> probability mappings.
    prob_cols : list of str
        The flat probability columns, one per class (``probability_prefix``), or none.
    probability_prefix : str or None
    metadata : list
        Metadata columns kept, as named in the file.
    conf : ndarray of float, shape (n,), or None
        Confidence; set by the type checks (the largest probability when no column gives it).
    proba : ndarray of float, shape (n, n_classes), or None
        Probabilities; set by the type checks.
    proba_field : str or None
        The field a probability rejection names.
    ids : Series, shape (n,), or None
        Ids as text (``row-<record>`` without an id column); set by the duplicate check.
    index : dict of str to int
        Class name -> class index.
    """

    table: RawTable
    classes: list
    tolerance: float
    required: dict
    col: dict
    mapped: dict
    known: dict
    prob_col: str | None
    prob_cols: list
    probability_prefix: str | None
    metadata: list
    conf: np.ndarray | None = None
    proba: np.ndarray | None = None
    proba_field: str | None = None
    ids: pd.Series | None = None
    index: dict = field(init=False)

    def __post_init__(self):
        self.index = {c: k for k, c in enumerate(self.classes)}

    @property
    def frame(self) -> pd.DataFrame:
        return self.table.frame

    @property
    def n(self) -> int:
        return len(self.table.frame)

    def as_written(self, name: str, i: int):
        # pandas may have turned a JSON integer into a float when building the frame.
        return self.table.objects[i].get(name) if self.table.objects is not None else self.frame[name].iat[i]

    def missing(self, name: str) -> np.ndarray:
        # In JSON a literal NaN is a value (caught as non_finite later), not a missing
        # field: only an absent key or null is missing. Elsewhere NaN means missing.
        if self.table.objects is not None:
            return np.fromiter((o.get(name) is None for o in self.table.objects), bool, count=self.n)
        return _is_missing(self.frame[name])


# --------------------------------------------------------------------------- file-level checks


def _contract_columns(path: str, frame: pd.DataFrame, columns, probability_prefix: str | None,
                      classes: list) -> tuple[dict, str | None, list]:
    """The columns the contract reads: ``required`` (role -> column), the mapping column, the flat columns.

    Raises
    ------
    InputError
        Neither a confidence column nor probabilities are configured.
    """
    prob_cols = [f"{probability_prefix}{c}" for c in classes] if probability_prefix else []
    prob_col = None if probability_prefix else columns.probabilities
    if prob_col is not None and prob_col not in frame.columns:
        prob_col = None  # probabilities are optional: absent column means none given
    has_proba = bool(prob_cols) or prob_col is not None
    required = {"text": columns.text, "label": columns.label, "prediction": columns.prediction}
    if columns.id is not None:
        required["id"] = columns.id
    if columns.confidence is not None and not (has_proba and columns.confidence not in frame.columns):
        required["confidence"] = columns.confidence
    elif not has_proba:
        raise InputError(path, "neither a confidence column nor probabilities are configured.",
                         expected="model.columns.confidence or model.columns.probabilities (or model.probability_prefix)")
    return required, prob_col, prob_cols


def _stop_absent(path: str, frame: pd.DataFrame, required: dict, absent: list) -> None:
    """Stop when a contract column is missing from every record (``absent`` names them)."""
    if absent:
        raise InputError(
            path,
            "required column(s) missing from every record: " + ", ".join(absent) + ".",
            expected="the contract fields " + ", ".join(repr(c) for c in required.values()) + " (see model.columns)",
            found="columns " + ", ".join(repr(str(c)) for c in frame.columns),
            hint="map your column names in model.columns, e.g. `dvc exp run -S model.columns.label=gold`.",
        )


def _map_labels(col: dict, label_map: dict, classes: list) -> tuple[dict, dict]:
    """Labels and predictions as text (in ``col``), then aliased: (mapped, known) per role."""
    mapped, known = {}, {}
    for role in ("label", "prediction"):
        values = _labels_as_text(col[role])
        col[role] = values
        values = values.map(lambda v: label_map.get(v, v) if isinstance(v, str) else v) if label_map else values
        mapped[role] = values
        if _kind(values) == "string":  # all text: a hash lookup per value, in C
            known[role] = values.isin(classes).to_numpy(bool)
        else:
            known[role] = values.map(lambda v: isinstance(v, str) and v in classes).to_numpy(bool)
    return mapped, known


def _metadata_names(path: str, table: RawTable, metadata: Sequence[str] | None, contract_cols: set) -> list:
    """Metadata columns to keep: the listed ones (each must exist), or every non-contract column."""
    frame = table.frame
    if metadata is None:
        names = [c for c in frame.columns if c not in contract_cols]
    else:
        names = list(metadata)
        unknown = [c for c in names if c not in frame.columns]
        if unknown:
            raise InputError(path, "metadata column(s) listed in model.metadata are not in the file: "
                             + ", ".join(map(repr, unknown)) + ".",
                             found="columns " + ", ".join(repr(str(c)) for c in frame.columns))
    return _named_metadata(path, table, names)


def _prepare(table: RawTable, path: str, classes: list, columns, label_map: dict, tolerance: float,
             probability_prefix: str | None, metadata: Sequence[str] | None,
             classes_to: Callable[[dict], None] | None = None) -> _Rows:
    """Every file-level check, in order; the columns the row checks read.

    ``classes_to``: a batch of a larger input hands its :func:`class_counts` to it instead of
    checking them (the class list is judged on the whole input's counts).
    """
    frame = table.frame
    required, prob_col, prob_cols = _contract_columns(path, frame, columns, probability_prefix, classes)
    _stop_absent(path, frame, required,
                 [f"{role} (column {col!r})" for role, col in required.items() if col not in frame.columns])
    col = {role: frame[name] for role, name in required.items()}
    # Labels first: with the wrong class list, say so before blaming a missing p_<class> column.
    mapped, known = _map_labels(col, label_map, classes)
    counts = class_counts(mapped)
    if classes_to is None:
        check_class_counts(path, counts, required, classes)
    else:
        classes_to(counts)
    _stop_absent(path, frame, required, [f"probability column {c!r}" for c in prob_cols if c not in frame.columns])
    contract_cols = set(required.values()) | set(prob_cols) | ({prob_col} if prob_col else set())
    return _Rows(table=table, classes=classes, tolerance=tolerance, required=required, col=col, mapped=mapped,
                 known=known, prob_col=prob_col, prob_cols=prob_cols, probability_prefix=probability_prefix,
                 metadata=_metadata_names(path, table, metadata, contract_cols))


# --------------------------------------------------------------------------- row checks
#
# Each check flags the rows (still alive) that break one rule, with the reason of REASONS it
# names; ROW_CHECKS lists them in the order a row is judged.


def _missing_values(rows: _Rows, out: _Rejections) -> None:
    """missing_field: a contract value, the probability mapping or a flat probability is null or absent."""
    for role in rows.col:
        out.flag(rows.missing(rows.required[role]), "missing_field", rows.required[role],
                 lambda i: "value is missing (null or absent)")
    if rows.prob_col is not None:
        out.flag(rows.missing(rows.prob_col), "missing_field", rows.prob_col,
                 lambda i: "probabilities are missing (null or absent)")
    for c in rows.prob_cols:
        out.flag(rows.missing(c), "missing_field", c, lambda i: "probability is missing")


def _text_types(rows: _Rows, out: _Rejections) -> None:
    """wrong_type: text, label and prediction are text."""
    for role in ("text", "label", "prediction"):
        values = rows.col[role]
        out.flag(~_is_str(values), "wrong_type", rows.required[role],
                 lambda i, v=values: f"expected text, found {type(v.iat[i]).__name__} {_fmt(v.iat[i])}")


def _id_type(rows: _Rows, out: _Rejections) -> None:
    """wrong_type: an id is text or an integer (a float that names one exactly counts)."""
    if "id" not in rows.col:
        return
    ids = rows.col["id"]
    ok_id = _is_str(ids).copy()
    other = np.flatnonzero(~ok_id)  # text ids are fine; only the others need a look
    if other.size:
        ok_id[other] = _rule(ids, other, _id_rule)
    out.flag(~ok_id, "wrong_type", rows.required["id"],
             lambda i: f"expected text or an integer, found {type(ids.iat[i]).__name__} {_fmt(ids.iat[i])}")


def _confidence_type(rows: _Rows, out: _Rejections) -> None:
    """wrong_type: confidence is a number (in CSV, text that parses as one). Sets ``rows.conf``."""
    if "confidence" not in rows.col:
        return
    values = rows.col["confidence"]
    rows.conf, bad = _to_float(values, rows.table.typed)
    out.flag(bad, "wrong_type", rows.required["confidence"],
             lambda i: f"expected a number in [0, 1], found {type(values.iat[i]).__name__} {_fmt(values.iat[i])}")


def _probability_mapping_types(rows: _Rows, out: _Rejections) -> None:
    """wrong_type / probabilities_invalid: a mapping whose keys are the classes and values numbers.

    Sets ``rows.proba`` (NaN where a value is not a number) and ``rows.proba_field``.
    """
    if rows.prob_col is None:
        return
    prob_col, classes, frame = rows.prob_col, rows.classes, rows.frame
    values = frame[prob_col]
    if not rows.table.typed:  # CSV: the mapping arrives as JSON text
        def parse(v):
            try:
                return json.loads(v) if isinstance(v, str) else v
            except json.JSONDecodeError:
                return v
        values = values.map(parse)
    is_map = values.map(lambda v: isinstance(v, dict)).to_numpy(bool)
    out.flag(~is_map, "wrong_type", prob_col,
             lambda i: f"expected an object mapping each class to its probability, found {_fmt(frame[prob_col].iat[i])}")
    want = set(classes)
    keys_ok = values.map(lambda v: isinstance(v, dict) and set(v) == want).to_numpy(bool)
    out.flag(~keys_ok, "probabilities_invalid", prob_col,
             lambda i: f"expected keys {sorted(want)}, found keys {sorted(map(str, values.iat[i]))}")
    # Rows whose keys are wrong read as {} (every probability NaN); they are rejected already.
    dicts = [v if ok else {} for v, ok in zip(values.to_numpy(dtype=object), keys_ok)]
    raw_p = pd.DataFrame.from_records(list(dicts), columns=classes).astype(object)
    numeric = np.column_stack([_is_number(raw_p[c]) for c in classes])
    out.flag(keys_ok & ~numeric.all(axis=1), "probabilities_invalid", prob_col,
             lambda i: f"every probability must be a number, found {_fmt(values.iat[i])}")
    cells = raw_p.where(pd.DataFrame(numeric, columns=classes), np.nan).to_numpy()
    rows.proba = np.where(numeric, _safe_floats(cells.ravel()).reshape(cells.shape), np.nan)
    rows.proba_field = prob_col


def _probability_column_types(rows: _Rows, out: _Rejections) -> None:
    """wrong_type: each flat probability column holds numbers. Sets ``rows.proba`` and ``rows.proba_field``."""
    if not rows.prob_cols or rows.prob_col is not None:
        return
    frame = rows.frame
    parsed = [_to_float(frame[c], rows.table.typed) for c in rows.prob_cols]
    for c, (_, bad) in zip(rows.prob_cols, parsed):
        out.flag(bad, "wrong_type", c, lambda i, c=c: f"expected a number in [0, 1], found {_fmt(frame[c].iat[i])}")
    rows.proba = np.column_stack([p for p, _ in parsed])
    rows.proba_field = rows.probability_prefix + "*"


def _empty_text(rows: _Rows, out: _Rejections) -> None:
    """empty_text: the text is empty or only white space."""
    text = rows.col["text"]
    out.flag(_is_blank(text), "empty_text", rows.required["text"],
             lambda i: f"text is empty or only white space ({_fmt(text.iat[i])})")


def _unknown_labels(rows: _Rows, out: _Rejections) -> None:
    """unknown_label / unknown_prediction: not a configured class (after ``label_map``)."""
    for role, reason in (("label", "unknown_label"), ("prediction", "unknown_prediction")):
        out.flag(~rows.known[role], reason, rows.required[role],
                 lambda i, r=role, v=rows.col[role]: _label_problem(v.iat[i], rows.classes, r))


def _confidence_range(rows: _Rows, out: _Rejections) -> None:
    """non_finite / confidence_out_of_range: the confidence is a finite number in [0, 1]."""
    conf = rows.conf
    if conf is None:
        return
    name = rows.required["confidence"]
    out.flag(~np.isfinite(conf), "non_finite", name, lambda i: f"confidence is {float(conf[i])!r}")
    out.flag((conf < 0) | (conf > 1), "confidence_out_of_range", name,
             lambda i: f"expected a number in [0, 1], found {_number_text(rows.as_written(name, i), conf[i])}")


def _probability_values(rows: _Rows, out: _Rejections) -> None:
    """non_finite / probabilities_invalid / probabilities_not_normalised: finite, in [0, 1], summing to 1."""
    proba, name, tolerance = rows.proba, rows.proba_field, rows.tolerance
    if proba is None:
        return
    out.flag(out.alive & ~np.isfinite(proba).all(axis=1), "non_finite", name,
             lambda i: f"probabilities hold a non-finite value: {proba[i].tolist()}")
    out.flag(((proba < 0) | (proba > 1)).any(axis=1), "probabilities_invalid", name,
             lambda i: f"every probability must be in [0, 1], found {proba[i].tolist()}")
    total = proba.sum(axis=1)
    out.flag(np.abs(total - 1) > tolerance, "probabilities_not_normalised", name,
             lambda i: f"probabilities sum to {total[i]:.6g}, expected 1 within {tolerance:g}")


def _argmax_and_max(rows: _Rows, out: _Rejections) -> None:
    """prediction_not_argmax / confidence_not_max: the prediction is an argmax (ties allowed) and the
    confidence the largest probability. Without a confidence column, sets ``rows.conf`` to that maximum."""
    proba, classes, tolerance, n = rows.proba, rows.classes, rows.tolerance, rows.n
    if proba is None:
        return
    prediction = rows.mapped["prediction"]
    alive = out.alive
    if _kind(prediction) == "string":  # unknown -> -1, only read where alive (all known)
        pred_idx = pd.Index(classes).get_indexer(prediction)
    else:
        # Only text can be a class (a list or a dict is not even hashable).
        index = rows.index
        pred_idx = prediction.map(lambda v: index.get(v, -1) if isinstance(v, str) else -1).to_numpy()
    safe_idx = np.where(alive, pred_idx, 0).astype(np.int64)
    top = np.nanmax(np.where(np.isfinite(proba), proba, -np.inf), axis=1)
    p_pred = proba[np.arange(n), safe_idx]
    out.flag(alive & (p_pred < top - tolerance), "prediction_not_argmax", rows.required["prediction"],
             lambda i: (f"prediction {prediction.iat[i]!r} has probability {p_pred[i]:.6g}, but "
                        f"{classes[int(np.nanargmax(proba[i]))]!r} has {top[i]:.6g}; the prediction must be the argmax"))
    conf = rows.conf
    if conf is not None:
        out.flag(out.alive & (np.abs(conf - top) > tolerance), "confidence_not_max", rows.required["confidence"],
                 lambda i: f"confidence {conf[i]:.6g} differs from the largest probability {top[i]:.6g} by more than {tolerance:g}")
    else:
        rows.conf = top


def _duplicate_ids(rows: _Rows, out: _Rejections) -> None:
    """duplicate_id: an id already used by an earlier row that is otherwise fine. Sets ``rows.ids``."""
    if "id" in rows.col:
        ids = rows.col["id"]
        if _kind(ids) != "string":  # integer ids become their decimal text
            ids = ids.map(_id_text)
    else:
        ids = pd.Series([f"row-{k}" for k in rows.table.record], dtype=object)
    rows.ids = ids
    alive = out.alive
    dup = np.zeros(rows.n, bool)
    dup[np.flatnonzero(alive)], first_of = first_uses(ids[alive], rows.table.record[np.flatnonzero(alive)])
    out.flag(dup, "duplicate_id", rows.required.get("id", "id"),
             lambda i: duplicate_detail(ids.iat[i], first_of[ids.iat[i]]))


# Ids sorted at a time by :func:`has_repeats`.
REPEAT_BLOCK_ROWS = 1 << 20


def has_repeats(ids) -> bool:
    """Whether an id occurs twice (Arrow text, an array or a chunked array): equal neighbours once sorted.

    A sort costs an index (8 bytes a row) and a sorted copy of a block of ids; Arrow's hash count
    of the distinct ids holds a table of them: measured on ten million 13-character ids in 20
    chunks, 350 MB above the ids against 785 MB for ``count_distinct``.
    """
    import pyarrow.compute as pc

    if len(ids) < 2:
        return False
    order = pc.sort_indices(ids)
    # Sorted a block at a time (each block overlapping the next by one id): the index and one block are
    # held, not a sorted copy of every id (about 23 bytes a row at 15-character ids).
    for start in range(0, len(ids) - 1, REPEAT_BLOCK_ROWS):
        ordered = ids.take(order[start:start + REPEAT_BLOCK_ROWS + 1])
        if pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py():
            return True
    return False


def first_uses(ids: pd.Series, record: np.ndarray) -> tuple[np.ndarray, pd.Series | None]:
    """The duplicate_id rule over rows otherwise fine, in record order: the first use of an id is kept.

    Parameters
    ----------
    ids : Series of str, shape (n,)
    record : ndarray of int, shape (n,)
        Each row's record number, increasing.

    Returns
    -------
    dup : ndarray of bool, shape (n,)
        The rows whose id an earlier row already used.
    first_of : Series of int, indexed by id, or None
        The record of each repeated id's first use (None when no id repeats). engine=dask applies the same
        rule across partitions (:mod:`blindspot.engine.merge`).
    """
    dup = ids.duplicated(keep="first").to_numpy()
    if not dup.any():
        return dup, None
    # Only ids used more than once are ever looked up: the others stay out of the index.
    repeated = ids.duplicated(keep=False).to_numpy()
    first_of = pd.Series(np.asarray(record)[repeated], index=ids[repeated].to_numpy()).groupby(level=0).first()
    return dup, first_of


def duplicate_detail(id_text, first_record) -> str:
    """The detail of a duplicate_id rejection."""
    return f"id {id_text!r} already used by record {int(first_record)}"


RowCheck = Callable[[_Rows, _Rejections], None]

# The row checks in the order a row is judged (it keeps the first reason it fails), in the
# steps the progress line names. The duplicate check comes last: only rows that are
# otherwise fine can hold an id first.
ROW_CHECKS: tuple[tuple[str, tuple[RowCheck, ...]], ...] = (
    ("missing values", (_missing_values,)),
    ("types", (_text_types, _id_type, _confidence_type, _probability_mapping_types, _probability_column_types)),
    ("text and labels", (_empty_text, _unknown_labels)),
    ("numbers", (_confidence_range, _probability_values, _argmax_and_max)),
    ("duplicate ids", (_duplicate_ids,)),
)


# --------------------------------------------------------------------------- outcome


def _canonical_table(rows: _Rows, keep: np.ndarray) -> pd.DataFrame:
    """The rows that passed every check, in the canonical layout (see the module docstring)."""
    classes, ids, text = rows.classes, rows.ids, rows.col["text"]
    kept = np.flatnonzero(keep)
    y_true = rows.mapped["label"].iloc[kept].map(rows.index).to_numpy(np.int64)
    y_pred = rows.mapped["prediction"].iloc[kept].map(rows.index).to_numpy(np.int64)
    clean = pd.DataFrame(
        {
            "record": rows.table.record[kept],
            # Columns that are all text already skip astype(str) (a copy through Arrow and back: ~1 s a million).
            "id": ids.iloc[kept].to_numpy() if _kind(ids) == "string" else ids.iloc[kept].astype(str).to_numpy(),
            "text": text.iloc[kept].to_numpy() if _kind(text) == "string" else text.iloc[kept].astype(str).to_numpy(),
            "label": np.asarray(classes, dtype=object)[y_true] if len(kept) else np.array([], dtype=object),
            "prediction": np.asarray(classes, dtype=object)[y_pred] if len(kept) else np.array([], dtype=object),
            "confidence": np.asarray(rows.conf, float)[kept],
            "y_true": y_true.astype(np.int8),
            "y_pred": y_pred.astype(np.int8),
            "correct": y_true == y_pred,
        }
    )
    if rows.proba is not None:
        for k, c in enumerate(classes):
            clean[PROBA_PREFIX + c] = rows.proba[kept, k]
    for name in rows.metadata:
        values = rows.frame[name].iloc[kept].reset_index(drop=True)
        clean[META_PREFIX + str(name)] = _normalise_metadata(values, rows.table.typed).to_numpy()
    for c in ("id", "text", "label", "prediction"):
        clean[c] = clean[c].astype("string")
    return clean


def _unparsed_rows(table: RawTable) -> list[dict]:
    """Rejected rows for the records the reader set aside (unparseable, too large, ...)."""
    return [_rejected_row(u["record"], u["line"], u.get("reason", "unparseable_record"), u.get("field"),
                          u["detail"], u["raw"]) for u in table.unparsed]


def raw_record(table: RawTable, i: int):
    """Row ``i`` of ``table`` as read (the parsed object for JSON), for its line in rejected.jsonl."""
    return table.objects[i] if table.objects is not None else {k: v for k, v in table.frame.iloc[i].items()}


def rejected_row(record, line, reason, field_name, detail, raw) -> dict:
    """One line of rejected.jsonl (engine=dask writes a duplicate found across partitions with it)."""
    return _rejected_row(record, line, reason, field_name, detail, raw)


def _rejected_rows(rows: _Rows, out: _Rejections) -> list[dict]:
    """Every rejected record, verbatim with its first reason, by record number."""
    table = rows.table
    rejected = []
    for i in np.flatnonzero(~out.alive):
        rejected.append(_rejected_row(table.record[i], table.line[i], out.reason[i], out.field[i], out.detail[i],
                                      raw_record(table, i)))
    rejected += _unparsed_rows(table)
    rejected.sort(key=lambda r: r["record"])
    return rejected


# --------------------------------------------------------------------------- validate


def validate(
    table: RawTable,
    *,
    path: str | Path,
    classes: Sequence[str],
    columns,
    label_map: dict | None = None,
    tolerance: float = 1e-3,
    probability_prefix: str | None = None,
    metadata: Sequence[str] | None = None,
    progress: bool = True,
    classes_to: Callable[[dict], None] | None = None,
) -> Validated:
    """Check every row against the contract.

    Parameters
    ----------
    table : RawTable
        From :func:`blindspot.io.readers.read_raw`.
    path : str or Path
        The file, for messages.
    classes : sequence of str, length n_classes
        The class names, in the order used for indices and probability columns.
    columns : ColumnsConfig
        Contract field -> column name.
    label_map : dict, optional
        Explicit aliases applied to labels and predictions before checking.
    tolerance : float
        Allowed distance of the probability sum from 1 and of confidence from the max.
    probability_prefix : str, optional
        Read probabilities from flat columns ``<prefix><class>``.
    metadata : sequence of str, optional
        Metadata columns to keep; None keeps every non-contract column.
    progress : bool
        Report the steps on a long run (False for a batch of a larger input, whose caller reports).
    classes_to : callable, optional
        A batch of a larger input: receives the batch's :func:`class_counts` instead of stopping
        when most labels are not classes (the caller judges the whole input's, with
        :func:`check_class_counts`, before any later file-level stop a batch raises).

    Raises
    ------
    InputError
        A required column is absent from the whole file, or a configured metadata
        column does not exist.
    """
    path = str(path)
    classes = list(classes)
    if len(set(classes)) < 2 or len(set(classes)) != len(classes):
        raise InputError(path, "ingest.classes must list at least two distinct classes.", found=str(classes))
    if len(table.frame) == 0:  # every record was set aside while reading: nothing to check
        clean = pd.DataFrame({c: pd.Series([], dtype=object) for c in CORE})
        return Validated(clean=clean, rejected=sorted(_unparsed_rows(table), key=lambda r: r["record"]),
                         rows_in=table.n_records, has_probabilities=False, metadata=[], notes=dict(table.notes))
    rows = _prepare(table, path, classes, columns, dict(label_map or {}), tolerance, probability_prefix, metadata,
                    classes_to)
    out = _Rejections(rows.n)
    progress = Progress(f"validating {path}", total=rows.n if progress else 0)
    steps = len(ROW_CHECKS) + 1
    for step, (name, checks) in enumerate(ROW_CHECKS, start=1):
        progress.step(step, steps, name)
        for check in checks:
            check(rows, out)
    progress.step(steps, steps, "canonical table")
    return Validated(clean=_canonical_table(rows, out.alive), rejected=_rejected_rows(rows, out),
                     rows_in=table.n_records, has_probabilities=rows.proba is not None,
                     metadata=[str(m) for m in rows.metadata], notes=dict(table.notes))
