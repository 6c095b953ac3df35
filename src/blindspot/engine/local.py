"""engine=local with a Parquet input: the file read in batches of rows, each batch a partition.

The batches run through the same map and reduce as engine=dask's partitions
(:mod:`blindspot.engine.stream`), one after the other in this process, so the process holds one
batch's rows at a time (and the accounting), not the whole file. The file is read from its start
in each pass (pass 1; when some batch needs more work, the raw rows of duplicates across batches
and pass 2): Parquet cannot start a read mid row group, and a row group can hold the whole file.
"""

from __future__ import annotations

from typing import Iterator

from blindspot.config import IngestConfig, ModelConfig
from blindspot.engine.stream import Streamed, two_passes
from blindspot.engine.worker import account, finish, rows_as_read
from blindspot.errors import InputError
from blindspot.ingest import limits_of, renumber
from blindspot.io.readers import RawTable, read_parquet_rows
from blindspot.progress import Progress

BATCH_ROWS = 1 << 17  # rows validated at a time: about 130 MB of a million-row file of reviews
READ_BUFFER = 1 << 20  # bytes of a column chunk read at a time (pyarrow's buffered stream)


class ParquetBatches:
    """The batches of rows of one Parquet file, as a source of :mod:`blindspot.engine.stream`.

    Parameters
    ----------
    model, ingest : ModelConfig, IngestConfig
        ``model.path`` is the file.
    batch_rows : int
        Rows in each batch (the last may hold fewer).
    keep : tuple of (sequence of str, sequence of str), optional
        (columns, prefixes): the canonical columns a batch's clean table keeps when pass 1 is asked
        for it (:func:`~blindspot.engine.worker.account`'s ``keep``); every column when None.
    """

    def __init__(self, model: ModelConfig, ingest: IngestConfig, batch_rows: int = BATCH_ROWS, keep=None):
        self.model, self.ingest, self.batch_rows, self.keep = model, ingest, batch_rows, keep
        self.limits = limits_of(model, ingest)

    def _batches(self, wanted=None) -> Iterator[tuple[int, RawTable]]:
        """(k, records of batch k numbered as in the file), for every k of ``wanted`` (all when None)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path, offset = self.model.path, 0
        try:
            file = pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER)
            for k, batch in enumerate(file.iter_batches(batch_size=self.batch_rows)):
                n = batch.num_rows
                if wanted is None or k in wanted:
                    handed = [pa.Table.from_batches([batch], schema=file.schema_arrow)]
                    del batch  # read_parquet_rows converts the only copy to objects, releasing it
                    yield k, renumber(read_parquet_rows(path, handed, self.limits), offset)
                offset += n
        except (pa.ArrowException, OSError) as exc:
            raise InputError(path, f"cannot read Parquet: {exc}", expected="a Parquet file") from None

    def accounts(self, progress: Progress, keep_tables=None) -> Iterator[dict]:
        done = 0
        for _, table in self._batches():
            done += table.n_records
            result = account(table, self.model, self.ingest, bool(keep_tables and keep_tables()), keep=self.keep)
            del table  # the batch's rows as read go before its clean table is written
            progress.update(done)
            yield result

    def raw_rows(self, wanted: dict) -> dict:
        return {k: rows_as_read(table, wanted[k]) for k, table in self._batches(set(wanted))}

    def tables(self, plans: list) -> Iterator:
        for k, table in self._batches():
            yield finish(table, self.model, self.ingest, plans[k])


def ingest_batches(model: ModelConfig, ingest: IngestConfig, batch_rows: int | None = None, out=None,
                   keep=None) -> Streamed:
    """The accounting of the Parquet file ``model.path`` read in batches.

    ``out`` and ``keep``: see :func:`~blindspot.engine.stream.two_passes` (``keep``, (columns,
    prefixes): the clean rows' columns pass 1 keeps in memory, as :class:`ParquetBatches` takes it).
    """
    import pyarrow.parquet as pq

    total = pq.read_metadata(model.path).num_rows
    progress = Progress(f"validating {model.path}", total=total)
    source = ParquetBatches(model, ingest, batch_rows or BATCH_ROWS, keep=keep)
    return two_passes(source, model, ingest, progress, out, keep=keep is not None)
