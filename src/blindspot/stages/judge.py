"""Stage judge: candidates from the predictions -> verdicts, agreement, suspected label errors.

Per-run accounting (calls made, cache hits) is logged and written to the run log next to
the cache, never to metrics/judge.json, which must not change when only the cache
warmed up (see blindspot.judge.pipeline).

No server behaviour stops the stage: timeouts, HTTP errors, garbage replies, a key echoed
back, an open circuit breaker and an offline judge that cannot read the class names are
all recorded per row (metrics/judge.json ``failures`` and ``status``), and the stage
exits 0. Only a configuration mistake exits 2 (blindspot.judge.check_config).
"""

from functools import partial

from blindspot import paths
from blindspot.config import load_params
from blindspot.engine.batches import map_batches
from blindspot.io.readers import ParquetColumns, predictions_batches, read_rows_at
from blindspot.io.schema import PROBA_PREFIX
from blindspot.io.writers import write_json, write_jsonl, write_metrics
from blindspot.judge.pipeline import RUN_LOG_NAME, judge_predictions
from blindspot.stages._runner import run


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    # Nothing is held for every row. One pass over the batches (here with engine=local, on the workers
    # with engine=dask, one row group per task) runs the cue detectors and keeps each batch's shortlist
    # of rows the selection could choose; a second counts confident learning's flags; a third reads the
    # chosen rows (blindspot.judge.shortlist).
    result = judge_predictions(
        None, cfg.judge, classes=cfg.ingest.classes, seed=cfg.seed, n_boot=cfg.stats.n_boot,
        ci_level=cfg.stats.ci_level, cache_path=paths.JUDGE_CACHE, log=log,
        batches=lambda names, prefixes: predictions_batches(paths.PREDICTIONS, names, prefixes),
        map_batches=lambda fn, names, prefixes: map_batches(paths.PREDICTIONS, names, fn, prefixes=prefixes,
                                                            engine=cfg.engine, dask=cfg.dask),
        read_rows=partial(read_rows_at, paths.PREDICTIONS),
        has_probabilities=bool(len(ParquetColumns(paths.PREDICTIONS, [PROBA_PREFIX]).columns)))
    write_jsonl(paths.JUDGMENTS, result.rows)
    write_metrics(paths.JUDGE_METRICS, result.metrics)
    write_json(paths.JUDGE_CACHE.with_name(RUN_LOG_NAME), result.run)
    m, r = result.metrics, result.run
    failures = ", ".join(f"{k} {v}" for k, v in m["failures"].items() if v and k != "total") or "none"
    kappa = m["agreement"]["random_sample"]["gold"]["kappa"]["value"]
    kappa = "not measurable" if kappa is None or kappa != kappa else f"{kappa:.3f}"
    line = (f"{m['candidates']['n']} candidates judged by {m['backend']} ({m['model']}): {m['judged']} verdicts, "
            f"failures: {failures}; this run {r['calls']} backend calls, {r['cache_hits']} cache hits; "
            f"kappa vs gold on the random sample {kappa}; {m['verdicts']['gold_label_wrong']} gold labels "
            f"look wrong -> {paths.JUDGMENTS}")
    if m["status"]["reason"]:
        line += f" ({m['status']['reason']})"
    return line


if __name__ == "__main__":
    run("judge", main)
