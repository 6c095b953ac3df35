"""Topic slices: learned from text alone, deterministic, two obvious themes recovered, tiny data handled."""

from __future__ import annotations

import numpy as np
import pytest

from blindspot import synth
from blindspot.slices.topics import (
    TOO_FEW_ROWS,
    TOO_FEW_TERMS,
    TopicSettings,
    fit_sample,
    learn_topics,
    n_topics,
)

PUMP = ("insulin", "pump", "glucose", "sensor", "battery", "alarm", "catheter")
SKIN = ("rash", "eczema", "cream", "itchy", "steroid", "flaky", "ointment")
FILLER = ("the", "doctor", "was", "helpful", "and", "app", "call", "today", "my", "very", "quick", "booked")


def two_themes(n: int, seed: int = 0) -> tuple[list, np.ndarray]:
    """``n`` short reviews, the first half about an insulin pump, the rest about a skin rash."""
    rng = np.random.default_rng(seed)
    theme = np.arange(n) >= n // 2
    texts = []
    for is_skin in theme:
        words = list(rng.choice(SKIN if is_skin else PUMP, 3, replace=False)) + list(rng.choice(FILLER, 6))
        texts.append(" ".join(rng.permutation(words)))
    return texts, theme


def test_number_of_topics_rule():
    s = TopicSettings()
    assert [n_topics(n, s) for n in (100, 250, 1000, 1999, 2000, 20_000)] == [2, 2, 10, 19, 20, 20]


def test_two_obvious_themes_are_recovered():
    texts, skin = two_themes(400)
    topics = learn_topics(texts, seed=0, settings=TopicSettings(rows_per_topic=200))
    assert topics.k == 2 and topics.reason == ""
    for j in range(2):
        members = topics.membership[:, j]
        side = skin[members].mean() > 0.5
        theme_rows = skin == side
        assert members[theme_rows].mean() >= 0.9  # recall of the theme
        assert theme_rows[members].mean() >= 0.95  # precision
        assert set(topics.top_terms[j][:3]) <= set(SKIN if side else PUMP)
        assert all(theme_rows[i] and members[i] for i in topics.examples[j])
        assert len(topics.examples[j]) == 2
    assert {skin[topics.membership[:, j]].mean() > 0.5 for j in range(2)} == {True, False}


def test_default_rule_never_mixes_two_themes():
    """With more topics than themes, a topic named by a theme's words holds that theme's reviews only
    (the other topics are about the filler words, shared by both themes)."""
    texts, skin = two_themes(600)
    topics = learn_topics(texts, seed=3)
    assert topics.k == 6
    themed = [j for j in range(topics.k) if topics.top_terms[j][0] in PUMP + SKIN]
    assert {topics.top_terms[j][0] in SKIN for j in themed} == {True, False}
    for j in themed:
        members = topics.membership[:, j]
        share_skin = skin[members].mean()
        assert share_skin >= 0.95 if topics.top_terms[j][0] in SKIN else share_skin <= 0.05


def test_outputs_and_keys_on_synthetic_reviews():
    texts = synth.generate(1000, seed=1).frame["text"].tolist()
    topics = learn_topics(texts, seed=0)
    assert topics.k == 10 and topics.n_fit == 1000
    assert topics.membership.shape == (1000, 10) and topics.weights.shape == (1000, 10)
    assert np.array_equal(topics.membership, topics.weights >= topics.settings.weight_floor)
    assert len(set(topics.keys)) == 10
    for key, name, terms in zip(topics.keys, topics.names, topics.top_terms):
        assert key.startswith("topic_") and "__" not in key and key == key.lower()
        assert name == " / ".join(terms[:3]) and len(terms) == topics.settings.n_top_terms
    assert (topics.sizes == topics.membership.sum(axis=0)).all()


def test_same_inputs_same_bytes_and_the_sample_is_seeded():
    texts = synth.generate(700, seed=2).frame["text"].tolist()
    settings = TopicSettings(sample_rows=400, batch_rows=256)  # the sample and the batches are exercised
    a, b = learn_topics(texts, seed=5, settings=settings), learn_topics(texts, seed=5, settings=settings)
    assert a.weights.tobytes() == b.weights.tobytes()
    assert (a.keys, a.names, a.top_terms, a.examples, a.n_fit) == (b.keys, b.names, b.top_terms, b.examples, 400)
    ids = np.array([f"r{i}" for i in range(700)], dtype=object)
    assert np.array_equal(fit_sample([ids], 400, 5), fit_sample([ids], 400, 5))
    assert not np.array_equal(fit_sample([ids], 400, 5), fit_sample([ids], 400, 6))
    assert sorted(fit_sample([ids[:300]], 400, 5)) == list(range(300))  # fewer rows than the sample: all of them


def test_the_fitting_sample_is_the_same_rows_in_the_same_order_whatever_the_rows_order_or_batches():
    ids = np.array([f"r{i}" for i in range(700)], dtype=object)
    order = np.random.default_rng(1).permutation(ids.size)
    whole = ids[fit_sample([ids], 400, 5)]
    assert np.array_equal(ids[order][fit_sample([ids[order]], 400, 5)], whole)
    assert np.array_equal(ids[fit_sample([ids[:123], ids[123:650], ids[650:]], 400, 5)], whole)


@pytest.mark.parametrize("n", [0, 1, 50, 199])
def test_too_few_rows_gives_no_topics_and_the_reason(n):
    texts, _ = two_themes(max(n, 2))
    topics = learn_topics(texts[:n], seed=0)
    assert topics.reason == TOO_FEW_ROWS and topics.k == 0 and topics.keys == []
    assert topics.membership.shape == (n, 0) and topics.weights.shape == (n, 0)


def test_no_vocabulary_gives_no_topics_and_the_reason():
    texts = ["the and of 12 mg", None, "42", float("nan")] * 60  # stop words, numbers, missing values
    topics = learn_topics(texts, seed=0)
    assert topics.reason == TOO_FEW_TERMS and topics.k == 0
    assert topics.membership.shape == (240, 0)
