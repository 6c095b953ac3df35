"""Slice predicates: boolean row masks with stable keys, built from metadata and text.

A *predicate* is one yes/no question about a row ("is the condition Birth Control?",
"does the review negate?"). All predicates of a table are held as one boolean
membership matrix ``M`` of shape ``(n_rows, n_predicates)``; every slice count later
comes from matrix products with it (see :mod:`blindspot.slices.evaluate`).

Keys (stable across model versions, snake_case ASCII, no dots; :mod:`blindspot.slices.keys`)
------------------------------------------------------------------------------------------
- metadata, categorical: ``<column key>__<value key>`` (``condition__birth_control``) for
  every value held by at least ``min_support`` rows (and, when ``max_levels`` is set, among
  that many most frequent values); the other values pooled as ``<column key>__other``;
  missing values ``<column key>__missing``. Column and value keys are readable slugs,
  with a short hash of the raw string where a slug would be ambiguous (two spellings,
  a reserved word such as a real value "Other", an empty or very long slug): see
  :mod:`blindspot.slices.keys`. A watchlist may name any value of a categorical
  column, frequent or not: :meth:`PredicateTable.resolve` builds it on demand.
- metadata, numeric or ISO date: quantile bins ``<column key>__q1`` ... ``__q<m>`` (bins
  with equal edges merge, so there may be fewer than ``n_quantiles``), each a
  half-open range ``[lo, hi)``, the last one closed.
- text: ``jargon_high``, ``caps_high``, one key per boolean detector (``negated_term``,
  ``sarcasm_cue``, ``mixed_sentiment``, ``question``, ``exclamation``), and on the word
  count (feature ``length``): ``length_q1`` ... ``length_q<m>``, bins between the data's own
  word-count quantiles (``slices.length_quantiles``; the key names the quantile, the edges,
  whole words, are recorded in :attr:`PredicateTable.text_features`), ``words_le_<w>`` for
  the fixed very-short bin (``slices.very_short_words``), and ``length_<band>`` for each
  fixed band the configuration names (``slices.length_bands``).

Columns that cannot be sliced are skipped with a reason (:func:`unsliceable`,
:meth:`blindspot.slices.columns.ColumnSummary.skip_reason`): all values missing, an identifier (more than :data:`CATEGORY_VALUES` values, at least 90% of rows
distinct, short values), free text (the same, with values of several words),
structured values (JSON lists or objects, as ingest stores nested metadata), bytes;
and the columns in ``metadata_exclude``. :attr:`PredicateTable.columns` records every
metadata column, tested or skipped, under its column key. A metadata column's predicates are
fixed from a summary of all its rows and its masks computed from each row alone
(:mod:`blindspot.slices.columns`), so its rows can be read a batch at a time.

The model's own outputs (label, prediction, confidence, probabilities) are never
features: slicing on them is trivially "significant"; classes are looked at through
per-class recall inside each slice instead.

Each predicate carries ``spec``, the mapping that goes into a finding's ``slice``
field (feature -> value, or a range ``{"ge": lo, "lt": hi}``), a readable
``description`` and :attr:`Predicate.part`, the record that reads its key back: source
("metadata" or "text"), the exact raw column name (or text feature) and value.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from blindspot import text_features as tf
from blindspot.bits import BitColumns, pack
from blindspot.errors import ConfigError
from blindspot.io.schema import META_PREFIX
from blindspot.memory import release_freed_heap
from blindspot.slices.keys import RESERVED_COLUMNS, RESERVED_VALUES, slugify, unique_keys
from blindspot.slices.valuecounts import linear_quantiles, value_counts

# Boolean text detectors that may be listed in ``slices.text_detectors``:
# name -> (column of blindspot.text_features.text_features, description).
TEXT_DETECTORS: dict[str, tuple[str, str]] = {
    "negated_term": ("negated_term", "reviews negating a sentiment or clinical term (no relief, did not help, "
                                     "no side effects, ...)"),
    "sarcasm_cue": ("sarcasm_cues", "reviews with a sarcasm cue (oh great, yeah right, scare quotes, ...)"),
    "mixed_sentiment": ("mixed_sentiment", "reviews mixing positive and negative cues around a contrast"),
    "question": ("question", "reviews containing a question mark"),
    "exclamation": ("exclamation", "reviews containing an exclamation mark"),
}
# Detector names no longer computed -> what replaced them (the preflight names both).
RETIRED_DETECTORS: dict[str, str] = {"negation": "negated_term"}
CONJUNCTION = "__and__"
# The text pass runs a batch of this many texts at a time, in up to MAX_TEXT_WORKERS threads: the texts
# of a few batches are held at once, never all of them (65,536 reviews: about 20 MB of text).
TEXT_BATCH_ROWS = 1 << 16
MAX_TEXT_WORKERS = 4
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Why a metadata column is not sliced (short codes, as in metrics/slices.json "columns_skipped").
EXCLUDED = "excluded"  # listed in slices.metadata_exclude
ALL_MISSING = "all_missing"  # no row has a value
IDENTIFIER = "identifier"  # (nearly) one value per row: every slice would hold a row or two
FREE_TEXT = "free_text"  # the same, with values of several words
STRUCTURED = "structured"  # JSON lists or objects (nested metadata, as ingest stores it)
BINARY = "binary"  # bytes
# A column with more than CATEGORY_VALUES values, at least this share of its rows distinct, is not a category.
DISTINCT_SHARE = 0.9
# A column with at most this many distinct values is always a category (when slices.max_levels is
# null; a configured max_levels takes its place, as before).
CATEGORY_VALUES = 10
# Names of the word-count quantile bins in descriptions (other counts: "<m>-quantile").
QUANTILE_NAMES = {2: "half", 3: "tercile", 4: "quartile", 5: "quintile", 10: "decile"}
# Above this median word count such a column is free text rather than an identifier.
FREE_TEXT_WORDS = 4
# Keys suggested for a watchlist key that is not present.
MAX_SUGGESTIONS = 5
# Structured values are confirmed by parsing this many of them (sorted, so deterministic).
STRUCTURED_SAMPLE = 20
_BYTES_REPR = re.compile(r"^b(?:'.*'|\".*\")$", re.DOTALL)


@dataclass(frozen=True)
class Predicate:
    """One yes/no question about a row.

    Attributes
    ----------
    key : str
        Stable snake_case key.
    feature : str
        What it is about; two predicates on the same feature are never conjoined
        (values of one column, bins of one number, bands of one length are disjoint).
    spec : dict
        Feature -> value or range; the finding's ``slice`` mapping.
    description : str
    """

    key: str
    feature: str
    spec: dict
    description: str
    source: str = "text"

    @property
    def part(self) -> dict:
        """``{"key", "source", "column", "value"}``: the exact raw column (or text feature)
        and value (raw string, null for missing, ``{"not_in": [...]}`` for the pooled rare
        values, a range for bins and thresholds, true for a detector) behind the key."""
        (column, value), = self.spec.items()
        return {"key": self.key, "source": self.source, "column": column, "value": value}


@dataclass
class PredicateTable:
    """Predicates and their membership matrix.

    Attributes
    ----------
    predicates : list of Predicate, length P
    matrix : BitColumns, shape (n_rows, P)
        Membership of every row in every predicate, a bit a cell
        (:class:`blindspot.bits.BitColumns`).
    categorical : dict
        Column key -> :class:`CategoricalColumn` of each categorical metadata column,
        kept to resolve any ``<column key>__<value key>`` on demand.
    columns : dict
        Column key -> record of every metadata column: ``column`` (raw name), ``status``
        ("tested" or "skipped"), then ``kind``, ``n_values`` and ``n_predicates`` (for a
        categorical column also ``n_own``, values with a slice of their own, and ``n_pooled``,
        values pooled as ``__other``), or ``reason`` and ``detail``.
    text_features : dict
        Text feature -> ``{"slices": {key: range or true}}``: what each text predicate
        selects, in predicate order; ``length`` also records ``n_words_quantiles`` (the
        quantile levels and the whole-word edges behind ``length_q<i>``).
    rows_of : callable, optional
        ``rows_of(rule) -> list of ndarray of bool, shape (n_rows,)``: the masks of a
        :class:`blindspot.slices.columns.ColumnRule` over every row, its column read again
        (what :meth:`resolve` builds a rare value's mask with); with a matrix only.
    rules : PredicateRules, optional
        How any batch's rows of every predicate are computed (:func:`define_predicates`: a
        table fixed from summaries, whose ``matrix`` is None).
    extras : list of (Predicate, ColumnRule)
        Rare values resolved for the watchlist (:meth:`resolve_column`): columns ``P``, ``P + 1``, ...
    """

    predicates: list[Predicate]
    matrix: BitColumns | None
    categorical: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    text_features: dict = field(default_factory=dict)
    rows_of: Callable | None = None
    rules: "PredicateRules | None" = None
    extras: list = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.predicates]

    @property
    def features(self) -> list[str]:
        return [p.feature for p in self.predicates]

    def index(self, key: str) -> int | None:
        """Column of ``key`` in :attr:`matrix`, or None."""
        lookup = getattr(self, "_lookup", None)
        if lookup is None or len(lookup) != len(self.predicates):
            lookup = {p.key: i for i, p in enumerate(self.predicates)}
            self._lookup = lookup
        return lookup.get(key)

    def resolve(self, key: str) -> tuple[Predicate, np.ndarray] | None:
        """The predicate and row mask of a single (non-conjunction) key, or None if unknown (a
        table with a matrix).

        Keys of the table come first; otherwise ``<column key>__<value key>`` is matched
        against every value of a categorical metadata column (so rare values can be watched).
        """
        found = self.resolve_column(key)
        if found is None:
            return None
        predicate, j = found
        return predicate, self.column_rows(j)

    def resolve_column(self, key: str) -> tuple[Predicate, int] | None:
        """The predicate of a single key and its column: a predicate's, or for a rare value of a
        categorical column an extra column (:attr:`extras`, added once per key); None if unknown."""
        i = self.index(key)
        if i is not None:
            return self.predicates[i], i
        for e, (predicate, _) in enumerate(self.extras):
            if predicate.key == key:
                return predicate, len(self.predicates) + e
        column_key, sep, value_key = key.partition("__")
        column = self.categorical.get(column_key) if sep else None
        level = column.level_of.get(value_key) if column is not None else None
        if level is None:
            return None
        # A value too rare for a predicate of its own: a rule of its own, its rows read again.
        rule = self._columns().ColumnRule(column.name, "categorical", own=(str(column.levels[level]),))
        self.extras.append((column.predicate(level), rule))
        return self.extras[-1][0], len(self.predicates) + len(self.extras) - 1

    def column_rows(self, j: int) -> np.ndarray:
        """Every row of column ``j`` (a predicate's, or an extra's), ndarray of bool (n,): a table with a matrix."""
        if j < len(self.predicates):
            return self.matrix.column(j)
        return self.rows_of(self.extras[j - len(self.predicates)][1])[0]

    @staticmethod
    def _columns():
        from blindspot.slices import columns  # it builds on this module

        return columns

    def why_absent(self, key: str) -> str:
        """Why a single key that :meth:`resolve` does not find is absent, in a sentence."""
        column_key, sep, value_key = key.partition("__")
        record = self.columns.get(column_key) if sep else None
        if record is None:
            if sep:
                return f"{key}: this data has no metadata column with key {column_key!r}"
            return f"{key}: not a predicate of this configuration"
        if record["status"] == "skipped":
            return f"{key}: column {record['column']!r} is not sliced ({record['reason']}: {record['detail']})"
        if column_key in self.categorical:
            column = self.categorical[column_key]
            # A bare slug that was hashed (two spellings, a reserved word): name the keys to use instead.
            near = sorted(f"{column.levels[i]!r} is {column_key}__{k}" for i, k in enumerate(column.value_keys)
                          if slugify(column.levels[i]) == value_key)[:MAX_SUGGESTIONS]
            hint = f"; {', '.join(near)}" if near else ""
            return f"{key}: no value of column {record['column']!r} has the key {value_key!r}{hint}"
        return f"{key}: column {record['column']!r} is binned ({record['kind']}), it has no slice {value_key!r}"


@dataclass
class CategoricalColumn:
    """A categorical metadata column's values and the key of every value.

    Attributes
    ----------
    name : str
        Raw column name (without ``meta__``).
    key : str
        Its column key.
    levels : ndarray of object, shape (L,)
        Distinct values as strings (:func:`blindspot.slices.columns.category_text`).
    value_keys : list of str, length L
        Value key of each level (one-to-one, :func:`blindspot.slices.keys.unique_keys`).
    """

    name: str
    key: str
    levels: np.ndarray
    value_keys: list

    @property
    def level_of(self) -> dict:
        """Value key -> level."""
        lookup = getattr(self, "_level_of", None)
        if lookup is None:
            lookup = self._level_of = {k: i for i, k in enumerate(self.value_keys)}
        return lookup

    def predicate(self, level: int) -> Predicate:
        value = str(self.levels[level])
        return Predicate(f"{self.key}__{self.value_keys[level]}", self.name, {self.name: value},
                         f"{self.name} = {value}", "metadata")


def merge_specs(predicates: Sequence[Predicate]) -> dict:
    """The ``slice`` mapping of a conjunction: every predicate's spec in one dict.

    A metadata column may be named like a text feature (a column ``negated_term`` conjoined with
    the ``negated_term`` detector): then the metadata entry is written under ``meta__<name>`` so
    neither is lost. ``parts`` (:attr:`Predicate.part`) stays the exact record.
    """
    names = [name for p in predicates for name in p.spec]
    clash = {name for name in names if names.count(name) > 1}
    out: dict = {}
    for p in predicates:
        for name, value in p.spec.items():
            out[META_PREFIX + name if name in clash and p.source == "metadata" else name] = value
    return out


def categorical_column(name: str, levels, *, column_key: str | None = None) -> CategoricalColumn:
    """Key every value of a categorical column.

    Parameters
    ----------
    name : str
        Raw column name (without ``meta__``).
    levels : sequence of str, length L
        Its distinct values as text (:func:`blindspot.slices.columns.category_text`).
    column_key : str, optional
        The column's key (default: its key as the only column, :func:`unique_keys`).
    """
    levels = np.asarray(list(levels), dtype=object)
    if column_key is None:
        column_key = unique_keys([name], reserved=RESERVED_COLUMNS)[name]
    keys = unique_keys(levels, reserved=RESERVED_VALUES)
    return CategoricalColumn(name, column_key, levels, [keys[str(v)] for v in levels])


def _one_column(name: str, values: pd.Series, column_key: str | None, n_quantiles: int):
    """The summary of a whole column, and its key."""
    from blindspot.slices.columns import ColumnSummary  # it builds on this module

    if column_key is None:
        column_key = unique_keys([name], reserved=RESERVED_COLUMNS)[name]
    return ColumnSummary.of(name, values, n_quantiles), column_key


def categorical_predicates(name: str, values: pd.Series, *, max_levels: int | None = None, min_support: int = 1,
                           column_key: str | None = None) -> tuple[list, list, CategoricalColumn]:
    """Predicates for a categorical column: its frequent values, "other", "missing".

    Parameters
    ----------
    name : str
        Column name (without ``meta__``).
    values : Series, shape (n,)
        Values are compared as strings (booleans as ``"true"``/``"false"``).
    max_levels : int, optional
        When set, at most this many most frequent values get their own predicate (ties
        broken by value). Null (the default): no cap, so a frequent value is never pooled.
    min_support : int
        A value gets its own predicate only with at least this many rows (a smaller one
        could not be tested alone); the values left out are pooled as ``<column key>__other``.
    column_key : str, optional
        The column's key (default: its key as the only column).

    Returns
    -------
    predicates : list of Predicate
    masks : list of ndarray of bool, shape (n,)
    column : CategoricalColumn
        For :meth:`PredicateTable.resolve`: any level's predicate by its value key.
    """
    from blindspot.slices.columns import categorical_rule

    summary, key = _one_column(name, values, column_key, len(values))  # every number a category here
    preds, rule, column = categorical_rule(summary, key, max_levels=max_levels, min_support=min_support)
    return preds, rule.masks(values), column


def quantile_predicates(name: str, values: pd.Series, *, n_quantiles: int,
                        column_key: str | None = None) -> tuple[list, list]:
    """Quantile-bin predicates for a numeric or datetime column, plus "missing".

    Bin edges are the ``0, 1/q, ..., 1`` quantiles of the observed values (lower
    empirical quantiles, so edges are observed values); equal edges merge bins. Bin
    ``i`` is ``[edge_i, edge_{i+1})``, the last one closed. Dates are binned by the second.

    Returns
    -------
    predicates : list of Predicate
    masks : list of ndarray of bool, shape (n,)
    """
    from blindspot.slices.columns import binned_rule

    summary, key = _one_column(name, values, column_key, n_quantiles)
    preds, rule = binned_rule(summary, key, "date" if pd.api.types.is_datetime64_any_dtype(values) else "numeric",
                              n_quantiles)
    return preds, rule.masks(values)


def _number(v: float):
    return int(v) if float(v).is_integer() else float(v)


def _show_date(seconds: float) -> str:
    stamp = pd.Timestamp(int(seconds), unit="s")
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO date strings as datetimes (unparseable ones missing); mixed UTC offsets are put on UTC."""
    try:
        return pd.to_datetime(values, errors="coerce", format="ISO8601")
    except ValueError:  # "Mixed timezones detected": one instant scale for every row
        return pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True).dt.tz_localize(None)


