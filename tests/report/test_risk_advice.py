"""The risk table's advice follows the measured what-if: calibrate-stage output -> reader -> risk rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from _paths import ROOT
from blindspot.calibration.audit import audit_calibration
from blindspot.config import CalibrationConfig
from blindspot.io.writers import dumps_metrics
from blindspot.report.document import plain, run
from blindspot.report.load import ClassRow, Estimate, Inputs, Profile, Src, parse_calibration
from blindspot.report.sections.risks import risk_rows

CLASSES = ["negative", "neutral", "positive"]


def _profile(names) -> Profile:
    rows = tuple(ClassRow(n, 100, 1 / len(names), 100, 1 / len(names), Estimate(0.8, 0.75, 0.85),
                          Estimate(0.8, 0.75, 0.85), Estimate(0.8)) for n in names)
    return Profile(model="vX", n_rows=100 * len(names), ci_level=0.95, accuracy=Estimate(0.8, 0.75, 0.85),
                   balanced_accuracy=Estimate(0.8, 0.75, 0.85), f1_macro=Estimate(0.8), mcc=Estimate(0.6),
                   cohen_kappa=Estimate(0.6), majority_class=names[0], majority_baseline=0.5,
                   lift=Estimate(0.3, 0.2, 0.4), imbalance_ratio=1.0, classes=rows, confusion={}, interval_method="x")


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _synthetic_frame(n, seed, sharpness) -> pd.DataFrame:
    """Labels from softmax(z), reported softmax(sharpness z): > 1 overconfident, 1 calibrated."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.2, (n, 3)) + np.linspace(-0.5, 0.8, 3)
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(_softmax(z), axis=1)).sum(axis=1), 2)
    return _frame(y, _softmax(sharpness * z), CLASSES)


def _frame(y, proba, classes) -> pd.DataFrame:
    pred = proba.argmax(axis=1)
    f = pd.DataFrame({"record": np.arange(1, len(y) + 1),
                      "id": pd.array([f"r{i}" for i in range(len(y))], dtype="string"),
                      "text": pd.array(["t"] * len(y), dtype="string"),
                      "label": pd.array(np.asarray(classes, object)[y], dtype="string"),
                      "prediction": pd.array(np.asarray(classes, object)[pred], dtype="string"),
                      "confidence": proba.max(axis=1), "y_true": y.astype(np.int8), "y_pred": pred.astype(np.int8),
                      "correct": y == pred})
    for i, c in enumerate(classes):
        f[f"proba__{c}"] = proba[:, i]
    return f


def _uci_frame() -> pd.DataFrame:
    rows = [json.loads(x) for x in (ROOT / "data/raw/predictions/uci_sentences.jsonl").read_text().splitlines()]
    y = np.array([int(r["label"]) for r in rows])
    proba = np.array([[r["probabilities"]["0"], r["probabilities"]["1"]] for r in rows])
    return _frame(y, proba, ["0", "1"])


def _confident_row(frame, classes):
    metrics = audit_calibration(frame, None, classes=classes, cfg=CalibrationConfig(min_n=40), n_boot=300,
                                ci_level=0.95, seed=7).metrics
    data = json.loads(dumps_metrics(metrics))  # exactly what the stage writes
    cal = parse_calibration(Src("metrics/calibration.json", data), 0.8)
    rows = [[plain(run(c)) for c in r] for r in risk_rows(Inputs(profile=_profile(classes), calibration=cal), {})]
    (row,) = [r for r in rows if "wrong with confidence" in r[0]]
    return data, cal, row


def test_recalibration_that_helps_is_advised_with_its_effect_and_interval():
    data, cal, row = _confident_row(_synthetic_frame(3000, 3, 2.0), CLASSES)
    advice = data["recalibration"]["advice"]["conf_ge_80"]
    assert advice["reason"] == "supported" and cal.direction == "overconfident"
    m = data["recalibration"][advice["method"]]
    c = m["confidently_incorrect"]["conf_ge_80"]
    assert row[2].startswith(f"Recalibrate with {'temperature scaling' if advice['method'] == 'temperature_scaling' else 'isotonic regression'}")
    assert f"[{m['ece_reduction']['ci_low']:.3f}, {m['ece_reduction']['ci_high']:.3f}]" in row[2]
    assert f"from {c['count_before']} to {c['count']}" in row[2] and c["count"] <= c["count_before"]
    assert "The model is overconfident" in row[2]
    assert row[3] == ("metrics/calibration.json: confidently_incorrect.conf_ge_80.count and "
                      "metrics/calibration.json: overall.ece.value")


def test_uci_underconfident_gets_no_recalibration_and_its_own_advice():
    data, cal, row = _confident_row(_uci_frame(), ["0", "1"])
    assert cal.direction == "underconfident"
    a = cal.recal_advice
    assert a.reason == "raises_confidently_incorrect" and a.count_after > a.count_before
    assert "Recalibrate" not in row[2]
    assert row[2].startswith("Recalibration is not advised")
    assert f"raises the wrong answers at confidence ≥ 0.8 from {a.count_before} to {a.count_after}" in row[2]
    assert "The model is underconfident (mean confidence 0.732 against accuracy 0.828)" in row[2]
    among = data["confidently_incorrect"]["conf_ge_80"]
    assert f"{100 * among['error_rate_among_confident']['value']:.1f}%" in row[2]


def test_well_calibrated_model_gets_the_reason_and_no_recalibration():
    data, cal, row = _confident_row(_synthetic_frame(3000, 4, 1.0), CLASSES)
    assert cal.direction == "well_calibrated"
    assert row[2].startswith("Recalibration is not advised: the ECE")
    assert "Recalibrate" not in row[2] and "underconfident" not in row[2] and "overconfident" not in row[2]


def test_no_significant_improvement_means_no_advice():
    # Overconfident but few rows: the paired improvement's interval includes 0 at 300 rows.
    data, cal, row = _confident_row(_synthetic_frame(300, 11, 1.3), CLASSES)
    if cal.recal_advice.reason != "ece_not_lower":
        pytest.skip(f"this draw gave {cal.recal_advice.reason}")
    assert "an interval that includes 0" in row[2] and "Recalibrate" not in row[2]


def test_a_file_without_advice_gives_no_recalibration_advice():
    data, _, _ = _confident_row(_synthetic_frame(3000, 3, 2.0), CLASSES)
    del data["recalibration"]["advice"]
    cal = parse_calibration(Src("metrics/calibration.json", data), 0.8)
    rows = [[plain(run(c)) for c in r] for r in risk_rows(Inputs(profile=_profile(CLASSES), calibration=cal), {})]
    assert cal.recal_advice is None
    assert rows[-1][2].startswith("No recalibration advice") and "Recalibrate" not in rows[-1][2]


def test_class_and_slice_mitigations_are_worded_as_candidates():
    # The advice sentences that no what-if measures must not read as promises.
    names = CLASSES
    prof = _profile(names)
    collapsed = ClassRow("neutral", 100, 1 / 3, 0, 0.0, Estimate(0.0, 0.0, 0.04), Estimate(0.0), Estimate(0.0))
    prof = Profile(**{**prof.__dict__, "classes": (prof.classes[0], collapsed, prof.classes[2])})
    rows = [[plain(run(c)) for c in r] for r in risk_rows(Inputs(profile=prof), {})]
    assert rows[0][2].startswith("Candidates to test (no what-if measures them here)")
