"""Ingest: read one predictions file, validate it, account for every row.

The stage (``src/blindspot/stages/ingest.py``) is a thin wrapper around :func:`ingested`,
:func:`ingest_metrics`, :func:`check_usable` and :func:`write_clean`. :func:`ingest_file` reads and
validates a whole file in this process (the whole clean table in memory); the stage does so only for
the text formats. A Parquet input is read as a map over batches of its rows and a streaming reduce
(:mod:`blindspot.engine`), in this process (engine=local) or on a Dask cluster (engine=dask), so
that no process holds more than a few batches or partitions of rows.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from blindspot.config import DaskConfig, IngestConfig, ModelConfig
from blindspot.errors import InputError
from blindspot.io.readers import Limits, RawTable, detect_format, read_raw
from blindspot.io.schema import REASONS, Validated, validate


def ingest_file(model: ModelConfig, ingest: IngestConfig, *, contract_only: bool = False) -> Validated:
    """Read and validate ``model.path`` under the contract and the ingest rules.

    Any path is read: the stage first checks that it lies in the workspace
    (:func:`blindspot.paths.workspace_input`). ``contract_only`` (a reader that keeps no
    metadata and no rejected row's other fields, e.g. the compare stage's baseline): a
    Parquet file holding every contract column is read without its other columns.
    """
    return validate_table(read_input(model, ingest, contract_only=contract_only), model, ingest)


def read_input(model: ModelConfig, ingest: IngestConfig, *, contract_only: bool = False,
               record_offset: int = 0) -> RawTable:
    """The raw records of ``model.path`` (see :func:`ingest_file`).

    ``record_offset``: records numbered after that many (a partition of a larger input,
    engine=dask), so that every record number is the one the whole input gives it.
    """
    table = read_raw(model.path, model.format, limits=limits_of(model, ingest),
                     columns=contract_columns(model, ingest.classes) if contract_only and not model.metadata else None)
    return renumber(table, record_offset)


def limits_of(model: ModelConfig, ingest: IngestConfig) -> Limits:
    """The size caps a record of ``model.path`` is read under."""
    mapping = () if model.probability_prefix or model.columns.probabilities is None else (model.columns.probabilities,)
    return Limits(max_field_bytes=ingest.max_field_bytes, max_record_bytes=ingest.max_record_bytes, exempt=mapping)


def renumber(table: RawTable, record_offset: int) -> RawTable:
    """``table``'s records numbered after ``record_offset`` others (in place): their numbers in the whole input."""
    if record_offset:
        table.record = table.record + record_offset
        for entry in table.unparsed:
            entry["record"] += record_offset
    return table


def validate_table(table: RawTable, model: ModelConfig, ingest: IngestConfig, *, progress: bool = True,
                   classes_to=None) -> Validated:
    """:func:`~blindspot.io.schema.validate` of ``table`` under the contract and the ingest rules.

    ``progress`` and ``classes_to``: as :func:`~blindspot.io.schema.validate` takes them (a batch).
    """
    return validate(
        table,
        path=model.path,
        classes=ingest.classes,
        columns=model.columns,
        label_map=ingest.label_map,
        tolerance=ingest.tolerance,
        probability_prefix=model.probability_prefix,
        metadata=model.metadata,
        progress=progress,
        classes_to=classes_to,
    )


def contract_columns(model: ModelConfig, classes) -> list[str]:
    """Every column the contract may read: the configured ones and the flat probability columns."""
    cols = model.columns
    names = [cols.id, cols.text, cols.label, cols.prediction, cols.confidence, cols.probabilities]
    names += [f"{model.probability_prefix}{c}" for c in classes] if model.probability_prefix else []
    return [n for n in names if n is not None]


