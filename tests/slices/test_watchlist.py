"""Watchlist keys: validation messages, resolution, unresolved entries."""

import numpy as np
import pandas as pd
import pytest

from blindspot.errors import ConfigError
from blindspot.slices.features import build_predicates
from blindspot.slices.watchlist import resolve_watchlist, validate_keys


@pytest.fixture
def table():
    f = pd.DataFrame({"text": pd.Series(["not good", "fine", "no help", "ok"], dtype="str"),
                      "meta__condition": ["Birth Control", "Pain", "Pain", "Rare"]})
    return build_predicates(f, text_detectors=["negated_term"], jargon_high_density=0.5, caps_high_share=0.5,
                            length_bands={}, max_levels=1, n_quantiles=4)


@pytest.mark.parametrize("key, message", [
    ("Jargon_high", "'Jargon_high' is not a slice key"),
    ("jargon.high", "'jargon.high' is not a slice key"),
    ("a___b", "'a___b' is not a slice key"),
])
def test_malformed_keys(key, message):
    with pytest.raises(ConfigError, match=message):
        validate_keys([key])


def test_duplicate_keys():
    with pytest.raises(ConfigError, match="'negated_term' is listed twice"):
        validate_keys(["negated_term", "negated_term"])


def test_resolution_conjunction_and_unresolved(table):
    items = resolve_watchlist(["negated_term", "condition__pain__and__negated_term", "condition__birth_control",
                               "condition__nothing"], table)
    neg, conj, rare, missing = items
    assert neg.mask.tolist() == [True, False, True, False] and neg.members == (table.index("negated_term"),)
    assert conj.mask.tolist() == [False, False, True, False]
    assert conj.spec == {"condition": "Pain", "negated_term": True}
    assert conj.description == ("condition = Pain and reviews negating a sentiment or clinical term "
                                "(no relief, did not help, no side effects, ...)")
    # Birth Control is not among the top values (max_levels=1) but resolves on demand; no matrix column.
    assert rare.mask.tolist() == [True, False, False, False] and rare.members is None
    assert not missing.resolved and missing.reason == "not_present" and missing.missing == ["condition__nothing"]
    assert np.all([i.key for i in items] == ["negated_term", "condition__pain__and__negated_term",
                                             "condition__birth_control", "condition__nothing"])


def test_watchlist_gap_rows_flatten_tested_metrics_only():
    from blindspot.slices.watchlist import watchlist_gap_rows

    section = {
        "b_key": {"n": 40, "error_rate": {"tested": True, "gap": {"value": 0.1, "ci_low": 0.02, "ci_high": 0.2},
                                          "n": 40, "significant": True},
                  "recall_negative": {"tested": False, "reason": "no_variation"}},
        "a_key": {"n": 0, "reason": "not_present"},
    }
    rows = watchlist_gap_rows(section, ["error_rate", "recall_negative"])
    assert rows == [{"slice": "b_key / error_rate", "gap": 0.1, "gap_ci_low": 0.02, "gap_ci_high": 0.2,
                     "worse_by": 0.1, "worse_by_ci_low": 0.02, "worse_by_ci_high": 0.2, "n": 40, "significant": 1}]


def test_watchlist_gap_rows_point_worse_the_same_way_for_every_metric():
    from blindspot.slices.watchlist import watchlist_gap_rows

    # Higher error rate and lower recall: both worse, both positive worse_by.
    section = {"k": {"n": 90, "error_rate": {"tested": True, "gap": {"value": 0.1, "ci_low": 0.02, "ci_high": 0.2},
                                             "n": 90, "significant": True},
                     "recall_negative": {"tested": True, "gap": {"value": -0.3, "ci_low": -0.5, "ci_high": -0.1},
                                         "n": 30, "significant": True}}}
    err, rec = watchlist_gap_rows(section, ["error_rate", "recall_negative"])
    assert err["worse_by"] == 0.1 and rec["worse_by"] == 0.3
    assert (rec["worse_by_ci_low"], rec["worse_by_ci_high"]) == (0.1, 0.5)
    assert rec["gap"] == -0.3  # the raw gap is kept for anyone who read it before


def test_a_metadata_column_named_like_a_text_feature_keeps_both_in_the_slice_spec():
    f = pd.DataFrame({"text": pd.Series(["not good", "fine", "no help", "ok"], dtype="str"),
                      "meta__negated_term": ["yes", "yes", "no", "no"]})
    table = build_predicates(f, text_detectors=["negated_term"], jargon_high_density=0.5, caps_high_share=0.5,
                             length_bands={}, max_levels=5, n_quantiles=4)
    item, = resolve_watchlist(["negated_term__and__negated_term__yes"], table)
    assert item.mask.tolist() == [True, False, False, False]
    assert item.spec == {"negated_term": True, "meta__negated_term": "yes"}
    assert [p["source"] for p in item.records] == ["text", "metadata"]
