"""Topics and error terms wired into the slice audit: one family, findings, membership, text_slices.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot import synth
from blindspot.io.writers import clean_for_json, dumps_metrics
from blindspot.results import undeclared
from blindspot.results.slices import FINDINGS, SLICES, TEXT_SLICES
from blindspot.slices import audit_slices
from blindspot.slices.audit import DEFAULT_SEED
from blindspot.slices.evaluate import cells
from blindspot.slices.terms import batch_counts, error_terms, fit_candidates, split_by_id, terms_from_counts
from blindspot.slices.textpass import FileTexts, FrameTexts

from _slice_synth import canonical, generate

CLASSES = ["negative", "neutral", "positive"]
SETTINGS = dict(min_support=30, min_class_support=10, max_depth=2,
                text_detectors=["negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"],
                jargon_high_density=0.05, caps_high_share=0.05, length_bands={}, length_quantiles=4,
                very_short_words=10, max_levels=None, n_quantiles=4, fdr_alpha=0.05, ci_level=0.95)
FAMILY = ("bluetooth", "pairing", "firmware", "sync", "wearable", "sensor", "glucose")
SENTENCES = (" My glucose sensor lost its bluetooth pairing again.",
             " The wearable needed a firmware update before the bluetooth sync worked.",
             " The bluetooth sync with my glucose sensor kept failing.",
             " Pairing the wearable over bluetooth took ages and the firmware crashed.")


def planted_family(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """10% of reviews carry a word family and are misread 20 points more often (app_version dropped)."""
    data = synth.generate(n, seed=seed, mode="planted",
                          planted=[synth.PlantedSlice({"app_version": "4.1.0"}, error_gap=0.2, share=0.1)])
    planted = data.latent["in_planted"].to_numpy() == 0
    frame = canonical(data).drop(columns=["meta__app_version"])
    texts = frame["text"].to_numpy(dtype=object).copy()
    pick = np.random.default_rng([seed, 16]).integers(len(SENTENCES), size=int(planted.sum()))
    texts[planted] = texts[planted] + np.asarray(SENTENCES, dtype=object)[pick]
    frame["text"] = pd.Series(texts, dtype="string")
    return frame, planted


@pytest.fixture(scope="module")
def planted_run():
    frame, planted = planted_family(2000, seed=3)
    return frame, planted, audit_slices(frame, CLASSES, **SETTINGS)


@pytest.fixture(scope="module")
def null_run():
    frame, _ = generate(2000, seed=11)
    return frame, audit_slices(frame, CLASSES, **SETTINGS)


def _doc(text_slices: dict) -> dict:
    """reports/text_slices.json as the stage writes it (write_json, digits=None)."""
    return json.loads(json.dumps(clean_for_json(text_slices, None)))


def _same(a, b) -> bool:
    return (dumps_metrics(a.metrics) == dumps_metrics(b.metrics)
            and dumps_metrics({"f": a.findings}) == dumps_metrics({"f": b.findings})
            and _doc(a.text_slices) == _doc(b.text_slices) and a.membership.equals(b.membership))


def test_topics_are_predicates_tested_alone_and_the_planted_one_is_a_finding(planted_run):
    frame, planted, audit = planted_run
    topics = audit.metrics["text_features"]["topic"]
    keys = list(topics["slices"])
    assert audit.metrics["text_slices"]["topics"]["k"] == len(keys) == 20 and all(k.startswith("topic_") for k in keys)
    # depth 1 only: no tested slice conjoins a topic with anything
    assert topics["conjunctions"]["n_slices_tested"] == 0
    assert not [k for k in audit.slices["key"] if "topic_" in k and "__and__" in k]
    found = [f for f in audit.findings if f["source"] == "discovered" and f["key"].startswith("topic_")
             and f["rank"] is not None]
    assert found, "the planted word family's topic is a blind spot of its own"
    best = found[0]
    assert best["parts"] == [{"key": best["key"], "source": "text", "column": "topic", "value": best["slice"]["topic"]}]
    assert best["description"] == f'reviews about "{best["slice"]["topic"]}" (learned topic)'
    assert set(best["slice"]["topic"].split(" / ")) & set(FAMILY)
    member = audit.membership[f"found__{best['key']}"].to_numpy()
    assert member[planted].mean() > 0.5 and planted[member].mean() > 0.5
    report = {t["key"]: t for t in audit.text_slices["topics"]["topics"]}
    assert report[best["key"]]["evidence"] == "within_class" and report[best["key"]]["rank"] == best["rank"]
    assert report[best["key"]]["n"] == int(member.sum())
    assert audit.metrics["text_slices"]["topics"]["n_blind_spots"] >= 1


def test_terms_are_found_on_planted_data_as_findings_of_their_own(planted_run):
    frame, planted, audit = planted_run
    terms = [f for f in audit.findings if f["source"] == "term"]
    assert terms and any(set(f["slice"]["term"].split()) & set(FAMILY) for f in terms)
    f = terms[0]
    assert f["id"] == f"term__{f['key']}__error_rate" and f["evidence"] == "within_class" and f["rank"] >= 1
    assert f["p_value"] == f["conditional_p_value"] and f["q_value"] == f["conditional_q_value"] <= 0.05
    assert f["method"] == "cross_fit_bonferroni_min_of_two" and f["selected_on"] in ("a", "b", "both")
    assert f["class_mix_rank"] is None and f["explained_by_parent"] is False
    assert f["parts"] == [{"key": f["key"], "source": "text", "column": "term", "value": f["slice"]["term"]}]
    # ranked among every blind spot of its own: ranks 1..N without gaps, over slices and terms together
    ranks = sorted(g["rank"] for g in audit.findings if g["rank"] is not None)
    assert ranks == list(range(1, len(ranks) + 1))
    # membership: rows containing the term (lower-cased words and bigrams)
    column = audit.membership[f"found__{f['key']}"].to_numpy()
    words = frame["text"].str.lower().str.contains(rf"\b{f['slice']['term']}\b", regex=True).to_numpy()
    assert column.sum() == f["n"] and np.array_equal(column, words)
    family = audit.metrics["family"]
    assert family["n_term_tests"] == len(audit.term_tests) > 0
    assert audit.metrics["text_slices"]["terms"]["n_significant"] == len(terms)
    own = {g["key"] for g in audit.findings if g["rank"] is not None}
    assert family["n_blind_spots"] == len(own)


def test_null_data_stays_quiet_through_the_audit(null_run):
    _, audit = null_run
    assert not [f for f in audit.findings if f["significant"]]
    assert audit.metrics["text_slices"]["terms"]["n_selected"] > 0
    assert audit.metrics["text_slices"]["terms"]["n_significant"] == 0
    assert audit.metrics["text_slices"]["topics"]["k"] == 20
    assert audit.metrics["text_slices"]["topics"]["n_blind_spots"] == 0


def test_batches_and_row_groups_give_the_same_audit(planted_run, tmp_path):
    """Texts in memory in one batch, in batches of 150, and read from a file of row groups of 300 (local and dask)."""
    frame, _, audit = planted_run
    small = audit_slices(frame, CLASSES, texts=FrameTexts(frame, frame["text"], batch_rows=150), **SETTINGS)
    assert _same(small, audit)
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=300)
    bare = frame.drop(columns=["text"])
    local = audit_slices(bare, CLASSES, texts=FileTexts(path, len(frame)), **SETTINGS)
    assert _same(local, audit)
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig

    remote = audit_slices(bare, CLASSES, texts=FileTexts(path, len(frame), engine="dask",
                                                          dask=DaskConfig(n_workers=2, memory_limit="1GB")),
                          **SETTINGS)
    assert _same(remote, audit)


def test_batched_term_counts_are_error_terms_when_the_sample_is_every_row(planted_run):
    frame, _, audit = planted_run
    texts, ids = frame["text"].tolist(), frame["id"].to_numpy(dtype=object)
    y_true, y_pred = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    whole = error_terms(texts, y_true, y_pred, 3, seed=DEFAULT_SEED, ids=ids)
    vocabulary = fit_candidates(texts, len(texts), min_support=30)
    table = sum(batch_counts(texts[lo:lo + 170], split_by_id(ids[lo:lo + 170], DEFAULT_SEED),
                             cells(y_true[lo:lo + 170], y_pred[lo:lo + 170], 3), vocabulary, 3)
                for lo in range(0, len(texts), 170))
    batched = terms_from_counts(table, vocabulary, 3, seed=DEFAULT_SEED)
    assert batched.tests.equals(whole.tests) and batched.n_candidates == whole.n_candidates
    assert (batched.n_a, batched.n_b) == (whole.n_a, whole.n_b)
    # and the audit tested exactly these terms, with these p values
    assert audit.term_tests["term"].tolist() == whole.tests["term"].tolist()
    np.testing.assert_array_equal(audit.term_tests["p_value"].to_numpy(), whole.tests["p_value"].to_numpy())
    # an index split (the library default) differs from the id split, but both are seeded hashes
    assert not np.array_equal(split_by_id(ids, 1), split_by_id(ids, 2))


def test_text_slices_report_follows_the_schema(planted_run):
    _, _, audit = planted_run
    doc = _doc(audit.text_slices)
    assert undeclared(doc, TEXT_SLICES) == []
    assert undeclared(json.loads(dumps_metrics(audit.metrics)), SLICES) == []
    assert undeclared(json.loads(dumps_metrics({"f": audit.findings}))["f"], FINDINGS) == []
    topics, terms = doc["topics"], doc["terms"]
    assert topics["k"] == len(topics["topics"]) == 20 and topics["reason"] is None and topics["n_fit"] == 2000
    assert [t["key"] for t in topics["topics"]] == list(audit.metrics["text_features"]["topic"]["slices"])
    for t in topics["topics"]:
        assert set(t) == {"key", "name", "top_terms", "n", "tested", "evidence", "rank", "error_rate",
                          "rest_error_rate", "q_value", "conditional_q_value", "examples"}
        assert len(t["top_terms"]) == 10 and t["name"] == " / ".join(t["top_terms"][:3])
        assert len(t["examples"]) <= 2 and all(len(e["text"]) <= 303 and set(e) == {"id", "text"}
                                                for e in t["examples"])
    assert set(terms) == {"n_candidates", "n_a", "n_b", "reason", "settings", "tested"}
    assert terms["n_a"] + terms["n_b"] == 2000
    assert [t["term"] for t in terms["tested"]] == audit.term_tests["term"].tolist()  # by (unrounded) p, then term
    assert np.all(np.diff(audit.term_tests["p_value"].to_numpy()) >= 0)
    for t in terms["tested"]:
        assert set(t) == {"term", "key", "n", "errors", "error_rate", "rest_error_rate", "expected_given_class_mix",
                          "n_a", "n_b", "selected_on", "p_a_to_b", "p_b_to_a", "p_value", "q_value", "significant",
                          "rank"}
        assert (t["rank"] is not None) == t["significant"]
    # 6 significant digits
    assert all(len(f"{t['p_value']:.10g}".replace("0.", "").lstrip("0").replace(".", "").split("e")[0]) <= 6
               for t in terms["tested"])


@pytest.mark.parametrize("case", ["ten_rows", "empty_texts", "one_word", "non_english"])
def test_tiny_or_odd_texts_give_a_reason_not_a_crash(case):
    rng = np.random.default_rng(0)
    n = 10 if case == "ten_rows" else 400
    frame, _ = generate(max(n, 50), seed=2)
    frame = frame.iloc[:n].reset_index(drop=True)
    if case == "empty_texts":
        frame["text"] = pd.Series([""] * n, dtype="string")
    elif case == "one_word":
        frame["text"] = pd.Series(rng.choice(["good", "bad", "fine"], size=n), dtype="string")
    elif case == "non_english":
        words = ["Medikament", "wirkt", "nicht", "très", "bien", "効果", "がない", "лекарство", "помогло"]
        frame["text"] = pd.Series([" ".join(rng.choice(words, size=8)) for _ in range(n)], dtype="string")
    audit = audit_slices(frame, CLASSES, **SETTINGS)
    block = audit.metrics["text_slices"]
    assert undeclared(_doc(audit.text_slices), TEXT_SLICES) == []
    if case == "ten_rows":
        assert block["topics"]["reason"] == "too_few_rows" and block["terms"]["reason"] == "too_few_rows"
    elif case == "empty_texts":
        assert block["topics"]["reason"] == "too_few_terms" and block["terms"]["reason"] == "no_candidate_terms"
    elif case == "one_word":
        assert block["topics"]["reason"] == "too_few_terms" and block["terms"]["reason"] in (None, "no_candidate_terms")
    else:
        assert block["topics"]["k"] >= 2 or block["topics"]["reason"] == "too_few_terms"
    assert block["topics"]["k"] == len(audit.text_slices["topics"]["topics"])


def test_topics_and_terms_can_be_turned_off(null_run):
    frame, audit = null_run
    off = audit_slices(frame, CLASSES, **{**SETTINGS, "topics_max": 0, "terms_top_k": 0})
    block = off.metrics["text_slices"]
    assert block["topics"]["reason"] == "off" and block["terms"]["reason"] == "off" and "topic" not in \
        off.metrics["text_features"]
    assert off.metrics["family"]["n_term_tests"] == 0
    assert off.metrics["family"]["n_tests"] < audit.metrics["family"]["n_tests"]


def test_a_batch_tokenised_in_pieces_gives_the_same_audit(planted_run, monkeypatch):
    """Inside a batch, token lists are made a piece at a time; the TF-IDF rows are stacked into one solver batch."""
    from blindspot.slices import textpass

    frame, _, audit = planted_run
    monkeypatch.setattr(textpass, "TOKEN_PIECE_ROWS", 64)
    assert _same(audit_slices(frame, CLASSES, **SETTINGS), audit)
