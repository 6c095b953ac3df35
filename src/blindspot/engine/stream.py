"""Ingest as a map over partitions and a streaming reduce, whichever engine runs the partitions.

A *source* holds the input's partitions in record order (:class:`blindspot.engine.local.ParquetBatches`:
batches of one Parquet file's rows, in this process; :class:`blindspot.engine.ingest.DaskPartitions`:
the Parquet files of a directory, on Dask workers) and runs the map functions of
:mod:`blindspot.engine.worker` on them:

- ``accounts(progress, keep_tables)``: pass 1 of every partition, yielded in record order (a
  partition's file-level stop returned, not raised: :func:`~blindspot.engine.merge.raise_errors`
  picks the one the whole input meets first); ``keep_tables()`` true when a partition starts: its
  result holds its clean table too;
- ``raw_rows(wanted)``: partition -> records: those rows as read, (record, line, raw) each;
- ``tables(plans)``: pass 2 of every partition, Arrow tables yielded in record order.

:func:`two_passes` reduces pass 1 (:mod:`blindspot.engine.merge`) to the whole input's accounting,
enough for rejected.jsonl, metrics/ingest.json and the usability check. Given the file the clean
rows go to (``out``), pass 1 also writes each partition's clean table, as its own values type it,
to a temporary file beside ``out`` as soon as it is ready. In the common case that file is the
output: no id is used again in a later partition and every metadata column types alike in every
partition (:func:`~blindspot.engine.merge.typed_alike`), and :meth:`Streamed.write_clean` renames
it into place (one pass). Otherwise (duplicate ids across partitions, a metadata column typed
apart by some partition, or no ``out``) the temporary file is deleted, and the clean rows are made
again by pass 2 while :meth:`Streamed.write_clean` writes them, as before: every row validated twice.
Either way the bytes are the same. The temporary file stops taking tables (and partitions stop
making them) as soon as a partition types a metadata column otherwise than the first partition,
or a stop is met; a cross-partition duplicate is known only at the reduce.

What a process holds: the driver, the accounting (rejected rows, and record, id, label and metadata
categories of each clean row) and a few partitions' clean tables on their way to the file; a
worker (or this process, with engine=local), one partition's rows as it validates them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.merge import Accounting, add_duplicates, kinds_of, raise_errors, reduce, typed_alike
from blindspot.engine.spool import discard, partial_next_to, write_in_place
from blindspot.io.writers import write_parquet_tables
from blindspot.progress import Progress


@dataclass
class Streamed(Accounting):
    """The whole input's :class:`~blindspot.engine.merge.Accounting`, and its source for writing the clean rows.

    Attributes
    ----------
    spool : Path or None
        Pass 1's clean tables, already the output's bytes, until :meth:`write_clean` renames it
        to ``spooled_for`` (None when pass 2 must write them).
    one_pass : bool
        Whether the clean rows are written from pass 1 (no second validation of any row).
    kept : list of pyarrow.Table or None
        With ``keep`` (:func:`two_passes`): the clean rows' kept columns, a table per partition
        with clean rows, in record order (no second pass); None otherwise.
    """

    source: object = None
    spool: Path | None = None
    spooled_for: Path | None = None
    one_pass: bool = False
    kept: list | None = None

    def write_clean(self, path) -> int:
        """Every partition's final clean table, written to ``path`` in record order.

        The file pass 1 wrote is renamed to ``path`` when it is the output; otherwise pass 2 makes
        the tables again. Either way ``path`` is written whole under a temporary name first.
        """
        if self.spool is not None and os.path.abspath(path) == os.path.abspath(self.spooled_for):
            os.replace(self.spool, path)
            self.spool = None
            return self.rows_clean
        self.discard()
        self.one_pass = False
        progress = Progress(f"writing {path}", total=self.rows_clean)
        done = 0

        def counted(tables):
            nonlocal done
            for table in tables:
                done += table.num_rows if table is not None else 0
                progress.update(done)
                yield table

        written = write_in_place(path, counted(self.source.tables(self.plans)))
        progress.finish(written)
        assert written == self.rows_clean, "pass 2 kept other rows than pass 1 counted"
        return written

    def discard(self) -> None:
        """Remove pass 1's file if it is still there (the stage stopped, or wrote elsewhere)."""
        discard(self.spool)
        self.spool = None


