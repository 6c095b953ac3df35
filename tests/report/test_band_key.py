"""The confidently-incorrect band is written and read with one key function.

Written by the calibrate stage's real code, read by the report's real code, at a
threshold that is not a whole percentage (0.975 once gave ``conf_ge_97_5`` on one side
and ``conf_ge_98`` on the other, and the rate vanished from the brief).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from blindspot import paths
from blindspot.calibration.audit import audit_calibration
from blindspot.config import CalibrationConfig
from blindspot.io.writers import write_metrics
from blindspot.keys import threshold_key
from blindspot.report.load import Src, parse_calibration

from calibration.conftest import canonical_frame, synthetic_proba


@pytest.mark.parametrize("threshold", [0.975, 0.8, 0.05, 0.333, 1.0])
def test_calibrate_writes_what_the_report_reads(threshold, tmp_path):
    y, proba = synthetic_proba(400, seed=5, sharpness=3.0)
    frame = canonical_frame(y, proba)
    cfg = CalibrationConfig(confident_thresholds=[0.5, threshold], min_n=40, recalibration_folds=2)
    audit = audit_calibration(frame, None, classes=["negative", "neutral", "positive"], cfg=cfg, n_boot=20,
                              ci_level=0.95, seed=1)
    path = write_metrics(tmp_path / paths.CALIBRATION_METRICS, audit.metrics)
    cal = parse_calibration(Src(str(paths.CALIBRATION_METRICS), json.loads(path.read_text())), threshold)
    expected = int(((~frame["correct"]) & (frame["confidence"] >= threshold)).sum())
    assert cal.threshold == threshold
    assert cal.confident.count == expected
    assert cal.confident.rate.value == pytest.approx(expected / len(frame), abs=1e-6)


def test_threshold_key_spelling():
    assert threshold_key(0.9) == "conf_ge_90"
    assert threshold_key(0.975) == "conf_ge_97_5"
    assert threshold_key(0.05) == "conf_ge_5"
    assert threshold_key(1.0) == "conf_ge_100"
    assert len({threshold_key(t) for t in np.round(np.arange(0.001, 1.0005, 0.001), 3)}) == 1000
    with pytest.raises(ValueError, match="finite"):
        threshold_key(float("nan"))


def test_the_brief_and_the_headline_pick_the_band_by_one_rule():
    from blindspot.keys import nearest_threshold

    assert nearest_threshold([0.7, 0.8, 0.9], 0.8) == 0.8
    assert nearest_threshold([0.5, 1.0], 0.75) == 0.5  # a tie (exact in binary) goes to the lower band
    assert nearest_threshold([0.5, 0.95], 0.9) == 0.95