def unsliceable(levels: np.ndarray, n_rows: int, *, max_levels: int = CATEGORY_VALUES) -> tuple[str, str] | None:
    """Why a categorical column cannot be sliced, or None when it can.

    Parameters
    ----------
    levels : ndarray of object, shape (L,)
        Its distinct values as text.
    n_rows : int
        Rows with a value.
    max_levels : int
        A column with at most this many distinct values is always a category.

    Returns
    -------
    (reason, detail) or None
        ``reason`` one of :data:`STRUCTURED`, :data:`BINARY`, :data:`IDENTIFIER`,
        :data:`FREE_TEXT`; ``detail`` a sentence with the counts behind it.
    """
    n_values = len(levels)
    text = pd.Series(levels, dtype="string")
    stripped = text.str.strip()
    looks_json = ((stripped.str.startswith("[") & stripped.str.endswith("]"))
                  | (stripped.str.startswith("{") & stripped.str.endswith("}")))
    if n_values and looks_json.all() and all(_is_json_container(v) for v in sorted(text)[:STRUCTURED_SAMPLE]):
        return STRUCTURED, f"{n_values} distinct JSON lists or objects in {n_rows} rows"
    if n_values and text.str.match(_BYTES_REPR).all():
        return BINARY, f"{n_values} distinct byte strings in {n_rows} rows"
    if n_values > max_levels and n_values >= DISTINCT_SHARE * n_rows:
        words = float(text.str.count(r"\S+").median())
        reason = FREE_TEXT if words >= FREE_TEXT_WORDS else IDENTIFIER
        return reason, (f"{n_values} distinct values in {n_rows} rows (median {words:g} words): "
                        f"no value holds enough rows to compare")
    return None


