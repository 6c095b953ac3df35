"""The simulated sentiment model: calibrated confidences, errors (planted or not), class probabilities.

Null mode: confidence ``c`` is drawn per row from a Beta scaled onto ``(1/K, 1)`` and
the prediction is correct with probability ``c``, so the model is calibrated in
expectation and its errors are independent of every feature. Planted slices flip a
share of their correct predictions to wrong (see :func:`simulate_model`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from blindspot.synth.spec import MICRO, PlantedSlice

_C_MARGIN = 1e-3  # confidence stays this far above 1/K ...
_C_MAX = 1 - 1e-4  # ... and below 1, so every class keeps >= 1e-6 of mass
_SLICE_CONFIDENCE_SD = 0.02



def _draw_confidence(n: int, k: int, mean_confidence: float, concentration: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Confidence per row: a Beta scaled onto (1/K, 1) with the given mean, shape (n,)."""
    lo = 1.0 / k
    m = (mean_confidence - lo) / (1.0 - lo)
    x = rng.beta(m * concentration, (1 - m) * concentration, n)
    return _quantise_confidence(lo + (1 - lo) * x, k)


def _quantise_confidence(c: np.ndarray, k: int) -> np.ndarray:
    """Clip into ``[1/K + margin, 1 - 1e-4]`` and round to 1e-6, shape as ``c``."""
    c = np.clip(c, 1.0 / k + _C_MARGIN, _C_MAX)
    return np.rint(c * MICRO) / MICRO


def _probabilities_micro(pred: np.ndarray, conf: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Class probabilities in micro-units with ``pred`` the strict argmax at ``conf``.

    The remaining mass ``1 - conf`` is split over the other classes with Dirichlet(1)
    weights, shrunk toward an even split where needed so that no other class reaches
    ``conf``; every class keeps at least 1e-6.

    Parameters
    ----------
    pred : ndarray of int, shape (n,)
    conf : ndarray of float, shape (n,)
        Multiples of 1e-6 in ``(1/K, 1)``.
    k : int
    rng : Generator

    Returns
    -------
    ndarray of int64, shape (n, K)
        Rows sum to exactly 10**6; ``out[i, pred[i]] == conf[i] * 10**6``.
    """
    n = pred.size
    c = np.rint(conf * MICRO).astype(np.int64)
    rest = MICRO - c
    out = np.empty((n, k), np.int64)
    others = (pred[:, None] + 1 + np.arange(k - 1)) % k  # (n, K-1)
    if k == 2:
        parts = rest[:, None]
    else:
        w = rng.standard_exponential((n, k - 1))
        w /= w.sum(axis=1, keepdims=True)
        free = rest - (k - 1)  # after the 1e-6 floor of each other class
        even = 1.0 / (k - 1)
        cap = (c - 1 - 1).astype(float)  # largest allowed part above the floor, strictly below c
        wmax = w.max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            lam = np.where(wmax > even, 0.9 * (cap - free * even) / (free * (wmax - even)), 1.0)
        lam = np.clip(np.nan_to_num(lam, nan=1.0), 0.0, 1.0)[:, None]
        share = lam * w + (1 - lam) * even
        parts = np.floor(share * free[:, None]).astype(np.int64)
        parts[:, -1] = free - parts[:, :-1].sum(axis=1)
        parts += 1
        bad = parts.max(axis=1) >= c
        if bad.any():  # rounding at the edge: fall back to the even split
            q, r = np.divmod(rest[bad], k - 1)
            parts[bad] = q[:, None] + (np.arange(k - 1) < r[:, None])
    np.put_along_axis(out, others, parts, axis=1)
    out[np.arange(n), pred] = c
    assert (out.sum(axis=1) == MICRO).all() and (out.min(axis=1) >= 0).all()
    assert (np.sort(out, axis=1)[:, -2] < c).all(), "predicted class must be the strict argmax"
    return out


def simulate_model(label: np.ndarray, k: int, assign: np.ndarray, slices: Sequence[PlantedSlice],
                    mean_confidence: float, concentration: float, rng: np.random.Generator,
                    class_error_gaps=None, class_rng: np.random.Generator | None = None):
    """Predictions and confidences of the simulated model.

    ``class_error_gaps`` (length K) makes classes weak everywhere: a correct prediction
    of class ``c`` is flipped to wrong with probability ``gap_c / mean_confidence``
    (uniforms from ``class_rng``, so the other draws stay as without it).

    Returns
    -------
    pred : ndarray of int, shape (n,)
    conf : ndarray of float, shape (n,)
        Multiples of 1e-6.
    proba_micro : ndarray of int64, shape (n, K)
    """
    n = label.size
    conf = _draw_confidence(n, k, mean_confidence, concentration, rng)
    u = rng.random((2, n))
    correct = u[0] < conf  # calibrated: P(correct | c) = c
    if slices:
        # Flip correct predictions to wrong with q = gap / mean_confidence so that the
        # error rate becomes (1 - mc) + mc * q = (1 - mc) + gap in expectation.
        q = np.array([s.error_gap / mean_confidence for s in slices] + [0.0])
        correct &= ~(u[1] < q[assign])  # assign == -1 picks the trailing 0
        target = np.array([np.nan if s.confidence is None else s.confidence for s in slices] + [np.nan])[assign]
        override = ~correct & ~np.isnan(target)
        if override.any():
            noisy = target[override] + _SLICE_CONFIDENCE_SD * rng.standard_normal(int(override.sum()))
            conf[override] = _quantise_confidence(noisy, k)
    if class_error_gaps is not None:
        q_class = np.asarray(class_error_gaps, float) / mean_confidence
        correct &= ~(class_rng.random(n) < q_class[label])
    shift = rng.integers(1, k, n)  # a wrong prediction is one of the other classes, uniformly
    pred = np.where(correct, label, (label + shift) % k)
    proba = _probabilities_micro(pred, conf, k, rng)
    return pred, conf, proba


