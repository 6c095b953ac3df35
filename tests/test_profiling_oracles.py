"""Profiling's fast paths against the straightforward computations they replace."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot import profiling
from blindspot.text_features import n_words


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab \t\n\x0bé’!", max_size=8), min_size=1, max_size=20))
def test_length_profile_words_equal_n_words(texts):
    series = pd.Series(texts, dtype="str")
    expected = n_words(series).astype(float)
    got = profiling.length_profile(series, [0.5])["words"]
    assert got["mean"] == expected.mean() and got["min"] == expected.min() and got["max"] == expected.max()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "z", "x ", ""]), st.sampled_from(["p", "n", "u"])),
                min_size=1, max_size=30))
def test_duplicate_profile_equals_drop_duplicates(rows):
    texts, labels = zip(*rows)
    frame = pd.DataFrame({"text": list(texts), "label": list(labels)})
    codes, uniques = pd.factorize(frame["text"])
    per_text = np.bincount(codes, minlength=len(uniques))
    labels_per_text = frame.assign(code=codes).drop_duplicates(["code", "label"])["code"].value_counts()
    expected = {"distinct_texts": len(uniques), "duplicate_rows": len(frame) - len(uniques),
                "duplicated_texts": int((per_text > 1).sum()),
                "conflicting_label_texts": int((labels_per_text > 1).sum())}
    assert profiling.duplicate_profile(list(texts), list(labels)) == expected
