"""The whole-column fast paths of the ingest checks give the per-value rules' answers, value for value.

Each helper in ``blindspot.io.schema`` first asks pandas' type inference whether a column
is clean as a whole and only then skips the per-value rule; the oracle here is the rule
itself, applied to every value (the code ingest ran before the fast paths).
"""

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from blindspot.io import schema

ODD = [None, float("nan"), np.float64("nan"), np.float32(1.5), np.float32("nan"), pd.NA, "", "  ", "\x1c", "\u3000",
       "text", "nan", " -NaN ", "inf", 0, 3, -2, 2.5, 7.0, 10**20, True, False, np.bool_(True), np.int64(4),
       [1], {"a": 1}]


def rule_missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def rule_str(v):
    return isinstance(v, str)


def rule_number(v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def rule_blank(v):
    return isinstance(v, str) and not v.strip()


def oracle(values, rule):
    return np.array([rule(v) for v in values.to_numpy(dtype=object)], dtype=bool)


columns = st.one_of(
    st.lists(st.sampled_from(ODD), max_size=30),                            # anything goes
    st.lists(st.text(alphabet=" \t\n\x1c\u3000ab", max_size=4), max_size=30),  # all text: the fast path
    st.lists(st.floats(allow_nan=True) | st.integers(-5, 5), max_size=30),    # all numbers: the fast path
    st.lists(st.booleans(), max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(columns)
def test_helpers_equal_the_per_value_rules(values):
    col = pd.Series(values, dtype=object)
    np.testing.assert_array_equal(schema._is_missing(col), oracle(col, rule_missing))
    np.testing.assert_array_equal(schema._is_str(col), oracle(col, rule_str))
    np.testing.assert_array_equal(schema._is_number(col), oracle(col, rule_number))
    np.testing.assert_array_equal(schema._is_blank(col), oracle(col, rule_blank))


def test_typed_columns_keep_the_rules():
    # Non-object dtypes (not what the readers produce, but the helpers accept them) take the per-value path.
    for col in (pd.Series([1.0, np.nan]), pd.Series([1, 2]), pd.Series(["a", None], dtype="string"),
                pd.Series([True, False])):
        for helper, rule in ((schema._is_missing, rule_missing), (schema._is_str, rule_str),
                             (schema._is_number, rule_number), (schema._is_blank, rule_blank)):
            np.testing.assert_array_equal(helper(col), np.array([rule(v) for v in col], dtype=bool))


def test_all_text_metadata_is_stored_as_text_with_nulls():
    values = pd.Series(["a", " ", None, "b", float("nan")], dtype=object)
    got = schema._normalise_metadata(values, typed=True)
    assert got.dtype == "string"
    assert got.tolist() == ["a", pd.NA, pd.NA, "b", pd.NA]
