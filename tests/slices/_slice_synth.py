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
