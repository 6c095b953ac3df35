"""The reduce side of ingest: the partitions' accounting (pass 1) as the whole input's.

Every rule but two judges a row alone, so a partition's verdicts are the whole input's. The two that
read other rows are redone here exactly, on accounting only (no row's text or values):

- **duplicate ids**: a row otherwise fine whose id an earlier such row used is rejected. Each partition
  already applied the rule inside itself; its clean rows keep each id's first use in the partition.
  The driver concatenates the clean ids of every partition (in record order) and applies the same
  rule (:func:`~blindspot.io.schema.first_uses`): a later partition's first use of an id kept earlier
  is rejected, and every duplicate_id detail names the id's first use in the whole input. The cost on
  the driver is the clean ids and record numbers of every row (Arrow text: about 30 bytes a row at a
  million rows); the rows rejected here are read again by their partition (for rejected.jsonl).
- **metadata types**: a metadata column's type (text, integer, float, boolean) is decided from all its
  clean values. Each partition reports the category of each value
  (:func:`~blindspot.io.schema.metadata_categories`, one byte a row); the driver decides each column's
  kind from the categories of the rows kept (:func:`~blindspot.io.schema.metadata_kind`), and pass 2
  retypes a column only in the partitions whose own rows decided otherwise.

When neither rule changes anything, each partition's own clean table is already its final one
(:func:`typed_alike`), and ingest writes pass 1's tables without a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blindspot.engine.worker import raise_remote
from blindspot.io.schema import (MISSING, add_class_counts, check_class_counts, duplicate_detail, first_uses,
                                 has_repeats, metadata_kind, metadata_storage, reason_counts, rejected_row)


@dataclass
class Accounting:
    """The whole input's accounting, before its clean rows are written (the driver's pass 1 outcome).

    Attributes
    ----------
    rejected : list of dict
        Every rejected row, by record, as in :class:`~blindspot.io.schema.Validated`.
    rows_in, rows_clean : int
    has_probabilities : bool
    metadata : list of str
    notes : dict
    labels : list of str
        The distinct labels of the clean rows, in the order they first appear.
    plans : list of dict
        For each partition, what pass 2 needs (see :func:`blindspot.engine.worker.finish`).
    details : dict of int to str
        Record -> the detail of its duplicate_id rejection, for the rows rejected across partitions.
    """

    rejected: list
    rows_in: int
    rows_clean: int
    has_probabilities: bool
    metadata: list
    notes: dict
    labels: list
    plans: list = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def reasons(self) -> dict:
        return reason_counts(self.rejected)

    def clean_labels(self) -> list:
        return list(self.labels)


def raise_errors(results: list, path: str, columns, classes: list) -> None:
    """Raise the stop the whole input meets first, if any partition met one.

    Reading the whole input comes before validating any of it; then a contract column absent, then
    the class list judged on the whole input's counts (no partition judged it alone), then the
    rest of the file-level stops, each as the first partition in record order met it.
    """
    for first in (lambda r: r.get("read"), lambda r: r.get("class_counts") is None):
        for r in results:
            if "error" in r and first(r):
                raise_remote(r)
    total = None
    for r in results:
        if r.get("class_counts") is not None:
            total = add_class_counts(total, r["class_counts"])
    if total is not None:
        check_class_counts(str(path), total, {"label": columns.label, "prediction": columns.prediction}, classes)
    for r in results:
        raise_remote(r)


def _id_chunks(results: list):
    """Every partition's clean ids, in record order, as one Arrow chunked array of text (no copy)."""
    import pyarrow as pa

    return pa.chunked_array([r["id"] for r in results], type=pa.large_string())


def _ids(results: list) -> pd.Series:
    """Every partition's clean ids, in record order, as one Series of Arrow text."""
    return pd.Series(pd.arrays.ArrowStringArray(_id_chunks(results)))


def cross_duplicates(results: list) -> tuple[list, dict]:
    """The duplicate_id rule across partitions.

    Rewrites, in place, the detail of each partition's own duplicate_id rejections to name the id's
    first use in the whole input.

    Returns
    -------
    drop : list of ndarray of bool
        For each partition, shape (n_clean,): its clean rows that an earlier partition's row holds the id of.
    details : dict of int to str
        Record -> the detail of its duplicate_id rejection, for the rows of ``drop``.
    """
    drop = [np.zeros(len(r["record"]), bool) for r in results]
    # The common case, every clean id used once, asked of Arrow's sort (no pandas hash of every id, and
    # no hash table of them: has_repeats).
    if not has_repeats(_id_chunks(results)):
        return drop, {}
    ids = _ids(results)
    record = np.concatenate([r["record"] for r in results]) if results else np.zeros(0, np.int64)
    dup, first_of = first_uses(ids, record)
    if first_of is None:  # no id repeats across partitions: every detail already names the first use
        return drop, {}
    for r in results:
        own = iter(r["duplicate_ids"])
        for row in r["rejected"]:
            if row["reason"] == "duplicate_id":
                # An id kept once in all (its other uses rejected in this partition) is not in
                # first_of: its first use is this partition's, which the detail names already.
                text = next(own)
                first = first_of.get(text)
                if first is not None:
                    row["detail"] = duplicate_detail(text, first)
    details, start = {}, 0
    for k, r in enumerate(results):
        n = len(r["record"])
        drop[k] = dup[start:start + n]
        for rec, text in zip(r["record"][drop[k]], ids.iloc[np.flatnonzero(dup[start:start + n]) + start]):
            details[int(rec)] = duplicate_detail(text, first_of[text])
        start += n
    return drop, details


