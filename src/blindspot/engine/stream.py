"""Ingest as a map over partitions and a streaming reduce, whichever engine runs the partitions.

A *source* holds the input's partitions in record order (:class:`blindspot.engine.local.ParquetBatches`:
batches of one Parquet file's rows, in this process; :class:`blindspot.engine.ingest.DaskPartitions`:
the Parquet files of a directory, on Dask workers) and runs the map functions of
:mod:`blindspot.engine.worker` on them:

- ``accounts(progress)``: pass 1 of every partition, as a list in record order (a partition's
  file-level stop returned, not raised: :func:`~blindspot.engine.merge.raise_errors` picks the one
  the whole input meets first);
- ``raw_rows(wanted)``: partition -> records: those rows as read, (record, line, raw) each;
- ``tables(plans)``: pass 2 of every partition, Arrow tables yielded in record order.

:func:`two_passes` reduces pass 1 (:mod:`blindspot.engine.merge`) to the whole input's accounting,
enough for rejected.jsonl, metrics/ingest.json and the usability check; the clean rows are made
again by pass 2 only while :meth:`Streamed.write_clean` writes them. What a process holds: the
driver, the accounting (rejected rows, and record, id, label and metadata categories of each clean
row) and a few partitions' clean tables on their way to the file; a worker (or this process, with
engine=local), one partition's rows as it validates them.
"""

from __future__ import annotations

from dataclasses import dataclass

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.merge import Accounting, add_duplicates, raise_errors, reduce
from blindspot.io.writers import write_parquet_tables
from blindspot.progress import Progress


@dataclass
class Streamed(Accounting):
    """The whole input's :class:`~blindspot.engine.merge.Accounting`, and its source for writing the clean rows."""

    source: object = None

    def write_clean(self, path) -> int:
        """Pass 2: every partition's final clean table, written to ``path`` in record order."""
        progress = Progress(f"writing {path}", total=self.rows_clean)
        done = 0

        def counted(tables):
            nonlocal done
            for table in tables:
                done += table.num_rows if table is not None else 0
                progress.update(done)
                yield table

        written = write_parquet_tables(path, counted(self.source.tables(self.plans)))
        progress.finish(written)
        assert written == self.rows_clean, "pass 2 kept other rows than pass 1 counted"
        return written


def two_passes(source, model: ModelConfig, ingest: IngestConfig, progress: Progress) -> Streamed:
    """Pass 1 of every partition of ``source`` and the reduce: the input's accounting, ready to write."""
    results = source.accounts(progress)
    raise_errors(results, model.path, model.columns, list(ingest.classes))
    accounting, wanted = reduce(results, list(ingest.classes))
    del results  # the accounting keeps what it needs; each partition's ids and categories can go
    rows = [row for k, rows in source.raw_rows(wanted).items() for row in rows] if wanted else []
    add_duplicates(accounting, rows, model.columns.id or "id")
    progress.finish(accounting.rows_in)
    return Streamed(**vars(accounting), source=source)
