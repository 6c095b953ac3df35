"""engine=dask ingest: each partition validated on a worker, the accounting merged exactly, the rows streamed.

:func:`ingest_dask` gives the accounting :func:`blindspot.ingest.ingested` gives for the
concatenation of the partitions (in sorted path order) with engine=local, and writes the same
``data/interim/predictions.parquet``, byte for byte. What runs where:

- workers: reading and every row check of a partition, cut into batches of rows as engine=local
  cuts its file (:class:`~blindspot.engine.local.ParquetBatches`, the same loop over the same
  functions of :mod:`blindspot.engine.worker`), so that a worker validates one batch's rows at a
  time whatever the partition's size: pass 1 returns each batch's accounting and clean table
  (Arrow) as its own values type it; pass 2, only when some batch's table is not final (ids used
  again across batches, a metadata column typed apart), each batch's final clean table;
- driver: the partition list and their row counts (Parquet footers); each batch of each
  partition is a partition of the reduce, as engine=local's are; the accounting of every row
  (rejected rows; record, id, label and metadata categories of each clean row: tens of bytes a row),
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
import dataclasses
from typing import Iterator

import numpy as np

from blindspot.config import DaskConfig, IngestConfig, ModelConfig
from blindspot.engine.cluster import dask_client
from blindspot.engine.local import ParquetBatches
from blindspot.engine.partitions import Partition, partition_files, plan
from blindspot.engine.stream import Streamed, two_passes
from blindspot.engine.worker import account, error_result, finish, raise_remote, rows_as_read
from blindspot.errors import BlindspotError
from blindspot.ingest import read_input
from blindspot.progress import Progress

# --------------------------------------------------------------------------- on a Dask worker


class WholeFile:
    """A partition file read whole, as its one batch: a file of another format than Parquet, or one without rows.

    The source interface of :class:`~blindspot.engine.local.ParquetBatches`, without a progress bar.
    """

    def __init__(self, model: ModelConfig, ingest: IngestConfig, offset: int):
        self.model, self.ingest, self.offset = model, ingest, offset

    def _read(self):
        return read_input(self.model, self.ingest, record_offset=self.offset)

    def accounts(self, progress=None, keep_tables=None) -> Iterator[dict]:
        yield account(self._read(), self.model, self.ingest, bool(keep_tables and keep_tables()))

    def raw_rows(self, wanted: dict) -> dict:
        return {0: rows_as_read(self._read(), wanted[0])} if 0 in wanted else {}

    def tables(self, plans: list) -> Iterator:
        yield finish(self._read(), self.model, self.ingest, plans[0])


def batches_of(part: Partition, model: ModelConfig, ingest: IngestConfig, batch_rows: int | None):
    """A partition file as a source of batches, its records numbered as in the whole input.

    ``batch_rows`` None: the file read whole, as one batch. Errors name the partition's file, not ``model.path``.
    """
    model = dataclasses.replace(model, path=part.path)
    if part.rows and batch_rows:
        return ParquetBatches(model, ingest, batch_rows, offset=part.offset)
    return WholeFile(model, ingest, part.offset)


def account_partition(part: Partition, model: ModelConfig, ingest: IngestConfig, batch_rows: int,
                      keep_table: bool = False) -> dict:
    """``batches``: :func:`~blindspot.engine.worker.account` of each batch of a partition file, in record order.

    ``batch_rows`` None: the file's own result, unwrapped. Or ``error``, with ``read``, when reading the file failed (a batch's own stop is in its result).
    """
    try:
        results = list(batches_of(part, model, ingest, batch_rows).accounts(keep_tables=lambda: keep_table))
    except BlindspotError as exc:  # account() returns its own stops: what is raised is the reading's
        return {**error_result(exc), "read": True}
    # A partition read whole is returned as its one result, not in a list: Dask sends a list at a higher cost.
    return {"batches": results} if batch_rows else results[0]


def finish_partition(part: Partition, model: ModelConfig, ingest: IngestConfig, batch_rows: int, plans: list) -> dict:
    """``tables``: :func:`~blindspot.engine.worker.finish` of each batch of a partition file (``plans``: one each), or ``error``."""
    try:
        tables = list(batches_of(part, model, ingest, batch_rows).tables(plans))
    except BlindspotError as exc:
        return error_result(exc)
    return {"tables": tables} if batch_rows else {"table": tables[0]}  # as account_partition


def raw_rows(part: Partition, model: ModelConfig, ingest: IngestConfig, batch_rows: int, wanted: dict) -> dict:
    """``rows``: batch -> :func:`~blindspot.engine.worker.rows_as_read` of its records in ``wanted`` (or ``error``)."""
    try:
        return {"rows": batches_of(part, model, ingest, batch_rows).raw_rows(wanted)}
    except BlindspotError as exc:
        return error_result(exc)


# --------------------------------------------------------------------------- on the driver


class DaskPartitions:
    """The Parquet files of ``model.path`` on a Dask cluster, as a source of :mod:`blindspot.engine.stream`.

    Each partition file is cut into batches of ``batch_rows`` rows on its worker, and each batch is
    one of the source's partitions (pass 1 yields one result a batch; ``plans`` and ``wanted``
    are indexed by batch). Pass 1 records how many batches each file has, for the passes after it.

    ``batch_rows`` None (the default): each file whole, one batch. Batches lower the peak of the
    validation on a worker (0.89 against 1.34 GiB for a 1M-row partition, measured alone), but
    sending the list of batch results back costs the worker more than one partition's result
    (2.07 against 1.39 GiB at its peak in a one-worker LocalCluster): until that is solved they
    are opt-in.
    """

    def __init__(self, client, parts: list, model: ModelConfig, ingest: IngestConfig, batch_rows: int | None = None):
        self.client, self.parts, self.model, self.ingest, self.batch_rows = client, parts, model, ingest, batch_rows
        self.n_batches = [0] * len(parts)

    def _submit(self, fn, k: int, *args):
        return self.client.submit(fn, self.parts[k], self.model, self.ingest, self.batch_rows, *args,
                                  key=f"{fn.__name__}-{k}", pure=False)

    def _batches(self, k: int, result: dict) -> list:
        """Partition ``k``'s pass-1 result as one result a batch (itself when read whole or when reading it failed)."""
        batches = result["batches"] if "batches" in result else [result]
        self.n_batches[k] = len(batches)
        return batches

    def _first_batch(self) -> np.ndarray:
        """Partition -> the index of its first batch among all partitions' batches."""
        return np.concatenate([[0], np.cumsum(self.n_batches)[:-1]]).astype(int)

    def accounts(self, progress: Progress, keep_tables=None) -> Iterator[dict]:
        if keep_tables is None:  # accounting only: every partition at once, taken as it finishes
            yield from self._accounts(progress)
            return
        pending, done, window = collections.deque(), 0, self._window()

        def taken() -> list:
            nonlocal done
            k, future = pending.popleft()
            batches = self._batches(k, self._taken(future))
            done += self.parts[k].rows or sum(r.get("rows_in", 0) for r in batches)
            progress.update(done)
            return batches

        # In record order, a window at a time: each table goes to the writer as soon as it is taken.
        for k in range(len(self.parts)):
            pending.append((k, self._submit(account_partition, k, keep_tables())))
            if len(pending) >= window:
                yield from taken()
        while pending:
            yield from taken()

    def _accounts(self, progress: Progress) -> list:
        from distributed import as_completed

        futures = [self._submit(account_partition, k) for k in range(len(self.parts))]
        index = {f.key: k for k, f in enumerate(futures)}
        results, done = [None] * len(self.parts), 0
        for future in as_completed(futures):
            k = index[future.key]
            results[k] = self._batches(k, future.result())
            future.release()
            done += self.parts[k].rows or sum(r.get("rows_in", 0) for r in results[k])
            progress.update(done)
        return [r for batches in results for r in batches]

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
        first = self._first_batch()
        asked = collections.defaultdict(dict)  # partition -> its batch -> records
        for batch, records in wanted.items():
            k = int(np.searchsorted(first, batch, side="right")) - 1
            asked[k][batch - first[k]] = records
        futures = {k: self._submit(raw_rows, k, batches) for k, batches in asked.items()}
        rows = {}
        for k, future in futures.items():
            answer = future.result()
            raise_remote(answer)
            rows.update({int(first[k]) + j: found for j, found in answer["rows"].items()})
        return rows

    def tables(self, plans: list) -> Iterator:
        window, first = self._window(), self._first_batch()
        pending = collections.deque()
        for k in range(len(self.parts)):
            own = plans[first[k]:first[k] + self.n_batches[k]]
            pending.append(self._submit(finish_partition, k, own))
            if len(pending) >= window:
                yield from self._fetch(pending.popleft())
        while pending:
            yield from self._fetch(pending.popleft())

    @staticmethod
    def _fetch(future) -> list:
        answer = future.result()
        future.release()
        raise_remote(answer)
        return answer["tables"] if "tables" in answer else [answer["table"]]


@contextlib.contextmanager
def ingest_dask(model: ModelConfig, ingest: IngestConfig, cfg: DaskConfig, out=None,
                batch_rows: int | None = None) -> Iterator[Streamed]:
    """The accounting of ``model.path`` (a file, a directory of Parquet files, or a glob) on a Dask cluster.

    The cluster stays up inside the ``with`` block, for :meth:`~blindspot.engine.stream.Streamed.write_clean`;
    ``out``: see :func:`~blindspot.engine.stream.two_passes` (pass 1's file is removed on leaving
    the block when it was not written to ``out``); ``batch_rows``: rows a worker validates at a
    time (None: each partition whole, the default: see :class:`DaskPartitions`).

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
        result = two_passes(DaskPartitions(client, parts, model, ingest, batch_rows), model, ingest, progress, out)
        try:
            yield result
        finally:
            result.discard()
