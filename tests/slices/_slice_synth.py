"""Synthetic data in the canonical predictions layout, for slice tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot import synth


def canonical(data: "synth.SynthData") -> pd.DataFrame:
    """The canonical table ingest would produce from ``data.frame`` (no file round trip)."""
    f = data.frame
    classes = list(data.classes)
    code = {c: i for i, c in enumerate(classes)}
    out = pd.DataFrame({
        "record": np.arange(1, len(f) + 1),
        "id": f["id"].astype("string"),
        "text": f["text"].astype("string"),
        "label": f["label"].astype("string"),
        "prediction": f["prediction"].astype("string"),
        "confidence": f["confidence"].to_numpy(dtype=float),
        "y_true": f["label"].map(code).to_numpy(dtype=np.int8),
        "y_pred": f["prediction"].map(code).to_numpy(dtype=np.int8),
    })
    out["correct"] = out["y_true"] == out["y_pred"]
    for col in synth.METADATA_COLUMNS:
        out[f"meta__{col}"] = f[col].astype("string")
    return out


def generate(n: int, seed: int, planted=None) -> tuple[pd.DataFrame, "synth.SynthData"]:
    if planted:
        data = synth.generate(n, seed=seed, mode="planted", planted=planted)
    else:
        data = synth.generate(n, seed=seed, mode="null")
    return canonical(data), data


def predictions_table(y_true, y_pred, texts, classes, rng: np.random.Generator, meta=None) -> pd.DataFrame:
    """Canonical predictions (the layout ingest writes) from class indices and texts.

    ``y_true``, ``y_pred``: int arrays, shape (n,); ``texts``: n strings; ``meta``: column
    name -> n values (stored as ``meta__<name>``). The confidence is drawn from ``rng``
    last, uniform on [0.5, 1).
    """
    n = len(y_true)
    out = pd.DataFrame({"id": pd.Series([f"r{i:05d}" for i in range(n)], dtype="string"),
                        "text": pd.Series(texts, dtype="string"),
                        "y_true": np.asarray(y_true).astype(np.int64), "y_pred": np.asarray(y_pred).astype(np.int64)})
    out["label"] = pd.Series(np.asarray(classes, dtype=object)[out["y_true"].to_numpy()], dtype="string")
    out["prediction"] = pd.Series(np.asarray(classes, dtype=object)[out["y_pred"].to_numpy()], dtype="string")
    out["confidence"] = rng.uniform(0.5, 1.0, n)
    for name, values in (meta or {}).items():
        out[f"meta__{name}"] = values
    return out
