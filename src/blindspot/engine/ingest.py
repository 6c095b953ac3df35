"""engine=dask ingest: each partition validated on a worker, the accounting merged exactly.

:func:`ingest_dask` returns the same :class:`~blindspot.io.schema.Validated` as
:func:`blindspot.ingest.ingest_file` gives for the concatenation of the partitions (in sorted
path order), so the stage writes byte-identical files with the same writer calls. What runs where:

- workers: reading and every row check of a partition (:mod:`blindspot.engine.worker`: the local
  engine's own functions), the canonical table of its clean rows;
- driver: the partition list and their row counts (Parquet footers), the duplicate-id rule and
  metadata types across partitions (:mod:`blindspot.engine.merge`), and the clean rows of every
  partition, gathered to write ``data/interim/predictions.parquet`` in one call (the driver holds
  the clean table, as the local engine does).
"""

from __future__ import annotations

from blindspot.config import DaskConfig, IngestConfig, ModelConfig
from blindspot.engine.cluster import dask_client
from blindspot.engine.merge import merge
from blindspot.engine.partitions import partition_files, plan
from blindspot.engine.worker import raise_remote, raw_rows, validate_partition
from blindspot.io.schema import Validated
from blindspot.progress import Progress


def ingest_dask(model: ModelConfig, ingest: IngestConfig, cfg: DaskConfig) -> Validated:
    """Validate ``model.path`` (a file, a directory of Parquet files, or a glob) on a Dask cluster.

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
        from distributed import as_completed

        futures = [client.submit(validate_partition, part, model, ingest, key=f"validate-{k}", pure=False)
                   for k, part in enumerate(parts)]
        index = {f.key: k for k, f in enumerate(futures)}
        results, done = [None] * len(parts), 0
        for future in as_completed(futures):
            k = index[future.key]
            results[k] = future.result()
            future.release()
            done += parts[k].rows or results[k].get("rows_in", 0)
            progress.update(done)
        for result in results:  # the first failing partition in record order, whichever finished first
            raise_remote(result)

        def fetch(part, records, columns):
            return client.submit(raw_rows, part, model, ingest, records, columns, pure=False).result()

        merged = merge(parts, results, model.columns.id or "id", fetch)
    progress.finish(merged.rows_in)
    return merged
