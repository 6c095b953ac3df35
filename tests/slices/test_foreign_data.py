"""The slice stage on data unlike the bundled reviews: hostile metadata names and values, short
texts whose text slices are empty, tiny files, many or binary classes, unsliceable columns."""

import json
import logging

import numpy as np
import pandas as pd
import pytest

from blindspot import paths
from blindspot.calibration.audit import slice_table
from blindspot.io.writers import dumps_metrics, write_parquet
from blindspot.slices import audit_slices
from blindspot.slices.keys import digest
from blindspot.stages.compare import watchlist_masks

from _slice_synth import predictions_table

CLASSES = ["negative", "neutral", "positive"]
DEFAULT_WATCHLIST = ["jargon_high", "negated_term", "sarcasm_cue", "mixed_sentiment", "length_q4", "words_le_10",
                     "condition__birth_control", "condition__depression", "condition__pain",
                     "negated_term__and__jargon_high"]
SETTINGS = dict(min_support=30, min_class_support=10, max_depth=2,
                text_detectors=["negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"],
                jargon_high_density=0.05, caps_high_share=0.05,
                length_bands={"short": [0, 40], "medium": [40, 130], "long": [130, None]},
                max_levels=10, n_quantiles=4, fdr_alpha=0.05, ci_level=0.95)
# Words no text detector reacts to: every detector slice is empty (checked below).
PLAIN_WORDS = ["good", "fine", "bad", "okay", "meh", "works", "great", "poor", "nice", "slow"]
LONG_NAME = "x" * 300
LOG = logging.getLogger("test_foreign_data")
OTHER_KEY = f"condition__other_h{digest('Other')}"  # the real value "Other", not the pooled rare values


def canonical(n: int, classes, *, seed: int, meta: dict, error_rate=0.2, weak=None, texts=None) -> pd.DataFrame:
    """Canonical predictions (the layout ingest writes) with errors at ``error_rate``, 0.6 where ``weak``."""
    rng = np.random.default_rng(seed)
    k = len(classes)
    y_true = rng.integers(0, k, n)
    p_err = np.full(n, error_rate) if weak is None else np.where(weak, 0.6, error_rate)
    wrong = rng.random(n) < p_err
    y_pred = np.where(wrong, (y_true + rng.integers(1, k, n)) % k, y_true) if k > 1 else y_true
    if texts is None:
        texts = [" ".join(rng.choice(PLAIN_WORDS, rng.integers(1, 8))) for _ in range(n)]
    return predictions_table(y_true, y_pred, texts, classes, rng, meta)


def hostile_frame() -> pd.DataFrame:
    """1,206 rows: a real value "Other" on 846 of them (and worse predicted), values and column names
    that slug alike, reserved words, HTML, emoji, a 300-character name."""
    rng = np.random.default_rng(5)
    condition = np.array(["Other"] * 846 + ["other"] * 40 + ["Birth Control"] * 60 + ["birth control"] * 50
                         + ["none"] * 35 + ["nan"] * 35 + ["missing"] * 35 + ["and"] * 35 + [""] * 40
                         + [f"Rare {i}" for i in range(30)], dtype=object)
    n = len(condition)
    rng.shuffle(condition)
    condition[rng.choice(n, 20, replace=False)] = None
    condition = pd.Series(condition, dtype="string")
    weak = (condition == "Other").fillna(False).to_numpy()
    meta = {"condition": condition,
            "a.b c/d": pd.Series(rng.choice(["ios", "Android.OS", "web/app"], n), dtype="string"),
            "<b>x</b>": pd.Series(rng.choice(["<i>y</i>", "z&amp;"], n), dtype="string"),
            "💊 drug": pd.Series(rng.choice(["💊", "🙂", "Zoloft 50mg"], n), dtype="string"),
            LONG_NAME: pd.Series(rng.choice(["a", "b"], n), dtype="string"),
            "Site": pd.Series(rng.choice(["amazon", "imdb"], n), dtype="string"),
            "site": pd.Series(rng.choice(["amazon", "yelp"], n), dtype="string"),
            "class": pd.Series(rng.choice(["negative", "positive"], n), dtype="string"),
            "and": pd.Series(rng.choice(["x", "y"], n), dtype="string")}
    return canonical(n, CLASSES, seed=6, meta=meta, weak=weak, error_rate=0.1)


