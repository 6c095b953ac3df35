from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from _documents import assert_same
from blindspot.calibration.audit import audit_calibration, slice_table
from blindspot.calibration.metrics import expected_calibration_error, multiclass_brier_loss
from blindspot.calibration.summary import calibration_summary
from blindspot.config import CalibrationConfig
from blindspot.errors import ConfigError, InputError
from blindspot.io.writers import dumps_metrics
from blindspot.results import undeclared
from blindspot.results.calibration import CALIBRATION

CLASSES = ["negative", "neutral", "positive"]
CFG = CalibrationConfig(min_n=40)


def run(frame, slices=None, cfg=CFG, classes=CLASSES, n_boot=200):
    return audit_calibration(frame, slices, classes=classes, cfg=cfg, n_boot=n_boot, ci_level=0.95, seed=7)


def _value(x):
    """A number, or an encoded estimate's value."""
    return x["value"] if isinstance(x, dict) else x


def slices_for(frame, **masks):
    out = pd.DataFrame({"id": frame["id"].astype(str)})
    for name, mask in masks.items():
        out[name] = mask
    return out


def test_slice_table_join_merge_and_ignored_columns():
    ids = ["a", "b", "c", "d"]
    s = pd.DataFrame({"id": ["d", "a", "zz"], "watch__x": [True, False, True], "found__x": [False, True, True],
                      "found__y": pd.array([True, None, False], dtype="boolean"), "note": ["1", "2", "3"]})
    t = slice_table(ids, s)
    assert t.keys == ["x", "y"] and t.sources == ["watch+found", "found"]
    # b, c are absent: in no slice; x = watch OR found; the NA is "not in the slice"
    np.testing.assert_array_equal(t.dense(), [[True, False], [False, False], [False, False], [True, True]])


def test_slice_table_bits_give_columns_and_rows():
    rng = np.random.default_rng(3)
    member = rng.random((37, 5)) < 0.4  # 37 rows: the last packed byte is partly padding
    s = pd.DataFrame({"id": [f"r{i}" for i in range(37)], **{f"found__s{j}": member[:, j] for j in range(5)}})
    t = slice_table(s["id"], s)
    assert t.bits.shape == (5, 5) and t.bits.dtype == np.uint8
    np.testing.assert_array_equal(t.dense(), member)
    for j in range(5):
        np.testing.assert_array_equal(t.column(j), member[:, j])
    at = np.array([36, 0, 8, 7, 15, 36])
    np.testing.assert_array_equal(t.rows(at), member[at])


def test_slice_table_reads_arrow_backed_columns_alike():
    # the stage reads the slice file with dtype_backend="pyarrow": ids and members stay Arrow arrays
    ids = ["a", "b", "c", "d"]
    s = pd.DataFrame({"id": ["d", "a", "zz"], "watch__x": [True, False, True], "found__y": [True, None, False]})
    arrow = s.convert_dtypes(dtype_backend="pyarrow")
    assert isinstance(arrow["id"].dtype, pd.ArrowDtype)
    t, u = slice_table(ids, s), slice_table(ids, arrow)
    assert (t.keys, t.sources) == (u.keys, u.sources)
    np.testing.assert_array_equal(t.bits, u.bits)


def test_slice_table_without_slices():
    assert slice_table(["a"], None).dense().shape == (1, 0)
    assert slice_table(["a"], pd.DataFrame({"id": ["a"]})).keys == []


@pytest.mark.parametrize("frame,message", [
    (pd.DataFrame({"key": ["a"]}), "the slice table has no 'id' column."),
    (pd.DataFrame({"id": ["a", "a"], "watch__x": [True, False]}), "the slice table repeats 1 id(s)."),
])
def test_slice_table_errors(frame, message):
    with pytest.raises(InputError) as err:
        slice_table(["a"], frame, source="data/interim/slices.parquet")
    assert message in str(err.value) and "data/interim/slices.parquet" in str(err.value)


