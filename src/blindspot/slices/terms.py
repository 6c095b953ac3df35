"""Error-associated terms: words and phrases whose reviews the model gets wrong, tested honestly.

Searching every word for the ones whose reviews have the most errors, then testing the
winners on the same reviews, would find "significant" words in data where the errors
are pure noise: the search picks the words that are worse by chance. Here the search
and the test never see the same rows (cross-fitting).

Procedure
---------
1. **Candidates** (text only): lower-cased words of two or more letters and pairs of
   adjacent words (bigrams), present in at least ``min_support`` rows and at most
   ``max_df`` of them (a term in most reviews is about nothing in particular). A
   stop word (scikit-learn's English list) is a candidate only inside a pair with a
   word that is not one: "not worth" and "no longer" are phrases worth finding, but
   "has", "to" or "to be" alone were found, on the UCI sentences and the bundled
   reviews, only as stand-ins for long texts (the length slices' finding, not a
   theme). Terms are not adjusted for length otherwise. The candidate set depends on
   the texts only, not on labels or errors.
2. **Split**: each row goes to half A or half B by a seeded hash of its row index
   (:func:`split_halves`; splitmix64, so a row's half does not depend on ``n`` or on
   the other rows), or, in the slice audit, of its ``id`` (:func:`split_by_id`: a
   batch read on a worker knows its ids, not its place in the file; the ids are
   unique, and a row's half then does not depend on the order of the rows either).
3. **Select on A**: every candidate with at least ``min_support // 2`` rows in A and
   as many outside it is scored by how much worse the model is on the rows
   containing it *within the true classes*: the one-sided Mantel-Haenszel test of
   the term's errors stratified on the true label
   (:func:`blindspot.slices.evaluate.mantel_haenszel_greater`, the normal
   approximation of the audit's exact test, cheap for thousands of terms). The
   ``top_k`` (20) best are selected (ties: the term, alphabetically).
4. **Test on B**: each selected term gets the audit's own test within the true
   classes, the exact conditional test of the stratified 2x2 tables
   (:func:`blindspot.slices.evaluate.stratified_greater`), on half B's rows only.
5. **Swap**: select on B, test on A.
6. **Combine**: a term selected in either direction is reported with
   ``p = min(1, 2 * min(p_AB, p_BA))``, where a direction that did not select it
   counts as ``p = 1``.

Why the p values are valid
--------------------------
Rows are taken as independent given their true labels (the assumption behind every
test of the audit), and the split is a function of the row index and the seed
only, so, given the split, the rows of B are independent of the rows of A. The
selection on A is a function of A's rows; conditional on it, the set of terms to
test is fixed and B's rows are as fresh as new data, so the exact test on B keeps its
level for every selected term (the test is also conditional on B's margins, which the
selection never saw). Swapping gives a second valid p value. The two are dependent
(each half selects in one direction and tests in the other), so they are combined by
Bonferroni: for a term with no effect, ``P(2 min(p_AB, p_BA) <= a) <= P(p_AB <= a/2) +
P(p_BA <= a/2) <= a``, whatever the dependence, and a direction that did not select
the term only makes the bound looser. Reporting only the terms selected in both
directions would also be valid, but it throws away a term found strongly in one half
and weakly in the other; the factor 2 costs less than that at the sizes measured.

The combined p values are one test per reported term and can join the audit's one
Benjamini-Hochberg family beside the slice tests (BH over a set of tests that is fixed
given the split and the selections). What the reader gets in exchange for honesty:
each half has half the rows, so a term must be about twice as strong (in z) to be
found as a named slice of the same size would be.

Effect sizes (error rate, errors expected from the class mix) are given on all rows,
for reading only; the decision rests on the cross-fitted p value.

In pieces, a batch at a time
----------------------------
Everything above is a function of one count table: for each half, each candidate's
rows in each of the ``2K`` cells (true class x correct), and the half's own. So the
audit never holds the texts: it fits the candidate vocabulary on the fitting sample
(:func:`fit_candidates`), counts each batch of texts against that fixed vocabulary
(:func:`batch_counts`, on a Dask worker with ``engine: dask``), adds the tables and
selects and tests from the sum (:func:`terms_from_counts`). The support rule is
applied to the summed counts. When the table has at most ``sample_rows`` rows, the
sample is every row and the vocabulary fitted on it is exactly the candidates of
:func:`error_terms` (a test checks the two agree). On a larger table, the sample
proposes the candidates: a word or phrase in at least ``max(2, min_support * s / n)``
of the ``s`` sampled texts (its expected count at the support rule, at least 2: a
phrase seen once in 20,000 texts is no candidate); a term of about ``min_support`` rows
in a million may then be missed, which costs nothing measurable: a half of 500,000 rows
could not show such a term worse anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from blindspot.samples import row_hash, splitmix64
from blindspot.slices.evaluate import Counts, cells, mantel_haenszel_greater, stratified_greater
from blindspot.slices.keys import slugify
from blindspot.slices.tokens import (  # noqa: F401 (TOKEN_PATTERN re-exported)
    TOKEN_PATTERN,
    Lexicon,
    TokenBatch,
    as_tokens,
    distinct,
    tokenize,
    vocabulary_hits,
    words_and_bigrams,
)

KEY_PREFIX = "term_"  # a text slice key: no "__", so it never reads as a metadata predicate
COMBINE_METHOD = "cross_fit_bonferroni_min_of_two"
TEST_METHOD = "exact_stratified_by_true_class_one_sided_worse"  # the audit's test within classes
SELECT_METHOD = "mantel_haenszel_stratified_z"
TOO_FEW_ROWS = "too_few_rows"
NO_CANDIDATES = "no_candidate_terms"
MEMBERSHIP_PIECE_ROWS = 2048  # rows tokenised at a time by term_membership (see textpass.TOKEN_PIECE_ROWS)


@dataclass
class TermTests:
    """Cross-fitted tests of error-associated terms.

    Attributes
    ----------
    tests : DataFrame, one row per term selected in either direction (T rows)
        ``term``, ``key`` (``term_<slug>``), ``n`` (rows containing it), ``errors``,
        ``error_rate``, ``rest_error_rate``, ``expected_given_class_mix`` (all rows,
        for reading), ``n_a``, ``n_b`` (rows in each half), ``selected_on`` ("a",
        "b" or "both"), ``p_a_to_b`` (selected on A, tested on B; NaN when not
        selected on A), ``p_b_to_a``, ``p_value`` (combined), ``score``
        (``-log10 p_value``). Ordered by ``p_value`` then ``term``.
    n_candidates : int
        Terms that met the support rule.
    n_a, n_b : int
        Rows in each half.
    reason : str
        Why nothing was tested ("" otherwise).
    settings : dict
        ``min_support``, ``max_df``, ``top_k``, ``seed``, methods.
    counts : Counts, optional
        Counts of the tested terms on all rows, in the order of ``tests``.
    """

    tests: pd.DataFrame
    n_candidates: int = 0
    n_a: int = 0
    n_b: int = 0
    reason: str = ""
    settings: dict = field(default_factory=dict)
    counts: Counts | None = None


def split_halves(n: int, seed: int) -> np.ndarray:
    """Half of each row: True for B, False for A, from a seeded hash of the row index.

    Returns
    -------
    ndarray of bool, shape (n,)
        Row ``i``'s half depends only on ``i`` and ``seed``.
    """
    salt = splitmix64(np.array([seed % 2 ** 64], dtype=np.uint64))[0]
    return (splitmix64(np.arange(n, dtype=np.uint64) ^ salt) >> np.uint64(63)).astype(bool)


def split_by_id(ids, seed: int) -> np.ndarray:
    """Half of each row from a seeded hash of its id: True for B, False for A.

    Parameters
    ----------
    ids : array_like of str, shape (n,)
    seed : int

    Returns
    -------
    ndarray of bool, shape (n,)
        Row ``i``'s half depends only on its id and ``seed`` (pandas' stable hash of the
        string, mixed with the seed by splitmix64).
    """
    return (row_hash(seed, ids) >> np.uint64(63)).astype(bool)


def _vectorizer(min_df: int, max_df: float, vocabulary=None) -> CountVectorizer:
    """Binary counts of words and bigrams of token lists (:func:`blindspot.slices.tokens.as_tokens`)."""
    return CountVectorizer(analyzer=words_and_bigrams, binary=True,
                           min_df=1 if vocabulary is not None else min_df, max_df=1.0 if vocabulary is not None
                           else max_df, vocabulary=vocabulary, dtype=np.float32)


def term_membership(texts, terms) -> np.ndarray:
    """Which rows contain each term (as the search reads them: lower-cased words and bigrams).

    Parameters
    ----------
    texts : sequence of str, length n, or their TokenBatch
    terms : sequence of str, length T

    Returns
    -------
    ndarray of bool, shape (n, T)
        What ``_vectorizer(1, 1.0, terms).transform(as_tokens(texts)) > 0`` gives (the
        reference, held equal by a test), from the fast path's counts
        (:func:`blindspot.slices.tokens.vocabulary_hits`).
    """
    if isinstance(texts, TokenBatch):
        out = np.zeros((texts.n, len(terms)), bool)
        if len(terms) and texts.n:
            doc, column = vocabulary_hits(texts, Lexicon.of(terms), bigrams=True)
            out[doc, column] = True
        return out
    texts = texts if isinstance(texts, pd.Series) else pd.Series(list(texts), dtype=object)
    # a piece at a time: a piece's tokens and lookups take several times the bytes of its texts
    return np.concatenate([term_membership(tokenize(texts.iloc[lo:lo + MEMBERSHIP_PIECE_ROWS]), terms)
                           for lo in range(0, len(texts), MEMBERSHIP_PIECE_ROWS)] or [np.zeros((0, len(terms)), bool)])


def _add(a: Counts, b: Counts) -> Counts:
    """Counts of the same slices over two disjoint sets of rows, added."""
    return Counts(a.n + b.n, a.errors + b.errors, a.support + b.support, a.correct + b.correct)


def _misses(c: Counts) -> np.ndarray:
    """Misses per true class, shape (S, K)."""
    return c.support - c.correct


def _select(terms: Counts, total: Counts, min_rows: int, top_k: int, vocabulary: np.ndarray) -> np.ndarray:
    """Indices of the ``top_k`` terms most worse within the true classes (Mantel-Haenszel), shape (<= top_k,)."""
    ok = (terms.n >= min_rows) & (total.n[0] - terms.n >= min_rows)
    _, log10_p, _ = mantel_haenszel_greater(_misses(terms), terms.support, _misses(total), total.support)
    score = np.where(ok & np.isfinite(log10_p), log10_p, np.inf)
    order = np.lexsort((vocabulary, score))  # most negative log10 p first, then alphabetical
    return order[:top_k][np.isfinite(score[order[:top_k]])]


def _test(terms: Counts, total: Counts, chosen: np.ndarray) -> np.ndarray:
    """The exact stratified test of the ``chosen`` terms on this half, shape (len(chosen),); 1 where nothing varies."""
    if chosen.size == 0:
        return np.zeros(0)
    t = terms.take(chosen)
    p, _, _ = stratified_greater(_misses(t), t.support, _misses(total), total.support)
    return np.where(np.isfinite(p), p, 1.0)


def sample_min_df(n: int, n_fit: int, min_support: int) -> int:
    """Sampled texts a term must occur in to be a candidate: ``min_support`` when the sample is
    every row, else ``max(2, floor(min_support * n_fit / n))`` (see the module docstring)."""
    if n_fit >= n:
        return max(1, int(min_support))
    return max(2, int(min_support * n_fit // max(n, 1)))


def fit_candidates(sample_texts, n: int, *, min_support: int) -> np.ndarray:
    """The candidate vocabulary proposed by the fitting sample (text only), sorted.

    Parameters
    ----------
    sample_texts : sequence of str, length n_fit
        The fitting sample's texts (every text when ``n_fit == n``).
    n : int
        Rows of the whole table.
    min_support : int

    Returns
    -------
    ndarray of str, shape (V,)
        Words and bigrams in at least :func:`sample_min_df` sampled texts (the support and
        ``max_df`` rules are applied later, to the counts of every row); empty when none.
    """
    tokens = as_tokens(sample_texts)
    try:
        vec = _vectorizer(sample_min_df(n, len(tokens), min_support), 1.0)
        vec.fit(tokens)
    except ValueError:  # scikit-learn: no term left after the support rule
        return np.zeros(0, dtype=object)
    return vec.get_feature_names_out().astype(object)


def batch_counts(texts, half_b, cell, vocabulary, k: int) -> np.ndarray:
    """One batch's count table: each candidate's rows per cell in each half, and the half's own.

    Parameters
    ----------
    texts : sequence of str, length m, or their Tokenized lists, or their TokenBatch (the fast path)
    half_b : ndarray of bool, shape (m,)
        Each row's half (True: B).
    cell : ndarray of int, shape (m,)
        :func:`blindspot.slices.evaluate.cells` of the rows.
    vocabulary : sequence of str, length V, or its Lexicon (with a TokenBatch)
        From :func:`fit_candidates`.
    k : int

    Returns
    -------
    ndarray of int64, shape (2, V + 1, 2K)
        ``[h, v, c]``: rows of half ``h`` (0: A, 1: B) in cell ``c`` containing term ``v``;
        ``v = V`` counts every row of the half. Tables of disjoint batches add up.
    """
    if isinstance(texts, TokenBatch):
        return _batch_table(texts, half_b, cell, vocabulary if isinstance(vocabulary, Lexicon)
                            else Lexicon.of(vocabulary), k)
    v = len(vocabulary)
    out = np.zeros((2, v + 1, 2 * k), np.int64)
    tokens = as_tokens(texts)
    cell = np.asarray(cell, np.int64)
    half = np.asarray(half_b, bool).astype(np.int64)
    if not tokens:
        return out
    x = _vectorizer(1, 1.0, list(vocabulary)).transform(tokens).tocsr() if v else None
    for h in (0, 1):
        rows = np.flatnonzero(half == h)
        if x is not None and rows.size:
            onehot = sparse.csr_matrix((np.ones(rows.size, np.float32), (np.arange(rows.size), cell[rows])),
                                       shape=(rows.size, 2 * k))
            out[h, :v] = np.rint(np.asarray((x[rows].T @ onehot).todense(), dtype=np.float64)).astype(np.int64)
        out[h, v] = np.bincount(cell[rows], minlength=2 * k)
    return out


def _batch_table(batch: TokenBatch, half_b, cell, lexicon: Lexicon, k: int) -> np.ndarray:
    """:func:`batch_counts` of a TokenBatch: each (row, term) pair holding the term counts once (binary).

    Returns
    -------
    ndarray of int64, shape (2, V + 1, 2K)
        Equal to the reference path's table (a test holds them equal); the counts are exact
        integers here, where the reference sums float32 ones and rounds.
    """
    v = lexicon.size
    doc, column = vocabulary_hits(batch, lexicon, bigrams=True)
    pairs, _ = distinct(doc * (v + 1) + column)  # a term counts once per row, as the binary vectorizer does
    rows = np.arange(batch.n, dtype=np.int64)  # every row also counts in its half's own total (column V)
    doc = np.concatenate([pairs // (v + 1), rows])
    column = np.concatenate([pairs % (v + 1), np.full(batch.n, v, np.int64)])
    half = np.asarray(half_b, bool).astype(np.int64)[doc]
    flat = (half * (v + 1) + column) * (2 * k) + np.asarray(cell, np.int64)[doc]
    return np.bincount(flat, minlength=2 * (v + 1) * 2 * k).reshape(2, v + 1, 2 * k)


def _settings(seed: int, min_support: int, max_df: float, top_k: int) -> dict:
    return {"min_support": min_support, "max_df": max_df, "top_k": top_k, "seed": seed,
            "select_method": SELECT_METHOD, "test_method": TEST_METHOD, "combine_method": COMBINE_METHOD}


def terms_from_counts(table: np.ndarray, vocabulary, k: int, *, seed: int, min_support: int = 30,
                      max_df: float = 0.5, top_k: int = 20) -> TermTests:
    """Select on each half, test on the other, combine (see the module docstring), from counts alone.

    Parameters
    ----------
    table : ndarray of int, shape (2, V + 1, 2K)
        The sum of :func:`batch_counts` over every batch.
    vocabulary : sequence of str, length V
    k : int
    seed : int
        Recorded in ``settings`` (the split was made with it).
    min_support, max_df, top_k
        As in :func:`error_terms`.

    Returns
    -------
    TermTests
    """
    vocabulary = np.asarray(vocabulary, dtype=object)
    v = len(vocabulary)
    settings = _settings(seed, min_support, max_df, top_k)
    n_a, n_b = int(table[0, v].sum()), int(table[1, v].sum())
    n = n_a + n_b
    empty = TermTests(_frame([], {}), 0, n_a, n_b, settings=settings)
    if n < 2 * min_support:
        empty.reason = TOO_FEW_ROWS
        return empty
    df = table[:, :v].sum(axis=(0, 2))
    keep = np.flatnonzero((df >= min_support) & (df <= max_df * n))  # scikit-learn's min_df / max_df rules
    if not keep.size:
        empty.reason = NO_CANDIDATES
        return empty
    vocabulary = vocabulary[keep]
    halves = {h: (Counts.from_cells(table[i, keep], k), Counts.from_cells(table[i, v:v + 1], k))
              for i, h in enumerate("ab")}
    min_rows = max(1, min_support // 2)
    p = {}
    for select_on, test_on in (("a", "b"), ("b", "a")):
        chosen = _select(*halves[select_on], min_rows, top_k, vocabulary)
        p[select_on] = dict(zip(chosen.tolist(), _test(*halves[test_on], chosen).tolist()))
    (term_a, total_a), (term_b, total_b) = halves["a"], halves["b"]
    full, total = _add(term_a, term_b), _add(total_a, total_b)
    chosen = sorted(set(p["a"]) | set(p["b"]))
    columns = _columns(np.asarray(chosen, np.int64), vocabulary, full, total, term_a, term_b, p)
    frame = _frame(chosen, columns)
    if chosen:  # counts in the order of the frame (sorted by p value, then term)
        index = {t: j for t, j in zip(columns["term"], chosen)}
        counts = full.take(np.asarray([index[t] for t in frame["term"]], np.int64))
    else:
        counts = full.take(np.zeros(0, np.int64))
    return TermTests(frame, len(vocabulary), n_a, n_b, settings=settings, counts=counts)


def error_terms(texts, y_true, y_pred, k: int, *, seed: int, min_support: int = 30, max_df: float = 0.5,
                top_k: int = 20, ids=None, sample_rows: int | None = None) -> TermTests:
    """Cross-fitted error-associated terms (see the module docstring), of texts held in memory.

    The whole-data entry point, built on the pieces the slice audit runs a batch at a time:
    :func:`fit_candidates`, one :func:`batch_counts` of every row, :func:`terms_from_counts`.

    Parameters
    ----------
    texts : sequence of str, length n
    y_true, y_pred : array_like of int, shape (n,)
        Class indices in ``[0, k)``.
    k : int
        Number of classes.
    seed : int
        Seeds the split.
    min_support : int
        Rows a term must occur in (all rows); a half scores a term only with at least
        ``min_support // 2`` rows in the half and outside it.
    max_df : float
        Largest share of rows a term may occur in.
    top_k : int
        Terms selected in each direction.
    ids : array_like of str, shape (n,), optional
        Split by a hash of the ids (:func:`split_by_id`) rather than of the row index.
    sample_rows : int, optional
        Candidates proposed by a seeded sample of this many rows (:func:`fit_candidates`);
        default every row.

    Returns
    -------
    TermTests
    """
    tokens = as_tokens(texts)
    n = len(tokens)
    half_b = split_halves(n, seed) if ids is None else split_by_id(ids, seed)
    if n < 2 * min_support:
        n_b = int(half_b.sum())
        return TermTests(_frame([], {}), 0, n - n_b, n_b, TOO_FEW_ROWS, _settings(seed, min_support, max_df, top_k))
    if sample_rows is None or n <= sample_rows:
        sample = tokens
    else:
        from blindspot.slices.tokens import Tokenized
        from blindspot.slices.topics import fit_sample

        sample = Tokenized(tokens[i] for i in fit_sample([np.arange(n).astype(str) if ids is None else ids],
                                                         sample_rows, seed))
    vocabulary = fit_candidates(sample, n, min_support=min_support)
    table = batch_counts(tokens, half_b, cells(y_true, y_pred, k), vocabulary, k)
    return terms_from_counts(table, vocabulary, k, seed=seed, min_support=min_support, max_df=max_df, top_k=top_k)


def _columns(chosen: np.ndarray, vocabulary: np.ndarray, full: Counts, total: Counts, term_a: Counts,
             term_b: Counts, p: dict) -> dict:
    """The columns of :attr:`TermTests.tests` for the ``chosen`` term indices (see there)."""
    miss_rate = _misses(total)[0] / np.maximum(total.support[0], 1)
    n = full.n[chosen]
    errors = full.errors[chosen]
    p_ab = np.array([p["a"].get(j, np.nan) for j in chosen.tolist()])
    p_ba = np.array([p["b"].get(j, np.nan) for j in chosen.tolist()])
    combined = np.minimum(1.0, 2 * np.minimum(np.nan_to_num(p_ab, nan=1.0), np.nan_to_num(p_ba, nan=1.0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "term": [str(vocabulary[j]) for j in chosen],
            "key": [KEY_PREFIX + slugify(vocabulary[j]) for j in chosen],
            "n": n, "errors": errors, "error_rate": errors / n,
            "rest_error_rate": (total.errors[0] - errors) / (total.n[0] - n),
            "expected_given_class_mix": full.support[chosen] @ miss_rate,
            "n_a": term_a.n[chosen], "n_b": term_b.n[chosen],
            "selected_on": np.where(np.isfinite(p_ab) & np.isfinite(p_ba), "both",
                                    np.where(np.isfinite(p_ab), "a", "b")),
            "p_a_to_b": p_ab, "p_b_to_a": p_ba, "p_value": combined, "score": -np.log10(np.maximum(combined, 1e-300)),
        }


_COLUMNS = ("term", "key", "n", "errors", "error_rate", "rest_error_rate", "expected_given_class_mix", "n_a", "n_b",
            "selected_on", "p_a_to_b", "p_b_to_a", "p_value", "score")


def _frame(chosen: list, columns: dict) -> pd.DataFrame:
    """:attr:`TermTests.tests`, ordered by p value then term; empty with its columns when nothing was chosen."""
    if not chosen:
        return pd.DataFrame({c: [] for c in _COLUMNS})
    out = pd.DataFrame(columns, columns=list(_COLUMNS))
    return out.sort_values(["p_value", "term"], kind="mergesort").reset_index(drop=True)