def _spooled(source, progress: Progress, spool: Path) -> tuple[list, bool]:
    """Pass 1's results in record order, their clean tables written to ``spool``; whether all were.

    Tables stop going to ``spool`` (and partitions stop making them) at the first partition that
    stops, types a metadata column otherwise than the first partition with clean rows, or has
    another Arrow schema: pass 2 will be needed anyway.
    """
    results, state = [], {"ok": True, "schema": None, "kinds": None}

    def tables():
        for r in source.accounts(progress, keep_tables=lambda: state["ok"]):
            table = r.pop("table", None)
            results.append(r)
            if not state["ok"]:
                continue
            kinds = {} if "error" in r else kinds_of(r)
            if "error" in r or (kinds and state["kinds"] not in (None, kinds)):
                state["ok"] = False
                continue
            if kinds and state["kinds"] is None:
                state["kinds"] = kinds
            if table is None:
                continue
            if state["schema"] is None:
                state["schema"] = table.schema
            elif not table.schema.equals(state["schema"], check_metadata=False):
                state["ok"] = False
                continue
            yield table

    write_parquet_tables(spool, tables())
    return results, state["ok"]


def _kept(source, progress: Progress) -> tuple[list, list]:
    """Pass 1's results in record order, and each one's clean table (None for a partition without one)."""
    results, tables = [], []
    for r in source.accounts(progress, keep_tables=lambda: True):
        tables.append(r.pop("table", None))
        results.append(r)
    return results, tables


def _without_dropped(tables: list, results: list, plans: list) -> list:
    """Each partition's kept table without the rows its plan drops (duplicates of an earlier partition's ids).

    The rows pass 2 keeps of these columns: no kept column is metadata (the only ones pass 2 retypes).
    """
    import numpy as np
    import pyarrow as pa

    out = []
    for table, r, plan in zip(tables, results, plans):
        if table is not None and len(plan["drop"]):
            table = table.filter(pa.array(~np.isin(r["record"], plan["drop"])))
        if table is not None and table.num_rows:
            out.append(table)
    return out


def two_passes(source, model: ModelConfig, ingest: IngestConfig, progress: Progress, out=None,
               keep: bool = False) -> Streamed:
    """Pass 1 of every partition of ``source`` and the reduce: the input's accounting, ready to write.

    ``out``: the file the clean rows will be written to; given, pass 1 writes them beside it (see
    the module docstring) and the result's ``one_pass`` says whether that file is the output.
    A stop or failure removes that file. ``keep`` (without ``out``): pass 1 keeps each partition's
    clean table as the source cuts it down (its ``keep`` columns, never metadata), and the result's
    ``kept`` holds them, duplicates of an earlier partition's ids left out: a reader of a few
    columns (the compare stage's baseline) needs no second pass.
    """
    spool = partial_next_to(out) if out is not None else None
    tables = None
    try:
        if keep:
            (results, tables), spooled = _kept(source, progress), False
        elif spool is None:
            results, spooled = list(source.accounts(progress)), False
        else:
            results, spooled = _spooled(source, progress, spool)
        raise_errors(results, model.path, model.columns, list(ingest.classes))
        accounting, wanted = reduce(results, list(ingest.classes))
        one_pass = spooled and accounting.rows_clean > 0 and typed_alike(results, accounting.plans)
        if tables is not None:
            tables = _without_dropped(tables, results, accounting.plans)
        del results  # the accounting keeps what it needs; each partition's ids and categories can go
        if not one_pass:
            discard(spool)
            spool = None
        rows = [row for k, rows in source.raw_rows(wanted).items() for row in rows] if wanted else []
        add_duplicates(accounting, rows, model.columns.id or "id")
    except BaseException:
        discard(spool)
        raise
    progress.finish(accounting.rows_in)
    return Streamed(**vars(accounting), source=source, spool=spool, spooled_for=Path(out) if out else None,
                    one_pass=one_pass, kept=tables)