def metric_keys(metrics) -> set:
    return set(metrics["watchlist"]) | set(metrics["discovered"])


def assert_parts_read_back(key, entry, columns_tested):
    """The key is its parts' keys joined, and each metadata part's column key names its raw column."""
    parts = entry["parts"]
    assert "__and__".join(p["key"] for p in parts) == key
    for part in parts:
        if part["source"] == "metadata":
            assert columns_tested[part["key"].partition("__")[0]]["column"] == part["column"]


def test_real_value_other_and_hostile_column_names_same_key_in_every_file(params_for):
    from blindspot.stages import slice as stage

    frame = hostile_frame()
    watch = DEFAULT_WATCHLIST + [OTHER_KEY, "condition__other", "a_b_c_d__ios"]
    work = params_for({"slices.watchlist": watch})
    write_parquet(work / paths.PREDICTIONS, frame)
    stage.main(LOG)  # today: "slice predicate keys collide: ['condition__other']"

    metrics = json.loads((work / paths.SLICE_METRICS).read_text())
    findings = json.loads((work / paths.FINDINGS).read_text())
    membership = pd.read_parquet(work / paths.SLICES)
    columns = metrics["columns_tested"]
    assert {c["column"] for c in columns.values()} == {"condition", "a.b c/d", "<b>x</b>", "💊 drug", LONG_NAME,
                                                      "Site", "site", "class", "and"}
    assert metrics["columns_skipped"] == {}
    for key in columns:
        assert key.replace("_", "").isalnum() and key.isascii() and key == key.lower() and "__" not in key
    assert columns["condition"]["column"] == "condition" and columns["a_b_c_d"]["column"] == "a.b c/d"
    assert columns[f"site_h{digest('Site')}"]["column"] == "Site"  # two columns alike: both hashed
    assert columns[f"site_h{digest('site')}"]["column"] == "site"
    assert columns[f"class_h{digest('class')}"]["column"] == "class"  # "class__..." is a class finding's key

    # The real value "Other" and the pooled rare values are two slices, each reading back exactly.
    real, pooled = metrics["watchlist"][OTHER_KEY], metrics["watchlist"]["condition__other"]
    condition = frame["meta__condition"]
    assert real["n"] == (condition == "Other").sum() > 800
    assert real["parts"] == [{"key": OTHER_KEY, "source": "metadata", "column": "condition", "value": "Other"}]
    kept = pooled["parts"][0]["value"]["not_in"]
    assert {"Other", "other", "Birth Control", "birth control", "none", "nan", "missing", "and", ""} <= set(kept)
    assert pooled["n"] == (condition.notna() & ~condition.isin(kept)).sum() > 0
    assert metrics["watchlist"]["condition__birth_control"]["reason"] == "not_present"  # two spellings: no bare key
    assert metrics["watchlist"]["condition__birth_control"]["detail"] == (
        f"condition__birth_control: no value of column 'condition' has the key 'birth_control'; "
        f"'Birth Control' is condition__birth_control_h{digest('Birth Control')}, "
        f"'birth control' is condition__birth_control_h{digest('birth control')}")
    assert metrics["watchlist"]["a_b_c_d__ios"]["parts"][0]["column"] == "a.b c/d"
    # The weak slice is found, under the same key as on the watchlist.
    assert any(f["key"] == OTHER_KEY and f["significant"] for f in findings)

    # One key per slice in every file: metrics, findings, slices.parquet, and as calibrate and compare read it.
    keys = metric_keys(metrics)
    assert len(keys) == len(metrics["watchlist"]) + len(metrics["discovered"]) - sum(
        e["on_watchlist"] for e in metrics["discovered"].values())
    for source in ("watchlist", "discovered"):
        for key, entry in metrics[source].items():
            if "parts" in entry:
                assert_parts_read_back(key, entry, columns)
    for f in findings:
        if f["source"] != "class":
            assert f["key"] in keys
            assert f["parts"] == (metrics["watchlist"].get(f["key"]) or metrics["discovered"][f["key"]])["parts"]
    resolved = {k for k, e in metrics["watchlist"].items() if e.get("reason") != "not_present"}
    found = set(metrics["discovered"]) - set(metrics["watchlist"])
    assert [c for c in membership.columns if c.startswith("watch__")] == [
        f"watch__{k}" for k in watch if k in resolved]
    assert {c[len("found__"):] for c in membership.columns if c.startswith("found__")} == found
    assert set(slice_table(frame["id"], membership).keys) == resolved | found
    assert set(watchlist_masks(frame, membership)) == resolved


