"""The map side of ingest: what is done to one partition's rows, wherever they are read.

A partition is a run of consecutive records of the input: a Parquet file of a directory or a range
of row groups of a large Parquet file (engine=dask), or a batch of rows of one Parquet file
(engine=local). Each is validated alone, once or twice:

- pass 1, :func:`account`: the partition's accounting (rejected rows, and for each clean row its
  record number, id, label and the category of each metadata value), small next to its rows, and
  when asked its clean canonical table as its own values type it (the final table when the driver
  finds that no partition needs more work, :func:`blindspot.engine.merge.one_pass`);
- pass 2, :func:`finish`, only when some partition does: its final canonical table, without the
  rows the driver rejected as duplicates of an earlier partition's ids and with each metadata
  column typed as the whole input types it, as an Arrow table ready for the Parquet writer.

The ``*_partition`` functions read a partition first (a file, or a range of a Parquet file's row
groups): a Dask worker runs them. Every function takes and returns plain picklable values. A
:class:`~blindspot.errors.InputError` is returned as its fields (its constructor takes keywords,
which pickling would lose) and raised again on the driver by :func:`raise_remote`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.partitions import Partition
from blindspot.errors import BlindspotError, InputError
from blindspot.ingest import limits_of, read_input, renumber, validate_table
from blindspot.io.readers import RawTable, read_parquet_rows
# The functions validate() itself uses, so an id reads the same in a partition and in the whole input.
from blindspot.io.schema import META_PREFIX, _id_text, metadata_categories, raw_record, type_metadata

_ERROR_FIELDS = ("path", "problem", "where", "field", "expected", "found", "hint")


def _error(exc: BlindspotError) -> dict:
    if isinstance(exc, InputError):
        return {"error": {name: getattr(exc, name) for name in _ERROR_FIELDS}}
    return {"error": {"kind": type(exc).__name__, "message": str(exc)}}


def raise_remote(result: dict) -> None:
    """Raise the error a partition's work returned, if any, as the driver's own exception."""
    error = result.get("error")
    if error is None:
        return
    if "problem" in error:
        raise InputError(error.pop("path"), error.pop("problem"), **error)
    raise BlindspotError(error["message"])


def _positions(table: RawTable, records) -> np.ndarray:
    """The rows of ``table.frame`` holding ``records`` (record numbers increase down the table)."""
    return np.searchsorted(table.record, np.asarray(records, dtype=np.int64))


def _raw_metadata(table: RawTable, name: str, records) -> pd.Series:
    """Metadata column ``name`` as read, at ``records``."""
    return table.frame[name].iloc[_positions(table, records)].reset_index(drop=True)


def account(table: RawTable, model: ModelConfig, ingest: IngestConfig, keep_table: bool = False,
            keep=None) -> dict:
    """Pass 1: validate a partition and keep its accounting (and its clean table when ``keep_table``).

    ``keep``: (columns, prefixes), the table holds only the canonical columns named in ``columns``
    or starting with one of ``prefixes``, never a metadata column (:func:`kept_columns`); every
    column when None.

    Returns
    -------
    dict
        ``rejected`` (list of dict), ``rows_in``, ``has_probabilities``, ``metadata``, ``notes`` as
        :class:`~blindspot.io.schema.Validated` holds them; ``duplicate_ids``: the id (as text) of each
        duplicate_id rejection, in the order of ``rejected`` (the driver renames the first use when it
        lies in an earlier partition); and for the clean rows, shape (n_clean,) each: ``record``
        (int64), ``id`` (Arrow strings), ``y_true`` (int8) and ``categories`` (metadata name -> int8
        :func:`~blindspot.io.schema.metadata_categories`), ``class_counts`` (see :func:`_validate`);
        ``dtypes``: metadata name -> the pandas dtype of the column of its clean rows as they type
        it; with ``keep_table``, ``table``: those clean rows as an Arrow table (None when there is
        none) and ``arrow_types``, metadata name -> its column's Arrow type (as text).
        Or ``error`` (a file-level stop), with ``class_counts`` when the partition got that far.
    """
    import pyarrow as pa

    counts = {}
    try:
        result = _validate(table, model, ingest, counts)
    except BlindspotError as exc:
        return {**_error(exc), "class_counts": counts.get("counts")}
    clean = result.clean
    record = clean["record"].to_numpy(np.int64)
    ids = table.frame[model.columns.id] if model.columns.id in table.frame.columns else None
    duplicate_ids = [_id_text(ids.iat[int(_positions(table, [r["record"]])[0])]) for r in result.rejected
                     if r["reason"] == "duplicate_id"]
    # A typed metadata value is null exactly where it was missing or blank as read.
    categories = {name: metadata_categories(_raw_metadata(table, name, record), table.typed,
                                            clean[META_PREFIX + name].isna().to_numpy())
                  for name in result.metadata}
    kept = clean if keep is None else clean[kept_columns(clean.columns, *keep)]
    arrow = _arrow(kept) if keep_table and len(clean) else None
    del kept
    dtypes = {name: str(clean[META_PREFIX + name].dtype) for name in result.metadata}
    arrow_types = ({name: str(arrow.schema.field(META_PREFIX + name).type) for name in result.metadata
                    if META_PREFIX + name in arrow.schema.names} if arrow is not None else {})
    return {"dtypes": dtypes, "arrow_types": arrow_types, **({"table": arrow} if keep_table else {}),
            "rejected": result.rejected, "rows_in": result.rows_in, "has_probabilities": result.has_probabilities,
            "metadata": result.metadata, "notes": result.notes, "duplicate_ids": duplicate_ids,
            "record": record, "id": _clean_ids(clean, arrow),
            "y_true": clean["y_true"].to_numpy(np.int8) if len(clean) else np.zeros(0, np.int8),
            "categories": categories, "class_counts": counts.get("counts")}


def _clean_ids(clean: pd.DataFrame, arrow) -> "pa.Array":
    """The clean rows' ids as Arrow ``large_string``, shape (n_clean,).

    The kept table's own ``id`` column when it holds one of that type (the same values: the table
    is made from ``clean``), so a reader that keeps the tables (the compare stage's baseline) holds
    each id once, not a second copy beside the table; otherwise made from ``clean``.
    """
    import pyarrow as pa

    if arrow is not None and "id" in arrow.schema.names and arrow.schema.field("id").type == pa.large_string():
        column = arrow.column("id")
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # one chunk: no copy
    return pa.array(clean["id"].astype(object).to_numpy(), type=pa.large_string())


def kept_columns(names, columns, prefixes=()) -> list:
    """The names among ``names`` that are in ``columns`` or start with one of ``prefixes``, in their order.

    Never a metadata column: its type is decided by the whole input's values (pass 1's reduce), so
    one partition's own typing of it is not yet the final one.
    """
    return [n for n in names if not str(n).startswith(META_PREFIX)
            and (n in columns or str(n).startswith(tuple(prefixes)))]


def _validate(table: RawTable, model: ModelConfig, ingest: IngestConfig, counts: dict | None = None):
    """Validate a partition without the class-list stop: ``counts["counts"]`` gets its class counts.

    Most labels not being classes stops the input as a whole, judged on the whole input's counts
    (:func:`blindspot.engine.merge.raise_errors`); a partition alone could be judged otherwise.
    """
    return validate_table(table, model, ingest, progress=False,
                          classes_to=lambda c: counts.__setitem__("counts", c) if counts is not None else None)


def finish(table: RawTable, model: ModelConfig, ingest: IngestConfig, plan: dict):
    """Pass 2: a partition's final canonical table, as an Arrow table (None when no row is left).

    Parameters
    ----------
    plan : dict
        From the driver (:func:`blindspot.engine.merge.reduce`): ``drop``, the records to leave
        out (duplicates of an earlier partition's ids); ``kinds``, metadata name -> the kind of the
        whole column (:func:`~blindspot.io.schema.metadata_kind`); ``retype``, the same for the
        columns this partition alone typed otherwise; ``storage``, metadata name -> the dtype the
        whole column is held in (:func:`~blindspot.io.schema.metadata_storage`).
    """
    import pyarrow as pa

    clean = _validate(table, model, ingest).clean
    if len(plan["drop"]):
        clean = clean[~np.isin(clean["record"].to_numpy(), plan["drop"])].reset_index(drop=True)
    if not len(clean):
        return None
    record = clean["record"].to_numpy(np.int64)
    for name, kind in plan["retype"].items():
        clean[META_PREFIX + name] = type_metadata(_raw_metadata(table, name, record), table.typed, kind).to_numpy()
    for name, dtype in plan["storage"].items():
        column = META_PREFIX + name
        if str(clean[column].dtype) != dtype:  # this partition's values alone gave pandas another dtype
            clean[column] = clean[column].astype(dtype)
    table = _arrow(clean)
    # An object column's Arrow type is inferred from its values: a boolean column with missing values
    # (object) whose values in this partition are all missing would be Arrow null, not bool.
    schema = table.schema
    for name, kind in plan["kinds"].items():
        column = META_PREFIX + name
        if plan["storage"][name] == "object" and kind == "boolean" and schema.field(column).type != pa.bool_():
            schema = schema.set(schema.get_field_index(column), pa.field(column, pa.bool_()))
    if schema is not table.schema:
        table = pa.Table.from_pandas(clean, schema=schema, preserve_index=False)
    return table


def _arrow(clean: pd.DataFrame):
    """A canonical frame as the Arrow table the Parquet writer takes."""
    import pyarrow as pa

    # The arguments DataFrame.to_parquet(index=False) gives: the schema (and its pandas metadata) it writes.
    return pa.Table.from_pandas(clean, preserve_index=False)


def rows_as_read(table: RawTable, records) -> list:
    """(record, line, raw) of each of ``records`` (increasing), raw as rejected.jsonl keeps it."""
    return [(int(table.record[i]), int(table.line[i]), raw_record(table, int(i))) for i in _positions(table, records)]


# --------------------------------------------------------------------------- on a Dask worker


def _read(part: Partition, model: ModelConfig, ingest: IngestConfig) -> RawTable:
    """A partition's records (a file, or a range of a Parquet file's row groups), numbered as in the whole input."""
    model = dataclasses.replace(model, path=part.path)
    if part.row_groups is None:
        return read_input(model, ingest, record_offset=part.offset)
    return _read_row_groups(part, limits_of(model, ingest))


def _read_row_groups(part: Partition, limits) -> RawTable:
    """The records of ``part.row_groups`` of the Parquet file ``part.path``, numbered as in the whole input.

    Converted by :func:`~blindspot.io.readers.read_parquet_rows`, as engine=local converts its
    batches of the same file (:class:`blindspot.engine.local.ParquetBatches`): the same raw values,
    so the same validation and the same rejected rows.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(part.path, pre_buffer=False)
        handed = [file.read_row_groups(list(range(*part.row_groups)))]
    except (pa.ArrowException, OSError) as exc:
        raise InputError(part.path, f"cannot read Parquet: {exc}", expected="a Parquet file") from None
    return renumber(read_parquet_rows(part.path, handed, limits), part.offset)  # handed: emptied as it is converted


def account_partition(part: Partition, model: ModelConfig, ingest: IngestConfig, keep_table: bool = False,
                      keep=None) -> dict:
    """:func:`account` of a partition (or ``error``, with ``read`` when reading it failed); ``keep`` as there."""
    try:
        table = _read(part, model, ingest)
    except BlindspotError as exc:
        return {**_error(exc), "read": True}
    return account(table, dataclasses.replace(model, path=part.path), ingest, keep_table, keep=keep)


def finish_partition(part: Partition, model: ModelConfig, ingest: IngestConfig, plan: dict) -> dict:
    """``table``: :func:`finish` of a partition (or ``error``)."""
    try:
        return {"table": finish(_read(part, model, ingest), dataclasses.replace(model, path=part.path), ingest, plan)}
    except BlindspotError as exc:
        return _error(exc)


def raw_rows(part: Partition, model: ModelConfig, ingest: IngestConfig, records: list) -> dict:
    """``rows``: :func:`rows_as_read` of a partition (or ``error``)."""
    try:
        return {"rows": rows_as_read(_read(part, model, ingest), records)}
    except BlindspotError as exc:
        return _error(exc)
