"""Which way the model is miscalibrated, and whether recalibration is worth advising.

Both are decisions on numbers the calibrate stage has already measured; they are made
here, once, and written to ``metrics/calibration.json`` so the brief only renders them.

Direction (:func:`miscalibration_direction`)
--------------------------------------------
From the overconfidence (mean confidence minus accuracy) and its bootstrap interval,
and the ECE's test of perfect calibration:

- ``overconfident``: the overconfidence interval lies entirely above 0;
- ``underconfident``: it lies entirely below 0 (confidences understate how often the
  model is right);
- ``well_calibrated``: it covers 0 and the ECE test does not reject perfect
  calibration at ``1 - ci_level``;
- ``mixed``: it covers 0 but the ECE test rejects (too confident in some bins, not
  confident enough in others, cancelling on average);
- ``unmeasured``: no interval (``n_boot = 0``) or no rows.

The rule for advising recalibration (:func:`recalibration_advice`)
------------------------------------------------------------------
A recalibration method is advised at a confidence threshold only when all three hold:

1. the ECE before rejects perfect calibration (``ece_p_value < 1 - ci_level``):
   there is something to fix beyond noise;
2. the cross-fitted ECE *improvement* is meaningfully positive: the lower bound of its
   paired interval (:func:`blindspot.calibration.recalibration.ece_change`) is above 0.
   The paired interval was chosen over "ECE-after upper bound below ECE-before lower
   bound" because both ECEs come from the same rows: comparing two separate intervals
   ignores that pairing and would hide real improvements of a few hundredths on a
   thousand rows, while the paired bound still excludes an improvement that noise
   alone could produce;
3. it does not raise the number of confidently incorrect predictions at that
   threshold (out-of-fold count after <= count before): a fix that puts more wrong
   answers above the threshold an automation trusts makes that automation worse,
   whatever it does to the ECE.

Candidates are tried best method first (``best_method``, lowest top-label Brier), then
the other. When none qualifies the advice is ``method: "none"`` with the reason that
stopped the first candidate: ``not_miscalibrated``, ``raises_confidently_incorrect``
(checked before the ECE, as the more harmful failure) or ``ece_not_lower``;
``unmeasured`` when the intervals or the counts were not measured.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from blindspot.keys import threshold_key

METHODS = ("temperature_scaling", "isotonic")
DIRECTIONS = ("overconfident", "underconfident", "well_calibrated", "mixed", "unmeasured")
REASONS = ("supported", "not_miscalibrated", "raises_confidently_incorrect", "ece_not_lower", "unmeasured")


def _finite(*xs) -> bool:
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in xs)


def miscalibration_direction(overall: Mapping, *, ci_level: float) -> str:
    """One of :data:`DIRECTIONS` for a :func:`~blindspot.calibration.calibration_summary` block.

    Parameters
    ----------
    overall : mapping
        Needs ``overconfidence`` (an encoded estimate with its interval) and ``ece_p_value``.
    ci_level : float
        The ECE test rejects when its p value is below ``1 - ci_level``.
    """
    over = overall.get("overconfidence") or {}
    low, high, p = over.get("ci_low"), over.get("ci_high"), overall.get("ece_p_value")
    if not _finite(low, high):
        return "unmeasured"
    if low > 0:
        return "overconfident"
    if high < 0:
        return "underconfident"
    if not _finite(p):
        return "unmeasured"
    return "mixed" if p < 1 - ci_level else "well_calibrated"


def _verdict(method_block: Mapping, band: str) -> str:
    ci = method_block.get("confidently_incorrect", {}).get(band)
    low = (method_block.get("ece_reduction") or {}).get("ci_low")
    if ci is None or not _finite(low):
        return "unmeasured"
    if ci["count_change"] > 0:
        return "raises_confidently_incorrect"
    if not low > 0:
        return "ece_not_lower"
    return "supported"


def recalibration_advice(recal: Mapping, overall: Mapping, thresholds: Sequence[float], *,
                         ci_level: float) -> dict:
    """Advice per threshold under the rule in the module docstring.

    Parameters
    ----------
    recal : mapping
        The what-if of :func:`~blindspot.calibration.whatif.recalibration_whatif`
        (run with ``thresholds`` and ``n_boot > 0``).
    overall : mapping
        The overall calibration block (``ece_p_value``).
    thresholds : sequence of float
    ci_level : float

    Returns
    -------
    dict threshold key -> ``{"method": <method or "none">, "reason": <one of REASONS>,
    "considered": <the method the reason is about, or "none">}``
    """
    best = recal.get("best_method")
    order = [best] + [m for m in METHODS if m != best] if best in METHODS else list(METHODS)
    p = overall.get("ece_p_value")
    out = {}
    for t in thresholds:
        band = threshold_key(t)
        if not _finite(p):
            out[band] = {"method": "none", "reason": "unmeasured", "considered": "none"}
            continue
        if p >= 1 - ci_level:
            out[band] = {"method": "none", "reason": "not_miscalibrated", "considered": "none"}
            continue
        verdicts = {m: _verdict(recal.get(m, {}), band) for m in order}
        chosen = next((m for m in order if verdicts[m] == "supported"), None)
        if chosen:
            out[band] = {"method": chosen, "reason": "supported", "considered": chosen}
        else:
            out[band] = {"method": "none", "reason": verdicts[order[0]], "considered": order[0]}
    return out
