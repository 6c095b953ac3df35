"""The fast token path (Arrow and numpy) equals the reference (the regular expression and scikit-learn) exactly.

Tokens, count matrices (values, dtype, index dtypes, sorted indices, sparse type), TF-IDF
rows, the error terms' count tables and term membership, on hostile, Unicode and random
texts and on synthetic reviews.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from blindspot import synth
from blindspot.slices.terms import _vectorizer, batch_counts, fit_candidates, term_membership
from blindspot.slices.tokens import (
    Lexicon,
    TokenBatch,
    as_tokens,
    content_words,
    count_matrix,
    distinct,
    tokenize,
    words_and_bigrams,
)
from blindspot.slices.topics import fit_topics

HOSTILE = [
    "Hello World", "don't stop, it's fine", "abc123 123abc a1b2 x9", "foo_bar _ab ab_ __init__", "40 mg twice 2x",
    "½ cup, ²nd, ٣ days, 1st", "İstanbul, ISTANBUL, ıi, KELVIN \u212a", "Café naïve résumé ÉCOLE", "emoji 🙂 ok 👍🏽 yes",
    "", None, float("nan"), 17, b"bytes are not text", "a", "ab", "A B", "AB cd", "x-ray e-mail well-known",
    "tabs\tand\nnewlines\r\nok", "nul\x00byte here", "ß straße STRASSE", "ǅemal ǆ", "ΟΔΟΣ σοφός", "ﬁne ﬂow",
    "mixed ascii and ünïcödé words", "UPPER lower MiXeD", "to be or not to be: not worth it", "no longer has it",
    "end.", ".start", "...", "a.b.c ab.cd", "tab\u00a0nbsp", "zero\u200bwidth", "snake_case CamelCase kebab-case",
    "long " * 5000 + "tail", "word" * 2000, "q" * 3 + "1", "日本語 テキスト ok", ["not", "a", "text"], ("ab", "cd"),
]


def reference_lists(texts) -> list:
    return [list(t) for t in as_tokens(texts)]


def random_texts(n: int, seed: int) -> list:
    """Random strings over letters (both cases), digits, "_", punctuation, spaces and a few non-ASCII characters."""
    rng = np.random.default_rng(seed)
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ .,;:'!?-\t\n") + list("éİı½ß🙂ǅ")
    weights = np.array([4.0] * 52 + [1.0] * 11 + [8.0] + [1.0] * 10 + [0.05] * 7)
    weights /= weights.sum()
    out = []
    for _ in range(n):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 80)), p=weights))
        out.append(None if rng.random() < 0.02 else text)
    return out


def reviews(n: int, seed: int) -> list:
    return synth.generate(n, seed=seed, mode="null").frame["text"].tolist()


def assert_same_matrix(fast, reference):
    assert type(fast) is type(reference)
    assert fast.format == reference.format == "csr"
    assert fast.shape == reference.shape and fast.dtype == reference.dtype
    assert fast.indices.dtype == reference.indices.dtype and fast.indptr.dtype == reference.indptr.dtype
    assert fast.has_sorted_indices and reference.has_sorted_indices
    np.testing.assert_array_equal(fast.indptr, reference.indptr)
    np.testing.assert_array_equal(fast.indices, reference.indices)
    np.testing.assert_array_equal(fast.data, reference.data)


@pytest.mark.parametrize("texts", [HOSTILE, random_texts(3000, 0), random_texts(500, 1)], ids=["hostile", "random",
                                                                                              "random2"])
def test_tokens_equal_the_regular_expression(texts):
    batch = tokenize(texts)
    assert isinstance(batch, TokenBatch) and batch.n == len(texts)
    assert np.all(np.diff(batch.doc) >= 0)
    assert batch.lists() == reference_lists(texts)


def test_tokens_of_reviews_all_ascii_and_mixed():
    texts = reviews(2000, 3)
    assert tokenize(texts).lists() == reference_lists(texts)
    mixed = [t if i % 7 else t.replace("e", "é", 1) for i, t in enumerate(texts)]  # non-ASCII rows among ASCII
    assert tokenize(mixed).lists() == reference_lists(mixed)


def test_tokens_of_odd_batches():
    for texts in ([], [None], [""], ["ab"], ["ab", "cd"], ["ab1", "cd"], ["é"], ["éé", "ab", "cd"], ["\ud800 ab"],
                  ["ok", "\ud800 lone surrogate", "fine text"]):
        assert tokenize(texts).lists() == reference_lists(texts), texts
    # texts are adjacent in the Arrow buffer: a token never runs from one into the next
    assert tokenize(["ab", "cd", "e", "f1", "gh"]).lists() == [["ab"], ["cd"], [], [], ["gh"]]


def test_tokens_of_a_series_held_in_arrow():
    texts = [t if isinstance(t, str) else None for t in HOSTILE] + reviews(300, 9)  # what a Parquet batch holds
    for dtype in ("string[pyarrow]", "str", object):
        series = pd.Series(texts, dtype=dtype)
        assert tokenize(series).lists() == reference_lists(texts), dtype
        assert tokenize(series.iloc[7:200]).lists() == reference_lists(texts[7:200]), dtype  # a slice: offset buffers


def vocabulary_of(texts, analyzer) -> list:
    return list(CountVectorizer(analyzer=analyzer).fit(as_tokens(texts)).get_feature_names_out())


ODD_ENTRIES = ["to be", "has", "the", "not worth", "abc def ghi", " lead", "trail ", "", "UPPER", "a1", "no longer",
               "worth it", "it"]


@pytest.mark.parametrize("texts", [HOSTILE, random_texts(2000, 2), reviews(1500, 4)], ids=["hostile", "random",
                                                                                          "reviews"])
@pytest.mark.parametrize("analyzer, binary", [(words_and_bigrams, True), (words_and_bigrams, False),
                                              (content_words, False), (content_words, True)])
def test_count_matrix_equals_count_vectorizer(texts, analyzer, binary):
    vocabulary = vocabulary_of(texts, analyzer)
    rng = np.random.default_rng(0)
    vocabulary = [str(v) for v in rng.permutation(vocabulary + [e for e in ODD_ENTRIES if e not in vocabulary])]
    reference = CountVectorizer(analyzer=analyzer, vocabulary=vocabulary, binary=binary,
                                dtype=np.float32).transform(as_tokens(texts))
    fast = count_matrix(tokenize(texts), Lexicon.of(vocabulary), bigrams=analyzer is words_and_bigrams, binary=binary)
    assert_same_matrix(fast, reference)


def test_tfidf_of_a_token_batch_equals_the_vectorizer():
    texts = reviews(3000, 5) + HOSTILE
    model = fit_topics(texts[:2000], n=len(texts), seed=0)
    for piece in (texts, texts[2000:], HOSTILE, [None]):
        assert_same_matrix(model.tfidf(tokenize(piece)), model.tfidf(piece))
    for piece in ([], tokenize([])):  # scikit-learn's transformer refuses no rows, either way
        with pytest.raises(ValueError):
            model.tfidf(piece)
    clone = pickle.loads(pickle.dumps(model))  # the model travels to Dask workers, its lexicon too
    assert_same_matrix(clone.tfidf(tokenize(texts)), model.tfidf(texts))
    np.testing.assert_array_equal(model.weights_of(model.tfidf(tokenize(texts))), model.weights(texts))


def test_term_count_tables_equal_the_reference():
    texts = reviews(3000, 6) + HOSTILE + random_texts(500, 7)
    m, k = len(texts), 3
    rng = np.random.default_rng(1)
    half_b, cell = rng.random(m) < 0.5, rng.integers(0, 2 * k, m)
    vocabulary = list(fit_candidates(texts, m, min_support=5)) + ["to be", "has", "abc def ghi"]
    reference = batch_counts(as_tokens(texts), half_b, cell, vocabulary, k)
    np.testing.assert_array_equal(batch_counts(tokenize(texts), half_b, cell, vocabulary, k), reference)
    np.testing.assert_array_equal(batch_counts(tokenize(texts), half_b, cell, Lexicon.of(vocabulary), k), reference)
    empty = batch_counts(tokenize([]), np.zeros(0, bool), np.zeros(0, int), vocabulary, k)
    np.testing.assert_array_equal(empty, batch_counts([], np.zeros(0, bool), np.zeros(0, int), vocabulary, k))


def test_term_membership_equals_the_vectorizer():
    texts = reviews(2000, 8) + HOSTILE
    terms = ["not worth", "app", "the app", "really helped", "to be", "has", "hello world", "café", "İstanbul",
             "three word term", "zzz", "don", "long long", "UPPER"]
    reference = _vectorizer(1, 1.0, terms).transform(as_tokens(texts)).toarray() > 0
    np.testing.assert_array_equal(term_membership(texts, terms), reference)
    np.testing.assert_array_equal(term_membership(tokenize(texts), terms), reference)
    arrow = pd.Series([t if isinstance(t, str) else None for t in texts], dtype="string[pyarrow]")
    np.testing.assert_array_equal(term_membership(arrow, terms), reference)
    assert term_membership(texts, []).shape == (len(texts), 0)
    assert term_membership([], terms).shape == (0, len(terms))


def test_a_repeated_vocabulary_entry_is_refused_as_scikit_learn_does():
    with pytest.raises(ValueError):
        CountVectorizer(analyzer=words_and_bigrams, vocabulary=["ab", "ab"]).transform([["ab"]])
    with pytest.raises(ValueError):
        Lexicon.of(["ab", "ab"])


def test_distinct_equals_numpy_unique():
    keys = np.random.default_rng(2).integers(0, 50, 1000)
    for k in (keys, keys[:0], keys[:1]):
        u, c = np.unique(k, return_counts=True)
        du, dc = distinct(k)
        np.testing.assert_array_equal(du, u)
        np.testing.assert_array_equal(dc, c)
    assert sparse.issparse(count_matrix(tokenize(["ab"]), Lexicon.of([]), bigrams=True, binary=True))