def test_short_texts_empty_watchlist_slices_report_no_rows_and_leave_discovery_alone():
    rng = np.random.default_rng(1)
    n = 900
    site = pd.Series(rng.choice(["amazon", "imdb", "yelp"], n), dtype="string")
    frame = canonical(n, CLASSES, seed=2, meta={"site": site}, weak=(site == "yelp").to_numpy())
    from blindspot.text_features import text_features

    feats = text_features(frame["text"])
    assert feats[["negated_term", "sarcasm_cues", "mixed_sentiment", "question", "exclamation"]].sum().sum() == 0
    assert feats["n_words"].max() < 40 and feats["jargon_density"].max() == 0
    with_watch = audit_slices(frame, CLASSES, watchlist=DEFAULT_WATCHLIST + ["length_long",
                                                                           "length_medium__and__site__yelp"],
                              **SETTINGS)
    without = audit_slices(frame, CLASSES, watchlist=[], **SETTINGS)

    watch = with_watch.metrics["watchlist"]
    empty = ["jargon_high", "negated_term", "sarcasm_cue", "mixed_sentiment", "length_long",
             "negated_term__and__jargon_high", "length_medium__and__site__yelp"]
    for key in empty:
        entry = watch[key]
        assert entry["n"] == 0 and entry["tested"] is False and entry["reason"] == "no_rows", key
        assert all(entry[m]["reason"] == "no_rows" for m in ("error_rate", "recall_negative", "recall_neutral",
                                                             "recall_positive"))
    for key in ("condition__birth_control", "condition__depression", "condition__pain"):
        assert watch[key]["reason"] == "not_present" and watch[key]["n"] == 0
    # The written file holds them (NaN values become null), and discovery is untouched by them.
    assert json.loads(dumps_metrics(with_watch.metrics))["watchlist"]["length_long"]["error_rate"]["value"] is None
    assert with_watch.metrics["discovered"] == without.metrics["discovered"]
    assert "site__yelp" in with_watch.metrics["discovered"]
    assert with_watch.metrics["family"] == without.metrics["family"]
    assert json.dumps([f for f in with_watch.findings if f["source"] != "watchlist"], default=str) == \
        json.dumps(without.findings, default=str)


def _tiny(n_rows, classes, seed, **kw):
    rng = np.random.default_rng(seed)
    return canonical(n_rows, classes, seed=seed,
                     meta={"site": pd.Series(rng.choice(["a", "b"], n_rows), dtype="string")}, **kw)


