"""The profile from counts merged over batches of rows equals the profile of the rows, bit for bit.

Each batch of rows reduces to a :class:`blindspot.profiling.ProfileCounts` (the confusion
matrix and a histogram of each length); the merged counts must give the very floats
``metrics/profile.json`` holds today: the length mean and quantiles reproduce numpy's
arithmetic on the rows, so every float is compared with ``==`` (and NaN with NaN),
never approximately.
"""

import functools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _documents import assert_same
from blindspot import profiling

CONFIGURED = [0.05, 0.25, 0.5, 0.75, 0.95]  # conf/profile/default.yaml, profile.length_quantiles


def assert_identical(got, want):
    """``got`` and ``want`` are the same document: same types, same key order, bit-identical floats."""
    assert_same(got, want, path="profile")


def lengths(rng: np.random.Generator, size: int, kind: str, high: int) -> np.ndarray:
    """``size`` int32 lengths in ``[0, high]``: uniform, a few distinct values (heavy ties) or heavy-tailed."""
    if kind == "uniform":
        values = rng.integers(0, high + 1, size)
    elif kind == "ties":
        values = rng.choice(rng.integers(0, high + 1, rng.integers(1, 4)), size)
    else:  # most rows short, a few long: the shape of review lengths
        values = np.minimum(rng.geometric(1 / max(high / 20, 1.0), size) - 1, high)
    return values.astype(np.int32)


quantile_lists = st.one_of(
    st.just(CONFIGURED),
    st.lists(st.one_of(st.sampled_from([0.0, 1.0, 0.5, 1 / 3, 0.999999, 1e-9]), st.floats(0, 1)), max_size=8),
)


@settings(max_examples=600, deadline=None)
@given(size=st.integers(0, 2000), kinds=st.tuples(st.sampled_from(["uniform", "ties", "tail"]),
                                                  st.sampled_from(["uniform", "ties", "tail"])),
       highs=st.tuples(st.sampled_from([0, 1, 3, 40, 1000, 1_000_000]), st.sampled_from([0, 2, 500, 1_000_000])),
       seed=st.integers(0, 2**32 - 1), quantiles=quantile_lists)
def test_length_summary_of_histograms_is_the_length_summary_of_the_rows(size, kinds, highs, seed, quantiles):
    rng = np.random.default_rng(seed)
    words = lengths(rng, size, kinds[0], highs[0])
    chars = lengths(rng, size, kinds[1], highs[1])
    got = profiling.length_summary_of_histograms(profiling.length_histogram(words), profiling.length_histogram(chars),
                                                 quantiles)
    assert_identical(got, profiling.length_summary(words, chars, quantiles))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 60), max_size=60), st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_length_summary_of_histograms_on_small_lists(values, quantiles):
    hist = profiling.length_histogram(values)
    # Trailing zeros (a histogram grown by a merge) change nothing.
    padded = np.concatenate([hist, np.zeros(7, dtype=np.int64)])
    want = profiling.length_summary(values, values, quantiles)
    assert_identical(profiling.length_summary_of_histograms(hist, padded, quantiles), want)


@pytest.mark.parametrize("quantiles", [[0, 1], [1, 0, 0.5], [0.5, 0.5], [], [0.0, 1.0],
                                       [np.float32(0.3), np.float32(0.7)]])
def test_quantile_lists_of_every_type(quantiles):
    values = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], dtype=np.int32)
    hist = profiling.length_histogram(values)
    assert_identical(profiling.length_summary_of_histograms(hist, hist, quantiles),
                     profiling.length_summary(values, values, quantiles))


def test_no_rows_give_nan_and_bad_quantiles_are_refused_as_numpy_does():
    empty = np.zeros(0, dtype=np.int64)
    assert_identical(profiling.length_summary_of_histograms(empty, np.zeros(3, dtype=np.int64), CONFIGURED),
                     profiling.length_summary(empty, empty, CONFIGURED))
    with pytest.raises(ValueError, match=r"Quantiles must be in the range \[0, 1\]"):
        profiling.length_summary_of_histograms([1], [1], [1.5])
    with pytest.raises(ValueError, match=r"Quantiles must be in the range \[0, 1\]"):
        profiling.length_summary([0], [0], [1.5])


