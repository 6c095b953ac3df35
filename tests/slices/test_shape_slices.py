"""Slices from the data's own shape: word-count quantile bins, the very-short bin, every frequent
metadata value a slice of its own, and the per-column record of what was tested."""

import numpy as np
import pandas as pd
import pytest

from blindspot.errors import ConfigError
from blindspot.slices import audit_slices
from blindspot.slices import features as sf

from _slice_synth import predictions_table

CLASSES = ["negative", "positive"]
WORDS = ["good", "fine", "bad", "okay", "meh", "works", "great", "poor", "nice", "slow"]
# The defaults of conf/slices/default.yaml, written out (the fixed bands are gone from them).
DEFAULTS = dict(min_support=30, min_class_support=10, max_depth=2,
                text_detectors=["negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"],
                jargon_high_density=0.05, caps_high_share=0.05, length_bands={}, max_levels=None, n_quantiles=4,
                length_quantiles=4, very_short_words=10, fdr_alpha=0.05, ci_level=0.95)
# Before: the ten most frequent values, fixed short/medium/long bands, no quantile bins.
BEFORE = {**DEFAULTS, "max_levels": 10, "length_quantiles": 0, "very_short_words": None,
          "length_bands": {"short": [0, 40], "medium": [40, 130], "long": [130, None]}}


