"""Merge the partitions' validation into the one :class:`~blindspot.io.schema.Validated` of the whole input.

Every rule but two judges a row alone, so a partition's verdicts are the whole input's. The two that
read other rows are redone here exactly:

- **duplicate ids**: a row otherwise fine whose id an earlier such row used is rejected. Each partition
  already applied the rule inside itself; its clean rows keep each id's first use in the partition.
  The driver concatenates the clean ids of every partition (in record order) and applies the same
  rule (:func:`~blindspot.io.schema.first_uses`): a later partition's first use of an id kept earlier
  is rejected, and every duplicate_id detail names the id's first use in the whole input. The cost on
  the driver is the clean ids and record numbers of every row (about 100 bytes a row); the rejected
  duplicates are read again by their partition's worker (their rows as read, for rejected.jsonl).
- **metadata types**: a metadata column's type (text, integer, float, boolean) is decided from all its
  clean values. When the partitions decided alike and no row was removed afterwards, the whole input
  decides the same; otherwise the metadata columns are read again (only them) and typed once, here,
  by the same function over all clean values.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from blindspot.engine.partitions import Partition
from blindspot.engine.worker import raise_remote
from blindspot.io.schema import META_PREFIX, Validated, duplicate_detail, first_uses, rejected_row
# The function validate() itself types metadata with.
from blindspot.io.schema import _normalise_metadata

# fetch(partition, records, columns) -> a worker's raw_rows() answer.
Fetch = Callable[[Partition, list, "list | None"], dict]


def _cross_duplicates(parts: list, results: list, id_field: str, fetch: Fetch) -> tuple[list, list]:
    """The duplicate_id rule across partitions: (rows to drop per partition, their rejected rows).

    Also rewrites, in place, the detail of each partition's own duplicate_id rejections to name
    the id's first use in the whole input.
    """
    drop = [np.zeros(len(r["clean"]), bool) for r in results]
    ids = pd.concat([r["clean"]["id"] for r in results], ignore_index=True) if results else pd.Series([], dtype=object)
    record = np.concatenate([r["clean"]["record"].to_numpy() for r in results]) if results else np.array([], np.int64)
    dup, first_of = first_uses(ids, record)
    if first_of is None:  # no id repeats across partitions: every detail already names the first use
        return drop, []
    for r in results:
        own = iter(r["duplicate_ids"])
        for row in r["rejected"]:
            if row["reason"] == "duplicate_id":
                text = next(own)
                row["detail"] = duplicate_detail(text, first_of[text])
    rejected, start = [], 0
    for k, (part, r) in enumerate(zip(parts, results)):
        n = len(r["clean"])
        mine = dup[start:start + n]
        start += n
        if not mine.any():
            continue
        drop[k] = mine
        answer = fetch(part, r["clean"]["record"].to_numpy()[mine].tolist(), None)
        raise_remote(answer)
        texts = r["clean"]["id"].to_numpy()[mine]
        for (rec, line, raw), text in zip(answer["rows"], texts):
            rejected.append(rejected_row(rec, line, "duplicate_id", id_field, duplicate_detail(text, first_of[text]), raw))
    return drop, rejected


def _retype_metadata(parts: list, results: list, keep: list, clean: pd.DataFrame, metadata: list,
                     fetch: Fetch) -> None:
    """Type every metadata column of ``clean`` from all its values as read (in place)."""
    pieces = []
    for part, r, kept in zip(parts, results, keep):
        records = r["clean"]["record"].to_numpy()[kept].tolist()
        if records:
            answer = fetch(part, records, list(metadata))
            raise_remote(answer)
            pieces.append(answer["frame"])
    if not pieces:
        return
    values = pd.concat(pieces, ignore_index=True)
    for name in metadata:
        clean[META_PREFIX + str(name)] = _normalise_metadata(values[name].reset_index(drop=True), True).to_numpy()


def _contiguous(frame: pd.DataFrame) -> None:
    """Each Arrow-backed column of ``frame`` (its text) as one chunk, in place.

    Concatenating partitions leaves a text column in one Arrow chunk per partition; the Parquet
    writer ends a data page at each chunk, so the file's bytes would differ from the local engine's
    (same values, other pages). One chunk is the layout the local engine's table has.
    """
    import pyarrow as pa

    for name in frame.columns:
        array = frame[name].array
        if isinstance(array, pd.arrays.ArrowStringArray) and array.__arrow_array__().num_chunks > 1:
            single = pa.chunked_array([array.__arrow_array__().combine_chunks()])
            frame[name] = pd.Series(pd.arrays.ArrowStringArray(single), dtype=frame[name].dtype, index=frame.index)


def merge(parts: list, results: list, id_field: str, fetch: Fetch) -> Validated:
    """The partitions' results (in record order) as one :class:`Validated`, as the local engine gives it.

    Parameters
    ----------
    parts : list of Partition
    results : list of dict
        :func:`~blindspot.engine.worker.validate_partition` of each partition, errors already raised.
    id_field : str
        The id column (the field a duplicate_id rejection names).
    fetch : callable
        Reads rows of a partition again on a worker (see :data:`Fetch`).
    """
    drop, rejected = _cross_duplicates(parts, results, id_field, fetch)
    keep = [~d for d in drop]
    metadata = next((r["metadata"] for r in results if r["metadata"]), [])
    # A partition with no clean row has no column types to agree on (and may lack columns).
    used = [(r["clean"], k) for r, k in zip(results, keep) if len(r["clean"]) and k.any()]
    frames = [c[k].reset_index(drop=True) if not k.all() else c for c, k in used] or [results[0]["clean"]]
    agree = all(len({str(f[META_PREFIX + str(m)].dtype) for f in frames}) == 1 for m in metadata)
    clean = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    _contiguous(clean)
    if metadata and (rejected or not agree):  # rows removed after typing, or partitions typed apart
        _retype_metadata(parts, results, keep, clean, metadata, fetch)
    for r in results:
        rejected += r["rejected"]
    rejected.sort(key=lambda row: row["record"])
    return Validated(clean=clean, rejected=rejected, rows_in=sum(r["rows_in"] for r in results),
                     has_probabilities=any(r["has_probabilities"] for r in results), metadata=list(metadata),
                     notes=dict(results[0]["notes"]))
