"""The profile read a batch of texts at a time equals the profile of the whole table.

The digests that replace the texts (blindspot.duplicates.text_digests) must group rows
exactly as the texts do, and every per-row result must not depend on where the batches
split the table.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot import duplicates, profiling

# Texts that collide after normalisation in many ways: case (ASCII and full Unicode folding),
# every kind of whitespace Python's str.split knows (ASCII separators \x1c-\x1f, no-break and em
# spaces), leading, trailing and repeated spaces, accents, punctuation.
PIECES = ["a", "A", "b", "ß", "SS", "ss", "é", "É", "!", " ", "  ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c",
          "\x1f", "\u00a0", "\u2003", "\u0130", "ﬀ"]
texts_strategy = st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), max_size=40)


def batched(values, size):
    """``values`` as consecutive pandas Series of at most ``size`` items (string dtype, as the reader gives)."""
    series = pd.Series(values, dtype="string")
    return [series.iloc[i:i + size] for i in range(0, len(series), size)]


def whole_digests(texts, size):
    parts = [duplicates.text_digests(batch) for batch in batched(texts, size)]
    if not parts:
        return np.zeros(0, dtype=duplicates.DIGEST), np.zeros(0, dtype=duplicates.DIGEST)
    return tuple(np.concatenate(p) for p in zip(*parts))


@settings(max_examples=300, deadline=None)
@given(texts_strategy, st.integers(1, 7))
def test_digest_groups_equal_the_text_groups_whatever_the_batches(texts, size):
    exact, normalised = whole_digests(texts, size)
    assert np.array_equal(duplicates.digest_codes(normalised), duplicates.group_codes(texts))
    # pd.factorize numbers exact texts by first appearance too.
    assert np.array_equal(duplicates.digest_codes(exact), pd.factorize(pd.Series(texts, dtype="string"))[0])


@settings(max_examples=300, deadline=None)
@given(texts_strategy)
def test_normalised_texts_equal_normalise_text(texts):
    assert duplicates.normalised_texts(texts).tolist() == [duplicates.normalise_text(t) for t in texts]


def test_digests_read_missing_texts_as_empty_and_tell_texts_apart():
    exact, normalised = duplicates.text_digests(pd.Series(["", None, "Ab", "ab", "ab "], dtype="string"))
    assert exact[0] == exact[1] and normalised[0] == normalised[1]
    assert len(set(exact.tolist())) == 4 and len(set(normalised.tolist())) == 2
    assert exact.dtype == duplicates.DIGEST and exact.shape == (5,)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=30))
def test_digest_codes_on_shared_first_halves_equal_the_sort(pairs):
    """Digests whose first 64 bits coincide while the rest differs (a 64-bit collision) still group apart."""
    d = np.array(pairs, dtype=np.uint64).reshape(-1, 2).view(duplicates.DIGEST).reshape(-1)
    got = duplicates.digest_codes(d)
    assert np.array_equal(got, duplicates._sorted_codes(d))
    assert np.array_equal(got, pd.factorize(pd.Series([tuple(p) for p in pairs], dtype=object))[0])


def test_digest_codes_number_groups_by_first_row():
    d = np.frombuffer(b"".join(bytes([k]) * 16 for k in (9, 3, 9, 1, 3, 7)), dtype=duplicates.DIGEST)
    assert duplicates.digest_codes(d).tolist() == [0, 1, 0, 2, 1, 3]
    assert duplicates.digest_codes(d[:0]).tolist() == []


@pytest.mark.parametrize("size", [1, 3, 64])
def test_profile_from_batches_equals_the_whole_table(size):
    from blindspot.synth import generate

    frame = generate(120, seed=5).frame
    # Repeats, some re-typed (case, spaces), some labelled otherwise: exact and normalised groups
    # both get members, and label conflicts.
    retyped = frame.iloc[20:30].assign(text=lambda f: f["text"].str.upper() + "  ")
    relabelled = frame.iloc[40:45].assign(label=lambda f: f["label"].map({"negative": "positive"}).fillna("negative"))
    frame = pd.concat([frame, frame.iloc[:15], retyped, relabelled], ignore_index=True)
    classes = ["negative", "neutral", "positive"]
    frame = frame.assign(y_true=frame["label"].map(classes.index), y_pred=frame["prediction"].map(classes.index),
                         text=frame["text"].astype("string"))
    kw = dict(n_boot=50, level=0.9, length_quantiles=[0.1, 0.5, 0.9])
    whole = profiling.profile_predictions(frame, classes, rng=np.random.default_rng(0), **kw)
    texts = batched(frame["text"].tolist(), size)
    # Without texts and labels in the frame (as the stage reads it): y_true stands for the labels.
    parts = profiling.profile_predictions(frame.drop(columns=["text", "label"]), classes,
                                          rng=np.random.default_rng(0), texts=iter(texts), **kw)
    assert parts == whole
    assert whole["duplicates"]["conflicting_label_texts"] == whole["duplicates"]["conflicting_label_groups"] == 5
    assert whole["duplicates"]["groups"] > whole["duplicates"]["duplicated_texts"] > 0
    assert whole["text_length"] == profiling.length_profile(frame["text"], [0.1, 0.5, 0.9])
    assert whole["duplicates"]["distinct_texts"] == profiling.duplicate_profile(frame["text"],
                                                                               frame["label"])["distinct_texts"]


def test_profile_refuses_texts_that_do_not_match_the_rows():
    frame = pd.DataFrame({"y_true": [0, 1], "y_pred": [0, 1], "label": ["a", "b"]})
    with pytest.raises(ValueError, match="one text per row of the frame. Got 1 for 2 rows"):
        profiling.profile_predictions(frame, ["a", "b"], n_boot=10, level=0.9, rng=np.random.default_rng(0),
                                      length_quantiles=[0.5], texts=[pd.Series(["x"], dtype="string")])


def test_text_rows_of_no_batch_is_empty():
    rows = profiling.text_rows([])
    assert [len(a) for a in (rows.words, rows.chars, rows.exact, rows.normalised)] == [0, 0, 0, 0]
