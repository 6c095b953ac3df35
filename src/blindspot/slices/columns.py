"""Metadata columns as mergeable summaries, and the predicates a summary defines.

A metadata column's predicates depend on all of its rows (which values are frequent enough
to be a slice, where the quantile edges fall, whether the column is an identifier), but once
they are fixed, whether a row is in one depends on that row alone. So a column is read in
three steps, each of which can run a batch of rows at a time, wherever the batch is:

1. :meth:`ColumnSummary.of` a batch's values: how many rows, which are present, the
   count of every distinct value (as the text a category is compared by, and as a number
   for numbers and dates), and what the kind rules of :mod:`blindspot.slices.features` need
   (bytes or nested objects, ISO dates). Summaries add up exactly (:meth:`ColumnSummary.merge`).
2. :func:`column_rule` of the merged summary: the column's record, its predicates and a
   :class:`ColumnRule`, or the reason it is not sliced.
3. :meth:`ColumnRule.masks` of any batch's values: each predicate's rows of that batch.

:func:`blindspot.slices.features.metadata_predicates` runs the three on the whole column (one
batch); the slice stage runs them on the file's batches, on the Dask workers with
``engine: dask``, so that no metadata column of every row is held in one process. Both give the
same predicates and rows: the summaries are exact (value counts, not sketches), and the quantile
edges are order statistics read off the counts (:mod:`blindspot.slices.valuecounts`).

What the summaries cost: a column's distinct values, once each (a category's text, a number's
value), never a row. A column with as many distinct values as rows (an identifier the column
rules then skip) costs as much as its values; ``docs/SCALE.md`` says what would bound it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

# The rules' names, kept where the rest of the slice features are.
from blindspot.slices import features as sf
from blindspot.slices.valuecounts import merge_value_counts, order_statistics, value_counts

# Dtypes of a batch's column, as the kind rules read them.
BOOL, NUMERIC, DATETIME, OBJECT = "bool", "numeric", "datetime", "object"


def _dtype_kind(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values):
        return BOOL
    if pd.api.types.is_numeric_dtype(values):
        return NUMERIC
    if pd.api.types.is_datetime64_any_dtype(values):
        return DATETIME
    return OBJECT


def category_text(values: pd.Series) -> pd.Series:
    """The text a categorical value is compared by: booleans as ``"true"``/``"false"``, any other
    value as pandas' string of it; missing values stay missing (the string dtype's NA)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean").astype("string").str.lower()
    return values.astype("string")


