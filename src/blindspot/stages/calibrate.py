"""Stage calibrate: predictions (+ slices) -> calibration metrics, ranked confident errors, reliability plots.

The predictions are read a batch at a time into :class:`~blindspot.calibration.batch.CalibrationBatch`
states kept where they were made (this process with ``engine: local``, the Dask workers with
``engine: dask``), each with its rows of the slice table; the audit adds up what each batch counts
(:func:`~blindspot.calibration.audit.audit_batches`), so both engines write the same bytes.
"""

import contextlib
from functools import partial

import pandas as pd
import pyarrow.parquet as pq

from blindspot import paths
from blindspot.calibration.audit import audit_batches, batch_settings
from blindspot.calibration.batch import batch_of_file
from blindspot.calibration.confident import LISTED_FIELDS
from blindspot.calibration.membership import SlicesNotAligned, forget_row_group, slice_columns, slice_table
from blindspot.config import load_params
from blindspot.engine.batches import resident_parts
from blindspot.engine.spool import discard, partial_next_to
from blindspot.io.figures import replace_plot_directory
from blindspot.io.readers import predictions_batches, read_predictions, rows_at
from blindspot.io.schema import PROBA_PREFIX
from blindspot.io.writers import write_jsonl, write_metrics
from blindspot.memory import release_freed_heap
from blindspot.plots.reliability import calibration_figures, reliability_data
from blindspot.stages._runner import run

# Columns of the predictions every batch reads (and the proba__<class> columns).
COLUMNS = ("id", "confidence", "y_true", "y_pred", "correct")


def advised(recal: dict) -> str:
    """``, recalibration advised: isotonic at conf_ge_80`` / ``, no recalibration advised (reasons)`` / nothing."""
    advice = recal.get("advice") or {}
    yes = [f"{a['method']} at {k}" for k, a in advice.items() if a["method"] != "none"]
    if yes:
        return ", recalibration advised: " + ", ".join(yes)
    reasons = sorted({a["reason"] for a in advice.values()})
    return f", no recalibration advised ({', '.join(reasons)})" if reasons else ""


# Rows of the predictions decoded at a time for the listed rows' texts: a 65,536-row batch of review texts
# is about 16 MiB, which at a million rows sat on top of every per-row array at the stage's peak.
LISTED_BATCH_ROWS = 1 << 14


def listed_fields(positions) -> pd.DataFrame:
    """Text, label and prediction of the listed rows, read from the predictions a batch at a time."""
    return rows_at(predictions_batches(paths.PREDICTIONS, LISTED_FIELDS, batch_rows=LISTED_BATCH_ROWS), positions,
                   LISTED_FIELDS)


@contextlib.contextmanager
def realigned(log):
    """A copy of the slice table in the predictions' row order, removed when the block ends.

    The slice stage writes its table in that order; a table made another way (rows in another order,
    predictions missing) is joined on ``id`` once here (:func:`~blindspot.calibration.membership.
    slice_table`), in this process, and written beside it for the batches to read.
    """
    ids = read_predictions(paths.PREDICTIONS, ["id"])["id"]
    slices = pd.read_parquet(paths.SLICES, engine="pyarrow", dtype_backend="pyarrow")
    table = slice_table(ids, slices, source=str(paths.SLICES))
    columns = {"id": ids.astype(str).to_numpy()}
    for j, (key, source) in enumerate(zip(table.keys, table.sources)):
        for kind in source.split("+"):
            columns[f"{kind}__{key}"] = table.column(j)
    spool = partial_next_to(paths.SLICES)
    try:
        pd.DataFrame(columns).to_parquet(spool, index=False)
        log.info("%s is not in the predictions' row order: joined on id for this run", paths.SLICES)
        yield spool
    finally:
        discard(spool)


def calibrate(cfg, slices):
    """The audit of the predictions with the slice table at ``slices`` (None: no slices)."""
    keys, sources, merged = slice_columns(pq.read_schema(slices).names) if slices is not None else ([], [], {})
    settings = batch_settings(cfg.ingest.classes, cfg.calibration, cfg.seed)
    make = partial(batch_of_file, slices=None if slices is None else str(slices), merged=merged, settings=settings)
    with resident_parts(paths.PREDICTIONS, COLUMNS, make, prefixes=(PROBA_PREFIX,), engine=cfg.engine,
                        dask=cfg.dask, with_start=True) as parts:
        forget_row_group()  # the slice table's last row group read here (engine=local)
        release_freed_heap()  # and the batches' frames, before the audit's passes
        return audit_batches(parts, keys=keys, sources=sources, settings=settings, cfg=cfg.calibration,
                             n_boot=cfg.stats.n_boot, ci_level=cfg.stats.ci_level, fetch=listed_fields)


def audit_predictions(cfg, log):
    """The audit of the predictions with the slice table as the slice stage wrote it, or joined on id first."""
    # Under `dvc repro` the slice stage always runs first; run by hand before it exists, go on without slices.
    slices = paths.SLICES if paths.SLICES.exists() else None
    if slices is None:
        log.warning("%s not found: calibrating without slices", paths.SLICES)
    try:
        return calibrate(cfg, slices)
    except SlicesNotAligned:
        with realigned(log) as spool:
            return calibrate(cfg, spool)


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    audit = audit_predictions(cfg, log)
    write_metrics(paths.CALIBRATION_METRICS, audit.metrics)
    write_jsonl(paths.CONFIDENT_ERRORS, audit.confident_rows)
    write_jsonl(paths.UNDERCONFIDENT_CORRECT, audit.underconfident_rows)
    # The directory holds exactly this run's figures: files of an earlier run are removed.
    replace_plot_directory(paths.CALIBRATION_PLOTS, calibration_figures(audit, ci_level=cfg.stats.ci_level),
                           data=reliability_data(audit))
    o, m = audit.metrics["overall"], audit.metrics
    top = m["confidently_incorrect"][max(m["confidently_incorrect"], key=lambda k: m["confidently_incorrect"][k]["threshold"])]
    ece, brier = o["ece"], o.get("brier", o["brier_top_label"])
    return (f"{m['n']} rows: ECE {ece['value']:.3f} [{ece['ci_low']:.3f}, {ece['ci_high']:.3f}] "
            f"(noise floor {o['ece_noise_floor']:.3f}), Brier {brier['value']:.3f}; "
            f"{top['count']} wrong at confidence >= {top['threshold']:g}; {m['miscalibration_direction'].replace('_', ' ')}"
            f"{advised(m['recalibration'])}; "
            f"{m['slice_counts']['evaluated']}/{m['slice_counts']['total']} slices evaluated -> {paths.CALIBRATION_METRICS}")


if __name__ == "__main__":
    run("calibrate", main)
