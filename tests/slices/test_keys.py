"""Slice keys are one-to-one from (column, value): hand-checked cases and a property test."""

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blindspot.slices import features as sf
from blindspot.slices.keys import (CUT_SLUG, HASH_CHARS, KEY_PART, MAX_SLUG, RESERVED_COLUMNS, RESERVED_VALUES,
                                   digest, unique_keys)
from blindspot.slices.watchlist import validate_keys

# What DVC and the watchlist accept: snake-case ASCII parts, "__" between column and value.
DVC_SAFE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*(?:__[a-z0-9]+(?:_[a-z0-9]+)*)*$")


def values_key(*raws):
    return unique_keys(raws, reserved=RESERVED_VALUES)


def test_unambiguous_values_keep_their_readable_slug():
    assert values_key("Birth Control", "Depression", "4.1.0") == {
        "Birth Control": "birth_control", "Depression": "depression", "4.1.0": "4_1_0"}


@pytest.mark.parametrize("raw", ["Other", "other", "OTHER", "missing", "Missing", "and", "AND"])
def test_reserved_words_are_hashed_even_when_alone(raw):
    slug = raw.lower()
    assert values_key(raw) == {raw: f"{slug}_h{digest(raw)}"}


def test_every_member_of_a_colliding_group_gets_a_hash():
    keys = values_key("Birth Control", "birth control", "birth-control", "Pain")
    assert keys["Pain"] == "pain"
    spellings = ["Birth Control", "birth control", "birth-control"]
    assert [keys[s] for s in spellings] == [f"birth_control_h{digest(s)}" for s in spellings]
    assert len(set(keys.values())) == 4


def test_empty_emoji_long_and_hash_like_slugs():
    long = "x" * 300
    keys = values_key("", "💊", "🙂", long, "a_h0123abcd", "none", "nan", "NaN")
    assert keys[""] == f"h{digest('')}" and keys["💊"] == f"h{digest('💊')}" and keys["🙂"] == f"h{digest('🙂')}"
    assert keys[long] == f"{'x' * CUT_SLUG}_h{digest(long)}"
    # A bare slug that looks like a hashed key could equal one: it is hashed itself.
    assert keys["a_h0123abcd"] == f"a_h0123abcd_h{digest('a_h0123abcd')}"
    # Real strings "none" and "nan" are values like any other ("nan" and "NaN" collide with each other).
    assert keys["none"] == "none" and keys["nan"] == f"nan_h{digest('nan')}"
    assert len(set(keys.values())) == len(keys)
    assert all(len(k) <= CUT_SLUG + 2 + HASH_CHARS for k in keys.values())


def test_column_keys_reserve_and_and_class():
    keys = unique_keys(["and", "class", "Site", "site", "a.b/c <b>x</b>"], reserved=RESERVED_COLUMNS)
    assert keys["and"] == f"and_h{digest('and')}" and keys["class"] == f"class_h{digest('class')}"
    assert keys["Site"] != keys["site"] and keys["Site"].startswith("site_h")
    assert keys["a.b/c <b>x</b>"] == "a_b_c_b_x_b"


any_text = st.text(alphabet=st.characters(blacklist_categories=()), max_size=60)  # any code point, surrogates too
# What a canonical table can hold: Arrow strings refuse lone surrogates (ingest rejects such rows).
table_text = st.text(max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.lists(any_text, max_size=12), st.sampled_from([RESERVED_VALUES, RESERVED_COLUMNS]))
def test_unique_keys_property(raws, reserved):
    keys = unique_keys(raws, reserved=reserved)
    assert set(keys) == set(raws)
    assert len(set(keys.values())) == len(keys)  # injective
    for raw, key in keys.items():
        assert KEY_PART.match(key) and "." not in key and "__" not in key
        assert key not in reserved
        assert len(key) <= max(MAX_SLUG, CUT_SLUG + 2 + HASH_CHARS)
    # The key of a string does not depend on the order the set is given in.
    assert unique_keys(list(reversed(raws)), reserved=reserved) == keys


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(table_text, st.lists(st.one_of(st.none(), table_text), min_size=1, max_size=6),
                       min_size=1, max_size=4))