def _numbers(values: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x, missing)`` as float64: a numeric column's values, a date column's instants in whole seconds
    since the epoch (parsed from ISO text when the column holds text; mixed UTC offsets on UTC)."""
    if kind == NUMERIC:
        x = values.to_numpy(dtype=float, na_value=np.nan)
        return x, np.isnan(x)
    if kind != DATETIME:
        values = sf._parse_dates(values)
    missing = values.isna().to_numpy()
    seconds = values.to_numpy(dtype="datetime64[s]").astype(np.int64).astype(float)
    return np.where(missing, np.nan, seconds), missing


@dataclass
class ColumnSummary:
    """What a metadata column's predicates are fixed from, for some of its rows; summaries of two
    sets of rows add up (:meth:`merge`), in row order.

    Attributes
    ----------
    name : str
        Raw column name (without ``meta__``).
    dtype : str
        The batch's dtype family: ``"bool"``, ``"numeric"``, ``"datetime"`` or ``"object"``
        (every batch of a column has the same: the caller reads them with the whole column's dtype).
    n : int
        Rows.
    n_present : int
        Rows with a value.
    any_bytes, all_containers : bool
        Some present value is bytes; every present value is a dict, list or tuple
        (:func:`blindspot.slices.features.python_objects`).
    iso : bool
        Every present value, as text, starts as an ISO date (object columns).
    texts : (ndarray of object, ndarray of int64) or None
        Each distinct category text (:func:`category_text`) in order of first appearance, and its
        rows; None for a numeric column once some batch had more distinct numbers than
        ``n_quantiles`` (it is binned, never a category).
    numbers : (ndarray of float64, ndarray of int64) or None
        Each distinct number or date instant (whole seconds) ascending, and its rows; None for
        booleans and for text that is not all ISO dates.
    """

    name: str
    dtype: str
    n: int = 0
    n_present: int = 0
    any_bytes: bool = False
    all_containers: bool = True
    iso: bool = True
    texts: tuple | None = None
    numbers: tuple | None = None

    @classmethod
    def of(cls, name: str, values: pd.Series, n_quantiles: int) -> "ColumnSummary":
        """The summary of one batch's values of a column (a Series as read, the whole column's dtype)."""
        kind = _dtype_kind(values)
        present = values.notna()
        out = cls(name, kind, n=len(values), n_present=int(present.sum()))
        if kind == OBJECT and out.n_present:
            observed = values[present]
            if values.dtype == object:  # Python objects: bytes or nested values are not sliced
                out.any_bytes = bool(observed.map(lambda v: isinstance(v, (bytes, bytearray, memoryview))).any())
                out.all_containers = bool(observed.map(lambda v: isinstance(v, (dict, list, tuple))).all())
            else:
                out.all_containers = False
            if out.any_bytes:  # not sliced whatever else the column holds (and bytes need not be text)
                return out
            out.iso = bool(observed.astype(str).str.match(sf._ISO_DATE).all())
        if kind in (NUMERIC, DATETIME) or (kind == OBJECT and out.iso and out.n_present):
            x, missing = _numbers(values, kind)
            out.numbers = value_counts(x[~missing])
        if kind != NUMERIC or len(out.numbers[0]) <= n_quantiles:
            codes, levels = pd.factorize(category_text(values), use_na_sentinel=True)
            out.texts = (np.asarray(levels, dtype=object), np.bincount(codes[codes >= 0], minlength=len(levels)))
        return out

    def merge(self, other: "ColumnSummary") -> "ColumnSummary":
        """The summary of this batch's rows followed by ``other``'s."""
        if other.dtype != self.dtype:
            raise ValueError(f"metadata column {self.name!r} read as {self.dtype} in one batch and {other.dtype} in "
                             f"another: batches must be read with the whole column's dtype.")
        texts = None
        if self.texts is not None and other.texts is not None:
            merged = pd.Series(np.concatenate([self.texts[1], other.texts[1]]),
                               index=pd.Index(np.concatenate([self.texts[0], other.texts[0]]), dtype=object))
            merged = merged.groupby(level=0, sort=False).sum()  # first appearance kept: the order factorize gives
            texts = (merged.index.to_numpy(dtype=object), merged.to_numpy(dtype=np.int64))
        # Rows with no value say nothing of what the values are (a batch of them has no ISO date to count).
        if not other.n_present:
            numbers = self.numbers
        elif not self.n_present:
            numbers = other.numbers
        else:
            numbers = merge_value_counts(self.numbers, other.numbers)
        return ColumnSummary(self.name, self.dtype, self.n + other.n, self.n_present + other.n_present,
                             self.any_bytes or other.any_bytes, self.all_containers and other.all_containers,
                             self.iso and other.iso, texts, numbers)

    @property
    def n_distinct(self) -> int:
        """Distinct present values: numbers, instants, or category texts."""
        if self.numbers is not None:
            return len(self.numbers[0])
        return len(self.texts[0]) if self.texts is not None else 0

    def kind(self, n_quantiles: int) -> str:
        """``"categorical"``, ``"numeric"`` or ``"date"`` (:func:`blindspot.slices.features._metadata_kind`)."""
        if self.dtype == BOOL:
            return "categorical"
        if self.dtype == NUMERIC:
            return "numeric" if self.n_distinct > n_quantiles else "categorical"
        if self.dtype == DATETIME or (self.n_present and self.iso and self.numbers is not None):
            return "date"
        return "categorical"

    def skip_reason(self) -> tuple[str, str] | None:
        """Why the column is not sliced before its kind is looked at (all missing, bytes, nested
        objects), as ``(reason, detail)``; None if it may be. Exclusion is the caller's."""
        if not self.n_present:
            return sf.ALL_MISSING, f"no value in {self.n} rows"
        if self.dtype == OBJECT and self.any_bytes:
            return sf.BINARY, f"{self.n_present} rows, some of them bytes"
        if self.dtype == OBJECT and self.all_containers:
            return sf.STRUCTURED, f"{self.n_present} rows of lists or objects"
        return None


def merge_summaries(parts: Sequence[dict]) -> dict:
    """Column name -> :class:`ColumnSummary` of every batch's summaries (dicts alike), in row order."""
    out: dict = {}
    for part in parts:
        for name, summary in part.items():
            out[name] = out[name].merge(summary) if name in out else summary
    return out


