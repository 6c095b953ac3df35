"""Topic slices: what the reviews are about, learned from the text alone.

A topic is a slice nobody named in advance: the reviews that talk mostly about one
theme the data itself shows (a kind of side effect, a drug class, a device). It is
learned from the review text only, never from the labels, the predictions or the
errors, so testing its error rate on the same rows is as honest as testing a
metadata column: under a model whose errors do not depend on the text, a topic's
members are a text-defined set of rows like any other.

Vocabulary (TF-IDF)
-------------------
Lower-cased words of two or more letters (numbers and doses such as "40 mg" are not
themes), English stop words removed (scikit-learn's list), kept when they occur in at
least ``min_df`` texts of the fitting sample (5: rarer words cannot shape a topic big
enough to test) and at most ``max_df`` of them (0.5: a word in most reviews, "app",
"doctor", separates nothing), at most ``max_features`` (5,000) of the most frequent
words. Term frequencies are sublinear (``1 + log tf``) and rows L2-normalised, so a
long review does not weigh more than a short one.

Number of topics
----------------
``k = clip(n_fit // 100, 2, max_topics)``: one topic per 100 fitting rows (``n_fit``,
at most ``sample_rows``), at least 2, at most ``max_topics`` (20). 1,000 reviews give
10 topics, 2,000 and more give 20. Why a fixed function of ``n`` rather than a
reconstruction elbow: on TF-IDF the NMF reconstruction error falls almost linearly
with ``k`` (on 20,000 synthetic reviews, 0.975, 0.962, 0.956 ... 0.866 of ``||X||``
for k = 1, 2, 3 ... 20: no bend), so an elbow would be decided by noise, and each
candidate costs a fit. Why this many: reviews hold many strong co-occurrence blocks
(set phrases, templates), and NMF gives its first components to them; a theme carried
by 10% of reviews got a topic of its own at k = 20 and not at k = 6 or 12 on 2,000
synthetic reviews. Why no more: every topic adds ``2 + K`` tests to the one FDR family
and a line to the brief; 20 topics of 5 tests each stay a small part of the audit's
family (several hundred tests). The average topic (``n / k`` rows, at least 100 while
``k < 20``) stays above ``min_support``; one that does not is left untested by the audit.

Fitting (NMF)
-------------
Non-negative matrix factorisation ``X ~ W H`` (Frobenius loss, coordinate descent),
initialised by NNDSVD (deterministic given its seeded randomized SVD), fitted on a
seeded sample of at most ``sample_rows`` (20,000) texts, drawn and read in the order of
a seeded hash of their ids (:func:`fit_sample`), so the rows' order in the file changes
nothing; the vocabulary is fitted on the same sample. Every row (the sample's too) is then transformed in fixed batches of
``batch_rows``, so memory stays bounded at any ``n``. Each topic's row of ``H`` is
scaled to unit L2 norm (and ``W`` the other way), so the weights of different topics
are comparable: ``W[i, j]`` is about the cosine of review ``i`` with topic ``j``.
A row's weights solve a non-negative least-squares problem with ``H`` fixed; the
solver stops on a tolerance measured over its whole batch, so a weight can differ in
its last digits with another batch size (the batches are fixed, so the same inputs
always give the same bytes).

Membership
----------
A row belongs to every topic whose weight is at least ``weight_floor`` (0.15), so
topics may overlap, as the text detectors do (a review can be about a drug and about
the app). Why not the topic of the largest weight only: a review of four sentences,
one of them about a theme, holds that theme at a weight of about 0.2-0.3, but its
largest weight is often another sentence's; measured on 2,000 synthetic reviews with
a word family added to 10% of them (``bench/text_slice_sweep.py``), the largest-weight
rule put about 45% of those reviews in the family's topic, the floor about 95%. The
floor sits between the family reviews' 5th percentile of weight on their topic (about
0.18) and the other reviews' 99.9th (about 0.13). A review with no weight above the
floor (a few percent: no vocabulary word, or none that a topic holds) is in no topic.
The two example reviews are the members with the largest weight in the topic (ties:
the lower row). A topic is named by its three top terms (largest entries of its ``H``
row; ties: alphabetical).

Tiny data
---------
Fewer than ``min_rows`` (200) texts, or a vocabulary of fewer than ``2 * k`` words,
gives no topics and a ``reason`` (:data:`TOO_FEW_ROWS`, :data:`TOO_FEW_TERMS`).

Determinism: the sample, the NNDSVD initialisation and the batches depend only on the
inputs and ``seed``; the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from blindspot.samples import smallest_hashes
from blindspot.slices.keys import slugify
from blindspot.slices.tokens import (TOKEN_PATTERN, Lexicon, TokenBatch, Tokenized, as_tokens,  # noqa: F401
                                     content_words, count_matrix)

TOO_FEW_ROWS = "too_few_rows"
TOO_FEW_TERMS = "too_few_terms"
FIT_SAMPLE = "slices/text_sample"  # the name of the fitting sample's draw (blindspot.samples.row_hash)
KEY_PREFIX = "topic_"  # a text slice key: no "__", so it never reads as a metadata predicate


@dataclass(frozen=True)
class TopicSettings:
    """How topics are learned (see the module docstring for why each value).

    Attributes
    ----------
    min_df : int
        Texts of the fitting sample a word must occur in.
    max_df : float
        Largest share of those texts a word may occur in.
    max_features : int
        Vocabulary size cap (most frequent words kept).
    max_topics : int
        Cap of the square-root rule.
    rows_per_topic : int
        The ``100`` of ``k = n_fit // 100``.
    sample_rows : int
        Largest fitting sample.
    batch_rows : int
        Rows transformed at a time.
    weight_floor : float
        Smallest weight that makes a row a member of a topic.
    min_rows : int
        Fewer texts give no topics.
    n_top_terms : int
        Terms kept per topic (the name uses the first three).
    max_iter : int
        NMF iterations.
    """

    min_df: int = 5
    max_df: float = 0.5
    max_features: int = 5000
    max_topics: int = 20
    rows_per_topic: int = 100
    sample_rows: int = 20_000
    batch_rows: int = 20_000
    weight_floor: float = 0.15
    min_rows: int = 200
    n_top_terms: int = 10
    max_iter: int = 400


@dataclass
class Topics:
    """Topics of a set of texts.

    Attributes
    ----------
    keys : list of str, length T
        ``topic_<term>_<term>_<term>`` (slugs of the three top terms).
    names : list of str, length T
        ``"<term> / <term> / <term>"``.
    top_terms : list of list of str, length T
        ``n_top_terms`` terms each, strongest first.
    membership : ndarray of bool, shape (n, T)
        Row ``i`` is in topic ``j`` (``weights >= weight_floor``); topics may overlap.
    weights : ndarray of float32, shape (n, T)
        Each row's weight on each (unit-norm) topic.
    examples : list of list of int, length T
        Row indices of the (up to) two most typical members.
    k : int
        Topics fitted (0 when ``reason`` is set).
    n_fit : int
        Rows the vocabulary and NMF were fitted on.
    reason : str
        Why there are no topics ("" when there are).
    settings : TopicSettings
    """

    keys: list = field(default_factory=list)
    names: list = field(default_factory=list)
    top_terms: list = field(default_factory=list)
    membership: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), bool))
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    examples: list = field(default_factory=list)
    k: int = 0
    n_fit: int = 0
    reason: str = ""
    settings: TopicSettings = field(default_factory=TopicSettings)

    @property
    def sizes(self) -> np.ndarray:
        """Members per topic, ndarray of int64, shape (T,)."""
        return self.membership.sum(axis=0).astype(np.int64)


def n_topics(n_fit: int, settings: TopicSettings) -> int:
    """The number of topics for ``n_fit`` fitting rows: ``clip(n_fit // rows_per_topic, 2, max_topics)``."""
    return int(np.clip(n_fit // settings.rows_per_topic, 2, settings.max_topics))


def fit_sample(id_batches, sample_rows: int, seed: int) -> np.ndarray:
    """Row positions of the fitting sample, shape (min(n, sample_rows),), in the order the fit reads them.

    The ``sample_rows`` rows of smallest seeded hash of their ids (:data:`FIT_SAMPLE`), in
    hash order: the same rows, read in the same order, for the table's rows in any order, so
    the topics and the error terms' candidates do not move when a file is sorted another way.

    Parameters
    ----------
    id_batches : iterable of array_like
        The rows' ids, a batch of consecutive rows at a time (one batch: ``[ids]``; a
        library call without ids passes the row positions as text).
    sample_rows : int
    seed : int
    """
    return smallest_hashes(id_batches, sample_rows, seed, FIT_SAMPLE)


@dataclass(frozen=True)
class TopicModel:
    """Topics fitted on the fitting sample: what every batch of texts is transformed with.

    Small (a vocabulary of at most ``max_features`` words and a ``(k, V)`` matrix), and it
    pickles, so a Dask worker can transform its own row group with it.

    Attributes
    ----------
    vectorizer : TfidfVectorizer
        Fitted on the sample.
    nmf : NMF
        Fitted on the sample's TF-IDF rows.
    scale : ndarray of float32, shape (k,)
        L2 norm of each fitted topic (weights are multiplied by it: unit-norm topics).
    components : ndarray of float, shape (k, V)
        The topics, each of unit L2 norm.
    vocabulary : ndarray of str, shape (V,)
    k, n_fit : int
    settings : TopicSettings
    """

    vectorizer: TfidfVectorizer
    nmf: NMF
    scale: np.ndarray
    components: np.ndarray
    vocabulary: np.ndarray
    k: int
    n_fit: int
    settings: TopicSettings

    def weights(self, texts) -> np.ndarray:
        """Each text's weight on each unit-norm topic, ndarray of float32, shape (n, k).

        One call is one batch for the solver (see the module docstring: its tolerance is
        measured over the batch)."""
        return self.weights_of(self.tfidf(texts))

    def tfidf(self, texts):
        """TF-IDF rows of texts (or their tokens), sparse, shape (n, V): pieces of a batch can be stacked.

        A :class:`blindspot.slices.tokens.TokenBatch` is counted by the fast path
        (:func:`blindspot.slices.tokens.count_matrix`, the counts scikit-learn makes of the same
        tokens) and weighted by the vectorizer's own fitted TF-IDF transformer; anything else
        goes through ``vectorizer.transform``, the reference. The two give equal matrices.
        """
        if not isinstance(texts, TokenBatch):
            return self.vectorizer.transform(as_tokens(texts))
        counts = count_matrix(texts, self.lexicon, bigrams=False, binary=self.vectorizer.binary,
                              dtype=self.vectorizer.dtype)
        # TfidfVectorizer.transform is CountVectorizer.transform then this fitted transformer (private in
        # scikit-learn, hence the parity test against vectorizer.transform)
        return self.vectorizer._tfidf.transform(counts, copy=False)

    @cached_property
    def lexicon(self) -> Lexicon:
        """The vocabulary in column order, ready for :meth:`tfidf` of a TokenBatch (computed once per model)."""
        index = self.vectorizer.vocabulary_
        terms = np.empty(len(index), dtype=object)
        terms[np.fromiter(index.values(), np.int64, len(index))] = list(index.keys())
        return Lexicon.of(terms)

    def weights_of(self, x) -> np.ndarray:
        """Weights of TF-IDF rows (one solver batch), ndarray of float32, shape (n, k)."""
        if x.shape[0] == 0:
            return np.zeros((0, self.k), np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return (self.nmf.transform(x) * self.scale[None, :]).astype(np.float32)

    def labels(self) -> tuple[list, list, list]:
        """``(keys, names, top_terms)`` of the topics (see :class:`Topics`)."""
        keys, names, top_terms = [], [], []
        for j in range(self.k):
            # strongest terms first, ties alphabetical (lexsort: last key is the primary one)
            order = np.lexsort((self.vocabulary, -self.components[j]))[:self.settings.n_top_terms]
            terms = [str(self.vocabulary[i]) for i in order]
            top_terms.append(terms)
            names.append(" / ".join(terms[:3]))
            keys.append(KEY_PREFIX + "_".join(slugify(t) for t in terms[:3]))
        return _distinct(keys), names, top_terms


def fit_topics(sample_texts, *, n: int, seed: int, settings: TopicSettings | None = None) -> TopicModel | str:
    """Fit the vocabulary and the topics on the fitting sample's texts.

    Parameters
    ----------
    sample_texts : sequence of str, length min(n, sample_rows)
        The texts at :func:`fit_sample` ``(n, settings.sample_rows, seed)``, in that order;
        missing values read as empty texts.
    n : int
        Rows of the whole table (fewer than ``min_rows``: no topics).
    seed : int
        Seeds the NNDSVD initialisation (the caller drew the sample with it).
    settings : TopicSettings, optional

    Returns
    -------
    TopicModel, or str
        The reason there are no topics (:data:`TOO_FEW_ROWS`, :data:`TOO_FEW_TERMS`).
    """
    settings = settings or TopicSettings()
    if n < settings.min_rows:
        return TOO_FEW_ROWS
    texts = as_tokens(sample_texts)
    k = n_topics(len(texts), settings)
    # the words of blindspot.slices.tokens without English stop words: scikit-learn's word analyzer
    # with this token pattern and stop_words="english", fed tokens the text pass made once
    vectorizer = TfidfVectorizer(analyzer=content_words, min_df=settings.min_df, max_df=settings.max_df,
                                 max_features=settings.max_features, sublinear_tf=True, dtype=np.float32)
    try:
        x_fit = vectorizer.fit_transform(texts)
    except ValueError:  # scikit-learn: empty vocabulary after pruning
        return TOO_FEW_TERMS
    if x_fit.shape[1] < 2 * k:
        return TOO_FEW_TERMS
    model = NMF(n_components=k, init="nndsvd", solver="cd", max_iter=settings.max_iter, random_state=seed)
    with warnings.catch_warnings():  # an unconverged fit is still a deterministic, usable factorisation
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_fit)
    scale = np.linalg.norm(model.components_, axis=1).astype(np.float32)
    scale[scale == 0] = 1.0
    return TopicModel(vectorizer, model, scale, model.components_ / scale[:, None],
                      vectorizer.get_feature_names_out(), k, len(texts), settings)


def learn_topics(texts, *, seed: int, settings: TopicSettings | None = None) -> Topics:
    """Topics of ``texts`` (never of labels or errors), each row's membership and two examples.

    The whole-data entry point: :func:`fit_topics` on the sample, then
    :meth:`TopicModel.weights` in batches of ``batch_rows``. The slice audit runs the same
    two pieces with its own batches (:mod:`blindspot.slices.textpass`).

    Parameters
    ----------
    texts : sequence of str, length n
        Missing values (None, NaN) read as empty texts.
    seed : int
        Seeds the fitting sample and the NNDSVD initialisation.
    settings : TopicSettings, optional

    Returns
    -------
    Topics
        With ``reason`` set and no topics when the data are too small.
    """
    settings = settings or TopicSettings()
    texts = as_tokens(texts)
    n = len(texts)
    sample = fit_sample([np.arange(n).astype(str)], settings.sample_rows, seed)  # no ids here: a row's position is its id
    model = fit_topics(Tokenized(texts[i] for i in sample), n=n, seed=seed, settings=settings)
    if isinstance(model, str):
        return Topics(membership=np.zeros((n, 0), bool), weights=np.zeros((n, 0), np.float32), k=0,
                      n_fit=0 if model == TOO_FEW_ROWS else len(sample), reason=model, settings=settings)
    weights = np.empty((n, model.k), np.float32)
    for start in range(0, n, settings.batch_rows):
        weights[start:start + settings.batch_rows] = model.weights(Tokenized(texts[start:start + settings.batch_rows]))
    return _topics(weights, model)


def top_members(weights: np.ndarray, membership: np.ndarray, m: int = 2) -> list:
    """Rows of the (up to) ``m`` members of largest weight in each topic (ties: the lower row).

    Returns
    -------
    list of list of int, length k
    """
    out = []
    for j in range(weights.shape[1]):
        rows = np.flatnonzero(membership[:, j])
        out.append([int(r) for r in rows[np.lexsort((rows, -weights[rows, j]))][:m]])
    return out


def _topics(weights: np.ndarray, model: TopicModel) -> Topics:
    """Membership, names, top terms and examples from every row's weights.

    Parameters
    ----------
    weights : ndarray of float32, shape (n, k)
    model : TopicModel
    """
    membership = weights >= model.settings.weight_floor
    keys, names, top_terms = model.labels()
    return Topics(keys=keys, names=names, top_terms=top_terms, membership=membership, weights=weights,
                  examples=top_members(weights, membership), k=model.k, n_fit=model.n_fit, settings=model.settings)


def _distinct(keys: list) -> list:
    """Keys made unique in order: a repeated key gets ``_2``, ``_3``... (two topics with the same top three terms)."""
    seen: dict = {}
    out = []
    for key in keys:
        seen[key] = seen.get(key, 0) + 1
        out.append(key if seen[key] == 1 else f"{key}_{seen[key]}")
    return out