def streams(model: ModelConfig) -> bool:
    """Whether engine=local reads ``model.path`` in batches of rows: a Parquet file that holds rows.

    An empty or unreadable file takes the whole-file path, which stops with the reader's message.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(model.path)
    if not path.is_file() or detect_format(path, model.format) != "parquet":
        return False
    try:
        return pq.read_metadata(path).num_rows > 0
    except (pa.ArrowException, OSError):
        return False


@contextlib.contextmanager
def ingested(model: ModelConfig, ingest: IngestConfig, engine: str = "local", dask: DaskConfig | None = None,
             *, batch_rows: int | None = None, out: str | Path | None = None, keep=None) -> Iterator:
    """What ingest found in ``model.path``: rows in, rejected rows, clean rows (written by :func:`write_clean`).

    A :class:`~blindspot.io.schema.Validated` (a text format, engine=local: the whole file at once)
    or a :class:`~blindspot.engine.stream.Streamed` (Parquet, either engine: the accounting, and
    the clean rows either already written beside ``out`` or made again batch by batch as they are
    written); both answer :func:`ingest_metrics` and :func:`check_usable`. Inside the ``with``
    block: a Dask cluster stays up for the writing. Leaving it, by a stop or not, removes any
    temporary file of clean rows that :func:`write_clean` did not put in place.

    Parameters
    ----------
    batch_rows : int, optional
        engine=local: rows in each batch of a Parquet file (tests set it small); default
        :data:`blindspot.engine.local.BATCH_ROWS`.
    out : str or Path, optional
        Where :func:`write_clean` will write the clean rows: a Parquet input's are written beside
        it while they are validated, and that file becomes ``out`` when no row needs a second look
        (:mod:`blindspot.engine.stream`; ``result.one_pass``). Without it they are always made again.
    keep : tuple of (sequence of str, sequence of str), optional
        A Parquet input (engine=local) or any input (engine=dask), no ``out``: (columns, prefixes), the
        canonical columns of the clean rows (not metadata) that pass 1 keeps, a batch (a partition) at
        a time; ``result.kept`` holds them as Arrow tables (:func:`~blindspot.engine.stream.two_passes`),
        and no row is validated twice.
        A reader that needs a few columns only (the compare stage's baseline) holds those, not every
        text. Other inputs ignore it.
    """
    if engine == "dask":
        from blindspot.engine.ingest import ingest_dask

        with ingest_dask(model, ingest, dask or DaskConfig(), out=out, keep=None if out else keep) as result:
            yield result
    elif streams(model):
        from blindspot.engine.local import ingest_batches

        result = ingest_batches(model, ingest, batch_rows=batch_rows, out=out, keep=None if out else keep)
        try:
            yield result
        finally:
            result.discard()
    else:
        yield ingest_file(model, ingest)


def write_clean(result, path: str | Path) -> int:
    """Write the clean rows of :func:`ingested`'s result to ``path`` (Parquet); returns their number.

    The file is written whole under a temporary name beside ``path``, then renamed: a failure
    leaves nothing half-written at ``path``.
    """
    if isinstance(result, Validated):
        import pyarrow as pa

        from blindspot.engine.spool import write_in_place

        # The arguments DataFrame.to_parquet(index=False) gives: the schema it writes.
        return write_in_place(path, [pa.Table.from_pandas(result.clean, preserve_index=False)])
    return result.write_clean(path)


def ingest_metrics(result: Validated) -> dict:
    """The accounting that ``metrics/ingest.json`` holds.

    ``rows_in == rows_clean + rows_rejected`` by construction; every reason of
    :data:`~blindspot.io.schema.REASONS` is present (zero included) so that
    ``dvc metrics diff`` can follow each one across inputs.
    """
    rows_clean = result.rows_clean
    rows_rejected = len(result.rejected)
    assert result.rows_in == rows_clean + rows_rejected, "a row was lost in ingest"
    return {
        "rows_in": result.rows_in,
        "rows_clean": rows_clean,
        "rows_rejected": rows_rejected,
        "rejected_share": rows_rejected / result.rows_in if result.rows_in else 0.0,
        "rejected_by_reason": {reason: count for reason, count in result.reasons.items()},
        "has_probabilities": int(result.has_probabilities),
        "n_metadata_columns": len(result.metadata),
        # A UTF-8 byte-order mark skipped at the start of the file (1) or not (0).
        "bom_stripped": int(result.notes.get("bom_stripped", 0)),
    }


def check_usable(result: Validated, path: str | Path, rejected_path: str | Path) -> None:
    """Stop when what survived validation cannot be audited.

    Raises
    ------
    InputError
        No clean rows, or every clean row has the same label (no per-class metric,
        baseline or balance can be computed from one class).
    """
    if result.rows_clean == 0:
        top = sorted(((c, r) for r, c in result.reasons.items() if c), reverse=True)[:3]
        raise InputError(
            path,
            f"no usable rows: all {result.rows_in} records were rejected.",
            expected="at least one record that passes the contract",
            found="rejections by reason: " + ", ".join(f"{r} {c}" for c, r in top),
            hint=f"each rejected record and its reason is in {rejected_path}.",
        )
    labels = result.clean_labels()
    if len(labels) < 2:
        raise InputError(
            path,
            "single-class data: every usable row has the same label.",
            field="label",
            expected="at least two different labels (an audit compares classes)",
            found=f"{result.rows_clean} rows, all labelled {labels[0]!r}",
        )


__all__ = ["REASONS", "ingest_file", "ingested", "write_clean", "ingest_metrics", "check_usable"]
