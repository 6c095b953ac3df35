"""Calibration audit: reliability curves, the ECE family with intervals, confident errors.

Modules
-------
binning        the one binning routine (:func:`reliability_bins`) every number and plot uses
metrics        pure metric functions: ECE, MCE, classwise ECE, Brier losses, log loss
bootstrap      cell bootstrap and the consistency test behind every interval
summary        one block of numbers (+ bins) for a set of rows
confident      confidently incorrect / underconfident correct: rates and ranked rows
recalibration  cross-fitted temperature scaling and isotonic regression (what-if)
audit          the calibrate stage's whole computation (:func:`audit_calibration`)
"""

from blindspot.calibration.binning import ReliabilityBins, assign_bins, bin_edges, reliability_bins
from blindspot.calibration.metrics import (
    classwise_calibration_error,
    expected_calibration_error,
    log_loss_rows,
    maximum_calibration_error,
    multiclass_brier_loss,
    overconfidence,
    prediction_margin,
    top_label_brier_loss,
)
from blindspot.calibration.summary import CalibrationSummary, calibration_summary

__all__ = [
    "CalibrationSummary",
    "ReliabilityBins",
    "assign_bins",
    "bin_edges",
    "calibration_summary",
    "classwise_calibration_error",
    "expected_calibration_error",
    "log_loss_rows",
    "maximum_calibration_error",
    "multiclass_brier_loss",
    "overconfidence",
    "prediction_margin",
    "reliability_bins",
    "top_label_brier_loss",
]
