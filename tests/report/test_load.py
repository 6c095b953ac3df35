"""Loading what the brief reads: absent files, unreadable files, the threshold band."""

from __future__ import annotations

import json

import numpy as np
import pytest

from blindspot import paths
from blindspot.errors import InputError
from blindspot.io.writers import write_metrics
from blindspot.profiling import profile_predictions
from blindspot.keys import threshold_key
from blindspot.report.load import Src, load_inputs, parse_calibration

CLASSES = ["negative", "neutral", "positive"]


@pytest.fixture
def profile_only(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    pred = np.where(rng.random(200) < 0.7, y, 2)
    frame = pd.DataFrame({"y_true": y, "y_pred": pred, "text": ["a b c"] * 200,
                          "label": [CLASSES[i] for i in y]})
    m = profile_predictions(frame, CLASSES, n_boot=50, level=0.95, rng=np.random.default_rng(1),
                            length_quantiles=[0.5])
    write_metrics(tmp_path / paths.PROFILE_METRICS, {**m, "model": "m"})
    return tmp_path


def test_only_the_profile_is_required(profile_only):
    inputs = load_inputs(profile_only)
    assert inputs.profile.n_rows == 200 and inputs.profile.model == "m"
    assert inputs.slices is None and inputs.calibration is None and inputs.judge is None
    assert inputs.comparison is None and inputs.examples == [] and inputs.figures == {}
    for rel in (paths.SLICE_METRICS, paths.FINDINGS, paths.CALIBRATION_METRICS, paths.JUDGE_METRICS,
                paths.COMPARE_METRICS, paths.CONFIDENT_ERRORS):
        assert str(rel) in inputs.missing
    assert inputs.problems == []


def test_missing_profile_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="metrics/profile.json: not found"):
        load_inputs(tmp_path)


def test_malformed_profile_is_an_input_error(profile_only):
    path = profile_only / paths.PROFILE_METRICS
    m = json.loads(path.read_text())
    del m["per_class"]
    path.write_text(json.dumps(m))
    with pytest.raises(InputError, match="metrics/profile.json, field 'per_class': cannot be read for the brief: "
                                         "per_class is missing"):
        load_inputs(profile_only)


def test_a_present_file_missing_a_key_stops_the_report_naming_file_and_key(profile_only):
    (profile_only / paths.COMPARE_METRICS).write_text(json.dumps({"status": "compared"}))
    with pytest.raises(InputError, match=r"metrics/compare.json, field 'global': cannot be read for the brief: "
                                         r"global is missing"):
        load_inputs(profile_only)


def _calibration_metrics(thresholds):
    band = {threshold_key(t): {"threshold": t, "count": 3, "rate": {"value": 0.03, "ci_low": 0.01, "ci_high": 0.08},
                               "n_confident": 40, "share_of_errors": 0.1} for t in thresholds}
    overall = {"ece": {"value": 0.05, "ci_low": 0.02, "ci_high": 0.07, "method": "x"},
               "overconfidence": {"value": 0.01, "ci_low": -0.01, "ci_high": 0.03}, "mean_confidence": 0.8,
               "accuracy": 0.79}
    return Src("metrics/calibration.json", {
        "n": 100, "confident_thresholds": list(thresholds), "overall": overall, "confidently_incorrect": band,
        "by_class": {}, "slices": {}, "recalibration": {"status": "unavailable"}})


def test_calibration_band_is_the_configured_one_or_the_closest():
    assert parse_calibration(_calibration_metrics([0.7, 0.8, 0.9]), 0.8).threshold == 0.8
    chosen = parse_calibration(_calibration_metrics([0.7, 0.9]), 0.82)
    assert chosen.threshold == 0.9 and chosen.confident.threshold == 0.9


def test_reasons_read_from_the_writer_in_words():
    from blindspot.report.load import Unmeasured, humanize

    assert humanize("below_min_support") == "fewer rows than slices.min_support"
    assert humanize("too_few_pairs") == "too few pairs"
    assert humanize("compare.min_rows is 10") == "compare.min_rows is 10"  # sentences and keys kept as written
    m = Src("f.json", {"a": {"value": None, "ci_low": None, "reason": "no_rows"}, "b": None, "b_reason": "why",
                       "c": float("nan"), "d": None, "e": {"rate": None, "rate_ci_low": None, "rate_reason": "x y"}})
    assert m.nested("a").value.reason == "no rows" and isinstance(m.nested("a").value, Unmeasured)
    assert m.num("b").reason == "why" and m.num("c").reason == "no value recorded"
    assert m.sub("e").num("rate").reason == "x y" and m.sub("e").reason("rate_ci_low") == "x y"
    with pytest.raises(InputError, match=r"f.json, field 'a.missing'"):
        m.sub("a").num("missing")
