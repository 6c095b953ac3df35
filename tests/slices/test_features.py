"""Slice predicates: keys, specs, bins, on-demand resolution, config errors."""

import numpy as np
import pandas as pd
import pytest

from blindspot.errors import ConfigError
from blindspot.slices import features as sf
from blindspot.slices.keys import digest

BANDS = {"short": [0, 3], "long": [3, None]}


def frame(**meta):
    n = len(next(iter(meta.values())))
    out = pd.DataFrame({"text": pd.Series(["no relief"] * n, dtype="str")})
    for k, v in meta.items():
        out[f"meta__{k}"] = v
    return out


def test_slugify():
    assert sf.slugify("Birth Control") == "birth_control"
    assert sf.slugify("Diabetes, Type 2") == "diabetes_type_2"
    assert sf.slugify("  4.1.0 ") == "4_1_0"


def test_categorical_top_levels_other_and_missing():
    values = pd.Series(["a", "a", "a", "b", "b", "c", None, "D d"], dtype="string")
    preds, masks, _ = sf.categorical_predicates("col", values, max_levels=2)
    assert [p.key for p in preds] == ["col__a", "col__b", "col__other", "col__missing"]
    assert [m.sum() for m in masks] == [3, 2, 2, 1]
    assert preds[2].spec == {"col": {"not_in": ["a", "b"]}}
    assert preds[3].spec == {"col": None}
    assert masks[2].tolist() == [False] * 5 + [True, False, True]


def test_colliding_slugs_both_get_a_hash_of_their_raw_string():
    preds, _, _ = sf.categorical_predicates("c", pd.Series(["Pain", "pain", "pain"], dtype="string"), max_levels=5)
    keys = {p.spec["c"]: p.key for p in preds}
    assert keys == {"Pain": f"c__pain_h{digest('Pain')}", "pain": f"c__pain_h{digest('pain')}"}


def test_quantile_bins_are_half_open_with_a_closed_last_bin():
    values = pd.Series([1, 2, 3, 4, 5, 6, 7, 8], dtype="Int64")
    preds, masks = sf.quantile_predicates("u", values, n_quantiles=4)
    assert [p.key for p in preds] == ["u__q1", "u__q2", "u__q3", "u__q4"]
    assert preds[0].spec == {"u": {"ge": 1, "lt": 2}} and preds[-1].spec == {"u": {"ge": 6, "le": 8}}
    member = np.column_stack(masks)
    assert (member.sum(axis=1) == 1).all()  # every row in exactly one bin
    assert masks[-1].tolist() == [False] * 5 + [True] * 3


def test_quantile_bins_merge_on_ties_and_keep_missing():
    values = pd.Series([0, 0, 0, 0, 0, 0, 5, None], dtype="Int64")
    preds, masks = sf.quantile_predicates("u", values, n_quantiles=4)
    assert [p.key for p in preds] == ["u__q1", "u__missing"]
    assert masks[0].sum() == 7


def test_metadata_kinds_dates_numbers_booleans():
    f = frame(date=["2015-01-02", "2016-03-04", "2017-05-06", "2018-07-08"], n=[1.0, 2.0, 3.0, 40.0],
              few=[1, 2, 1, 2], flag=pd.array([True, False, True, None], dtype="boolean"))
    preds, _, resolvers, columns = sf.metadata_predicates(f, max_levels=5, n_quantiles=2)
    keys = [p.key for p in preds]
    assert "date__q1" in keys and preds[keys.index("date__q1")].spec == {"date": {"ge": "2015-01-02",
                                                                                  "lt": "2016-03-04"}}
    assert "n__q2" in keys
    assert {"few__1", "few__2"} <= set(keys)  # two distinct numbers: categorical
    assert {"flag__true", "flag__false", "flag__missing"} <= set(keys)
    assert set(resolvers) == {"few", "flag"}
    assert {k: c["kind"] for k, c in columns.items()} == {"date": "date", "n": "numeric", "few": "categorical",
                                                          "flag": "categorical"}


def test_metadata_exclude():
    preds, _, _, columns = sf.metadata_predicates(frame(a=["x", "y"], b=["u", "v"]), max_levels=5, n_quantiles=4,
                                                  exclude=["a"])
    assert {p.feature for p in preds} == {"b"}
    assert columns["a"] == {"column": "a", "status": "skipped", "reason": "excluded",
                            "detail": "listed in slices.metadata_exclude"}
    # A column whose name is awkward to write is excluded by its key.
    _, _, _, columns = sf.metadata_predicates(frame(**{"a.b c": ["x", "y"], "b": ["u", "v"]}), max_levels=5,
                                              n_quantiles=4, exclude=["a_b_c"])
    assert columns["a_b_c"]["reason"] == "excluded" and columns["b"]["status"] == "tested"


