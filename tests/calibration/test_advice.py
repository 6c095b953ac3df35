"""Miscalibration direction and the recalibration advice rule, on synthetic and real data."""

import json

import numpy as np
import pandas as pd
import pytest

from _paths import ROOT
from blindspot.calibration.advice import miscalibration_direction, recalibration_advice
from blindspot.calibration.audit import audit_calibration
from blindspot.calibration.binning import reliability_bins
from blindspot.calibration.metrics import expected_calibration_error
from blindspot.calibration.recalibration import confident_after, ece_change
from blindspot.config import CalibrationConfig

CFG = CalibrationConfig(min_n=40)  # thresholds 0.7, 0.8, 0.9


def run(frame, classes=None, n_boot=300):
    classes = classes or ["negative", "neutral", "positive"]
    return audit_calibration(frame, None, classes=classes, cfg=CFG, n_boot=n_boot, ci_level=0.95, seed=7).metrics


# --------------------------------------------------------------------------- the four cases


def test_underconfident_synthetic_is_named_and_recalibration_not_advised(make_synthetic, make_frame):
    # softmax(0.5 z) for labels drawn from softmax(z): confidences understate how often the model is right.
    y, p = make_synthetic(3000, seed=5, sharpness=0.5)
    m = run(make_frame(y, p))
    assert m["overall"]["overconfidence"]["ci_high"] < 0
    assert m["miscalibration_direction"] == "underconfident"
    r = m["recalibration"]
    # Recalibration sharpens the confidences: ECE falls, but more wrong answers cross 0.8.
    assert r["temperature_scaling"]["ece_reduction"]["ci_low"] > 0
    assert r["temperature_scaling"]["confidently_incorrect"]["conf_ge_80"]["count_change"] > 0
    assert r["advice"]["conf_ge_80"] == {"method": "none", "reason": "raises_confidently_incorrect",
                                         "considered": r["best_method"]}


def test_uci_sentences_real_data_is_underconfident_and_gets_no_recalibration_advice():
    rows = [json.loads(line) for line in (ROOT / "data/raw/predictions/uci_sentences.jsonl").read_text().splitlines()]
    classes = ["0", "1"]
    frame = pd.DataFrame({
        "id": pd.array([r["id"] for r in rows], dtype="string"),
        "text": pd.array([r["text"] for r in rows], dtype="string"),
        "label": pd.array([r["label"] for r in rows], dtype="string"),
        "prediction": pd.array([r["prediction"] for r in rows], dtype="string"),
        "confidence": [r["confidence"] for r in rows],
        "y_true": np.array([classes.index(r["label"]) for r in rows], np.int8),
        "y_pred": np.array([classes.index(r["prediction"]) for r in rows], np.int8),
    })
    frame["correct"] = frame["y_true"] == frame["y_pred"]
    frame.insert(0, "record", np.arange(1, len(rows) + 1))
    for c in classes:
        frame[f"proba__{c}"] = [r["probabilities"][c] for r in rows]
    m = run(frame, classes=classes)
    o = m["overall"]
    assert o["mean_confidence"] == pytest.approx(0.732, abs=5e-4) and o["accuracy"] == pytest.approx(0.828, abs=5e-4)
    assert m["miscalibration_direction"] == "underconfident"
    r = m["recalibration"]
    for method in ("temperature_scaling", "isotonic"):
        band = r[method]["confidently_incorrect"]["conf_ge_80"]
        assert band["count"] > band["count_before"] == m["confidently_incorrect"]["conf_ge_80"]["count"]
        assert band["correct_rising_above"] > 0 and band["correct_falling_below"] == 0
    assert all(a["method"] == "none" and a["reason"] == "raises_confidently_incorrect" for a in r["advice"].values())


def test_overconfident_case_where_recalibration_helps_is_advised(make_synthetic, make_frame):
    y, p = make_synthetic(3000, seed=3, sharpness=2.0)
    m = run(make_frame(y, p))
    assert m["miscalibration_direction"] == "overconfident"
    r = m["recalibration"]
    advice = r["advice"]["conf_ge_80"]
    assert advice["reason"] == "supported" and advice["method"] in ("temperature_scaling", "isotonic")
    chosen = r[advice["method"]]
    reduction, after = chosen["ece_reduction"], chosen["ece"]
    assert reduction["ci_low"] > 0 and reduction["method"] == "paired_cell_bootstrap_percentile"
    assert reduction["value"] == pytest.approx(r["none"]["ece"] - after["value"])
    assert after["ci_low"] <= after["value"] <= after["ci_high"]
    band = chosen["confidently_incorrect"]["conf_ge_80"]
    assert band["count"] <= band["count_before"]
    assert 0 < band["correct_falling_below_share"] < 1
    assert band["rate"]["ci_low"] <= band["rate"]["value"] <= band["rate"]["ci_high"]


def test_well_calibrated_case_gets_no_advice_and_its_name(make_synthetic, make_frame):
    y, p = make_synthetic(3000, seed=4, sharpness=1.0)
    m = run(make_frame(y, p))
    assert m["miscalibration_direction"] == "well_calibrated"
    assert {a["reason"] for a in m["recalibration"]["advice"].values()} == {"not_miscalibrated"}