@dataclass(frozen=True)
class ColumnRule:
    """Which of a batch's rows each predicate of one metadata column holds, the predicates fixed.

    Attributes
    ----------
    name : str
        Raw column name (the batch's column is ``meta__<name>``).
    kind : str
        ``"categorical"``, ``"numeric"`` or ``"date"``.
    own : tuple of str
        Category texts with a predicate of their own, in predicate order (categorical).
    other : bool
        A predicate for every other present value (``__other``), after ``own``.
    edges : ndarray or None
        Bin edges (numeric or date): bin ``i`` is
        ``[edges[i], edges[i + 1])``, the last one closed (dates in seconds).
    missing : bool
        A last predicate for the rows with no value.
    """

    name: str
    kind: str
    own: tuple = ()
    other: bool = False
    edges: np.ndarray | None = field(default=None, compare=False)
    missing: bool = False

    def masks(self, values: pd.Series) -> list[np.ndarray]:
        """Each predicate's rows among ``values`` (one batch's), ndarray of bool each, in predicate order."""
        if self.kind == "categorical":
            text = category_text(values)
            missing = text.isna().to_numpy()
            code = pd.Index(list(self.own), dtype=object).get_indexer(text.astype(object)) if self.own else \
                np.full(len(text), -1, np.intp)
            masks = [code == i for i in range(len(self.own))]
            if self.other:
                masks.append((code < 0) & ~missing)
        else:
            x, missing = _numbers(values, NUMERIC if self.kind == "numeric" else self._date_dtype(values))
            masks = []
            if self.edges is not None:
                bins = np.searchsorted(self.edges[1:-1], x, side="right")
                masks = [(bins == b) & ~missing for b in range(len(self.edges) - 1)]
        if self.missing:
            masks.append(missing)
        return masks

    @staticmethod
    def _date_dtype(values: pd.Series) -> str:
        return DATETIME if pd.api.types.is_datetime64_any_dtype(values) else OBJECT


@dataclass
class MetadataRules:
    """Every metadata column's predicates, fixed from the summaries of all rows.

    Attributes
    ----------
    predicates : list of Predicate
        In column order, each tested column's in :attr:`ColumnRule` order.
    rules : list of ColumnRule
        One per tested column, in the same order: a batch's masks are every rule's, concatenated.
    categorical : dict
        Column key -> :class:`blindspot.slices.features.CategoricalColumn` of each tested categorical column.
    columns : dict
        Column key -> record of every column (:attr:`blindspot.slices.features.PredicateTable.columns`).
    """

    predicates: list = field(default_factory=list)
    rules: list = field(default_factory=list)
    categorical: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)

    def masks(self, frame: pd.DataFrame) -> list[np.ndarray]:
        """Every predicate's rows of one batch (``meta__<name>`` columns), in predicate order."""
        return rule_masks(self.rules, frame)


def rule_masks(rules: Sequence[ColumnRule], frame: pd.DataFrame) -> list[np.ndarray]:
    """Every rule's masks of one batch (its ``meta__<name>`` columns), rule after rule."""
    return [m for rule in rules for m in rule.masks(frame[sf.META_PREFIX + rule.name])]


def excluded_names(names: Sequence[str], exclude: Sequence[str]) -> set:
    """The columns of ``names`` that ``slices.metadata_exclude`` names, by raw name or column key
    (the keys made over all of ``names``): never read."""
    from blindspot.slices.keys import RESERVED_COLUMNS, unique_keys

    keys, exclude = unique_keys(list(names), reserved=RESERVED_COLUMNS), set(exclude)
    return {name for name in names if name in exclude or keys[name] in exclude}


def metadata_rules(summaries: dict, *, all_names: Sequence[str] | None = None, max_levels: int | None,
                   n_quantiles: int, exclude: Sequence[str] = (), min_support: int = 1) -> MetadataRules:
    """The predicates of the summarised metadata columns (:func:`column_rule` of each).

    Parameters
    ----------
    summaries : dict
        Raw column name -> :class:`ColumnSummary` of every row, in the table's column order; None
        for an excluded column (:func:`excluded_names`: never read).
    all_names : sequence of str, optional
        Every metadata column of the table (the column keys are made over all of them, so a key
        never depends on which are summarised); default the summarised ones.
    max_levels, n_quantiles, exclude, min_support
        As :func:`blindspot.slices.features.metadata_predicates`.
    """
    from blindspot.slices.keys import RESERVED_COLUMNS, unique_keys

    column_keys = unique_keys(list(all_names if all_names is not None else summaries), reserved=RESERVED_COLUMNS)
    exclude = set(exclude)
    out = MetadataRules()
    for name, summary in summaries.items():
        key = column_keys[name]
        skipped = (sf.EXCLUDED, "listed in slices.metadata_exclude") if name in exclude or key in exclude \
            else summary.skip_reason()
        if skipped is None:
            record, preds, rule, column = column_rule(summary, key, max_levels=max_levels, n_quantiles=n_quantiles,
                                                      min_support=min_support)
        if skipped is not None or rule is None:
            out.columns[key] = record if skipped is None else {"column": name, "status": "skipped",
                                                               "reason": skipped[0], "detail": skipped[1]}
            continue
        out.columns[key] = record
        out.predicates += preds
        out.rules.append(rule)
        if column is not None:
            out.categorical[key] = column
    return out