@pytest.mark.parametrize("name, frame, classes", [
    ("five_rows", _tiny(5, CLASSES, 3), CLASSES),
    # Class names as labels and panel titles: emoji, and dollar signs matplotlib would read as math.
    ("twelve_classes", _tiny(1500, [str(i) for i in range(10)] + ["😀", "$\\frac{"], 4),
     [str(i) for i in range(10)] + ["😀", "$\\frac{"]),
    ("binary_confidence_only", _tiny(400, ["0", "1"], 5), ["0", "1"]),
    ("short_texts", _tiny(300, CLASSES, 6), CLASSES),
])
def test_stage_runs_on_tiny_many_class_binary_and_short_data(params_for, name, frame, classes):
    from blindspot.stages import slice as stage

    work = params_for({"ingest.classes": classes, "model.name": name})
    write_parquet(work / paths.PREDICTIONS, frame)
    line = stage.main(LOG)
    assert "tests on" in line
    metrics = json.loads((work / paths.SLICE_METRICS).read_text())
    assert set(metrics["watchlist"]) == set(DEFAULT_WATCHLIST)
    for key, entry in metrics["watchlist"].items():
        if entry["n"] == 0:
            assert entry["reason"] in ("no_rows", "not_present")
    assert metrics["columns_tested"]["site"]["n_values"] == 2
    assert set(metrics["classes"]) == set(classes)
    assert (work / stage.FOREST_PNG).stat().st_size > 0


def test_unsliceable_columns_are_skipped_with_a_reason_and_tested_ones_listed():
    rng = np.random.default_rng(8)
    n = 300
    meta = {
        "review_id": pd.Series([f"u{i}" for i in range(n)], dtype="string"),
        "title": pd.Series([f"my honest review number {i} of this" for i in range(n)], dtype="string"),
        "tags": pd.Series([json.dumps(sorted(rng.choice(["a", "b", "c"], 2).tolist())) for _ in range(n)],
                          dtype="string"),
        "extra": pd.Series([json.dumps({"k": int(v)}) for v in rng.integers(0, 3, n)], dtype="string"),
        "blob": pd.Series([bytes([i % 7, 0, 255]) for i in range(n)], dtype=object),
        "nothing": pd.Series([None] * n, dtype="string"),
        "platform": pd.Series(rng.choice(["ios", "android"], n), dtype="string"),
        "rating": pd.Series(rng.integers(1, 11, n), dtype="Int64"),
    }
    frame = canonical(n, CLASSES, seed=9, meta=meta)
    run = audit_slices(frame, CLASSES, watchlist=["review_id__u1", "platform__ios"],
                       metadata_exclude=["rating"], **SETTINGS)
    m = run.metrics
    assert {k: (c["column"], c["reason"]) for k, c in m["columns_skipped"].items()} == {
        "review_id": ("review_id", "identifier"), "title": ("title", "free_text"), "tags": ("tags", "structured"),
        "extra": ("extra", "structured"), "blob": ("blob", "binary"), "nothing": ("nothing", "all_missing"),
        "rating": ("rating", "excluded")}
    assert m["columns_skipped"]["review_id"]["detail"].startswith("300 distinct values in 300 rows")
    assert list(m["columns_tested"]) == ["platform"]
    assert {f: m["columns_tested"]["platform"][f] for f in ("column", "kind", "n_values", "n_predicates", "n_own",
                                                              "n_pooled")} == {
        "column": "platform", "kind": "categorical", "n_values": 2, "n_predicates": 2, "n_own": 2, "n_pooled": 0}
    assert all(not k.startswith(("review_id", "title", "tags", "extra", "blob", "nothing", "rating"))
               for k in m["discovered"])
    assert m["watchlist"]["review_id__u1"]["detail"].startswith(
        "review_id__u1: column 'review_id' is not sliced (identifier: 300 distinct values")
    again = audit_slices(frame.sample(frac=1, random_state=1).reset_index(drop=True), CLASSES,
                         watchlist=["review_id__u1", "platform__ios"], metadata_exclude=["rating"], **SETTINGS)
    assert dumps_metrics(again.metrics) == dumps_metrics(m)  # deterministic, whatever the row order