def _is_json_container(text: str) -> bool:
    try:
        return isinstance(json.loads(text), (list, dict))
    except ValueError:  # JSONDecodeError, or a number too large: not JSON after all
        return False
    except RecursionError:  # nested deeper than the parser goes: a structure all the same
        return True


def metadata_predicates(frame: pd.DataFrame, *, max_levels: int | None, n_quantiles: int,
                        exclude: Sequence[str] = (), min_support: int = 1,
                        take_masks: Callable[[list], None] | None = None) -> tuple[list, list, dict, dict]:
    """Predicates of every ``meta__`` column of a canonical predictions table.

    Booleans and numbers with at most ``n_quantiles`` distinct values are
    categorical; other numbers and ISO dates (``YYYY-MM-DD...`` strings) are
    quantile-binned; anything else is categorical, unless :func:`unsliceable`.
    Column keys are built over every metadata column at once (excluded and skipped ones
    too, so a key never depends on the exclusions). Each column is read once, whole, as
    one batch of :mod:`blindspot.slices.columns` (summary, rule, masks).

    Parameters
    ----------
    max_levels, min_support
        As in :func:`categorical_predicates` (``max_levels`` also bounds the identifier
        test of :func:`unsliceable`; null: :data:`CATEGORY_VALUES`).
    exclude : sequence of str
        Columns never sliced on, by raw name or column key.
    take_masks : callable, optional
        Given each column's list of masks as soon as that column's predicates are built,
        before the next column is read (to pack them, :func:`build_predicates`); the
        returned ``masks`` is then empty. Default: the masks are returned.

    Returns
    -------
    predicates : list of Predicate
    masks : list of ndarray of bool, shape (n,)
    categorical : dict
        Column key -> :class:`CategoricalColumn`.
    columns : dict
        Column key -> record, see :attr:`PredicateTable.columns`.
    """
    from blindspot.slices.columns import ColumnSummary, excluded_names, metadata_rules

    names = [c[len(META_PREFIX):] for c in frame.columns if str(c).startswith(META_PREFIX)]
    skip = excluded_names(names, exclude)
    preds, masks, resolvers, columns = [], [], {}, {}
    for name in names:
        values = None if name in skip else frame[META_PREFIX + name]  # an excluded column is never read
        summary = {name: None if values is None else ColumnSummary.of(name, values, n_quantiles)}
        rules = metadata_rules(summary, all_names=names, max_levels=max_levels, n_quantiles=n_quantiles,
                               exclude=exclude, min_support=min_support)
        columns.update(rules.columns)
        resolvers.update(rules.categorical)
        preds += rules.predicates
        m = rules.rules[0].masks(values) if rules.rules else []
        del values  # read from the file one column at a time, the values have no other holder
        if take_masks is None:
            masks += m
        else:
            take_masks(m)
    return preds, masks, resolvers, columns


