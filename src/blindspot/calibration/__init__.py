"""Calibration audit: reliability curves, the ECE family with intervals, confident errors.

Modules
-------
binning        the one binning routine (:func:`reliability_bins`) every number and plot uses
metrics        pure metric functions: ECE, MCE, classwise ECE, Brier losses, log loss
bootstrap      cell bootstrap and the consistency test behind every interval
summary        one block of numbers (+ bins) for a set of rows
confident      confidently incorrect / underconfident correct: rates and ranked rows
recalibration  cross-fitted temperature scaling and isotonic regression (what-if)
quantiles      equal-mass edges from batches: order statistics pinned by counting rounds
auroc          the confidence AUROC from buckets of rows, exact for any batches
cells          one batch's counts and fixed-point sums per (group, cell): merge by adding
blocks         every group's totals from kept batches (edges, cells, AUROC buckets)
membership     slice membership a bit a row, read a batch at a time from the slice table
batch          one batch of the predictions as the audit keeps it, and its counts and listings
audit          the calibrate stage's whole computation (:func:`audit_batches`, :func:`audit_calibration`)
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
