"""Watchlist: named slices evaluated on every model version under stable keys.

A watchlist entry is a key: one predicate key (``jargon_high``,
``condition__birth_control``, ``useful_count__q1``) or several joined by ``__and__``
(``negated_term__and__jargon_high``). The key as written is the name under which the slice
appears in ``metrics/slices.json`` (so ``dvc metrics diff`` follows it across
versions) and, prefixed ``watch__``, its column in ``data/interim/slices.parquet``.

To promote a discovered slice, copy its key from the ``discovered`` section into
``slices.watchlist`` in ``conf/slices/default.yaml``: discovered keys are valid
watchlist keys by construction.

An entry whose predicate is not present in the data (a metadata column another
dataset does not have, a value that never occurs) is reported with ``n = 0`` and the
reason, never dropped silently and never a crash: one watchlist serves many datasets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from blindspot.direction import higher_is_better
from blindspot.errors import ConfigError
from blindspot.slices.features import CONJUNCTION, Predicate, PredicateTable, merge_specs

NOT_PRESENT = "not_present"  # a predicate of the key does not occur in this data
_KEY = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*(?:__[a-z0-9]+(?:_[a-z0-9]+)*)*$")


@dataclass
class WatchItem:
    """One resolved (or unresolvable) watchlist entry.

    Attributes
    ----------
    key : str
    parts : list of str
        Predicate keys of the conjunction.
    predicates : list of Predicate
        Resolved parts (empty when unresolved).
    columns : tuple of int or None
        The table's column of each part, in key order (a rare value's is an extra column,
        :attr:`blindspot.slices.features.PredicateTable.extras`); None when unresolved.
    members : tuple of int or None
        Predicate columns when every part is a column of the table (so the slice can be
        matched with a discovery candidate and tested once), else None.
    reason : str
        :data:`NOT_PRESENT` when unresolved; "" when resolved.
    missing : list of str
        The parts that are not present in the data.
    detail : str
        Why each missing part is absent (:meth:`PredicateTable.why_absent`), "; "-joined.
    mask : ndarray of bool, shape (n,), or None
        Its rows, for a table with a matrix (:func:`blindspot.slices.features.build_predicates`);
        None otherwise (the audit counts the columns a batch at a time).
    """

    key: str
    parts: list[str]
    predicates: list[Predicate]
    columns: tuple[int, ...] | None
    members: tuple[int, ...] | None
    reason: str = ""
    missing: list = field(default_factory=list)
    detail: str = ""
    mask: np.ndarray | None = None

    @property
    def resolved(self) -> bool:
        return self.columns is not None

    @property
    def spec(self) -> dict:
        return merge_specs(self.predicates)

    @property
    def records(self) -> list[dict]:
        """:attr:`Predicate.part` of each resolved part, in key order (empty when unresolved)."""
        return [p.part for p in self.predicates]

    @property
    def description(self) -> str:
        return " and ".join(p.description for p in self.predicates) if self.predicates else self.key


def validate_keys(keys: Sequence[str]) -> None:
    """Refuse malformed or duplicate watchlist keys.

    Raises
    ------
    ConfigError
        Naming the offending key: keys are snake_case (lower-case letters, digits,
        single ``_``, ``__`` between column and value), no dots, no repeats.
    """
    seen = set()
    for key in keys:
        if not isinstance(key, str) or not _KEY.match(key):
            raise ConfigError(f"slices.watchlist: {key!r} is not a slice key (snake_case, e.g. 'jargon_high', "
                              f"'condition__birth_control', 'negated_term__and__jargon_high').")
        if key in seen:
            raise ConfigError(f"slices.watchlist: {key!r} is listed twice.")
        seen.add(key)


def resolve_watchlist(keys: Sequence[str], table: PredicateTable) -> list[WatchItem]:
    """Resolve every watchlist key against a predicate table (in the given order).

    A rare value a key names becomes an extra column of the table
    (:meth:`PredicateTable.resolve_column`); with a matrix, each item's rows are its ``mask``.
    """
    validate_keys(keys)
    items = []
    for key in keys:
        parts = key.split(CONJUNCTION)
        resolved = [table.resolve_column(part) for part in parts]
        missing = [part for part, r in zip(parts, resolved) if r is None]
        if missing:
            detail = "; ".join(table.why_absent(part) for part in missing)
            items.append(WatchItem(key, parts, [], None, None, NOT_PRESENT, missing, detail))
            continue
        columns = tuple(r[1] for r in resolved)
        p = len(table.predicates)
        members = tuple(sorted(columns)) if all(c < p for c in columns) and len(set(columns)) == len(columns) else None
        mask = None
        if table.matrix is not None:
            mask = np.logical_and.reduce([table.column_rows(c) for c in columns])
        items.append(WatchItem(key, parts, [r[0] for r in resolved], columns, members, mask=mask))
    return items


def watchlist_gap_rows(watchlist_metrics: dict, metrics: Sequence[str]) -> list[dict]:
    """Flat rows of watchlist gaps for a DVC bar plot (``dvc plots diff`` overlays versions).

    Parameters
    ----------
    watchlist_metrics : dict
        The ``watchlist`` section of ``metrics/slices.json``: key -> entry.
    metrics : sequence of str
        Metric names to plot, e.g. ``["error_rate", "recall_negative"]``.

    Returns
    -------
    list of dict, length <= n_keys * n_metrics
        ``slice`` ("<key> / <metric>"), ``gap``, ``gap_ci_low``, ``gap_ci_high`` (slice
        minus rest), ``worse_by`` with ``worse_by_ci_low``, ``worse_by_ci_high`` (the same
        gap signed so that positive means the slice is worse: the gap of an error rate,
        minus the gap of a recall), ``n``, ``significant`` (0/1), for every watchlist slice
        and metric that was tested. Keys are the stable watchlist keys, so the rows line
        up across model versions; ``worse_by`` lets one bar chart point "worse" one way.
    """
    rows = []
    for key in sorted(watchlist_metrics):
        entry = watchlist_metrics[key]
        for metric in metrics:
            m = entry.get(metric) if isinstance(entry, dict) else None
            if not m or not m.get("tested"):
                continue
            sign = -1.0 if higher_is_better(metric) else 1.0
            gap = m["gap"]  # an encoded Estimate; the plot keeps its flat columns
            low, high = sorted((sign * gap["ci_low"], sign * gap["ci_high"]))
            rows.append({"slice": f"{key} / {metric}", "gap": gap["value"], "gap_ci_low": gap["ci_low"],
                         "gap_ci_high": gap["ci_high"], "worse_by": sign * gap["value"] + 0.0,
                         "worse_by_ci_low": low + 0.0, "worse_by_ci_high": high + 0.0, "n": m["n"],
                         "significant": int(bool(m["significant"]))})
    return rows
