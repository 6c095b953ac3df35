"""Fixtures for the calibration tests: canonical prediction frames with known calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

CLASSES = ["negative", "neutral", "positive"]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def synthetic_proba(n, *, seed, sharpness=1.0, n_classes=3):
    """Labels drawn from softmax(z); the model reports softmax(sharpness * z).

    sharpness 1 is perfectly calibrated, > 1 overconfident, < 1 underconfident.
    Returns (y_true, proba).
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.2, (n, n_classes)) + np.linspace(-0.5, 0.8, n_classes)
    q = softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(q, axis=1)).sum(axis=1)
    y = np.minimum(y, n_classes - 1)
    return y, softmax(sharpness * z)


def canonical_frame(y_true, proba, classes=None, *, with_proba=True, ids=None) -> pd.DataFrame:
    """A frame in the layout of data/interim/predictions.parquet."""
    proba = np.asarray(proba, float)
    k = proba.shape[1]
    classes = classes or (CLASSES if k == 3 else [f"c{i}" for i in range(k)])
    y_pred = proba.argmax(axis=1)
    n = len(y_true)
    frame = pd.DataFrame({
        "record": np.arange(1, n + 1),
        "id": pd.array(ids if ids is not None else [f"r-{i:05d}" for i in range(n)], dtype="string"),
        "text": pd.array([f"review number {i}" for i in range(n)], dtype="string"),
        "label": pd.array(np.asarray(classes, dtype=object)[y_true], dtype="string"),
        "prediction": pd.array(np.asarray(classes, dtype=object)[y_pred], dtype="string"),
        "confidence": proba.max(axis=1),
        "y_true": np.asarray(y_true).astype(np.int8),
        "y_pred": y_pred.astype(np.int8),
        "correct": np.asarray(y_true) == y_pred,
    })
    if with_proba:
        for i, c in enumerate(classes):
            frame[f"proba__{c}"] = proba[:, i]
    return frame


@pytest.fixture
def overconfident_frame():
    y, p = synthetic_proba(1500, seed=3, sharpness=2.0)
    return canonical_frame(y, p)


@pytest.fixture
def calibrated_frame():
    y, p = synthetic_proba(1500, seed=4, sharpness=1.0)
    return canonical_frame(y, p)


@pytest.fixture
def make_synthetic():
    """``synthetic_proba(n, *, seed, sharpness=1.0, n_classes=3) -> (y_true, proba)``."""
    return synthetic_proba


@pytest.fixture
def make_frame():
    """``canonical_frame(y_true, proba, classes=None, *, with_proba=True, ids=None) -> DataFrame``."""
    return canonical_frame
