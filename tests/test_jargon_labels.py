"""The hand-labelled jargon sample is well-formed, and the jargon bench's scores are computed right.

Not a test of the detector's quality: its figures live in ``bench/results/jargon_detector.json``.
"""

import csv
import importlib.util
import json

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score

from _paths import DATA, ROOT

LABELS = DATA / "jargon" / "labels.csv"
BUNDLED = ROOT / "data" / "raw" / "predictions" / "v1.json"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("jargon_detector", ROOT / "bench" / "jargon_detector.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows():
    with LABELS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def bundled():
    return json.loads(BUNDLED.read_text(encoding="utf-8"))


def test_labels_are_well_formed(rows, bundled):
    texts = {r["id"]: r["text"] for r in bundled}
    assert list(rows[0]) == ["id", "terms", "jargon", "note"]
    assert len(rows) == 100
    assert len({r["id"] for r in rows}) == 100
    assert all(r["id"] in texts for r in rows)
    assert {r["jargon"] for r in rows} <= {"yes", "no"}
    for r in rows:
        terms = r["terms"].split("|") if r["terms"] else []
        assert all(t and t == t.strip().lower() for t in terms), r["id"]
        assert len(set(terms)) == len(terms), r["id"]


def test_sample_is_the_documented_seeded_draw(rows, bundled):
    # README.md: numpy.random.default_rng(16).choice(979, 100, replace=False), indices sorted.
    idx = np.sort(np.random.default_rng(16).choice(len(bundled), 100, replace=False))
    assert [r["id"] for r in rows] == [bundled[i]["id"] for i in idx]


def test_every_term_occurs_and_the_label_follows_the_density_rule(bench):
    sample = bench.load_labels()
    threshold = 0.05  # slices.jargon_high_density, as GUIDE.md states it
    for text, terms, label in zip(sample["text"], sample["terms"], sample["jargon"]):
        assert all(bench.label_spans(text, terms).values()), terms
        assert (bench.label_density(text, terms) >= threshold) == label


def test_label_density_counts_occurrences_per_word(bench):
    text = "Took 10 mg then a 10-mg tab, my TSH and tsh levels fine"
    assert bench.label_density(text, ["10 mg", "tsh"]) == pytest.approx(4 / len(text.split()))


def test_review_level_scores_equal_sklearn(bench):
    sample = bench.load_labels()
    y_true = sample["jargon"].to_numpy() | sample["terms"].map(bool).to_numpy()
    rng = np.random.default_rng(0)
    for y_pred in (rng.random(len(sample)) < 0.5, rng.random(len(sample)) < 0.2, y_true.copy()):
        got = bench.review_level(y_true, y_pred, sample["id"])
        assert got["precision"]["value"] == pytest.approx(precision_score(y_true, y_pred))
        assert got["recall"]["value"] == pytest.approx(recall_score(y_true, y_pred))


def test_term_level_scores_equal_sklearn_and_a_count_by_construction(bench):
    sample = bench.load_labels()
    n_terms = int(sample["terms"].map(len).sum())

    # A fake detector matching exactly the first labelled term of each review: precision 1 by construction.
    def first_only(text):
        terms = sample.loc[sample["text"] == text, "terms"].iloc[0]
        return [(a, b, text[a:b].lower()) for a, b in bench.label_spans(text, terms[:1]).get(terms[0], [])] \
            if terms else []

    got = bench.term_level(sample, first_only)
    n_first = int(sample["terms"].map(bool).sum())
    assert (got["tp"], got["fp"], got["fn"]) == (n_first, 0, n_terms - n_first)

    # A fake detector matching each whole text: every labelled term found, one false positive per review
    # without labelled terms.
    got = bench.term_level(sample, lambda text: [(0, len(text), "all")] if text else [])
    assert (got["tp"], got["fn"]) == (n_terms, 0)
    n_empty = int((~sample["terms"].map(bool)).sum())
    assert got["fp"] == n_empty
    assert got["false_positive_terms"] == [{"term": "all", "count": n_empty}]

    # The bench's real matcher: its scores equal sklearn's on the same items.
    items = bench.term_items(sample, bench.detector_spans)
    scored = bench.term_level(sample, bench.detector_spans)
    assert scored["precision"]["value"] == pytest.approx(precision_score(items["y_true"], items["y_pred"]))
    assert scored["recall"]["value"] == pytest.approx(recall_score(items["y_true"], items["y_pred"]))


def test_recovered_spans_count_what_the_detector_counts(bench):
    # The bench reads match spans from the detector's patterns; they must agree with jargon_terms.
    from blindspot import text_features as tf

    sample = bench.load_labels()
    counts = tf.jargon_terms(sample["text"].astype("str"))
    assert [len(bench.detector_spans(t)) for t in sample["text"]] == counts.tolist()


def test_hpo_phrases_keep_phenotypes_and_drop_lay_synonyms(bench, tmp_path):
    # The optional vocabulary side of the bench, on a three-term ontology written here.
    obo = tmp_path / "hp.obo"
    obo.write_text("format-version: 1.2\n\n"
                   "[Term]\nid: HP:0000118\nname: Phenotypic abnormality\n\n"
                   "[Term]\nid: HP:0000969\nname: Edema\nis_a: HP:0000118 ! Phenotypic abnormality\n"
                   'synonym: "Oedema" EXACT uk_spelling []\nsynonym: "Swelling" EXACT layperson []\n\n'
                   "[Term]\nid: HP:0012824\nname: Severity\n", encoding="utf-8")
    phrases = bench.hpo_phrases(obo)
    assert ("edema",) in phrases and ("oedema",) in phrases
    assert ("swelling",) not in phrases and ("severity",) not in phrases
    spans = bench.phrase_spans("Edemas and swelling, severe oedema", phrases)
    assert [s[2] for s in spans] == ["edemas", "oedema"]
