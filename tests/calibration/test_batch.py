"""The calibration audit from kept batches: the same numbers and listings whatever the batches, on both engines."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.bits import BitColumns
from blindspot.calibration.audit import audit_calibration, batch_settings
from blindspot.calibration.batch import CalibrationBatch, add_counts, batch_counts, listed_details
from blindspot.calibration.confident import confident_error_counts
from blindspot.calibration.metrics import prediction_margin
from blindspot.config import CalibrationConfig
from blindspot.io.writers import dumps_metrics

CLASSES = ["negative", "neutral", "positive"]
CFG = CalibrationConfig(min_n=40, max_listed_rows=25)


def audit(frame, slices=None, *, batch_rows, cfg=CFG, classes=CLASSES, n_boot=100):
    return audit_calibration(frame, slices, classes=classes, cfg=cfg, n_boot=n_boot, ci_level=0.95, seed=7,
                             batch_rows=batch_rows)


def slices_of(frame) -> pd.DataFrame:
    record = frame["record"].to_numpy()
    return pd.DataFrame({"id": frame["id"].astype(str), "watch__thirds": record % 3 == 0,
                         "found__thirds": record % 5 == 0, "found__early": record < 400, "found__tiny": record < 12})


def written(a) -> tuple:
    """Everything of an audit the stage writes or draws from, as comparable values."""
    h = a.histogram
    return (dumps_metrics(a.metrics), json.dumps(a.confident_rows), json.dumps(a.underconfident_rows),
            h["correct"].tolist(), h["incorrect"].tolist(), h["wrong_at"],
            json.dumps([b.table() for b in a.recalibration_bins.values()]))


@pytest.mark.parametrize("with_proba", [True, False])
def test_any_batches_write_the_same_bytes(make_synthetic, make_frame, with_proba):
    """One batch, batches of 211 rows and of 7 rows (most hold no listed row): the same metrics file,
    listings, histogram and bins, intervals included."""
    y, p = make_synthetic(1500, seed=3, sharpness=2.0)
    frame = make_frame(y, p, with_proba=with_proba)
    slices = slices_of(frame)
    whole = written(audit(frame, slices, batch_rows=10**6))
    assert written(audit(frame, slices, batch_rows=211)) == whole
    assert written(audit(frame, slices, batch_rows=7)) == whole


def test_batches_equal_the_numbers_of_the_whole_table(overconfident_frame):
    """The added counts against the rows counted at once; the listings against a sort of the rows."""
    f = overconfident_frame
    settings = batch_settings(CLASSES, CFG, 7)
    member = BitColumns.from_dense(np.column_stack([f["record"] % 3 == 0, f["record"] < 100]))
    batches = [CalibrationBatch.of(f.iloc[lo:lo + 100], lo, BitColumns.from_dense(member.block(lo, lo + 100)),
                                   settings) for lo in range(0, len(f), 100)]
    counts = add_counts([batch_counts(b, settings.thresholds, settings.underconfident_margin) for b in batches])
    conf, correct = f["confidence"].to_numpy(), f["correct"].to_numpy()
    groups = np.column_stack([np.ones(len(f), bool), *(f["y_true"] == i for i in range(3)), member.dense()])
    whole = confident_error_counts(correct, conf, settings.thresholds, groups)
    for name, value in whole.items():
        np.testing.assert_array_equal(counts["confident"][name], value)
    np.testing.assert_array_equal(counts["n_true"], np.bincount(f["y_true"], minlength=3))
    proba = f[[f"proba__{c}" for c in CLASSES]].to_numpy()
    assert counts["underconfident"] == int((correct & (prediction_margin(proba) < CFG.underconfident_margin)).sum())
    edges = np.linspace(0, 1, 21)
    np.testing.assert_array_equal(counts["hist_incorrect"], np.histogram(conf[~correct], edges)[0])

    # The merged top list: wrong rows at the lowest threshold, confidence descending then id, 25 kept.
    top = batches[0].confident
    for b in batches[1:]:
        top = top.merge(b.confident)
    wrong = f[~f["correct"] & (f["confidence"] >= min(settings.thresholds))]
    expected = wrong.assign(id=wrong["id"].astype(str)).sort_values(["confidence", "id"], ascending=[False, True])
    assert top.ids.tolist() == expected["id"].head(25).tolist()
    np.testing.assert_array_equal(top.rows, expected.index[:25])

    # Each batch gives the details of the listed rows it holds, and only those.
    at = np.sort(top.rows)
    details = [listed_details(b, at) for b in batches]
    np.testing.assert_array_equal(np.concatenate([d["rows"] for d in details]), at)
    np.testing.assert_array_equal(np.concatenate([d["confidence"] for d in details]), conf[at])
    np.testing.assert_array_equal(np.concatenate([d["slices"] for d in details]), member.rows(at))


def test_batch_groups_are_all_rows_then_predicted_classes_then_slices(overconfident_frame):
    f = overconfident_frame.head(300)
    member = BitColumns.from_dense(np.column_stack([f["record"] % 2 == 0]))
    b = CalibrationBatch.of(f, 0, member, batch_settings(CLASSES, CFG, 7))
    groups = list(b.members)
    assert len(groups) == 1 + 3 + 1 and groups[0].all()
    for i in range(3):
        np.testing.assert_array_equal(groups[1 + i], f["y_pred"].to_numpy() == i)
    np.testing.assert_array_equal(groups[4], f["record"].to_numpy() % 2 == 0)
    assert list(b.losses) == ["brier_top_label", "brier", "log_loss"]


def test_the_stage_on_dask_row_groups_writes_the_local_bytes(tmp_path, monkeypatch, make_synthetic, make_frame):
    """The calibrate stage's audit with the predictions in 6 row groups (Dask: a batch each, on 2 workers),
    with the local engine (one batch) and on the frame held in memory: the same metrics file and listings."""
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig
    from blindspot import paths
    from blindspot.stages import calibrate

    y, p = make_synthetic(1500, seed=5, sharpness=2.0)
    frame = make_frame(y, p)
    monkeypatch.chdir(tmp_path)
    paths.PREDICTIONS.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), paths.PREDICTIONS, row_group_size=256)
    slices_of(frame).to_parquet(paths.SLICES, index=False)

    class Cfg:  # the parts of the config the stage's audit reads
        ingest = type("I", (), {"classes": CLASSES})
        calibration = CFG
        stats = type("S", (), {"n_boot": 100, "ci_level": 0.95})
        seed = 7
        dask = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
        engine = "dask"

    log = logging.getLogger("test")
    on_dask = written(calibrate.calibrate(Cfg, paths.SLICES))
    Cfg.engine = "local"
    assert written(calibrate.calibrate(Cfg, paths.SLICES)) == on_dask
    assert written(audit(frame, slices_of(frame), batch_rows=10**6)) == on_dask


def test_a_slice_table_in_another_order_is_joined_on_id(tmp_path, monkeypatch, make_synthetic, make_frame):
    """A slice table whose rows are shuffled and short of some predictions: the stage joins it on id once
    (a prediction absent is in no slice), with the numbers of the aligned table, and leaves no copy behind."""
    from blindspot import paths
    from blindspot.stages import calibrate

    y, p = make_synthetic(900, seed=6, sharpness=2.0)
    frame = make_frame(y, p)
    monkeypatch.chdir(tmp_path)
    paths.PREDICTIONS.parent.mkdir(parents=True)
    frame.to_parquet(paths.PREDICTIONS, index=False)
    aligned = slices_of(frame)
    dropped = aligned.index % 10 == 3
    aligned.loc[dropped, [c for c in aligned.columns if c != "id"]] = False
    aligned.to_parquet(paths.SLICES, index=False)

    class Cfg:
        ingest = type("I", (), {"classes": CLASSES})
        calibration = replace(CFG, min_n=10)
        stats = type("S", (), {"n_boot": 50, "ci_level": 0.95})
        seed = 7
        dask = None
        engine = "local"

    log = logging.getLogger("test")
    expected = written(calibrate.calibrate(Cfg, paths.SLICES))
    aligned[~dropped].sample(frac=1, random_state=2).to_parquet(paths.SLICES, index=False)
    with pytest.raises(calibrate.SlicesNotAligned):
        calibrate.calibrate(Cfg, paths.SLICES)
    assert written(calibrate.audit_predictions(Cfg, log)) == expected
    assert sorted(p.name for p in paths.SLICES.parent.iterdir()) == ["predictions.parquet", "slices.parquet"]
    # On Dask the refusal comes from a worker: the stage joins the table on id all the same.
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig

    Cfg.engine, Cfg.dask = "dask", DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    assert written(calibrate.audit_predictions(Cfg, log)) == expected
    assert sorted(p.name for p in paths.SLICES.parent.iterdir()) == ["predictions.parquet", "slices.parquet"]
