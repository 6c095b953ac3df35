"""Writing a generated data set: JSON Lines (nested contract form), Parquet or CSV, and its truth.

JSON Lines are assembled with ``pyarrow.compute`` from string pieces and written
straight from the Arrow buffer, in chunks, so a million rows take seconds and bounded
memory; probabilities are written with 6 decimals, exactly as in the frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from blindspot.synth.spec import MICRO, SynthData



def truth_path(path: str | Path) -> Path:
    """Where :func:`write` puts the truth of ``path``: ``<stem>.truth.json`` beside it."""
    path = Path(path)
    return path.with_name(path.stem + ".truth.json")


def _proba_micro_for_writing(frame: pd.DataFrame, classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and confidence rounded to 1e-6, consistent as written.

    The predicted class is set to the rounded confidence, the other classes are
    rounded and any residual of the sum goes to the largest other class; then the
    contract is re-checked (sum exactly 1, prediction the strict argmax).

    Returns
    -------
    proba : ndarray of int64, shape (n, K)
    conf : ndarray of int64, shape (n,)
        Micro-units.
    """
    k = len(classes)
    proba = np.rint(frame[[f"p_{c}" for c in classes]].to_numpy(np.float64) * MICRO).astype(np.int64)
    conf = np.rint(frame["confidence"].to_numpy(np.float64) * MICRO).astype(np.int64)
    pred = pd.Categorical(frame["prediction"], categories=list(classes)).codes.astype(np.int64)
    if (pred < 0).any():
        raise ValueError("a prediction is not one of the classes")
    rows = np.arange(len(frame))
    proba[rows, pred] = conf
    residual = MICRO - proba.sum(axis=1)
    if residual.any():
        masked = np.where(np.arange(k) == pred[:, None], -1, proba)
        proba[rows, masked.argmax(axis=1)] += residual
    others = np.where(np.arange(k) == pred[:, None], -1, proba).max(axis=1)
    if (proba < 0).any() or (others >= conf).any():
        raise ValueError("probabilities cannot be written with 6 decimals and keep the prediction the strict argmax")
    return proba, conf


def _fmt_micro(values: np.ndarray) -> pa.Array:
    """Micro-unit integers as shortest decimal strings (``850000`` -> ``"0.85"``)."""
    whole = pc.cast(pa.array(values // MICRO), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(values % MICRO), pa.string()), 6, "0")
    frac = pc.utf8_rtrim(frac, "0")
    frac = pc.if_else(pc.equal(pc.utf8_length(frac), 0), pa.scalar("0"), frac)
    return pc.binary_join_element_wise(whole, frac, ".")


def _json_string(values: pd.Series) -> pa.Array:
    """Strings as JSON string literals (quoted, escaped), vectorised, shape (n,)."""
    values = values.astype(str)
    # Few distinct values (labels, metadata): escape each once with json. A sample
    # tells cheaply whether hashing the whole column is worth it.
    if values.iloc[:1000].nunique() <= 100:
        codes, uniques = pd.factorize(values)
        if len(uniques) <= max(100, len(values) // 10):
            literals = pa.array([json.dumps(u, ensure_ascii=False) for u in uniques], pa.string())
            return literals.take(pa.array(codes))
    arr = pc.cast(pa.array(values), pa.string())
    if pc.any(pc.match_substring_regex(arr, "[\\\\\\x00-\\x1f]")).as_py():
        # Backslashes and control characters are rare: leave them to the json module.
        arr = pa.array([json.dumps(s, ensure_ascii=False)[1:-1] for s in values], pa.string())
    else:
        arr = pc.replace_substring(arr, '"', '\\"')
    return pc.binary_join_element_wise('"', arr, '"', "")


def _jsonl_lines(frame: pd.DataFrame, classes: Sequence[str]) -> pa.Array:
    """One JSON object per row in the nested contract form, newline included, shape (n,)."""
    proba, conf = _proba_micro_for_writing(frame, classes)
    probas = [f"p_{c}" for c in classes]
    pieces: list = []

    def key(name: str, first: bool = False) -> str:
        return ("{" if first else ",") + json.dumps(name) + ":"

    for i, col in enumerate(frame.columns):
        if col in probas:
            continue
        if col == "confidence":
            pieces += [key(col), _fmt_micro(conf), key("probabilities")]
            for j, c in enumerate(classes):
                pieces += [("{" if j == 0 else ",") + json.dumps(c) + ":", _fmt_micro(proba[:, j])]
            pieces.append("}")
        elif pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
            pieces += [key(col, i == 0), pc.cast(pa.array(frame[col].to_numpy()), pa.string())]
        else:
            pieces += [key(col, i == 0), _json_string(frame[col])]
    pieces.append("}\n")
    # Constant pieces stay scalars: pyarrow broadcasts them.
    return pc.binary_join_element_wise(*pieces, "")


def _write_concatenated(fh, strings: pa.Array) -> None:
    """Write the strings of ``strings`` back to back, straight from its data buffer."""
    strings = pc.cast(strings, pa.large_string())  # 64-bit offsets: no 2 GiB limit
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int64)[strings.offset:strings.offset + len(strings) + 1]
    if len(strings):
        fh.write(memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]])


def write(data: SynthData, path: str | Path, *, chunk_rows: int = 200_000) -> tuple[Path, Path]:
    """Write the frame and its truth.

    Parameters
    ----------
    data : SynthData
    path : str or Path
        ``.jsonl``/``.ndjson``: JSON Lines in the nested contract form (``probabilities``
        an object by class, 6 decimals, exact as in the frame); ``.parquet``: flat
        columns; anything else (``.csv``): flat CSV.
    chunk_rows : int
        JSON Lines are written this many rows at a time (bounds memory).

    Returns
    -------
    (data_path, truth_path) : tuple of Path
        ``truth_path`` is ``<stem>.truth.json`` beside the data (sorted keys, indent 2).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame, classes = data.frame, data.classes
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        with open(path, "wb") as fh:
            for start in range(0, len(frame), chunk_rows):
                _write_concatenated(fh, _jsonl_lines(frame.iloc[start:start + chunk_rows], classes))
    elif suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    else:
        # pyarrow's writer is an order of magnitude faster than DataFrame.to_csv.
        pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)
    tpath = truth_path(path)
    tpath.write_text(json.dumps(data.truth, sort_keys=True, indent=2) + "\n", encoding="utf-8")
    return path, tpath