def _text_batches(texts, batch_rows: int) -> Iterator[pd.Series]:
    """``texts`` as consecutive batches: a Series (or list) is cut into ``batch_rows`` rows at a
    time, anything else is taken as an iterable of batches already (a file read in batches)."""
    if isinstance(texts, (pd.Series, list, tuple, np.ndarray)):
        series = texts if isinstance(texts, pd.Series) else pd.Series(texts, dtype=object)
        for lo in range(0, len(series), batch_rows):
            yield series.iloc[lo:lo + batch_rows]
    else:
        yield from texts


def _word_dtype(words: np.ndarray) -> np.ndarray:
    """Word counts in 4 bytes a row when they fit (they always do in practice: a review of
    2**31 words would be gigabytes), else as given."""
    return words.astype(np.int32) if not len(words) or words.max() < 2**31 else words


def text_flags(texts, *, detectors: Sequence[str], jargon_high_density: float,
               caps_high_share: float) -> pd.DataFrame:
    """What the text predicates need of one batch of texts: a few bytes a row, no text.

    The thresholds are applied here, per batch, so the float features (jargon density,
    capitals share) are never held for every row. Each text's values depend on that text
    alone (the detectors of :mod:`blindspot.text_features`), so the flags of a table cut
    into batches, concatenated, equal those of the whole table (a test checks it).

    Parameters
    ----------
    texts : Series of str, shape (n,)
    detectors : sequence of str
        Names in :data:`TEXT_DETECTORS` (checked by the caller).
    jargon_high_density, caps_high_share : float
        As in :func:`text_predicates`.

    Returns
    -------
    DataFrame, shape (n, len(set(detectors)) + 3), index 0..n-1
        ``jargon_high`` (bool), one bool column per detector name, ``caps_high`` (bool),
        ``n_words`` (int32).
    """
    t = tf.prepare(texts)  # lower-cased and deduplicated once, shared by every detector below
    columns = {"jargon_high": tf.jargon_density(t) >= jargon_high_density}
    for name in detectors:
        # Each detector column of text_features is computed by the function of the same name;
        # only the listed ones run.
        columns[name] = getattr(tf, TEXT_DETECTORS[name][0])(t).astype(bool, copy=False)
    columns["caps_high"] = tf.caps_intensity(t) >= caps_high_share
    columns["n_words"] = _word_dtype(tf.n_words(t))
    return pd.DataFrame(columns)


