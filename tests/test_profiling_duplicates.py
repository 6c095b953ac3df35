"""Duplicate texts and leakage (blindspot.duplicates): oracles, the Fisher tail, planted and null data."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact

from _paths import ROOT
from blindspot import duplicates, profiling


# ---------------------------------------------------------------- the Fisher tail against scipy

@settings(max_examples=300, deadline=None)
@given(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30), st.integers(0, 30))
def test_fisher_greater_p_equals_scipy(a, b, c, d):
    got = duplicates.fisher_greater_p(a, b, c, d)
    if a + b == 0 or c + d == 0 or a + c == 0 or b + d == 0:
        assert np.isnan(got)  # an empty row or column: nothing to test
    else:
        assert got == pytest.approx(fisher_exact([[a, b], [c, d]], alternative="greater").pvalue, rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("table", [
    (40, 0, 2445, 515),          # the UCI rows
    (19, 0, 2445, 515),          # the UCI texts, one row each
    (357, 45, 400_000, 180_000),  # large, tiny p
    (5000, 5000, 5000, 5000),
    (0, 400, 90_000, 10),
    (1, 0, 0, 1),
])
def test_fisher_greater_p_on_large_and_extreme_tables(table):
    expected = fisher_exact([list(table[:2]), list(table[2:])], alternative="greater").pvalue
    assert duplicates.fisher_greater_p(*table) == pytest.approx(expected, rel=1e-8, abs=1e-300)


def test_fisher_greater_p_refuses_negative_counts():
    with pytest.raises(ValueError, match=r"non-negative. Got \[1, -1, 2, 3\] instead"):
        duplicates.fisher_greater_p(1, -1, 2, 3)


# ---------------------------------------------------------------- normalisation

def test_groups_fold_case_and_collapse_whitespace_only():
    texts = ["Great  drug\n", "great drug", " GREAT\tdrug ", "Straße", "STRASSE", "great drug!", "Great drüg"]
    codes = duplicates.group_codes(texts)
    assert codes[0] == codes[1] == codes[2]
    assert codes[3] == codes[4]  # full Unicode case folding, not lower-casing
    assert len({codes[0], codes[3], codes[5], codes[6]}) == 4  # punctuation and accents are kept
    assert duplicates.normalise_text("\u00a0A\u2003b\n") == "a b"  # Unicode whitespace counts


# ---------------------------------------------------------------- oracle against pandas

def oracle(texts, labels, correct, level=0.95):
    """The same numbers, straight from pandas groupby (no shared code but the Wilson formula)."""
    from blindspot.stats import wilson_interval

    df = pd.DataFrame({"key": [" ".join(t.casefold().split()) for t in texts], "label": labels,
                       "correct": np.asarray(correct, dtype=bool)})
    size = df.groupby("key")["key"].transform("size")
    dup = df[size > 1]
    uni = df[size == 1]
    firsts = dup.drop_duplicates("key")
    per_group_labels = dup.groupby("key")["label"].nunique()
    conflicting = per_group_labels[per_group_labels > 1].index
    out = {"groups": dup["key"].nunique(), "rows_duplicated": len(dup), "rows_unique": len(uni),
           "groups_first_row_correct": int(firsts["correct"].sum()),
           "conflicting_label_groups": len(conflicting),
           "rows_in_conflicting_groups": int(df["key"].isin(conflicting).sum())}
    for name, part in (("accuracy_duplicated", dup), ("accuracy_unique", uni)):
        lo, hi = wilson_interval(part["correct"].sum(), len(part), level)
        out[name] = (len(part), int(part["correct"].sum()), part["correct"].mean() if len(part) else np.nan,
                     float(lo), float(hi))
    g, k, c = out["groups"], out["groups_first_row_correct"], int(uni["correct"].sum())
    out["p"] = (fisher_exact([[k, g - k], [c, len(uni) - c]], alternative="greater").pvalue
                if g and len(uni) and 0 < k + c < g + len(uni) else np.nan)
    return out


def check_against_oracle(texts, labels, correct, level=0.95):
    got = duplicates.duplicate_accuracy(texts, labels, correct, level=level)
    want = oracle(texts, labels, correct, level)
    for key in ("groups", "rows_duplicated", "rows_unique", "groups_first_row_correct", "conflicting_label_groups",
                "rows_in_conflicting_groups"):
        assert got[key] == want[key], key
    for name in ("accuracy_duplicated", "accuracy_unique"):
        e = got[name]
        np.testing.assert_allclose([e["n"], e["correct"], e["value"], e["ci_low"], e["ci_high"]], want[name],
                                   rtol=0, atol=1e-12)
    np.testing.assert_allclose(got["easier_p_value"], want["p"], rtol=1e-9, atol=1e-14)
    return got


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["x", "X ", " x", "y", "Y", "z", "zz", "w", "v", "u", ""]),
                          st.sampled_from(["p", "n"]), st.booleans()), min_size=1, max_size=40))
def test_duplicate_accuracy_equals_a_pandas_groupby(rows):
    texts, labels, correct = zip(*rows)
    got = check_against_oracle(list(texts), list(labels), list(correct))
    assert got["rows_duplicated"] + got["rows_unique"] == len(rows)


def test_empty_sides_carry_reasons():
    none = duplicates.duplicate_accuracy(["a", "b"], ["p", "n"], [True, False], level=0.95)
    assert none["groups"] == 0 and none["accuracy_duplicated"]["reason"] == "no text occurs more than once"
    assert np.isnan(none["accuracy_duplicated"]["value"])
    assert none["easier_p_value_reason"] == "no text occurs more than once"
    every = duplicates.duplicate_accuracy(["a", "A"], ["p", "p"], [True, True], level=0.95)
    assert every["accuracy_unique"]["reason"] == "every text occurs more than once"
    right = duplicates.duplicate_accuracy(["a", "A", "b"], ["p", "p", "n"], [True, True, True], level=0.95)
    assert right["easier_p_value_reason"] == "every prediction tested is right"
    with pytest.raises(ValueError, match="one entry per row"):
        duplicates.duplicate_accuracy(["a", "b"], ["p"], [True, True], level=0.95)


def test_label_conflicts_are_counted_per_group():
    got = duplicates.duplicate_accuracy(["ok", "OK", "ok ", "bad", "Bad", "solo"], ["p", "n", "p", "n", "n", "p"],
                                        [True] * 6, level=0.95)
    assert (got["groups"], got["conflicting_label_groups"], got["rows_in_conflicting_groups"]) == (2, 1, 3)


# ---------------------------------------------------------------- real data

def _raw(name):
    path = ROOT / "data/raw/predictions" / name
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype={"label": str, "prediction": str})
    return pd.DataFrame(json.loads(path.read_text()))


def test_bundled_v1_has_one_repeated_text_and_no_evidence_of_leakage():
    df = _raw("v1.json")
    got = check_against_oracle(df["text"].tolist(), df["label"].tolist(), (df["label"] == df["prediction"]).tolist())
    assert (got["groups"], got["rows_duplicated"], got["rows_unique"]) == (1, 2, 977)
    assert got["accuracy_duplicated"]["value"] == 1.0 and got["conflicting_label_groups"] == 0
    assert got["easier_p_value"] > 0.5  # one text, right: no evidence either way


def test_uci_sentences_repeated_across_folds_look_leaked():
    df = _raw("uci_sentences.jsonl")
    got = check_against_oracle(df["text"].tolist(), df["label"].tolist(), (df["label"] == df["prediction"]).tolist())
    # 17 sentences repeat verbatim within their source file (make_uci_predictions counts them), one more
    # across two files; folding case and spaces joins a few more.
    exact = profiling.duplicate_profile(df["text"], df["label"])
    assert exact["duplicate_rows"] == 18
    assert len(df) - len(df.drop_duplicates(["text", "source"])) == 17
    assert (got["groups"], got["rows_duplicated"]) == (19, 40)
    assert got["accuracy_duplicated"]["correct"] == 40  # every repeated sentence right, out of fold
    assert got["easier_p_value"] < 0.05


# ---------------------------------------------------------------- planted leakage and its null

def _with_copies(frame: pd.DataFrame, n_copies: int, rng, *, always_right: bool) -> pd.DataFrame:
    """``frame`` plus a second copy (case and spacing changed) of ``n_copies`` random rows.

    ``always_right``: both copies are predicted correctly (the model memorised them);
    otherwise the copy keeps the original's prediction, right or wrong (no leakage).
    """
    pick = frame.iloc[rng.choice(len(frame), n_copies, replace=False)].copy()
    copies = pick.assign(text=pick["text"].str.upper() + "  ")
    out = pd.concat([frame.drop(pick.index), pick, copies], ignore_index=True)
    if always_right:
        out.loc[len(frame) - n_copies:, "prediction"] = out.loc[len(frame) - n_copies:, "label"]
    return out


@pytest.fixture(scope="module")
def reviews():
    from blindspot.synth import generate

    frame = generate(1500, seed=21).frame
    return frame.drop_duplicates("text", ignore_index=True)


def test_planted_leakage_fires_and_copies_that_are_not_easier_stay_quiet(reviews):
    base_acc = (reviews["label"] == reviews["prediction"]).mean()
    assert 0.7 < base_acc < 0.95
    fired, quiet = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        for always_right, out in ((True, fired), (False, quiet)):
            f = _with_copies(reviews, 60, rng, always_right=always_right)
            got = check_against_oracle(f["text"].tolist(), f["label"].tolist(),
                                       (f["label"] == f["prediction"]).tolist())
            assert got["groups"] == 60 and got["rows_duplicated"] == 120
            out.append(got["easier_p_value"] < 0.05)
    assert all(fired)
    assert sum(quiet) <= 2


def test_one_row_per_text_keeps_the_false_alarm_rate_at_its_level():
    """Leakage-free pairs that share their correctness: the test over texts holds 5%, one over rows would not."""
    rng = np.random.default_rng(0)
    by_text, by_row = [], []
    for _ in range(600):
        unique = rng.random(1500) < 0.8
        pairs = rng.random(60) < 0.8  # each repeated text: both copies right or both wrong
        c, u = int(unique.sum()), len(unique)
        by_text.append(duplicates.fisher_greater_p(pairs.sum(), 60 - pairs.sum(), c, u - c) < 0.05)
        by_row.append(duplicates.fisher_greater_p(2 * pairs.sum(), 120 - 2 * pairs.sum(), c, u - c) < 0.05)
    assert np.mean(by_text) <= 0.05
    assert np.mean(by_row) > 0.08  # why the test counts each text once


def test_profile_writes_the_duplicates_block_under_stable_keys():
    frame = pd.DataFrame({"text": pd.Series(["Good", "good ", "bad", "meh"], dtype="str"),
                          "label": ["pos", "pos", "neg", "neu"],
                          "y_true": np.array([2, 2, 0, 1], dtype=np.int8),
                          "y_pred": np.array([2, 2, 2, 1], dtype=np.int8)})
    prof = profiling.profile_predictions(frame, ["neg", "neu", "pos"], n_boot=20, level=0.9,
                                         rng=np.random.default_rng(0), length_quantiles=[0.5])
    d = prof["duplicates"]
    assert set(d) == {"distinct_texts", "duplicate_rows", "duplicated_texts", "conflicting_label_texts",
                      "normalisation", "groups", "groups_first_row_correct", "rows_duplicated", "rows_unique",
                      "conflicting_label_groups", "rows_in_conflicting_groups", "accuracy_duplicated",
                      "accuracy_unique", "easier_p_value", "easier_test", "ci_level"}
    assert d["accuracy_duplicated"]["method"] == d["accuracy_unique"]["method"] == "wilson"
    from blindspot.results import undeclared
    from blindspot.results.profile import PROFILE
    assert undeclared({"duplicates": d}, PROFILE) == []  # the writer and the declarations agree
    assert d["duplicate_rows"] == 0 and d["groups"] == 1  # exact counts unchanged; folded groups beside them
    assert d["accuracy_duplicated"]["value"] == 1.0 and d["accuracy_unique"]["value"] == 0.5
    assert d["ci_level"] == 0.9
