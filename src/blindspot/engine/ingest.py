"""engine=dask ingest: each partition validated on a worker, the accounting merged exactly, the rows streamed.

:func:`ingest_dask` gives the accounting :func:`blindspot.ingest.ingested` gives for the
concatenation of the files (in sorted path order) with engine=local, and writes the same
``data/interim/predictions.parquet``, byte for byte. What runs where:

- workers: reading and every row check of a partition (:mod:`blindspot.engine.worker`: the local
  engine's own functions): pass 1 returns its accounting and its clean table (Arrow) as its own
  values type it; pass 2, only when some partition's table is not final (ids used again across
  partitions, a metadata column typed apart), its final clean table;
- driver: the partition list (files, and ranges of row groups of a file above
  :data:`~blindspot.engine.partitions.PARTITION_ROWS` rows) and their row counts (Parquet footers),
  the accounting of every row (rejected rows; record, id, label and metadata categories of each
  clean row: tens of bytes a row),
  the duplicate-id rule and metadata types across partitions (:mod:`blindspot.engine.merge`), and
  the writing of the clean tables in partition order through one Parquet writer.

The driver writes, not the workers: the file's row groups are cut at fixed row counts whatever the
partitions' sizes (:func:`~blindspot.io.writers.write_parquet_tables`), so the bytes are engine=local's;
workers writing their own files would leave row groups at partition boundaries, and a shared file
system for them. The driver holds at most one partition's clean table and one row group: each pass
that returns tables keeps one partition per worker and one more submitted (a finished table waits
on its worker) and fetches each in order as the writer reaches it.
"""

from __future__ import annotations

import collections
import contextlib
from typing import Iterator

from blindspot.config import DaskConfig, IngestConfig, ModelConfig
from blindspot.engine.cluster import dask_client
from blindspot.engine.partitions import partition_files, plan
from blindspot.engine.stream import Streamed, two_passes
from blindspot.engine.worker import account_partition, finish_partition, raise_remote, raw_rows
from blindspot.progress import Progress

class DaskPartitions:
    """The partitions of ``model.path`` on a Dask cluster, as a source of :mod:`blindspot.engine.stream`.

    ``parts``: :func:`~blindspot.engine.partitions.plan`'s, in record order: Parquet files, and ranges of
    row groups of a large one, so that no worker validates a large file whole. ``keep``: (columns,
    prefixes), the canonical columns a partition's clean table keeps when pass 1 is asked for it
    (:func:`~blindspot.engine.worker.account`'s ``keep``); every column when None.
    """

    def __init__(self, client, parts: list, model: ModelConfig, ingest: IngestConfig, keep=None):
        self.client, self.parts, self.model, self.ingest, self.keep = client, parts, model, ingest, keep

    def _submit(self, fn, k: int, *args):
        return self.client.submit(fn, self.parts[k], self.model, self.ingest, *args, key=f"{fn.__name__}-{k}",
                                  pure=False)

    def accounts(self, progress: Progress, keep_tables=None) -> Iterator[dict]:
        if keep_tables is None:  # accounting only: every partition at once, taken as it finishes
            yield from self._accounts(progress)
            return
        pending, done, window = collections.deque(), 0, self._window()

        def taken() -> dict:
            nonlocal done
            k, future = pending.popleft()
            result = self._taken(future)
            done += self.parts[k].rows or result.get("rows_in", 0)
            progress.update(done)
            return result

        # In record order, a window at a time: each table goes to the writer as soon as it is taken.
        for k in range(len(self.parts)):
            pending.append((k, self._submit(account_partition, k, keep_tables(), self.keep)))
            if len(pending) >= window:
                yield taken()
        while pending:
            yield taken()

    def _accounts(self, progress: Progress) -> list:
        from distributed import as_completed

        futures = [self._submit(account_partition, k) for k in range(len(self.parts))]
        index = {f.key: k for k, f in enumerate(futures)}
        results, done = [None] * len(self.parts), 0
        for future in as_completed(futures):
            k = index[future.key]
            results[k] = future.result()
            future.release()
            done += self.parts[k].rows or results[k].get("rows_in", 0)
            progress.update(done)
        return results

    def _window(self) -> int:
        # Submitting every partition at once would let finished tables pile up on the workers (and
        # spill); one per worker and one ahead keeps them all busy while the driver writes.
        return 1 + max(1, len(self.client.scheduler_info().get("workers", {})))

    @staticmethod
    def _taken(future):
        result = future.result()
        future.release()
        return result

    def raw_rows(self, wanted: dict) -> dict:
        futures = {k: self._submit(raw_rows, k, records) for k, records in wanted.items()}
        answers = {}
        for k, future in futures.items():
            answers[k] = future.result()
            raise_remote(answers[k])
        return {k: answer["rows"] for k, answer in answers.items()}

    def tables(self, plans: list) -> Iterator:
        window = self._window()
        pending = collections.deque()
        for k in range(len(self.parts)):
            pending.append(self._submit(finish_partition, k, plans[k]))
            if len(pending) >= window:
                yield self._fetch(pending.popleft())
        while pending:
            yield self._fetch(pending.popleft())

    @staticmethod
    def _fetch(future):
        answer = future.result()
        future.release()
        raise_remote(answer)
        return answer["table"]


@contextlib.contextmanager
def ingest_dask(model: ModelConfig, ingest: IngestConfig, cfg: DaskConfig, out=None, keep=None) -> Iterator[Streamed]:
    """The accounting of ``model.path`` (a file, a directory of Parquet files, or a glob) on a Dask cluster.

    The cluster stays up inside the ``with`` block, for :meth:`~blindspot.engine.stream.Streamed.write_clean`;
    ``out`` and ``keep``: see :func:`~blindspot.engine.stream.two_passes` (pass 1's file is removed
    on leaving the block when it was not written to ``out``; ``keep``, (columns, prefixes): the clean
    rows' columns pass 1 brings back from the workers and keeps, as :class:`DaskPartitions` takes it).

    Raises
    ------
    InputError
        As the local engine does (a file-level problem of a partition names that partition), or
        when partitions have different columns.
    ConfigError
        No scheduler answers at ``dask.scheduler_address``.
    """
    parts = plan(partition_files(model.path))
    total = sum(p.rows or 0 for p in parts)
    progress = Progress(f"validating {model.path} ({len(parts)} partitions)", total=total or None)
    with dask_client(cfg) as client:
        result = two_passes(DaskPartitions(client, parts, model, ingest, keep), model, ingest, progress, out,
                            keep=keep is not None)
        try:
            yield result
        finally:
            result.discard()
