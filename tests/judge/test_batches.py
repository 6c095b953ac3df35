"""The judge reading its texts a batch at a time equals the judge on the whole table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blindspot import text_features
from blindspot.config import JudgeConfig
from blindspot.io.readers import rows_at
from blindspot.judge.pipeline import CANDIDATE_COLUMNS, cue_flags, judge_predictions
from _documents import assert_same
from judge.helpers import CLASSES, canonical_frame


@pytest.fixture(scope="module")
def frame():
    from blindspot.synth import generate

    raw = generate(300, seed=11).frame
    # Cue phrases on a few rows, so both targeted rules have rows to choose.
    texts = raw["text"].tolist()
    for i in range(0, 300, 17):
        texts[i] = "Oh great, just what I needed. " + texts[i]
    for i in range(5, 300, 23):
        texts[i] = "It helped my pain but the nausea was terrible. " + texts[i]
    return canonical_frame(texts, raw["label"], raw["prediction"], raw["confidence"])


def batches_of(frame, size):
    def batches(names, prefixes=()):
        columns = list(names) + [c for c in frame.columns if c not in names and c.startswith(tuple(prefixes))]
        return (frame[columns].iloc[i:i + size].reset_index(drop=True) for i in range(0, len(frame), size))
    return batches


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_cue_flags_from_batches_equal_the_detectors_on_every_text(frame, size):
    sarcasm, mixed = cue_flags(b["text"] for b in batches_of(frame, size)(["text"]))
    assert np.array_equal(sarcasm, text_features.sarcasm_cues(frame["text"]))
    assert np.array_equal(mixed, text_features.mixed_sentiment(frame["text"]))
    assert sarcasm.sum() > 10 and mixed.sum() > 5
    assert [len(a) for a in cue_flags([])] == [0, 0]


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_rows_at_equals_iloc(frame, size):
    positions = np.array([0, 6, 7, 8, 150, 299])
    got = rows_at(batches_of(frame, size)(CANDIDATE_COLUMNS), positions, CANDIDATE_COLUMNS)
    pd.testing.assert_frame_equal(got, frame[list(CANDIDATE_COLUMNS)].iloc[positions].reset_index(drop=True))
    assert rows_at(batches_of(frame, size)(["text"]), [], ["text"]).shape == (0, 1)


def test_rows_at_refuses_a_position_past_the_table(frame):
    with pytest.raises(IndexError, match="1 of 2 positions are past the table's 300 rows"):
        rows_at(batches_of(frame, 64)(["text"]), [3, 300], ["text"])
    assert list(rows_at([], [], ["id", "text"]).columns) == ["id", "text"]


@pytest.mark.parametrize("size", [1, 13])
def test_judge_from_batches_equals_the_judge_on_the_whole_table(frame, size, tmp_path):
    cfg = JudgeConfig(backend="offline", max_candidates=120, random_sample_size=20)
    kw = dict(classes=CLASSES, seed=3, n_boot=50, ci_level=0.9)
    whole = judge_predictions(frame, cfg, cache_path=tmp_path / "a.jsonl", **kw)
    parts = judge_predictions(None, cfg, cache_path=tmp_path / "b.jsonl", batches=batches_of(frame, size), **kw)
    assert parts.rows == whole.rows
    assert parts.metrics == whole.metrics
    assert {r["selected_by"] for r in whole.rows} >= {"random_sample", "sarcasm_cue", "mixed_cue"}


@pytest.mark.parametrize("size, max_calls", [(None, 500), (13, 500), (13, 30)])
def test_the_same_rows_in_another_order_give_the_same_judge(frame, size, max_calls, tmp_path):
    # Rows shuffled (records and ids travel with their rows): the same candidates, judgments and metrics,
    # also when the call budget leaves some candidates unasked (the same ones).
    cfg = JudgeConfig(backend="offline", max_candidates=120, random_sample_size=20, max_calls=max_calls)
    kw = dict(classes=CLASSES, seed=3, n_boot=50, ci_level=0.9)
    shuffled = frame.iloc[np.random.default_rng(0).permutation(len(frame))].reset_index(drop=True)
    runs = []
    for name, table in (("a", frame), ("b", shuffled)):
        batches = None if size is None else batches_of(table, size)
        runs.append(judge_predictions(table, cfg, cache_path=tmp_path / f"{name}.jsonl", batches=batches, **kw))
    whole, moved = runs
    assert sorted(r["id"] for r in moved.rows) == sorted(r["id"] for r in whole.rows)
    assert sorted(moved.rows, key=lambda r: r["id"]) == sorted(whole.rows, key=lambda r: r["id"])
    # Confident learning's thresholds are sums in fixed point (counts.unit_sums): exact in any order too.
    assert moved.metrics == whole.metrics
    assert {r["selected_by"] for r in whole.rows} >= {"random_sample", "confidently_incorrect", "sarcasm_cue", "mixed_cue"}
    unasked = [r for r in whole.rows if r["failure"] and r["failure"]["kind"] == "budget_exhausted"]
    if max_calls == 30:  # 30 distinct questions sent (candidates with the same text and label share one)
        assert unasked and len({r["cache_key"] for r in whole.rows if r not in unasked}) == 30
    else:
        assert not unasked
    # The random sample is asked first: the budget cut leaves it whole.
    assert not any(r["selected_by"] == "random_sample" for r in unasked)


def test_a_table_of_no_row_reports_the_same_whether_read_whole_or_in_batches(frame, tmp_path):
    """No batch comes out of a table of no row, so whether it has probabilities is said (the stage reads
    the file's columns) or read from the frame: the label-issue block is the same either way."""
    cfg = JudgeConfig(backend="offline", max_candidates=10, random_sample_size=5)
    kw = dict(classes=CLASSES, seed=3, n_boot=20, ci_level=0.9)
    empty = frame.iloc[:0]
    whole = judge_predictions(empty, cfg, cache_path=tmp_path / "a.jsonl", **kw)
    batched = judge_predictions(None, cfg, cache_path=tmp_path / "b.jsonl", batches=batches_of(empty, 7),
                                has_probabilities=True, **kw)
    assert_same(batched.metrics, whole.metrics)  # NaN where nothing is measurable, on both sides
    assert whole.rows == batched.rows == []
    issues = whole.metrics["label_issues"]
    assert issues["available"] == 1 and issues["confident_learning"]["n"] == 0