def test_slice_numbers_equal_the_metric_on_the_subset(overconfident_frame):
    f = overconfident_frame
    mask = f["record"].to_numpy() % 3 == 0
    a = run(f, slices_for(f, watch__thirds=mask, found__tiny=f["record"].to_numpy() < 10))
    s = a.metrics["slices"]["thirds"]
    sub = f[mask]
    p = sub[[f"proba__{c}" for c in CLASSES]].to_numpy()
    assert s["n"] == mask.sum() and s["source"] == "watch" and s["status"] == "ok"
    assert s["ece"]["value"] == pytest.approx(expected_calibration_error(sub["correct"], sub["confidence"]))
    assert s["ece_equal_mass"]["value"] == pytest.approx(
        expected_calibration_error(sub["correct"], sub["confidence"], strategy="quantile"))
    assert s["brier"]["value"] == pytest.approx(multiclass_brier_loss(sub["y_true"], p))
    assert s["ece"]["ci_low"] <= s["ece_debiased"] <= s["ece"]["ci_high"]
    assert s["ece"]["method"] == "cell_bootstrap_hull_consistency_test"
    assert s["brier"]["method"] == "cell_bootstrap_percentile"
    assert 0 <= s["ece_q_value"] <= 1
    assert s["confidently_incorrect"]["conf_ge_90"]["count"] == int(
        (~sub["correct"] & (sub["confidence"] >= 0.9)).sum())
    tiny = a.metrics["slices"]["tiny"]
    assert tiny == {"n": 9, "status": "too_small", "reason": "n=9 is below calibration.min_n=40", "source": "found"}
    assert a.worst_slices == ["thirds"]


def test_overall_block_equals_summary_and_by_class_counts(overconfident_frame):
    f = overconfident_frame
    a = run(f)
    o = a.metrics["overall"]
    assert o["ece"]["value"] == pytest.approx(expected_calibration_error(f["correct"], f["confidence"]))
    assert a.metrics["slice_counts"] == {"total": 0, "evaluated": 0, "too_small": 0}
    for i, c in enumerate(CLASSES):
        entry = a.metrics["by_class"][c]
        assert entry["n_true"] == (f["y_true"] == i).sum() and entry["n_predicted"] == (f["y_pred"] == i).sum()
        wrong_true = (~f["correct"]) & (f["y_true"] == i) & (f["confidence"] >= 0.7)
        assert entry["confidently_incorrect"]["conf_ge_70"]["count"] == wrong_true.sum()
        pred = f[f["y_pred"] == i]
        if len(pred) >= CFG.min_n:
            assert entry["when_predicted"]["ece"]["value"] == pytest.approx(
                expected_calibration_error(pred["correct"], pred["confidence"]))
    assert a.metrics["listed_rows"]["confident_errors"] == int((~f["correct"] & (f["confidence"] >= 0.7)).sum())


def test_same_inputs_same_bytes_and_slices_do_not_move_each_other(overconfident_frame):
    f = overconfident_frame
    half = f["record"].to_numpy() % 2 == 0
    one = run(f, slices_for(f, watch__half=half))
    again = run(f, slices_for(f, watch__half=half))
    assert dumps_metrics(one.metrics) == dumps_metrics(again.metrics)
    more = run(f, slices_for(f, watch__half=half, found__other=~half))
    # Only the BH q value depends on the other slices (it is a family-wise adjustment).
    before = {k: v for k, v in one.metrics["slices"]["half"].items() if k != "ece_q_value"}
    after = {k: v for k, v in more.metrics["slices"]["half"].items() if k != "ece_q_value"}
    assert after == before
    assert more.metrics["overall"] == one.metrics["overall"]


def test_row_order_does_not_change_point_estimates(overconfident_frame):
    f = overconfident_frame
    shuffled = f.sample(frac=1, random_state=1).reset_index(drop=True)
    a, b = run(f, n_boot=0), run(shuffled, n_boot=0)
    for k in ("ece", "ece_equal_mass", "mce", "brier", "log_loss", "classwise_ece"):
        assert _value(a.metrics["overall"][k]) == pytest.approx(_value(b.metrics["overall"][k]), abs=1e-12)
    assert [r["id"] for r in a.confident_rows] == [r["id"] for r in b.confident_rows]