def text_workers() -> int:
    """Threads the text work of one process runs in: ``min(cpu count, MAX_TEXT_WORKERS)``."""
    return min(os.cpu_count() or 1, MAX_TEXT_WORKERS)


def map_in_threads(fn, batches: Iterable, workers: int | None = None) -> list:
    """``fn`` of every batch in a few threads, results in batch order.

    At most ``workers + 1`` batches are held at once (the one being read and one per
    thread), so reading a file a batch at a time keeps memory bounded. Worth it for work
    that releases the GIL (Arrow kernels, scikit-learn's sparse products).

    Parameters
    ----------
    fn : callable
        Of one batch.
    batches : iterable
    workers : int, optional
        Threads; default :func:`text_workers`; 1 runs in this thread.

    Returns
    -------
    list
        ``fn`` of each batch, in order.
    """
    workers = max(1, int(workers if workers is not None else text_workers()))
    if workers == 1:
        return [fn(batch) for batch in batches]
    out, pending = [], deque()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch in batches:
            pending.append(pool.submit(fn, batch))
            if len(pending) > workers:  # bounded: never more batches in flight than threads, plus one
                out.append(pending.popleft().result())
        out += [future.result() for future in pending]
    return out


def text_flag_table(texts, *, detectors: Sequence[str], jargon_high_density: float, caps_high_share: float,
                    batch_rows: int = TEXT_BATCH_ROWS, workers: int | None = None) -> pd.DataFrame:
    """:func:`text_flags` of every row, a batch at a time, on several cores.

    Only a few batches of texts are held at once (the one being read and one per thread),
    so memory does not grow with the texts: a million rows keep about 10 bytes a row. The
    detectors are Arrow regex kernels that release the GIL, so batches run in threads make
    use of every core; the results are put back in row order.

    Parameters
    ----------
    texts : Series of str, shape (n,), or iterable of Series of str
        The texts, or consecutive batches of them (e.g. read from the file a batch at a time).
    detectors, jargon_high_density, caps_high_share
        As in :func:`text_flags`.
    batch_rows : int
        Rows per batch when ``texts`` is one Series.
    workers : int, optional
        Threads; default :func:`text_workers`.

    Returns
    -------
    DataFrame, shape (n, len(set(detectors)) + 3), index 0..n-1
        As :func:`text_flags` of all the texts at once.
    """
    flags = partial(text_flags, detectors=detectors, jargon_high_density=jargon_high_density,
                    caps_high_share=caps_high_share)
    parts = map_in_threads(flags, _text_batches(texts, max(1, int(batch_rows))), workers)
    if not parts:  # no row: the columns all the same
        parts = [flags(pd.Series([], dtype=object))]
    return pd.concat(parts, ignore_index=True)


def length_quantile_edges(words, n_quantiles: int) -> list[int]:
    """Whole-word edges between ``n_quantiles`` word-count bins: the ``1/m, ..., (m-1)/m``
    quantiles (linear interpolation), rounded half to even.

    Parameters
    ----------
    words : ndarray of int, shape (n,), or (distinct, counts)
        Word count of each review, or their value counts (:func:`blindspot.slices.valuecounts.value_counts`,
        what batches add up).
    n_quantiles : int
        ``m`` >= 2.

    Returns
    -------
    list of int, length m - 1
        Non-decreasing; two equal edges leave the bin between them empty (its key is kept,
        so ``length_q<i>`` always names the same quantile).
    """
    distinct, counts = words if isinstance(words, tuple) else value_counts(words)
    if not int(np.sum(counts)):
        return []
    levels = np.arange(1, n_quantiles) / n_quantiles
    return [int(e) for e in np.rint(linear_quantiles(np.asarray(distinct, dtype=float), counts, levels))]


def length_quantile_predicates(words, n_quantiles: int) -> tuple[list, list, dict]:
    """``length_q1`` ... ``length_q<m>``: word count between consecutive quantile edges.

    Bin ``i`` is ``edge_{i-1} <= n_words < edge_i`` (the first from 0, the last open-ended).

    Parameters
    ----------
    words : ndarray of int, shape (n,)

    Returns
    -------
    predicates : list of Predicate, length m (none for an empty table)
    masks : list of ndarray of bool, shape (n,)
    record : dict
        ``{"levels": [1/m, ...], "edges": [...]}``, written to ``metrics/slices.json``.
    """
    words = np.asarray(words)
    preds, ranges, record = _length_quantile_rules(value_counts(words), n_quantiles)
    return preds, [_in_range(words, r) for r in ranges], record