def test_text_predicates_hand_checked():
    texts = pd.Series(["I do not feel good at all", "Zoloft 50 mg bid", "Great!", "IS THIS OK?"], dtype="str")
    preds, masks, _ = sf.text_predicates(texts, detectors=["negated_term", "question", "exclamation"],
                                      jargon_high_density=0.5, caps_high_share=0.5, length_bands=BANDS)
    got = {p.key: m.tolist() for p, m in zip(preds, masks)}
    assert got["negated_term"] == [True, False, False, False]
    assert got["jargon_high"] == [False, True, False, False]
    assert got["question"] == [False, False, False, True]
    assert got["exclamation"] == [False, False, True, False]
    assert got["caps_high"] == [False, False, False, True]
    assert got["length_short"] == [False, False, True, False]
    assert got["length_long"] == [True, True, False, True]


def test_unknown_detector_and_bad_band_are_config_errors():
    texts = pd.Series(["x"], dtype="str")
    with pytest.raises(ConfigError, match=r"unknown detector\(s\) \['sarcasm'\]"):
        sf.text_predicates(texts, detectors=["sarcasm"], jargon_high_density=0.1, caps_high_share=0.1,
                           length_bands=BANDS)
    with pytest.raises(ConfigError, match=r"length_bands.bad: expected \[low, high\].*got \[5, 2\]"):
        sf.text_predicates(texts, detectors=[], jargon_high_density=0.1, caps_high_share=0.1,
                           length_bands={"bad": [5, 2]})


def test_build_predicates_and_resolve_rare_values_on_demand():
    f = frame(condition=["Pain"] * 5 + ["Acne"] * 3 + ["Rare Thing"])
    table = sf.build_predicates(f, text_detectors=["negated_term"], jargon_high_density=0.1, caps_high_share=0.5,
                                length_bands=BANDS, max_levels=1, n_quantiles=4)
    assert table.matrix.shape == (9, len(table.predicates)) and table.matrix.dtype == bool
    assert "condition__rare_thing" not in table.keys
    pred, mask = table.resolve("condition__rare_thing")
    assert pred.spec == {"condition": "Rare Thing"} and mask.tolist() == [False] * 8 + [True]
    assert table.resolve("negated_term")[1].all()
    assert table.resolve("condition__nope") is None and table.resolve("nothing") is None


def test_text_key_collisions_are_config_errors():
    f = frame(x=["a", "a"])
    with pytest.raises(ConfigError, match=r"slice keys \['length_long'\] are built twice"):
        sf.build_predicates(f, text_detectors=[], jargon_high_density=0.1, caps_high_share=0.5,
                            length_bands={"Long": [0, 5], "long": [5, None]}, max_levels=3, n_quantiles=4)


def test_dates_with_mixed_utc_offsets_are_binned_on_utc():
    f = frame(when=pd.Series(["2015-01-01T00:00:00+01:00", "2015-01-02", "2016-01-01T00:00:00Z", "2015-13-45"],
                             dtype="string"))
    preds, masks, _, columns = sf.metadata_predicates(f, max_levels=5, n_quantiles=2)
    assert columns["when"]["kind"] == "date"
    assert preds[0].spec == {"when": {"ge": "2014-12-31T23:00:00", "lt": "2015-01-02"}}
    assert preds[-1].key == "when__missing" and masks[-1].tolist() == [False, False, False, True]


def test_a_metadata_column_named_like_a_text_feature_is_another_feature():
    f = frame(length=["a", "b"], negated_term=["x", "y"], meta__length=["u", "v"])
    table = sf.build_predicates(f, text_detectors=["negated_term"], jargon_high_density=0.1, caps_high_share=0.5,
                                length_bands=BANDS, max_levels=3, n_quantiles=4)
    features = {p.key: p.feature for p in table.predicates}
    assert features["length_short"] == "length" and features["negated_term"] == "negated_term"
    # Each column's predicates share one feature, distinct from every text feature and from each other.
    assert features["length__a"] == features["length__b"] == "meta__meta__length"
    assert features["negated_term__x"] == "meta__negated_term"
    assert features["meta_length__u"] == "meta__length"