def test_confidence_only_multiclass_says_what_it_cannot(overconfident_frame):
    f = overconfident_frame.drop(columns=[f"proba__{c}" for c in CLASSES])
    a = run(f)
    m = a.metrics
    assert m["probabilities"] == "none"
    assert set(m["unavailable"]) == {"brier", "log_loss", "classwise_ece", "underconfident_correct",
                                     "multiclass_temperature_scaling"}
    assert "needs class probabilities" in m["unavailable"]["brier"]
    assert "brier" not in m["overall"] and "brier_top_label" in m["overall"] and "ece" in m["overall"]
    assert m["underconfident_correct"]["status"] == "unavailable" and a.underconfident_rows == []
    assert m["recalibration"]["temperature_scope"] == "top_label"
    assert "margin" not in a.confident_rows[0]


def test_binary_confidence_only_rebuilds_probabilities(make_synthetic, make_frame):
    y, p = make_synthetic(800, seed=9, sharpness=1.5, n_classes=2)
    full = make_frame(y, p, ["bad", "good"])
    a_full = run(full, classes=["bad", "good"])
    a_conf = run(make_frame(y, p, ["bad", "good"], with_proba=False), classes=["bad", "good"])
    assert a_conf.metrics["probabilities"] == "reconstructed_from_confidence"
    assert a_conf.metrics["unavailable"] == {}
    for k in ("brier", "log_loss", "classwise_ece", "ece"):
        assert _value(a_conf.metrics["overall"][k]) == pytest.approx(_value(a_full.metrics["overall"][k]), abs=1e-12)


def test_too_few_rows_for_recalibration_is_reported(make_synthetic, make_frame):
    y, p = make_synthetic(8, seed=1)
    a = run(make_frame(y, p), cfg=replace(CFG, min_n=1))
    assert a.metrics["recalibration"]["status"] == "unavailable"
    assert "needs at least 10 rows. Got 8 instead." in a.metrics["unavailable"]["recalibration"]


def test_summary_without_bootstrap_has_nan_intervals(make_synthetic):
    y, p = make_synthetic(100, seed=1)
    s = calibration_summary(p.argmax(1) == y, p.max(1), n_boot=0, rng=np.random.default_rng(0))
    assert np.isnan(s.metrics["ece"]["ci_low"]) and np.isfinite(s.metrics["ece"]["value"])


@pytest.mark.parametrize("change,message", [
    ({"n_bins": 1}, "calibration.n_bins must be at least 2. Got 1 instead."),
    ({"confident_thresholds": [0.8, 1.2]}, "calibration.confident_thresholds must be numbers in (0, 1]. Got [0.8, 1.2] instead."),
    ({"underconfident_margin": 0.0}, "calibration.underconfident_margin must be in (0, 1]. Got 0.0 instead."),
    ({"min_n": 0}, "calibration.min_n must be at least 1. Got 0 instead."),
    ({"recalibration_folds": 1}, "calibration.recalibration_folds must be at least 2. Got 1 instead."),
    ({"max_listed_rows": -1}, "calibration.max_listed_rows must be null or >= 0. Got -1 instead."),
])
def test_config_errors(calibrated_frame, change, message):
    # CalibrationConfig rejects most of these when built; the audit checks again what was set afterwards.
    cfg = replace(CFG)
    for key, value in change.items():
        setattr(cfg, key, value)
    with pytest.raises(ConfigError) as err:
        run(calibrated_frame, cfg=cfg)
    assert message in str(err.value)


def test_empty_predictions_error(calibrated_frame):
    with pytest.raises(InputError, match="no predictions to calibrate"):
        run(calibrated_frame.iloc[:0])


def test_no_probabilities_a_class_without_rows_and_one_without_errors(make_frame):
    # Confidence only; class 'neutral' has no row; every 'positive' row is right.
    rng = np.random.default_rng(4)
    n = 120
    y = np.where(np.arange(n) % 2 == 0, 0, 2)
    proba = np.zeros((n, 3))
    conf = rng.uniform(0.55, 0.99, n)
    pred = np.where((y == 0) & (rng.random(n) < 0.4), 2, y)
    proba[np.arange(n), pred] = conf
    proba[np.arange(n), np.where(pred == 0, 2, 0)] = 1 - conf
    frame = make_frame(y, proba, with_proba=False)
    audit = run(frame, n_boot=50)
    written = __import__("json").loads(dumps_metrics(audit.metrics))
    neutral = written["by_class"]["neutral"]["confidently_incorrect"]["conf_ge_80"]
    assert neutral["rate"]["value"] is None and neutral["rate"]["reason"] == "no rows in this group"
    positive = written["by_class"]["positive"]["confidently_incorrect"]["conf_ge_80"]
    assert positive["count"] == 0 and positive["share_of_errors_reason"] == "no errors in this group"