def column_rule(summary: ColumnSummary, key: str, *, max_levels: int | None, n_quantiles: int, min_support: int
                ) -> tuple[dict, list, ColumnRule | None, sf.CategoricalColumn | None]:
    """The predicates of one metadata column from its summary over every row.

    Parameters
    ----------
    summary : ColumnSummary
        Of every row (merged); not skipped by :meth:`ColumnSummary.skip_reason`.
    key : str
        The column's key.
    max_levels, n_quantiles, min_support
        As :func:`blindspot.slices.features.metadata_predicates`.

    Returns
    -------
    record : dict
        :attr:`blindspot.slices.features.PredicateTable.columns`' record: tested, or skipped
        (:func:`blindspot.slices.features.unsliceable`).
    predicates : list of Predicate
    rule : ColumnRule or None
        None when skipped.
    resolver : CategoricalColumn or None
        For a tested categorical column: any value's predicate by its key.
    """
    name, kind = summary.name, summary.kind(n_quantiles)
    if kind != "categorical":
        preds, rule = binned_rule(summary, key, kind, n_quantiles)
        return ({"column": name, "status": "tested", "kind": kind, "n_values": summary.n_distinct,
                 "n_predicates": len(preds)}, preds, rule, None)
    levels, counts = summary.texts
    skipped = sf.unsliceable(levels, int(counts.sum()),
                             max_levels=sf.CATEGORY_VALUES if max_levels is None else max_levels)
    if skipped:
        return {"column": name, "status": "skipped", "reason": skipped[0], "detail": skipped[1]}, [], None, None
    preds, rule, column = categorical_rule(summary, key, max_levels=max_levels, min_support=min_support)
    n_own = len(rule.own)
    return ({"column": name, "status": "tested", "kind": kind, "n_values": len(levels), "n_predicates": len(preds),
             "n_own": n_own, "n_pooled": len(levels) - n_own}, preds, rule, column)


def categorical_rule(summary: ColumnSummary, key: str, *, max_levels: int | None, min_support: int
                     ) -> tuple[list, ColumnRule, sf.CategoricalColumn]:
    """A categorical column's predicates: its frequent values, "other", "missing"
    (:func:`blindspot.slices.features.categorical_predicates`)."""
    name = summary.name
    levels, counts = summary.texts
    column = sf.categorical_column(name, levels, column_key=key)
    order = sorted(range(len(levels)), key=lambda i: (-counts[i], str(levels[i])))  # over levels, not rows
    own = [i for i in order if counts[i] >= min_support]
    own = own if max_levels is None else own[:max_levels]
    chosen = set(own)
    rest = [i for i in order if i not in chosen]
    preds = [column.predicate(i) for i in own]
    if rest:
        kept = sorted(str(levels[i]) for i in own)
        preds.append(sf.Predicate(f"{key}__other", name, {name: {"not_in": kept}},
                                  f"{name} one of its {len(rest)} less frequent values", "metadata"))
    missing = summary.n_present < summary.n
    if missing:
        preds.append(sf.Predicate(f"{key}__missing", name, {name: None}, f"{name} missing", "metadata"))
    return preds, ColumnRule(name, "categorical", tuple(str(levels[i]) for i in own), bool(rest), None, missing), column


def binned_rule(summary: ColumnSummary, key: str, kind: str, n_quantiles: int) -> tuple[list, ColumnRule]:
    """Quantile bins of a numeric or date column, and "missing" (:func:`blindspot.slices.features.quantile_predicates`)."""
    name = summary.name
    distinct, counts = summary.numbers
    preds, edges = [], None
    if len(distinct):
        edges = np.unique(order_statistics(distinct, counts, np.linspace(0, 1, n_quantiles + 1)))
        if edges.size == 1:
            edges = np.array([edges[0], edges[0]])
        show = sf._number if kind == "numeric" else sf._show_date
        for b in range(edges.size - 1):
            lo, hi = show(edges[b]), show(edges[b + 1])
            last = b == edges.size - 2
            preds.append(sf.Predicate(f"{key}__q{b + 1}", name, {name: {"ge": lo, "le" if last else "lt": hi}},
                                      f"{name} in [{lo}, {hi}{']' if last else ')'}", "metadata"))
    missing = int(counts.sum()) < summary.n
    if missing:
        preds.append(sf.Predicate(f"{key}__missing", name, {name: None}, f"{name} missing", "metadata"))
    return preds, ColumnRule(name, kind, edges=edges, missing=missing)
