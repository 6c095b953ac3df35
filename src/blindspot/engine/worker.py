"""What a Dask worker runs: one partition through the local engine's own reading and validation.

Every function here takes and returns plain picklable values. A :class:`~blindspot.errors.InputError`
is returned as its fields (its constructor takes keywords, which pickling would lose) and raised
again on the driver by :func:`raise_remote`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.partitions import Partition
from blindspot.errors import BlindspotError, InputError
from blindspot.ingest import read_input, validate_table
# The functions validate() itself uses, so an id reads the same on a worker and in the local engine.
from blindspot.io.schema import _id_text, raw_record

_ERROR_FIELDS = ("path", "problem", "where", "field", "expected", "found", "hint")


def _error(exc: BlindspotError) -> dict:
    if isinstance(exc, InputError):
        return {"error": {name: getattr(exc, name) for name in _ERROR_FIELDS}}
    return {"error": {"kind": type(exc).__name__, "message": str(exc)}}


def raise_remote(result: dict) -> None:
    """Raise the error a worker returned, if any, as the driver's own exception."""
    error = result.get("error")
    if error is None:
        return
    if "problem" in error:
        raise InputError(error.pop("path"), error.pop("problem"), **error)
    raise BlindspotError(error["message"])


def _partition_model(model: ModelConfig, part: Partition) -> ModelConfig:
    return dataclasses.replace(model, path=part.path)


def _position(table, record: int) -> int:
    """The row of ``table.frame`` holding ``record``."""
    return int(np.searchsorted(table.record, record))


def validate_partition(part: Partition, model: ModelConfig, ingest: IngestConfig) -> dict:
    """Read and validate one partition, records numbered as in the whole input.

    Returns
    -------
    dict
        ``clean`` (canonical frame), ``rejected`` (list of dict), ``rows_in``, ``has_probabilities``,
        ``metadata``, ``notes`` as :class:`~blindspot.io.schema.Validated` holds them, and
        ``duplicate_ids``: the id (as text) of each duplicate_id rejection, in the order of ``rejected``
        (the driver renames the first use when it lies in an earlier partition). Or ``error``.
    """
    try:
        own = _partition_model(model, part)
        table = read_input(own, ingest, record_offset=part.offset)
        result = validate_table(table, own, ingest)
    except BlindspotError as exc:
        return _error(exc)
    ids = (table.frame[model.columns.id] if model.columns.id in table.frame.columns else None)
    duplicate_ids = [_id_text(ids.iat[_position(table, r["record"])]) for r in result.rejected
                     if r["reason"] == "duplicate_id"]
    return {"clean": result.clean, "rejected": result.rejected, "rows_in": result.rows_in,
            "has_probabilities": result.has_probabilities, "metadata": result.metadata, "notes": result.notes,
            "duplicate_ids": duplicate_ids}


def raw_rows(part: Partition, model: ModelConfig, ingest: IngestConfig, records: list[int],
             columns: list | None = None) -> dict:
    """Rows of one partition as read, again: ``records`` (global numbers, increasing).

    Returns
    -------
    dict
        ``rows``: (record, line, raw) for each record, raw as rejected.jsonl keeps it; with
        ``columns``, ``frame``: those columns of those rows as read (object values). Or ``error``.
    """
    try:
        table = read_input(_partition_model(model, part), ingest, record_offset=part.offset)
    except BlindspotError as exc:
        return _error(exc)
    at = [_position(table, r) for r in records]
    if columns is not None:
        return {"frame": table.frame[columns].iloc[at].reset_index(drop=True)}
    return {"rows": [(int(table.record[i]), int(table.line[i]), raw_record(table, i)) for i in at]}
