"""Stage ingest: predictions file -> validated Parquet, rejected rows, accounting."""

from blindspot import paths
from blindspot.config import load_params
from blindspot.ingest import check_usable, ingest_file, ingest_metrics
from blindspot.io.writers import write_jsonl, write_metrics, write_parquet
from stages._runner import run


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    result = ingest_file(cfg.model, cfg.ingest)
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
