"""Metadata columns from summaries: any batches give the predicates and rows of the whole column."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.slices import columns as sc
from blindspot.slices import features as sf

N_QUANTILES = 4
OPTIONS = {"max_levels": None, "n_quantiles": N_QUANTILES, "min_support": 3}


def _columns(n: int, rng) -> dict:
    """Metadata columns of every shape the kind rules tell apart, ``n`` rows each."""
    words = np.array(["Birth Control", "Acne", "Pain", "acne", "Other", "", "Depression", "x y z"], dtype=object)
    strings = pd.Series(words[rng.integers(0, len(words), n)], dtype=object)
    strings[rng.random(n) < 0.1] = None
    flags = pd.Series(rng.random(n) < 0.4, dtype=object)
    flags[rng.random(n) < 0.1] = None
    floats = pd.Series(np.round(rng.normal(size=n), 2))
    floats[rng.random(n) < 0.1] = np.nan
    stamps = pd.Series([f"20{10 + i % 12:02d}-0{1 + i % 9}-1{i % 10}T0{i % 10}:00:00{'+02:00' if i % 3 else 'Z'}"
                        for i in range(n)], dtype=object)
    stamps[rng.random(n) < 0.05] = "2019-13-45"  # the shape of a date, not one: missing once parsed
    return {
        "condition": strings,
        "flag": flags,  # booleans with a missing value: object, compared as "True"/"False"
        "clean_flag": pd.Series(rng.random(n) < 0.5),
        "stars": pd.Series(rng.integers(1, 4, n)),  # few numbers: a category
        "useful": pd.Series(rng.integers(0, 500, n)),
        "score": floats,
        "date": pd.Series([f"2012-0{1 + i % 9}-{10 + i % 19}" for i in range(n)], dtype=object),
        "stamp": stamps,
        "review_id": pd.Series([f"r{i}" for i in range(n)], dtype=object),  # an identifier: skipped
        "empty": pd.Series([None] * n, dtype=object),
    }


def _whole_and_batched(values: pd.Series, name: str, cuts) -> tuple:
    whole = sc.ColumnSummary.of(name, values, N_QUANTILES)
    bounds = [0, *sorted(cuts), len(values)]
    parts = [sc.ColumnSummary.of(name, values.iloc[lo:hi].reset_index(drop=True), N_QUANTILES)
             for lo, hi in zip(bounds[:-1], bounds[1:])]
    merged = sc.merge_summaries([{name: p} for p in parts])[name]
    return whole, merged, bounds


def _rules(summary, name):
    return sc.metadata_rules({name: summary}, **OPTIONS)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 300), max_size=6))
def test_batches_define_the_predicates_and_rows_of_the_whole_column(seed, cuts):
    frame = _columns(300, np.random.default_rng(seed))
    for name, values in frame.items():
        whole, merged, bounds = _whole_and_batched(values, name, cuts)
        a, b = _rules(whole, name), _rules(merged, name)
        assert a.predicates == b.predicates and a.columns == b.columns, name
        assert {k: list(c.levels) for k, c in a.categorical.items()} == \
            {k: list(c.levels) for k, c in b.categorical.items()}
        meta = pd.DataFrame({f"meta__{name}": values})
        expected = a.masks(meta)
        pieces = [b.masks(meta.iloc[lo:hi].reset_index(drop=True)) for lo, hi in zip(bounds[:-1], bounds[1:])]
        got = [np.concatenate([p[j] for p in pieces]) for j in range(len(expected))]
        assert all(np.array_equal(x, y) for x, y in zip(expected, got)), name


def test_the_rules_are_those_of_the_whole_column_predicates():
    frame = _columns(400, np.random.default_rng(7))
    meta = pd.DataFrame({f"meta__{k}": v for k, v in frame.items()})
    preds, masks, _, columns = sf.metadata_predicates(meta, **OPTIONS)
    assert columns["review_id"]["reason"] == sf.IDENTIFIER and columns["empty"]["reason"] == sf.ALL_MISSING
    assert columns["flag"]["kind"] == "categorical" and columns["stars"]["kind"] == "categorical"
    assert columns["useful"]["kind"] == "numeric" and columns["date"]["kind"] == "date"
    assert columns["stamp"]["kind"] == "date"
    assert {p.spec["flag"] for p in preds if p.feature == "flag"} == {"True", "False", None}
    assert {p.spec["clean_flag"] for p in preds if p.feature == "clean_flag"} == {"true", "false"}
    # Each column's predicates split its rows: every row in exactly one of them.
    for key, record in columns.items():
        if record["status"] == "tested":
            own = [m for p, m in zip(preds, masks) if p.key.split("__")[0] == key]
            assert (np.sum(own, axis=0) == 1).all(), key


def test_batches_read_with_another_dtype_are_refused():
    a = sc.ColumnSummary.of("flag", pd.Series([True, False]), N_QUANTILES)
    b = sc.ColumnSummary.of("flag", pd.Series([True, None], dtype=object), N_QUANTILES)
    with pytest.raises(ValueError, match="whole column's dtype"):
        a.merge(b)


def test_an_excluded_column_is_never_read():
    frame = _columns(60, np.random.default_rng(2))
    meta = pd.DataFrame({f"meta__{k}": v for k, v in frame.items()})

    class Guarded(pd.DataFrame):
        def __getitem__(self, key):
            if key == "meta__review_id":
                raise AssertionError("the excluded column was read")
            return super().__getitem__(key)

    _, _, _, columns = sf.metadata_predicates(Guarded(meta), exclude=["review_id"], **OPTIONS)
    assert columns["review_id"] == {"column": "review_id", "status": "skipped", "reason": sf.EXCLUDED,
                                    "detail": "listed in slices.metadata_exclude"}
    assert sc.excluded_names(list(frame), ["review_id", "stars"]) == {"review_id", "stars"}