def _in_range(words: np.ndarray, bounds: tuple) -> np.ndarray:
    """``lo <= words < hi`` (``hi`` None: no upper bound)."""
    lo, hi = bounds
    return (words >= lo) & (True if hi is None else words < hi)


def _length_quantile_rules(word_counts: tuple, n_quantiles: int) -> tuple[list, list, dict]:
    """:func:`length_quantile_predicates` from the word counts' value counts: predicates, their
    ``(lo, hi)`` ranges, and the record."""
    edges = length_quantile_edges(word_counts, n_quantiles)
    record = {"levels": [round(i / n_quantiles, 6) for i in range(1, n_quantiles)], "edges": edges}
    if not edges:
        return [], [], record
    name = QUANTILE_NAMES.get(n_quantiles, f"{n_quantiles}-quantile")
    bounds = [0] + edges + [None]
    preds, ranges = [], []
    for i in range(n_quantiles):
        lo, hi = bounds[i], bounds[i + 1]
        spec = {"ge": lo} if hi is None else {"ge": lo, "lt": hi}
        if hi is None:
            words_text = f"{lo} words or more"
        elif hi > lo:
            words_text = f"{lo} to {hi - 1} words"
        else:
            words_text = f"no review: the edges meet at {lo} words"
        preds.append(Predicate(f"length_q{i + 1}", "length", {"n_words": spec},
                               f"reviews in word-count {name} {i + 1} of {n_quantiles} ({words_text})"))
        ranges.append((lo, hi))
    return preds, ranges, record


@dataclass(frozen=True)
class TextRules:
    """Which of a batch's rows each text predicate holds, from the batch's text flags (:func:`text_flags`)
    and topic membership: the detectors, the word-count ranges, the learned topics, in predicate order.

    Attributes
    ----------
    detectors : tuple of str
    lengths : tuple of (int, int or None)
        ``lo <= n_words < hi`` of each length predicate (quantile bins, the very-short bin, the bands).
    n_topics : int
    """

    detectors: tuple
    lengths: tuple = ()
    n_topics: int = 0

    def masks(self, flags: pd.DataFrame, topics: np.ndarray | None = None) -> list[np.ndarray]:
        """Each text predicate's rows of one batch: ndarray of bool (m,) each."""
        out = [flags["jargon_high"].to_numpy(dtype=bool)]
        out += [flags[name].to_numpy(dtype=bool) for name in self.detectors]
        out.append(flags["caps_high"].to_numpy(dtype=bool))
        words = flags["n_words"].to_numpy()
        out += [_in_range(words, bounds) for bounds in self.lengths]
        out += [np.asarray(topics[:, j], dtype=bool) for j in range(self.n_topics)]
        return out


def text_rules(word_counts: tuple, *, detectors: Sequence[str], jargon_high_density: float, caps_high_share: float,
               length_bands: Mapping[str, Sequence], length_quantiles: int = 0, very_short_words: int | None = None,
               topics: Sequence[Predicate] = ()) -> tuple[list, TextRules, dict]:
    """:func:`text_predicates` fixed from the word counts of every row (value counts, which add up over
    batches), with the :class:`TextRules` that compute any batch's rows in place of the masks; the learned
    ``topics`` come last. ConfigError as there."""
    _check_detectors(detectors)
    preds = _detector_predicates(detectors, jargon_high_density=jargon_high_density, caps_high_share=caps_high_share)
    p, ranges, record = _length_rules(word_counts, length_bands=length_bands, length_quantiles=length_quantiles,
                                      very_short_words=very_short_words)
    return preds + p + list(topics), TextRules(tuple(detectors), tuple(ranges), len(topics)), record


def text_predicates(texts, *, detectors: Sequence[str], jargon_high_density: float, caps_high_share: float,
                    length_bands: Mapping[str, Sequence], length_quantiles: int = 0,
                    very_short_words: int | None = None, batch_rows: int = TEXT_BATCH_ROWS
                    ) -> tuple[list, list, dict]:
    """Predicates from the text detectors of :mod:`blindspot.text_features`.

    Parameters
    ----------
    texts : Series of str, shape (n,), or iterable of Series of str
        The texts, or consecutive batches of them (:func:`text_flag_table`).
    detectors : sequence of str
        Names in :data:`TEXT_DETECTORS`.
    jargon_high_density : float
        ``jargon_high``: at least this many jargon matches per word.
    caps_high_share : float
        ``caps_high``: at least this share of words in capitals.
    length_bands : mapping of str to [low, high]
        ``length_<name>``: ``low <= n_words < high`` (high null: no upper bound).
    length_quantiles : int
        ``length_q1`` ... ``length_q<m>`` from the word-count quantiles of these texts
        (:func:`length_quantile_predicates`); 0 builds none.
    very_short_words : int, optional
        ``words_le_<w>``: at most this many words; null builds none.
    batch_rows : int
        Rows of texts run through the detectors at a time, when ``texts`` is one Series.

    Returns
    -------
    predicates : list of Predicate
    masks : list of ndarray of bool, shape (n,)
    length : dict
        ``{"levels", "edges"}`` of the quantile bins (empty without them).

    Raises
    ------
    ConfigError
        On an unknown detector name or a malformed band.
    """
    _check_detectors(detectors)  # before any text is read
    flags = text_flag_table(texts, detectors=detectors, jargon_high_density=jargon_high_density,
                            caps_high_share=caps_high_share, batch_rows=batch_rows)
    preds, rules, record = text_rules(value_counts(flags["n_words"].to_numpy()), detectors=detectors,
                                      jargon_high_density=jargon_high_density, caps_high_share=caps_high_share,
                                      length_bands=length_bands, length_quantiles=length_quantiles,
                                      very_short_words=very_short_words)
    return preds, rules.masks(flags), record


