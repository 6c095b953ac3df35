"""Ingest as a map over partitions and a streaming reduce, in this process or on a Dask cluster.

A Parquet input is validated a partition at a time (:mod:`blindspot.engine.worker`), twice: pass 1
keeps each partition's accounting only, the driver merges it exactly (:mod:`blindspot.engine.merge`:
duplicate ids and metadata types across partitions), and pass 2 rebuilds each partition's final
clean rows while one writer streams them to ``data/interim/predictions.parquet``
(:mod:`blindspot.engine.stream`). ``engine: local`` runs the passes in the stage's own process over
batches of rows of one Parquet file (:mod:`blindspot.engine.local`); ``engine: dask`` runs them on
Dask workers over the Parquet files of a directory (:mod:`blindspot.engine.ingest`). Either way no
process holds more than a few partitions of rows, and both write the same bytes. Only ingest is
distributed so far: the stages after it read ``data/interim/predictions.parquet`` as they always do.
"""