def frame(n, *, seed, n_words, meta=None, p_error=0.3):
    """Canonical predictions whose texts have ``n_words`` words (no text detector fires on them) and
    whose rows are wrong with probability ``p_error`` (a number or one per row)."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, n)
    wrong = rng.random(n) < np.broadcast_to(p_error, (n,))
    y_pred = np.where(wrong, 1 - y_true, y_true)
    texts = [" ".join(rng.choice(WORDS, int(w))) for w in n_words]
    return predictions_table(y_true, y_pred, texts, CLASSES, rng,
                             {name: pd.Series(values, dtype="string") for name, values in (meta or {}).items()})


def review_lengths(n, seed):
    """Word counts with a median near 47 and about 15% of reviews at 10 words or fewer."""
    rng = np.random.default_rng(seed)
    short = rng.random(n) < 0.15
    return np.where(short, rng.integers(2, 11, n), np.clip(rng.lognormal(np.log(50), 0.5, n), 11, 400)).astype(int)


def rare_condition_frame(seed=0, p_planted=0.63):
    """12 conditions of 240 rows, a 13th of 70 rows (wrong at ``p_planted`` against 0.37 elsewhere), 60 singletons."""
    rng = np.random.default_rng(seed)
    condition = np.array([f"Condition {i:02d}" for i in range(12) for _ in range(240)]
                         + ["Rare Condition"] * 70 + [f"Singleton {i}" for i in range(60)], dtype=object)
    rng.shuffle(condition)
    n = len(condition)
    sex = rng.choice(["Female", "Male"], n)
    p = np.where(condition == "Rare Condition", p_planted, 0.37)
    return frame(n, seed=seed + 1, n_words=rng.integers(20, 80, n), meta={"condition": condition, "sex": sex},
                 p_error=p)


def significant_keys(run):
    return {f["key"] for f in run.findings if f["source"] != "class" and f["significant"]}


def test_a_70_row_value_below_the_old_top_ten_is_a_slice_and_is_found():
    data = rare_condition_frame()
    now, before = audit_slices(data, CLASSES, **DEFAULTS), audit_slices(data, CLASSES, **BEFORE)
    assert "condition__rare_condition" in significant_keys(now)
    assert now.metrics["discovered"]["condition__rare_condition"]["n"] == 70
    # Before, the ten most frequent values had slices and the 70 rows were pooled with 62 others and lost.
    assert "condition__rare_condition" not in significant_keys(before)
    col = now.metrics["columns_tested"]["condition"]
    assert (col["n_values"], col["n_own"], col["n_pooled"]) == (73, 13, 60)
    pooled = now.metrics  # the 60 singletons (below min_support) still pool as "other", with their values named
    table = sf.build_predicates(data, **{k: DEFAULTS[k] for k in (
        "text_detectors", "jargon_high_density", "caps_high_share", "length_bands", "max_levels", "n_quantiles",
        "min_support", "length_quantiles", "very_short_words")})
    other = table.resolve("condition__other")
    assert other[1].sum() == 60 and len(other[0].part["value"]["not_in"]) == 13
    assert pooled["columns_tested"]["sex"]["n_own"] == 2


def test_a_configured_max_levels_still_caps_the_values_with_their_own_slice():
    values = pd.Series(["a"] * 50 + ["b"] * 40 + ["c"] * 35 + ["d"] * 5, dtype="string")
    preds, masks, _ = sf.categorical_predicates("col", values, max_levels=2, min_support=30)
    assert [p.key for p in preds] == ["col__a", "col__b", "col__other"]
    assert masks[2].sum() == 40 and preds[2].spec == {"col": {"not_in": ["a", "b"]}}
    preds, masks, _ = sf.categorical_predicates("col", values, min_support=30)
    assert [p.key for p in preds] == ["col__a", "col__b", "col__c", "col__other"] and masks[3].sum() == 5


def test_a_planted_very_short_review_weakness_is_found():
    n = 3000
    words = review_lengths(n, seed=3)
    assert np.median(words) > 40 and 300 < (words <= 10).sum() < 600
    data = frame(n, seed=4, n_words=words, p_error=np.where(words <= 10, 0.42, 0.27))
    run = audit_slices(data, CLASSES, **DEFAULTS)
    assert "words_le_10" in significant_keys(run)
    rank = run.metrics["discovered"]["words_le_10"]["rank"]
    assert rank == 1
    length = run.metrics["text_features"]["length"]
    expected = [int(e) for e in np.rint(np.quantile(words, [0.25, 0.5, 0.75]))]
    assert length["n_words_quantiles"] == {"levels": [0.25, 0.5, 0.75], "edges": expected}
    assert list(length["slices"]) == ["length_q1", "length_q2", "length_q3", "length_q4", "words_le_10"]
    assert length["slices"]["length_q2"] == {"ge": expected[0], "lt": expected[1]}
    assert length["slices"]["words_le_10"] == {"le": 10}
    assert length["significant"].get("words_le_10", 0) >= 1


@pytest.mark.parametrize("seed", range(4))
def test_null_data_stays_quiet_with_the_new_slices(seed):
    n = 2000
    rng = np.random.default_rng(100 + seed)
    condition = np.array([f"C{i}" for i in rng.integers(0, 25, n)], dtype=object)  # ~80 rows a value
    data = frame(n, seed=seed, n_words=review_lengths(n, seed), meta={"condition": condition,
                                                                      "sex": rng.choice(["F", "M"], n)})
    run = audit_slices(data, CLASSES, **DEFAULTS)
    assert run.metrics["columns_tested"]["condition"]["n_own"] == 25
    assert significant_keys(run) == set()
    for record in [*run.metrics["columns_tested"].values(), *run.metrics["text_features"].values()]:
        assert record["n_significant"] == 0 and record["conjunctions"]["n_significant"] == 0


def test_quantile_keys_exist_even_when_edges_meet():
    words = np.array([3] * 90 + [4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    preds, masks, record = sf.length_quantile_predicates(words, 4)
    assert record["edges"] == [3, 3, 3]
    assert [p.key for p in preds] == ["length_q1", "length_q2", "length_q3", "length_q4"]
    assert [int(m.sum()) for m in masks] == [0, 0, 0, 100]
    assert "no review" in preds[1].description and "quartile 4 of 4 (3 words or more)" in preds[3].description
    # Every row is in exactly one bin of a non-degenerate split.
    words = np.arange(1, 101)
    _, masks, record = sf.length_quantile_predicates(words, 3)
    assert record["edges"] == [34, 67] and (np.sum(masks, axis=0) == 1).all()


def test_length_settings_are_checked():
    texts = pd.Series(["a b c"], dtype="string")
    base = dict(detectors=[], jargon_high_density=0.5, caps_high_share=0.5, length_bands={})
    with pytest.raises(ConfigError, match="slices.length_quantiles"):
        sf.text_predicates(texts, **base, length_quantiles=1)
    with pytest.raises(ConfigError, match="slices.very_short_words"):
        sf.text_predicates(texts, **base, very_short_words=0)
    preds, _, _ = sf.text_predicates(texts, **base)
    assert not any(p.feature == "length" for p in preds)  # no bins unless configured


def test_coverage_counts_every_test_of_a_column_alone_and_combined():
    data = rare_condition_frame(seed=5)
    run = audit_slices(data, CLASSES, **DEFAULTS)
    tests, slices = run.tests, run.slices
    sex = run.metrics["columns_tested"]["sex"]
    single = [s for s in range(len(slices)) if slices.at[s, "members"] is not None
              and len(slices.at[s, "members"]) == 1 and slices.at[s, "key"].startswith("sex__")]
    assert sex["n_slices_tested"] == len(single) == 2
    assert sex["n_tests"] == int(tests[tests["slice"].isin(single)]["tested"].sum()) > 0
    combined = [s for s in range(len(slices)) if slices.at[s, "members"] is not None
                and len(slices.at[s, "members"]) > 1 and "sex__" in slices.at[s, "key"]]
    assert sex["conjunctions"]["n_tests"] == int(tests[tests["slice"].isin(combined)]["tested"].sum()) > 0
    total = sum(r["n_tests"] for r in [*run.metrics["columns_tested"].values(),
                                        *run.metrics["text_features"].values()])
    singles_tested = int(tests[tests["slice"].map(lambda s: slices.at[s, "members"] is not None
                                                  and len(slices.at[s, "members"]) == 1)]["tested"].sum())
    assert total == singles_tested  # every single-predicate test belongs to exactly one column or feature


def _config(**slices):
    from dataclasses import replace

    from blindspot.config import Config

    cfg = Config()
    return replace(cfg, slices=replace(cfg.slices, **slices))


def test_preflight_stops_a_watchlist_naming_a_retired_fixed_band_and_says_how_to_keep_it():
    from blindspot import preflight

    with pytest.raises(ConfigError, match=r"'length_long'.*no longer built by default.*long: \[130, null\].*length_q4"):
        preflight.check_lists(_config(watchlist=["length_long"]))
    with pytest.raises(ConfigError, match=r"'length_short__and__sex__f'.*length_short"):
        preflight.check_lists(_config(watchlist=["length_short__and__sex__f"]))
    preflight.check_lists(_config(watchlist=["length_long"], length_bands={"long": [130, None]}))  # kept on purpose
    with pytest.raises(ConfigError, match=r"'length_q5'.*length_quantiles is 4"):
        preflight.check_lists(_config(watchlist=["length_q5"]))
    with pytest.raises(ConfigError, match=r"'words_le_5'.*very_short_words is 10: set it to 5"):
        preflight.check_lists(_config(watchlist=["words_le_5"]))
    preflight.check_lists(_config(watchlist=["length_q1", "words_le_10", "length_q4__and__condition__pain"]))