def _check_detectors(detectors: Sequence[str]) -> None:
    """Raise :class:`ConfigError` on a retired or unknown detector name."""
    retired = [d for d in detectors if d in RETIRED_DETECTORS]
    if retired:
        raise ConfigError(f"slices.text_detectors: the detector {retired[0]!r} was retired; use "
                          f"{RETIRED_DETECTORS[retired[0]]!r} instead.")
    unknown = [d for d in detectors if d not in TEXT_DETECTORS]
    if unknown:
        raise ConfigError(f"slices.text_detectors: unknown detector(s) {unknown}; choose from {sorted(TEXT_DETECTORS)}.")


def _detector_predicates(detectors: Sequence[str], *, jargon_high_density: float, caps_high_share: float) -> list:
    """``jargon_high``, one predicate per boolean detector, ``caps_high`` (in that order)."""
    preds = [Predicate("jargon_high", "jargon", {"jargon_density": {"ge": jargon_high_density}},
                       f"reviews dense in medical jargon (>= {jargon_high_density:g} terms per word)")]
    preds += [Predicate(name, name, {name: True}, TEXT_DETECTORS[name][1]) for name in detectors]
    preds.append(Predicate("caps_high", "caps", {"caps_intensity": {"ge": caps_high_share}},
                           f"reviews with >= {caps_high_share:.0%} of words in capitals"))
    return preds


def _length_rules(word_counts: tuple, *, length_bands: Mapping[str, Sequence], length_quantiles: int,
                  very_short_words: int | None) -> tuple[list, list, dict]:
    """Word-count predicates: quantile bins, then ``words_le_<w>``, then the fixed bands.

    Parameters
    ----------
    word_counts : (distinct, counts)
        Value counts of every row's word count.
    length_bands, length_quantiles, very_short_words
        As in :func:`text_predicates`.

    Returns
    -------
    predicates : list of Predicate
    ranges : list of (int, int or None)
        ``lo <= n_words < hi`` of each.
    length : dict
        As in :func:`text_predicates`.
    """
    preds, ranges = [], []
    record: dict = {}
    if length_quantiles:
        if length_quantiles < 2:
            raise ConfigError(f"slices.length_quantiles: expected 0 (none) or at least 2 bins; got {length_quantiles}.")
        preds, ranges, record = _length_quantile_rules(word_counts, int(length_quantiles))
    if very_short_words is not None:
        if very_short_words < 1:
            raise ConfigError(f"slices.very_short_words: expected a word count of at least 1 (or null); "
                              f"got {very_short_words}.")
        w = int(very_short_words)
        preds.append(Predicate(f"words_le_{w}", "length", {"n_words": {"le": w}},
                               f"very short reviews ({w} words or fewer)"))
        ranges.append((0, w + 1))  # word counts are whole and never negative: at most w
    for band, bounds in length_bands.items():
        if len(bounds) != 2 or bounds[0] is None or (bounds[1] is not None and bounds[1] <= bounds[0]):
            raise ConfigError(f"slices.length_bands.{band}: expected [low, high] with low < high "
                              f"(high may be null); got {list(bounds)}.")
        if not slugify(band):
            raise ConfigError(f"slices.length_bands: the band name {band!r} has no letter or digit; "
                              f"name it e.g. 'short' (its key is length_<name>).")
        lo, hi = bounds
        spec = {"ge": lo} if hi is None else {"ge": lo, "lt": hi}
        text = f"reviews of {lo} words or more" if hi is None else f"reviews of {lo} to {hi - 1} words"
        preds.append(Predicate(f"length_{slugify(band)}", "length", {"n_words": spec}, text))
        ranges.append((lo, hi))
    return preds, ranges, record


def _distinct_features(metadata: list, taken: set) -> list:
    """Metadata predicates whose feature (the raw column name) is also a text feature's name
    (a column called ``length`` or ``negated_term``) renamed ``meta__<name>`` (prefixed again while
    still taken), so that discovery can conjoin them with the text predicates."""
    renamed: dict[str, str] = {}
    names = list(dict.fromkeys(p.feature for p in metadata))
    used = set(taken) | set(names)
    for name in names:
        if name in taken:
            new = META_PREFIX + name
            while new in used:
                new = META_PREFIX + new
            renamed[name] = new
            used.add(new)
    return [replace(p, feature=renamed[p.feature]) if p.feature in renamed else p for p in metadata]


