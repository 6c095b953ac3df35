"""Stage calibrate: predictions (+ slices) -> calibration metrics, ranked confident errors, reliability plots."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from blindspot import paths
from blindspot.calibration.audit import audit_calibration
from blindspot.calibration.confident import LISTED_FIELDS
from blindspot.config import load_params
from blindspot.io.figures import replace_plot_directory
from blindspot.io.readers import predictions_batches, read_predictions, rows_at
from blindspot.io.schema import PROBA_PREFIX
from blindspot.io.writers import write_jsonl, write_metrics
from blindspot.memory import release_freed_heap
from blindspot.plots.reliability import calibration_figures, reliability_data
from blindspot.stages._runner import run

# Columns of the predictions the audit reads for every row (and the proba__<class> columns).
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


def read_frame() -> pd.DataFrame:
    """The predictions' :data:`COLUMNS`, with the ``proba__<class>`` columns as one (n, k) block.

    The audit takes the class probabilities as an (n, k) matrix: from one block that is a
    view, where from separate columns it is a copy (24 bytes a row at three classes). They
    are read one column at a time, so only one column is ever held twice.
    """
    frame = read_predictions(paths.PREDICTIONS, COLUMNS)
    names = [n for n in pq.read_schema(paths.PREDICTIONS).names if str(n).startswith(PROBA_PREFIX)]
    if not names:
        return frame
    proba = np.empty((len(frame), len(names)))
    with pq.ParquetFile(paths.PREDICTIONS) as source:
        for j, name in enumerate(names):
            proba[:, j] = source.read(columns=[name]).column(0).to_numpy()
    release_freed_heap()  # the reads' Arrow-to-pandas garbage (blocks below mmap's threshold), before the slices'
    return pd.concat([frame, pd.DataFrame(proba, columns=names, copy=False)], axis=1)


def read_slices(log) -> pd.DataFrame | None:
    """The slice stage's membership table, or None (with a warning) when it has not run.

    Its columns stay Arrow-backed: a membership column is a bit a row there (a byte as a
    NumPy bool), and the audit unpacks one at a time; the ids stay one Arrow string array.
    """
    # Under `dvc repro` the slice stage always runs first; run by hand before it exists, go on without slices.
    if paths.SLICES.exists():
        slices = pd.read_parquet(paths.SLICES, engine="pyarrow", dtype_backend="pyarrow")
        release_freed_heap()  # the read's freed small blocks, before the audit's per-row arrays
        return slices
    log.warning("%s not found: calibrating without slices", paths.SLICES)
    return None


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    # The columns every row needs; the texts (and labels as written) only for the few thousand listed rows.
    # Both frames are handed over, not kept: the audit lets the slice frame go once its membership is
    # packed, and the predictions' frame (its ids) once the rows are listed.
    audit = audit_calibration(read_frame(), read_slices(log), classes=cfg.ingest.classes, cfg=cfg.calibration,
                              n_boot=cfg.stats.n_boot, ci_level=cfg.stats.ci_level, seed=cfg.seed,
                              slices_source=str(paths.SLICES), fetch=listed_fields)
    write_metrics(paths.CALIBRATION_METRICS, audit.metrics)
    write_jsonl(paths.CONFIDENT_ERRORS, audit.confident_rows)
    write_jsonl(paths.UNDERCONFIDENT_CORRECT, audit.underconfident_rows)
    # The directory holds exactly this run's figures: files of an earlier run are removed.
    replace_plot_directory(paths.CALIBRATION_PLOTS, calibration_figures(audit, ci_level=cfg.stats.ci_level,
                                                                        thresholds=cfg.calibration.confident_thresholds),
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