def test_predicate_keys_are_injective_dvc_safe_and_read_back_exactly(columns):
    n = max(len(v) for v in columns.values())
    frame = pd.DataFrame({"text": pd.Series(["fine"] * n, dtype="string")})
    for name, values in columns.items():
        frame[f"meta__{name}"] = pd.Series((values * n)[:n], dtype="string")
    table = sf.build_predicates(frame, text_detectors=["negated_term"], jargon_high_density=0.1, caps_high_share=0.5,
                                length_bands={"short": [0, 5]}, max_levels=3, n_quantiles=2)
    keys = table.keys
    assert len(set(keys)) == len(keys)
    validate_keys(keys)  # every key can be copied into the watchlist
    assert all(DVC_SAFE.match(k) and "." not in k for k in keys)
    assert {c["column"] for c in table.columns.values()} == set(columns)  # every column accounted for
    for pred, mask in zip(table.predicates, np.asarray(table.matrix).T):
        part = pred.part
        assert part["key"] == pred.key
        if part["source"] != "metadata":
            continue
        column_key = pred.key.partition("__")[0]
        raw = part["column"]
        assert table.columns[column_key]["column"] == raw  # the key's column reads back exactly
        values = frame[f"meta__{raw}"]
        if isinstance(part["value"], str):  # one value: its rows are exactly that raw string
            assert np.array_equal(mask, (values == part["value"]).fillna(False).to_numpy())
            resolved, resolved_mask = table.resolve(pred.key)
            assert resolved.part == part and np.array_equal(resolved_mask, mask)
        elif part["value"] is None:
            assert np.array_equal(mask, values.isna().to_numpy())
    # Every value of every categorical column, frequent or not, resolves by its key to exactly itself.
    for column in table.categorical.values():
        for level, value_key in enumerate(column.value_keys):
            pred, mask = table.resolve(f"{column.key}__{value_key}")
            assert pred.part["column"] == column.name and pred.part["value"] == column.levels[level]
            values = frame[f"meta__{column.name}"]
            assert np.array_equal(mask, (values == column.levels[level]).fillna(False).to_numpy())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(table_text, st.lists(st.one_of(st.none(), table_text), min_size=1, max_size=5),
                       min_size=1, max_size=3), st.integers(0, 2**32 - 1))
def test_audit_files_name_each_slice_by_one_key_that_reads_back(columns, seed):
    from blindspot.slices import audit_slices

    n = 60
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": pd.Series([f"r{i}" for i in range(n)], dtype="string"),
                          "text": pd.Series(rng.choice(["fine", "not good", "ok?"], n), dtype="string"),
                          "y_true": rng.integers(0, 2, n), "y_pred": rng.integers(0, 2, n)})
    for name, values in columns.items():
        frame[f"meta__{name}"] = pd.Series(rng.choice(np.array(values, dtype=object), n), dtype="string")
    table = sf.build_predicates(frame, text_detectors=["negated_term"], jargon_high_density=0.1, caps_high_share=0.5,
                                length_bands={"short": [0, 2]}, max_levels=3, n_quantiles=2)
    watch = [k for k in table.keys if "__" in k][:6]
    audit = audit_slices(frame, ["a", "b"], watchlist=watch, min_support=5, min_class_support=2, max_depth=2,
                         text_detectors=["negated_term"], jargon_high_density=0.1, caps_high_share=0.5,
                         length_bands={"short": [0, 2]}, max_levels=3, n_quantiles=2)
    m = audit.metrics
    found = [c[len("found__"):] for c in audit.membership.columns if c.startswith("found__")]
    assert [c for c in audit.membership.columns if c.startswith("watch__")] == [f"watch__{k}" for k in watch]
    assert set(found) == set(m["discovered"]) - set(watch)
    columns_seen = {**m["columns_tested"], **m["columns_skipped"]}
    assert sorted(c["column"] for c in columns_seen.values()) == sorted(columns)
    for key, entry in {**m["discovered"], **m["watchlist"]}.items():
        assert DVC_SAFE.match(key)
        assert "__and__".join(p["key"] for p in entry["parts"]) == key
        for part in entry["parts"]:
            if part["source"] == "metadata":
                assert m["columns_tested"][part["key"].partition("__")[0]]["column"] == part["column"]
                assert part["column"] in columns
                if isinstance(part["value"], str):
                    assert part["value"] in columns[part["column"]]
    for f in audit.findings:
        if f["source"] != "class":
            assert f["key"] in m["watchlist"] or f["key"] in m["discovered"]