def test_written_file_holds_only_declared_keys(overconfident_frame, make_synthetic, make_frame):
    # Every shape the audit writes: slices evaluated and too small, confidence only, no bootstrap,
    # too few rows to recalibrate, a class without rows.
    f = overconfident_frame
    y, p = make_synthetic(8, seed=1)
    audits = [run(f, slices_for(f, watch__thirds=f["record"].to_numpy() % 3 == 0,
                                found__tiny=f["record"].to_numpy() < 10)),
              run(f.drop(columns=[f"proba__{c}" for c in CLASSES]), n_boot=0),
              run(make_frame(y, p), cfg=replace(CFG, min_n=1))]
    for audit in audits:
        written = __import__("json").loads(dumps_metrics(audit.metrics))
        assert undeclared(written, CALIBRATION) == []
    assert "interval_method" not in written


def test_listed_fields_fetched_for_the_listed_rows_only_give_the_same_rows(overconfident_frame):
    """The stage reads text, label and prediction for the listed rows alone (``fetch``), from a frame
    without them, and its slice table may be in another row order: the same rows and metrics."""
    from blindspot.calibration.confident import LISTED_FIELDS

    frame = overconfident_frame
    slices = slices_for(frame, watch__a=np.arange(len(frame)) % 3 == 0).iloc[::-1]
    cfg = replace(CFG, max_listed_rows=25)
    calls = []

    def fetch(positions):
        calls.append(positions)
        return frame.iloc[positions][list(LISTED_FIELDS)].reset_index(drop=True)

    whole = run(frame, slices, cfg=cfg, n_boot=20)
    lean = audit_calibration(frame.drop(columns=list(LISTED_FIELDS)), slices, classes=CLASSES, cfg=cfg, n_boot=20,
                             ci_level=0.95, seed=7, fetch=fetch)
    assert lean.confident_rows == whole.confident_rows and lean.underconfident_rows == whole.underconfident_rows
    assert dumps_metrics(lean.metrics) == dumps_metrics(whole.metrics)
    assert len(whole.confident_rows) == 25 and len(calls) == 1
    listed = {r["id"] for r in whole.confident_rows + whole.underconfident_rows}
    assert sorted(frame["id"].astype(str).to_numpy()[calls[0]]) == sorted(listed)


def test_recalibration_whatif_is_the_same_for_the_rows_in_any_order(overconfident_frame, monkeypatch):
    """The what-if's folds and fit samples are ranked by the ids' hashes: the same rows shuffled give the same
    numbers (integers exactly, floats to 1e-12), also when the training folds are subsampled."""
    import blindspot.calibration.recalibration as rc

    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 1000)
    f = overconfident_frame
    shuffled = f.sample(frac=1, random_state=5).reset_index(drop=True)
    a, b = run(f, n_boot=100).metrics["recalibration"], run(shuffled, n_boot=100).metrics["recalibration"]
    assert a["status"] == "ok"
    assert_same(a, b, rel=1e-12)  # floats to rounding, all else exactly


def test_recalibration_is_ranked_by_the_hashes_of_the_ids(overconfident_frame):
    from blindspot.calibration.recalibration import fold_hashes
    from blindspot.calibration.whatif import recalibration_whatif

    f = overconfident_frame
    got = run(f, n_boot=0).metrics["recalibration"]
    proba = f[[f"proba__{c}" for c in CLASSES]].to_numpy()
    want, _ = recalibration_whatif(f["correct"].to_numpy(), f["confidence"].to_numpy(), y_true=f["y_true"].to_numpy(),
                                   proba=proba, hashes=fold_hashes(f["id"], 7), n_bins=CFG.n_bins,
                                   n_splits=CFG.recalibration_folds, seed=7,
                                   thresholds=sorted(CFG.confident_thresholds))
    assert got["temperature"] == want["temperature"]
    assert got["temperature_folds_min"] == want["temperature_folds_min"]
    assert got["isotonic"]["ece"] == want["isotonic"]["ece"]