def build_predicates(frame: pd.DataFrame, *, text_detectors: Sequence[str], jargon_high_density: float,
                     caps_high_share: float, length_bands: Mapping[str, Sequence], max_levels: int | None,
                     n_quantiles: int, metadata_exclude: Sequence[str] = (), min_support: int = 1,
                     length_quantiles: int = 0, very_short_words: int | None = None, texts=None,
                     learned: tuple[list, list] | None = None, metadata=None) -> PredicateTable:
    """All predicates of a canonical predictions table (text first, then metadata).

    Parameters are those of :class:`blindspot.config.SlicesConfig` (``min_support``: a
    categorical value with fewer rows is pooled as ``__other``; default 1 pools none), and
    ``texts``: the review texts of the table's rows, as a Series or as consecutive batches
    (:func:`text_flag_table`); default ``frame["text"]``. A stage passes batches read from
    the file, so that ``frame`` need not hold the texts. ``learned``: predicates learned
    from the texts elsewhere (topics, :mod:`blindspot.slices.topics`) and their masks,
    placed after the detectors and length bins. ``metadata``: where the ``meta__`` columns are
    read, one at a time (``metadata.columns``, ``metadata[name]``), default ``frame``.
    :func:`define_predicates` fixes the same predicates from the summaries of batches instead.

    Returns
    -------
    PredicateTable

    Raises
    ------
    ConfigError
        When two configured text predicates share a key (a detector listed twice, two
        length bands whose names slug alike). Metadata keys contain ``__`` and text keys
        do not, and metadata keys are one-to-one by construction, so data never collides.
    """
    preds, masks, length = text_predicates(frame["text"] if texts is None else texts, detectors=text_detectors,
                                           jargon_high_density=jargon_high_density, caps_high_share=caps_high_share,
                                           length_bands=length_bands, length_quantiles=length_quantiles,
                                           very_short_words=very_short_words)
    n = len(frame)
    if len(masks[0]) != n:  # jargon_high is always built: batches that miss or repeat rows
        raise ValueError(f"texts of {len(masks[0])} rows given for a table of {len(frame)} rows.")
    if learned is not None:
        preds, masks = preds + list(learned[0]), masks + list(learned[1])
    text_features = _text_features(preds, length)
    # Each mask is packed to a bit a row as soon as it exists and let go (the text masks here, a
    # metadata column's masks as that column is read): the unpacked masks never all live at once.
    packed = [_packed(masks, j, n) for j in range(len(masks))]
    del masks

    def pack_column(column_masks: list) -> None:
        packed.extend(_packed(column_masks, j, n) for j in range(len(column_masks)))
        # The column's strings and masks are freed in small blocks that stay resident in the heap
        # otherwise (measured at ten million rows: about 90 MB over four columns).
        release_freed_heap()

    source = frame if metadata is None else metadata
    mp, _, resolvers, columns = metadata_predicates(source, max_levels=max_levels, n_quantiles=n_quantiles,
                                                    exclude=metadata_exclude, min_support=min_support,
                                                    take_masks=pack_column)
    preds += _distinct_features(mp, {p.feature for p in preds})
    matrix = BitColumns.stacked(packed, n)
    return PredicateTable(preds, matrix, resolvers, columns, text_features,
                          rows_of=partial(_rule_rows, source=source))


def _text_features(preds: list, length: dict) -> dict:
    """:attr:`PredicateTable.text_features` of the text predicates; ConfigError when two share a key."""
    text_features: dict = {}
    for p in preds:
        text_features.setdefault(p.feature, {"slices": {}})["slices"][p.key] = p.part["value"]
    if length:
        text_features.setdefault("length", {"slices": {}})["n_words_quantiles"] = length
    counts = Counter(p.key for p in preds)
    dupes = sorted(k for k, c in counts.items() if c > 1)
    if dupes:
        raise ConfigError(f"slices.text_detectors / slices.length_bands: slice keys {dupes} are built twice; "
                          f"list each detector once and give length bands names that differ in letters or digits.")
    return text_features


@dataclass(frozen=True)
class PredicateRules:
    """Which of a batch's rows every predicate of a table holds, in predicate order: the text
    predicates from the batch's flags and topic membership, then each metadata column's rule.

    Attributes
    ----------
    text : TextRules
    metadata : tuple of ColumnRule
        One per tested metadata column (:class:`blindspot.slices.columns.ColumnRule`).
    """

    text: TextRules
    metadata: tuple = ()

    def masks(self, flags: pd.DataFrame, topics: np.ndarray | None, frame: pd.DataFrame) -> list[np.ndarray]:
        """Every predicate's rows of one batch (``frame`` holds its ``meta__`` columns)."""
        from blindspot.slices.columns import rule_masks  # it builds on this module

        return self.text.masks(flags, topics) + rule_masks(self.metadata, frame)


def define_predicates(word_counts: tuple, metadata: dict, *, topics: Sequence[Predicate] = (),
                      metadata_names: Sequence[str] | None = None, text_detectors: Sequence[str],
                      jargon_high_density: float, caps_high_share: float, length_bands: Mapping[str, Sequence],
                      max_levels: int | None, n_quantiles: int, metadata_exclude: Sequence[str] = (),
                      min_support: int = 1, length_quantiles: int = 0,
                      very_short_words: int | None = None) -> PredicateTable:
    """Every predicate of a table from the summaries of all its rows, without their rows.

    The predicates :func:`build_predicates` builds from the whole table, from what batches of it
    add up to: the word counts' value counts and each metadata column's
    :class:`~blindspot.slices.columns.ColumnSummary`. The returned table has no matrix; its
    :attr:`PredicateTable.rules` compute any batch's rows of every predicate
    (:mod:`blindspot.slices.batch`).

    Parameters
    ----------
    word_counts : (distinct, counts)
        Value counts of every row's word count.
    metadata : dict
        Raw column name -> ColumnSummary of every row, in the table's column order.
    topics : sequence of Predicate
        The learned topics, after the length predicates (their rows are the batches' topic membership).
    metadata_names : sequence of str, optional
        Every metadata column (default the summarised ones).
    Other parameters
        As :func:`build_predicates`.
    """
    from blindspot.slices.columns import metadata_rules  # it builds on this module

    preds, text, length = text_rules(word_counts, detectors=text_detectors, jargon_high_density=jargon_high_density,
                                     caps_high_share=caps_high_share, length_bands=length_bands,
                                     length_quantiles=length_quantiles, very_short_words=very_short_words,
                                     topics=topics)
    text_features = _text_features(preds, length)
    rules = metadata_rules(metadata, all_names=metadata_names, max_levels=max_levels, n_quantiles=n_quantiles,
                           exclude=metadata_exclude, min_support=min_support)
    preds += _distinct_features(rules.predicates, {p.feature for p in preds})
    return PredicateTable(preds, None, rules.categorical, rules.columns, text_features,
                          rules=PredicateRules(text, tuple(rules.rules)))


def _rule_rows(rule, *, source) -> list:
    """A column rule's masks over every row of ``source`` (a frame, or the file's columns read again)."""
    return rule.masks(source[META_PREFIX + rule.name])


def _packed(masks: list, j: int, n: int) -> np.ndarray:
    """Mask ``j`` of ``masks`` packed to a bit a row, uint8 (ceil(n / 8),); the list lets go of it."""
    mask, masks[j] = masks[j], None
    return pack(mask, n)
