"""Which way is better for each metric, declared once.

The compare stage and the report's delta rendering both read it. Kept free of heavy
imports so that the report stage starts without pandas or scipy.
"""

from __future__ import annotations

import math

# Higher is better (True) or lower is better (False). Per-class and per-slice names ("recall_negative")
# resolve through their base name (see higher_is_better).
METRIC_DIRECTION: dict[str, bool] = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1_macro": True,
    "f1_weighted": True,
    "mcc": True,
    "cohen_kappa": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "error_rate": False,
    "confidently_incorrect_rate": False,
    "ece": False,
    "ece_equal_mass": False,
    "mce": False,
    "brier": False,
    "brier_top_label": False,
    "log_loss": False,
}


def higher_is_better(metric: str) -> bool | None:
    """Direction of a metric name from :data:`METRIC_DIRECTION`; None when unknown.

    ``recall_negative`` and ``precision_neutral`` resolve through ``recall`` and
    ``precision``; a longer exact name always wins (``f1_macro`` is not ``f1``).
    """
    if metric in METRIC_DIRECTION:
        return METRIC_DIRECTION[metric]
    for base in sorted(METRIC_DIRECTION, key=len, reverse=True):
        if metric.startswith(base + "_"):
            return METRIC_DIRECTION[base]
    return None


def direction_of(delta: float, changed: bool, higher: bool | None) -> str:
    """``improved`` / ``worsened`` for a changed metric, else ``unchanged``."""
    if not changed or higher is None or not math.isfinite(delta) or delta == 0:
        return "unchanged"
    return "improved" if (delta > 0) == higher else "worsened"
