"""Metrics keys shared by a writer and its readers, spelt by one function each.

The calibrate stage writes one confidently-incorrect entry per confidence threshold and
the report (and ``dvc metrics diff`` users) read it back by the same key. Two spellings
of the key once lost a rate silently (0.975 was written ``conf_ge_97_5`` and looked up
as ``conf_ge_98``), so both sides call :func:`threshold_key`. Free of heavy imports: the
report stage starts without numpy or pandas.
"""

from __future__ import annotations

import math


def threshold_key(threshold: float) -> str:
    """Stable metrics key of a confidence threshold.

    0.9 -> ``conf_ge_90``, 0.975 -> ``conf_ge_97_5``, 0.05 -> ``conf_ge_5``: the
    threshold in percent, up to six decimals, with ``_`` for the decimal point (DVC
    flattens nested keys with dots, so a key may not hold one).

    Raises
    ------
    ValueError
        When ``threshold`` is not a finite number.
    """
    t = float(threshold)
    if not math.isfinite(t):
        raise ValueError(f"a confidence threshold must be a finite number. Got {threshold!r} instead.")
    return "conf_ge_" + f"{round(t * 100, 6):g}".replace(".", "_")


def nearest_threshold(thresholds, threshold: float) -> float:
    """The band the brief reports: ``threshold`` when it is one of ``thresholds``, else the closest one
    (the lower on a tie). The report and the headline metrics both call it, so they name the same band."""
    return min((float(t) for t in thresholds), key=lambda t: (abs(t - float(threshold)), t))
