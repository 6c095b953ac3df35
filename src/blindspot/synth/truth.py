"""The truth of a generated data set: what was asked for, what was planted, what came out.

:func:`describe` builds the JSON-serialisable dict kept in :attr:`SynthData.truth`
and written beside the data as ``<stem>.truth.json``; tests and benchmarks read the
planted slices and their realised error rates from it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from blindspot.synth.planting import predicate_json
from blindspot.synth.spec import LATENT_COLUMNS, METADATA_COLUMNS, PlantedSlice


def _rate(mask: np.ndarray, wrong: np.ndarray) -> float | None:
    return float(wrong[mask].mean()) if mask.any() else None


def _planted_truth(j: int, planted: Sequence[PlantedSlice], parsed_j, classes: Sequence[str], base: float,
                   label: np.ndarray, wrong: np.ndarray, conf: np.ndarray, assign: np.ndarray) -> dict:
    """Requested and realised numbers of planted slice ``j`` (arrays of shape (n,))."""
    s = planted[j]
    inside = assign == j
    e_in, e_out = _rate(inside, wrong), _rate(~inside, wrong)
    # The complement holds the other slices, at their own raised error rates.
    others = sum(o.share * o.error_gap for i, o in enumerate(planted) if i != j) / (1 - s.share)
    return {
        "index": j,
        "predicate": predicate_json(parsed_j),
        "share": float(s.share),
        "error_gap": float(s.error_gap),
        "confidence": None if s.confidence is None else float(s.confidence),
        "class_weights": None if s.class_weights is None else [float(x) for x in s.class_weights],
        "class_shares_inside": {c: float(np.mean(label[inside] == i)) if inside.any() else None
                                for i, c in enumerate(classes)},
        "expected_error_rate_inside": float(base + s.error_gap),
        "expected_error_rate_outside": float(base + others),
        "expected_gap": float(s.error_gap - others),
        "n_rows": int(inside.sum()),
        "realised_share": float(inside.mean()),
        "error_rate_inside": e_in,
        "error_rate_outside": e_out,
        "realised_gap": None if e_in is None or e_out is None else e_in - e_out,
        "mean_confidence_inside": float(conf[inside].mean()) if inside.any() else None,
    }


def describe(*, seed: int, mode: str, classes: Sequence[str], shares: np.ndarray, mean_confidence: float,
             confidence_concentration: float, class_error_gaps: Sequence[float] | None,
             planted: Sequence[PlantedSlice], parsed, label: np.ndarray, pred: np.ndarray, conf: np.ndarray,
             assign: np.ndarray) -> dict:
    """The truth dict (keys listed under :attr:`SynthData.truth`).

    Parameters
    ----------
    seed, mode, classes, mean_confidence, confidence_concentration, class_error_gaps, planted
        As given to :func:`blindspot.synth.generate`.
    shares : ndarray, shape (K,)
        Requested class shares (normalised).
    parsed : sequence of parsed predicates, one per planted slice
    label, pred : ndarray of int, shape (n,)
    conf : ndarray of float, shape (n,)
    assign : ndarray of int, shape (n,)
        Planted slice index of each row, -1 for none.
    """
    n, k = label.size, len(classes)
    wrong = pred != label
    base = 1 - mean_confidence
    return {
        "generator": "blindspot.synth",
        "seed": int(seed),
        "n": n,
        "mode": mode,
        "classes": list(classes),
        "class_shares": {c: float(s) for c, s in zip(classes, shares)},
        "realised_class_shares": {c: float(s) for c, s in zip(classes, np.bincount(label, minlength=k) / n)},
        "mean_confidence": float(mean_confidence),
        "confidence_concentration": float(confidence_concentration),
        "base_error_rate": float(base),  # expected, rows in no slice (and no weak class)
        "class_error_gaps": None if class_error_gaps is None else [float(x) for x in class_error_gaps],
        "realised_error_rate": float(wrong.mean()),
        "realised_base_error_rate": _rate(assign == -1, wrong),
        "metadata_columns": list(METADATA_COLUMNS),
        "latent_columns": list(LATENT_COLUMNS),
        "planted": [_planted_truth(j, planted, parsed[j], classes, base, label, wrong, conf, assign)
                    for j in range(len(planted))],
    }
