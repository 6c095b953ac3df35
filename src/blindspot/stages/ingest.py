"""Stage ingest: predictions file -> validated Parquet, rejected rows, accounting.

A Parquet input is read as a map over batches of rows (engine=local, in this process) or over the
Parquet files of a directory or glob (engine=dask, on a Dask cluster), then a streaming reduce
(:mod:`blindspot.engine`): no process holds the whole table, and both engines write the same
files, byte for byte. A text-format input is read whole. Every later stage reads
data/interim/predictions.parquet as before.
"""

from blindspot import paths
from blindspot.config import load_params
from blindspot.ingest import check_usable, ingest_metrics, ingested, write_clean
from blindspot.io.writers import write_jsonl, write_metrics
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
    # out: a Parquet input's clean rows are written as they are validated, in one pass when no row
    # needs a second look (blindspot.engine.stream).
    with ingested(cfg.model, cfg.ingest, cfg.engine, cfg.dask, out=paths.PREDICTIONS) as result:
        if result.notes.get("bom_stripped"):
            log.info("%s starts with a UTF-8 byte-order mark: skipped (bom_stripped in %s)", cfg.model.path,
                     paths.INGEST_METRICS)
        # Rejected rows and the accounting are written before any stop, so nothing is lost.
        write_jsonl(paths.REJECTED, result.rejected, digits=None)
        metrics = ingest_metrics(result)
        write_metrics(paths.INGEST_METRICS, metrics)
        check_usable(result, cfg.model.path, paths.REJECTED)
        write_clean(result, paths.PREDICTIONS)
        if getattr(result, "one_pass", False):
            log.debug("%s written as validated: one pass over the input", paths.PREDICTIONS)
    return (f"{metrics['rows_in']} rows in from {cfg.model.path} (model {cfg.model.name}): "
            f"{metrics['rows_clean']} clean, {metrics['rows_rejected']} rejected -> {paths.PREDICTIONS}")


if __name__ == "__main__":
    run("ingest", main)
