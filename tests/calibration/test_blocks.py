"""Calibration blocks from kept batches: the blocks of the rows in one process, on both engines, to the same bits."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.calibration.blocks import BatchRows, block_totals
from blindspot.calibration.metrics import brier_rows, log_loss_rows, top_label_brier_rows
from blindspot.calibration.summary import calibration_summary, summary_of_totals
from blindspot.engine.batches import LocalParts

LOSSES = ["brier_top_label", "brier", "log_loss"]
N_BINS = 10


def _table(n=3000, seed=0, k=3):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * 2
    proba = np.round(np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True), 3)  # ties, as real outputs have
    proba /= proba.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({f"proba__{c}": proba[:, c] for c in range(k)})
    frame["y_true"] = np.array([rng.choice(k, p=p) for p in proba], dtype=np.int8)
    frame["flag"] = rng.random(n) < 0.25  # a slice's membership, carried with the rows
    return frame


def _rows(frame: pd.DataFrame) -> BatchRows:
    proba = frame[[c for c in frame.columns if c.startswith("proba__")]].to_numpy(float)
    y_true = frame["y_true"].to_numpy(np.intp)
    y_pred = proba.argmax(axis=1)
    conf, correct = proba.max(axis=1), y_pred == y_true
    losses = {"brier_top_label": top_label_brier_rows(correct, conf), "brier": brier_rows(y_true, proba),
              "log_loss": log_loss_rows(y_true, proba)}
    members = (np.ones(len(frame), bool), y_pred == 0, y_pred == 1, frame["flag"].to_numpy(bool),
               np.zeros(len(frame), bool))
    return BatchRows(correct, conf, losses, members, y_true, proba)


def _blocks(totals, seed=0):
    return [summary_of_totals(t, n_boot=200, ci_level=0.95, rng=np.random.default_rng(seed + g)).metrics
            for g, t in enumerate(totals)]


def test_blocks_from_batches_are_the_blocks_of_the_rows():
    frame = _table()
    whole = _rows(frame)
    parts = LocalParts([_rows(frame.iloc[rows]) for rows in np.array_split(np.random.default_rng(1).permutation(
        len(frame)), 4)])
    got = _blocks(block_totals(parts, LOSSES, n_bins=N_BINS))
    for g, member in enumerate(whole.members):  # the last group has no row
        want = calibration_summary(whole.correct[member], whole.confidence[member], y_true=whole.y_true[member],
                                   proba=whole.proba[member], n_bins=N_BINS, n_boot=200,
                                   rng=np.random.default_rng(g)).metrics
        for key, value in want.items():
            if isinstance(value, dict):
                for part in ("value", "ci_low", "ci_high"):
                    assert got[g][key][part] == pytest.approx(value[part], rel=1e-9, abs=1e-12, nan_ok=True), (g, key)
            else:
                assert got[g][key] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), (g, key)
    assert got[4]["n"] == 0


def test_any_batches_give_the_same_bits():
    frame = _table(seed=2)
    blocks = []
    for n_batches, seed in ((1, 0), (3, 1), (7, 2)):
        order = np.random.default_rng(seed).permutation(len(frame))
        parts = LocalParts([_rows(frame.iloc[rows]) for rows in np.array_split(order, n_batches)])
        blocks.append(json.dumps(_blocks(block_totals(parts, LOSSES, n_bins=N_BINS)), sort_keys=True))
    assert blocks[0] == blocks[1] == blocks[2]


def test_batches_kept_on_dask_workers_give_the_same_bits_as_here(tmp_path):
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig
    from blindspot.engine.batches import resident_parts

    frame = _table(n=4000, seed=3)
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=900)
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    out = {}
    for engine in ("local", "dask"):
        with resident_parts(path, list(frame.columns), _rows, engine=engine, dask=cfg, batch_rows=700) as parts:
            out[engine] = json.dumps(_blocks(block_totals(parts, LOSSES, n_bins=N_BINS)), sort_keys=True)
    assert out["local"] == out["dask"]