def _metadata_plans(results: list, keep: list, metadata: list) -> tuple[dict, list, dict]:
    """Each whole metadata column's kind, each partition's columns to retype, each column's dtype."""
    kinds, retype, storage = {}, [{} for _ in results], {}
    for name in metadata:
        kept = [r["categories"].get(name, np.zeros(0, np.int8))[k] for r, k in zip(results, keep)]
        whole = np.concatenate(kept) if kept else np.zeros(0, np.int8)
        kind = kinds[name] = metadata_kind(np.unique(whole))
        n_missing = int(np.count_nonzero(whole == MISSING))
        storage[name] = metadata_storage(kind, n_missing, len(whole) - n_missing)
        for k, r in enumerate(results):
            # The partition typed its own clean rows (before this driver's drops): retype when that differs.
            own = r["categories"].get(name)
            if own is not None and len(own) and metadata_kind(np.unique(own)) != kind:
                retype[k][name] = kind
    return kinds, retype, storage


def first_labels(results: list, keep: list, classes: list) -> list:
    """The distinct labels of the rows kept, in the order they first appear."""
    y = np.concatenate([r["y_true"][k] for r, k in zip(results, keep)]) if results else np.zeros(0, np.int8)
    return [classes[int(c)] for c in pd.unique(y)]


def reduce(results: list, classes: list) -> tuple[Accounting, dict]:
    """The partitions' pass-1 results (in record order, errors raised) as the whole input's accounting.

    Returns
    -------
    accounting : Accounting
        Complete but for the rejected rows of duplicates across partitions, whose raw rows the
        caller reads again and adds (:func:`add_duplicates`).
    wanted : dict of int to list of int
        Partition -> the records whose raw rows to read for those rejections.
    """
    drop, details = cross_duplicates(results)
    keep = [~d for d in drop]
    metadata = next((r["metadata"] for r in results if r["metadata"]), [])
    kinds, retype, storage = _metadata_plans(results, keep, metadata)
    plans = [{"drop": r["record"][d], "kinds": kinds, "retype": t, "storage": storage}
             for r, d, t in zip(results, drop, retype)]
    wanted = {k: p["drop"].tolist() for k, p in enumerate(plans) if len(p["drop"])}
    rejected = [row for r in results for row in r["rejected"]]
    accounting = Accounting(
        rejected=rejected, rows_in=sum(r["rows_in"] for r in results),
        rows_clean=int(sum(k.sum() for k in keep)), has_probabilities=any(r["has_probabilities"] for r in results),
        metadata=list(metadata), notes=dict(results[0]["notes"]), labels=first_labels(results, keep, classes),
        plans=plans, details=details)
    return accounting, wanted


def typed_alike(results: list, plans: list) -> bool:
    """Whether every partition's pass-1 clean table is the one pass 2 would make (its ``finish``).

    True when no partition loses a row to an earlier partition's id (``drop``) and every metadata
    column of every partition with clean rows was typed by its own values as the whole input types
    it: the same kind (no ``retype``), the same pandas dtype (``storage``: an Int64 column missing a
    value in one partition only is float64 there alone) and, for a boolean column held as objects,
    the Arrow type bool. Then :func:`blindspot.engine.worker.finish` does nothing to the rows
    pass 1 validated: no row left out, no value retyped or cast, the same Arrow schema and pandas
    metadata. Why the same kind gives the same values: each kind's conversion is value by value
    (:func:`~blindspot.io.schema.type_metadata`). Needs each result's ``dtypes`` and
    ``arrow_types`` (pass 1 with ``keep_table``).
    """
    for r, p in zip(results, plans):
        if len(p["drop"]) or p["retype"]:
            return False
        if not len(r["record"]):  # no clean row: no table either way
            continue
        for name, dtype in p["storage"].items():
            if r["dtypes"].get(name) != dtype:
                return False
            if dtype == "object" and p["kinds"][name] == "boolean" and r["arrow_types"].get(name) != "bool":
                return False
    return True


def kinds_of(result: dict) -> dict:
    """Metadata name -> the kind a partition's own clean rows give the column (nothing for a partition without any)."""
    if not len(result.get("record", ())):
        return {}
    return {name: metadata_kind(np.unique(c)) for name, c in result["categories"].items()}


def add_duplicates(accounting: Accounting, rows: list, id_field: str) -> None:
    """Add the rejections of duplicates across partitions (``rows``: (record, line, raw)), then sort by record."""
    for record, line, raw in rows:
        accounting.rejected.append(rejected_row(record, line, "duplicate_id", id_field,
                                                accounting.details[record], raw))
    accounting.rejected.sort(key=lambda row: row["record"])
