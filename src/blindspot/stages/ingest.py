"""Stage ingest: predictions file -> validated Parquet, rejected rows, accounting.

``engine: dask`` validates the partitions of a Parquet directory or glob on a Dask cluster
(:mod:`blindspot.engine.ingest`) and writes the same files, byte for byte. Only ingest is
distributed so far: every later stage reads data/interim/predictions.parquet as before.
"""

from blindspot import paths
from blindspot.config import load_params
from blindspot.ingest import check_usable, ingest_file, ingest_metrics
from blindspot.io.writers import write_jsonl, write_metrics, write_parquet
from blindspot.stages._runner import run


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    from blindspot import preflight  # every stage's config checks, before any work (blindspot/preflight.py)
    preflight.check(cfg)
    # An input outside the workspace is not tracked by DVC: refused, or the audit could go stale.
    source = paths.workspace_input(cfg.model.path, key="model.path")
    if not source.is_absolute() and source.parts[:2] != ("data", "raw"):
        log.warning("%s is not under data/raw/, the stage's DVC dependency: `dvc repro` will not notice it change",
                    source)
    if cfg.engine == "dask":
        from blindspot.engine.ingest import ingest_dask
        result = ingest_dask(cfg.model, cfg.ingest, cfg.dask)
    else:
        result = ingest_file(cfg.model, cfg.ingest)
    if result.notes.get("bom_stripped"):
        log.info("%s starts with a UTF-8 byte-order mark: skipped (bom_stripped in %s)", cfg.model.path,
                 paths.INGEST_METRICS)
    # Rejected rows and the accounting are written before any stop, so nothing is lost.
    write_jsonl(paths.REJECTED, result.rejected, digits=None)
    metrics = ingest_metrics(result)
    write_metrics(paths.INGEST_METRICS, metrics)
    check_usable(result, cfg.model.path, paths.REJECTED)
    write_parquet(paths.PREDICTIONS, result.clean)
    return (f"{metrics['rows_in']} rows in from {cfg.model.path} (model {cfg.model.name}): "
            f"{metrics['rows_clean']} clean, {metrics['rows_rejected']} rejected -> {paths.PREDICTIONS}")


if __name__ == "__main__":
    run("ingest", main)
