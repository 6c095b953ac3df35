"""Engines that run ingest's row-level work somewhere else than this process.

``engine: local`` (the default) validates in the stage's own process (:mod:`blindspot.ingest`).
``engine: dask`` validates each Parquet partition on a Dask worker (:mod:`blindspot.engine.ingest`)
and merges the partitions' accounting exactly, so every file ingest writes is byte-identical to
``engine: local``'s on the same rows. Only ingest is distributed so far: the stages after it read
``data/interim/predictions.parquet`` as they always do.
"""
