"""The slice stage's text pass split over threads gives exactly the single call's table."""

import pandas as pd
import pytest

from blindspot import text_features as tf
from blindspot.slices import features as F

TEXTS = ["I don't like it", "Oh great, now I can't sleep!", "Metformin 500 mg twice a day?", "", "WORKS GREAT",
         "the side effects were awful but it saved my life", "I don't like it", "no", "  ", "Ca va très bien"]


@pytest.mark.parametrize("workers", [1, 2, 3, 7, 40])
def test_chunked_text_features_equal_one_call(workers):
    texts = pd.Series(TEXTS * 3, dtype="string", index=pd.RangeIndex(5, 5 + 3 * len(TEXTS)))
    got = F.text_feature_table(texts, workers=workers)
    pd.testing.assert_frame_equal(got, tf.text_features(texts))


def test_default_workers_stay_single_below_the_threshold(monkeypatch):
    calls, original = [], tf.text_features
    monkeypatch.setattr(F.tf, "text_features", lambda t: calls.append(len(t)) or original(t))
    F.text_feature_table(pd.Series(TEXTS, dtype="string"))
    assert calls == [len(TEXTS)]
    monkeypatch.setattr(F, "PARALLEL_MIN_ROWS", 4)
    monkeypatch.setattr(F.os, "cpu_count", lambda: 2)
    calls.clear()
    F.text_feature_table(pd.Series(TEXTS, dtype="string"))
    assert sorted(calls) == [5, 5]