def test_the_mean_of_large_lengths_is_exact():
    # Every length near the int32 limit cannot be a histogram; 2000 rows of up to 4 million
    # characters sum to about 2**33, far below 2**53, where numpy's float sum is exact too.
    rng = np.random.default_rng(7)
    values = rng.integers(3_000_000, 4_000_000, 2000).astype(np.int32)
    hist = profiling.length_histogram(values)
    assert_identical(profiling.length_summary_of_histograms(hist, hist, CONFIGURED),
                     profiling.length_summary(values, values, CONFIGURED))


def test_histograms_refuse_negative_lengths_and_add_whatever_their_lengths():
    with pytest.raises(ValueError, match="non-negative"):
        profiling.length_histogram([2, -1])
    assert profiling.length_histogram([]).tolist() == []
    assert profiling.add_histograms([1, 2], [0, 0, 0, 4]).tolist() == [1, 2, 0, 4]
    assert profiling.add_histograms([], []).dtype == np.int64


def canonical_frame(n: int, seed: int, extra_class: bool) -> tuple[pd.DataFrame, list]:
    """A generated predictions table; ``extra_class`` adds a class with no rows that the model predicts 3 times."""
    from blindspot.synth import generate

    frame = generate(n, seed=seed).frame
    classes = ["negative", "neutral", "positive"] + (["sarcasm"] if extra_class else [])
    y_pred = frame["prediction"].map(classes.index).to_numpy(dtype=np.int64, copy=True)
    if extra_class and n:
        y_pred[:: max(n // 3, 1)][:3] = len(classes) - 1
    frame = frame.assign(y_true=frame["label"].map(classes.index), y_pred=y_pred, text=frame["text"].astype("string"))
    return frame, classes


def batch_counts(frame: pd.DataFrame, cuts, k: int) -> list:
    """:class:`ProfileCounts` of the batches ``frame`` splits into at ``cuts``."""
    parts = []
    for lo, hi in zip([0, *cuts], [*cuts, len(frame)]):
        batch = frame.iloc[lo:hi]
        words, chars = profiling.text_lengths(batch["text"])
        parts.append(profiling.ProfileCounts.of(batch["y_true"].to_numpy(), batch["y_pred"].to_numpy(), words, chars,
                                                k))
    return parts


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), seed=st.integers(0, 1000), extra_class=st.booleans(), data=st.data())
def test_profile_of_merged_batch_counts_is_the_profile_of_the_rows(n, seed, extra_class, data):
    frame, classes = canonical_frame(n, seed, extra_class)
    kw = dict(n_boot=60, level=0.9, length_quantiles=CONFIGURED)
    whole = profiling.profile_predictions(frame, classes, rng=np.random.default_rng(seed), **kw)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=8), label="cuts"))
    parts = batch_counts(frame, cuts, len(classes))
    # Merged in any order (here: shuffled, then folded from the empty counts).
    order = data.draw(st.permutations(range(len(parts))), label="order")
    merged = functools.reduce(profiling.ProfileCounts.merge, [parts[i] for i in order],
                              profiling.ProfileCounts.empty(len(classes)))
    got = profiling.profile_of_counts(merged, classes, rng=np.random.default_rng(seed), duplicates=whole["duplicates"],
                                      **kw)
    assert_identical(got, whole)
    if extra_class:
        assert whole["per_class"]["sarcasm"]["support"] == 0 and whole["imbalance_ratio"] == float("inf")


def test_merge_is_exact_and_refuses_other_classes():
    frame, classes = canonical_frame(200, 3, extra_class=True)
    a, b, c = batch_counts(frame, [50, 120], len(classes))
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    whole = batch_counts(frame, [], len(classes))[0]
    for counts in (left, right, c.merge(a).merge(b)):
        assert counts.n_rows == 200 == whole.n_rows
        for name in ("confusion", "words", "chars"):
            assert np.array_equal(getattr(counts, name), getattr(whole, name))
            assert getattr(counts, name).dtype == np.int64
    longest = int(profiling.text_lengths(frame["text"])[0].max())
    assert whole.confusion.shape == (4, 4) and len(whole.words) == longest + 1
    with pytest.raises(ValueError, match="3 and 4 classes"):
        profiling.ProfileCounts.empty(3).merge(a)
    with pytest.raises(ValueError, match="one value per row"):
        profiling.ProfileCounts.of([0, 1], [0, 1], [3], [3, 4], 2)
    with pytest.raises(ValueError):
        profiling.ProfileCounts.of([0, 2], [0, 1], [3, 3], [3, 4], 2)  # a code outside the classes