def test_without_bootstrap_the_advice_is_unmeasured(make_synthetic, make_frame):
    y, p = make_synthetic(600, seed=3, sharpness=2.0)
    m = run(make_frame(y, p), n_boot=0)
    assert m["miscalibration_direction"] == "unmeasured"
    assert {a["reason"] for a in m["recalibration"]["advice"].values()} == {"unmeasured"}


# --------------------------------------------------------------------------- the pieces, by hand


def test_confident_after_counts_by_hand():
    correct = np.array([True, True, False, False, True, False])
    before = np.array([0.95, 0.85, 0.90, 0.60, 0.70, 0.85])
    after = np.array([0.75, 0.90, 0.70, 0.85, 0.82, 0.81])
    b = confident_after(correct, before, after, [0.8])["conf_ge_80"]
    # wrong and >= 0.8: before rows 2, 5; after rows 3, 5
    assert (b["count_before"], b["count"], b["count_change"]) == (2, 2, 0)
    assert b["n_confident"] == 4 and b["rate"]["value"] == pytest.approx(2 / 6)
    # right rows >= 0.8 before: 0, 1; row 0 falls below, row 4 rises above; wrong row 2 falls below
    assert (b["correct_falling_below"], b["correct_falling_below_share"]) == (1, 0.5)
    assert b["correct_rising_above"] == 1 and b["incorrect_falling_below"] == 1


def test_ece_change_point_values_match_the_metric():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1, 2000)
    correct = rng.random(2000) < conf - 0.1
    after = np.clip(conf - 0.1, 0, 1)
    bb = reliability_bins(correct, conf, n_bins=10, strategy="uniform")
    ba = reliability_bins(correct, after, n_bins=10, strategy="uniform")
    out = ece_change(correct, conf, after, bb, ba, n_boot=300, level=0.95, rng=np.random.default_rng(1))
    expected = expected_calibration_error(correct, conf, n_bins=10) - expected_calibration_error(correct, after, n_bins=10)
    reduction = out["ece_reduction"]
    assert reduction["value"] == pytest.approx(expected)
    assert 0 < reduction["ci_low"] < reduction["value"] < reduction["ci_high"]


def _whatif(change, low, best="isotonic"):
    block = {"confidently_incorrect": {"conf_ge_80": {"count_change": change}}, "ece_reduction": {"ci_low": low}}
    other = {"confidently_incorrect": {"conf_ge_80": {"count_change": 5}}, "ece_reduction": {"ci_low": -1.0}}
    return {"best_method": best, best: block,
            ("temperature_scaling" if best == "isotonic" else "isotonic"): other}


@pytest.mark.parametrize("change,low,p,reason", [
    (-3, 0.01, 0.001, "supported"),
    (0, 0.01, 0.001, "supported"),          # not raising is enough
    (1, 0.01, 0.001, "raises_confidently_incorrect"),
    (1, -0.01, 0.001, "raises_confidently_incorrect"),  # the more harmful failure is named
    (-3, 0.0, 0.001, "ece_not_lower"),      # an interval touching 0 is not an improvement
    (-3, 0.01, 0.2, "not_miscalibrated"),
    (-3, float("nan"), 0.001, "unmeasured"),
])
def test_advice_rule(change, low, p, reason):
    out = recalibration_advice(_whatif(change, low), {"ece_p_value": p}, [0.8], ci_level=0.95)["conf_ge_80"]
    assert out["reason"] == reason
    assert out["method"] == ("isotonic" if reason == "supported" else "none")


def test_advice_falls_back_to_the_other_method_when_it_qualifies():
    w = _whatif(2, 0.01)
    w["temperature_scaling"] = {"confidently_incorrect": {"conf_ge_80": {"count_change": -1}},
                                "ece_reduction": {"ci_low": 0.02}}
    out = recalibration_advice(w, {"ece_p_value": 0.001}, [0.8], ci_level=0.95)["conf_ge_80"]
    assert out == {"method": "temperature_scaling", "reason": "supported", "considered": "temperature_scaling"}


@pytest.mark.parametrize("low,high,p,direction", [
    (0.01, 0.05, 0.001, "overconfident"),
    (-0.05, -0.01, 0.5, "underconfident"),
    (-0.01, 0.01, 0.5, "well_calibrated"),
    (-0.01, 0.01, 0.001, "mixed"),
    (float("nan"), float("nan"), 0.001, "unmeasured"),
])
def test_direction(low, high, p, direction):
    o = {"overconfidence": {"value": 0.0, "ci_low": low, "ci_high": high}, "ece_p_value": p}
    assert miscalibration_direction(o, ci_level=0.95) == direction


def test_stage_log_line_names_the_advice():
    from blindspot.stages.calibrate import advised

    no = {"conf_ge_80": {"method": "none", "reason": "raises_confidently_incorrect"},
          "conf_ge_90": {"method": "none", "reason": "ece_not_lower"}}
    assert advised({"advice": no}) == ", no recalibration advised (ece_not_lower, raises_confidently_incorrect)"
    yes = {**no, "conf_ge_70": {"method": "isotonic", "reason": "supported"}}
    assert advised({"advice": yes}) == ", recalibration advised: isotonic at conf_ge_70"
    assert advised({"status": "unavailable"}) == ""
