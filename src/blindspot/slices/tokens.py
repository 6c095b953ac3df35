"""The words of a review as the topics and the error terms read them, tokenised once per batch.

A token is a run of two or more letters of the lower-cased text (no numbers, no doses
such as "40 mg"): scikit-learn's word analyzer with :data:`TOKEN_PATTERN`. The text pass
tokenises each batch once and hands the same token lists to the topics' TF-IDF
(:mod:`blindspot.slices.topics`, stop words removed) and to the error terms' counts
(:mod:`blindspot.slices.terms`, content words and bigrams): the regular expression is most of the
cost of either, so doing it once saves a third of the pass.

Two paths give the same tokens and the same counts. The reference: :func:`as_tokens` (the
regular expression, one list of str per text) fed to scikit-learn's vectorizers, which look
every token up in a dict; the fitting sample goes this way. The fast path, which the text
pass takes: :func:`tokenize` gives a batch's tokens as one Arrow string array found on the
bytes of the ASCII texts (numpy; other texts by the regular expression), a :class:`Lexicon`
looks them up in a fixed vocabulary with Arrow's hash kernel (words, and bigrams as pairs of
key positions), and :func:`count_matrix` builds the CountVectorizer's matrix from the hits.
Tests hold tokens, matrices and count tables equal; ``bench/text_pass_batch.py`` times both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy import sparse
from sklearn import get_config
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

TOKEN_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"  # words of two or more letters: no numbers, no doses
_TOKEN = re.compile(TOKEN_PATTERN)


class Tokenized(list):
    """Token lists of a sequence of texts (one list of str per text): marks texts already tokenised."""


def as_tokens(texts) -> Tokenized:
    """Each text's tokens (missing values read as empty texts); texts already tokenised are returned as they are.

    Parameters
    ----------
    texts : sequence of str, length n, or Tokenized

    Returns
    -------
    Tokenized, length n
        The lower-cased words of two or more letters of each text, in order.
    """
    if isinstance(texts, Tokenized):
        return texts
    return Tokenized(_TOKEN.findall(t.lower()) if isinstance(t, str) else [] for t in texts)


def words_and_bigrams(tokens: list) -> list:
    """A token list's content words, then its pairs of adjacent words joined by a space, but for pairs of two stop words.

    Stop words (scikit-learn's English list) are kept inside a pair ("not worth", "no
    longer") and dropped alone or paired with each other ("has", "to be"): measured on the
    UCI sentences and the bundled reviews, such terms were found only as stand-ins for long
    texts, whose errors the length slices already report.
    """
    words = [t for t in tokens if t not in ENGLISH_STOP_WORDS]
    return words + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])
                    if a not in ENGLISH_STOP_WORDS or b not in ENGLISH_STOP_WORDS]


def content_words(tokens: list) -> list:
    """A token list without English stop words (scikit-learn's list)."""
    return [t for t in tokens if t not in ENGLISH_STOP_WORDS]


# --- The fast path: a batch's tokens as one Arrow array, counted against a fixed vocabulary with numpy ---
#
# The regular expression's tokens of an ASCII text are its maximal runs of word characters
# ([A-Za-z0-9_], Python's Unicode \w restricted to ASCII) that hold letters only and are at
# least two long: \b[^\W\d_]{2,}\b can neither start nor end inside a run of word
# characters, so a run with a digit or "_" gives no token at all ("abc123", "foo_bar"). On
# ASCII, str.lower() lower-cases A-Z only. :func:`tokenize` finds those runs on the bytes
# of the batch (numpy), and leaves every text that is not ASCII to the regular expression,
# so Unicode letters, digits and case (accents, "½", Turkish İ) are Python's by construction.

_A, _Z0, _UNDERSCORE, _CASE = ord("a"), ord("0"), ord("_"), 0x20


@dataclass(frozen=True)
class TokenBatch:
    """The tokens of a batch of texts, flat: :func:`as_tokens`' tokens without a Python string per token.

    Attributes
    ----------
    tokens : pyarrow.StringArray or LargeStringArray, shape (N,)
        Every text's tokens, text after text, each text's in order.
    doc : ndarray of int64, shape (N,)
        The text of each token (non-decreasing).
    n : int
        Texts.
    """

    tokens: pa.Array
    doc: np.ndarray
    n: int

    def __len__(self) -> int:
        return self.n

    def lists(self) -> Tokenized:
        """The same tokens as :func:`as_tokens` gives them: one list of str per text."""
        words = self.tokens.to_pylist()
        bounds = np.searchsorted(self.doc, np.arange(self.n + 1))
        return Tokenized(words[a:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def tokenize(texts) -> TokenBatch:
    """Each text's tokens, exactly those of :func:`as_tokens`, as one flat Arrow array.

    ASCII texts are tokenised on their bytes (see the comment above); the others, and
    every text when the batch cannot be encoded as UTF-8 (lone surrogates), by the
    regular expression. Missing values and non-strings read as empty texts.

    Parameters
    ----------
    texts : sequence of str, length n
        A pandas Series of strings held in Arrow (what the stage reads) is used as it is,
        without a Python string per text.

    Returns
    -------
    TokenBatch
    """
    arr = _arrow_texts(texts)
    if arr is None:
        if not (isinstance(texts, np.ndarray) and texts.dtype == object and texts.ndim == 1):
            texts = np.fromiter(texts, dtype=object)  # not np.asarray: a text that is a sequence must stay one item
        is_str = np.fromiter((isinstance(t, str) for t in texts), bool, len(texts))
        try:
            arr = pa.array(np.where(is_str, texts, None), pa.large_string())
        except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates: no UTF-8, so Python's way for all
            return _from_lists(as_tokens(texts), np.arange(len(texts)))
    n = len(arr)
    tokens, doc = _ascii_runs(arr)
    slow = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(arr), True).to_numpy(zero_copy_only=False))
    if not slow.size:
        return TokenBatch(tokens, doc, n)
    other = _from_lists(as_tokens(arr.take(pa.array(slow)).to_pylist()), slow)
    keep = ~np.isin(doc, slow)  # the byte scan's tokens of non-ASCII texts are not Python's
    doc = np.concatenate([doc[keep], other.doc])
    order = np.argsort(doc, kind="stable")  # back in text order; each text's tokens stay in order
    return TokenBatch(pa.concat_arrays([tokens.filter(pa.array(keep)).cast(pa.large_string()),
                                        other.tokens.cast(pa.large_string())]).take(pa.array(order)),
                      doc[order], n)


def _arrow_texts(texts) -> pa.Array | None:
    """The texts as a LargeStringArray when they are a pandas Series of strings held in Arrow, else None."""
    array = getattr(texts, "array", None)
    if not isinstance(texts, pd.Series) or not hasattr(array, "__arrow_array__"):
        return None
    arr = pa.array(array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr.cast(pa.large_string())


def _from_lists(lists: list, docs: np.ndarray) -> TokenBatch:
    """A TokenBatch of token lists, the ``i``-th list being text ``docs[i]``'s (n: ``len(lists)``)."""
    lengths = np.fromiter((len(t) for t in lists), np.int64, len(lists))
    words = pa.array([w for t in lists for w in t], pa.large_string())
    return TokenBatch(words, np.repeat(np.asarray(docs, np.int64), lengths), len(lists))


def _ascii_runs(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The tokens of every text read as ASCII bytes, lower-cased, and the text of each.

    Parameters
    ----------
    arr : pyarrow.LargeStringArray, shape (n,)

    Returns
    -------
    tokens : pyarrow.StringArray (LargeStringArray past 2 GiB), shape (N,)
    doc : ndarray of int64, shape (N,)
        Exact for ASCII texts only (bytes of 0x80 and above read as non-word characters).
    """
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset:arr.offset + n + 1]
    data = arr.buffers()[2]
    b = (np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8))[offsets[0]:offsets[-1]]
    rel = offsets - offsets[0]
    # in place where it can be: every temporary here is the size of the batch's texts
    tmp = np.bitwise_or(b, _CASE)
    np.subtract(tmp, _A, out=tmp)  # uint8 arithmetic wraps: below 26 for A-Z and a-z only
    letter = np.less(tmp, 26)
    np.subtract(b, _Z0, out=tmp)
    word = np.less(tmp, 10)
    np.logical_or(word, letter, out=word)
    word |= b == _UNDERSCORE
    del tmp
    # runs of word characters: their edges, then a cut wherever a text starts inside one (texts are adjacent)
    edge = np.empty(b.size + 1, bool)
    if b.size:
        edge[0], edge[-1] = word[0], word[-1]
        np.not_equal(word[1:], word[:-1], out=edge[1:-1])
    bounds = np.flatnonzero(edge)
    del edge
    start, end = bounds[0::2], bounds[1::2]
    inner = rel[1:-1][(rel[1:-1] > 0) & (rel[1:-1] < b.size)]
    cut = np.unique(inner[word[inner - 1] & word[inner]])
    if cut.size:
        start = np.insert(start, np.searchsorted(start, cut), cut)
        end = np.insert(end, np.searchsorted(end, cut), cut)
    # a run with a digit or "_" in it gives no token (few such bytes: each is looked up among the runs)
    keep = end - start >= 2
    keep[np.searchsorted(start, np.flatnonzero(np.not_equal(word, letter)), side="right") - 1] = False
    del word, letter
    start, end = start[keep], end[keep]
    inside = np.zeros(b.size + 1, np.int8)  # +1 at a token's start, -1 past its end: cumsum marks its bytes
    inside[start] += 1  # two steps: a token may end where the next text's first one starts
    inside[end] -= 1
    np.cumsum(inside, out=inside)
    chars = b[inside[:-1].view(bool)]
    np.bitwise_or(chars, _CASE, out=chars)  # letters only: lower-cased by the bit
    del inside
    bounds = np.zeros(start.size + 1, np.int64)
    np.cumsum(end - start, out=bounds[1:])
    large = bounds[-1] > np.iinfo(np.int32).max
    tokens = pa.Array.from_buffers(pa.large_string() if large else pa.string(), start.size,
                                   [None, pa.py_buffer(bounds if large else bounds.astype(np.int32)),
                                    pa.py_buffer(chars)])
    per_text = np.diff(np.searchsorted(start, rel))  # tokens of each text (n lookups among N, not N among n)
    return tokens, np.repeat(np.arange(n, dtype=np.int64), per_text)


@dataclass(frozen=True)
class Lexicon:
    """A fixed vocabulary of words and bigrams, ready to look a :class:`TokenBatch` up in.

    Entries that :func:`words_and_bigrams` and :func:`content_words` can never produce (a
    lone stop word, a pair of two, anything with other spaces) are left out: they never match.

    Attributes
    ----------
    keys : pyarrow.StringArray, shape (U,)
        The distinct tokens worth looking up: the vocabulary's words and the words of its pairs.
    word_column : ndarray of int64, shape (U + 1,)
        Column of each key as a word entry; -1 when none (the last entry: a token not a key).
    pair_codes : ndarray of int64, shape (P,)
        ``left * U + right`` (keys' positions) of the vocabulary's pairs, sorted.
    pair_column : ndarray of int64, shape (P,)
        Column of each pair.
    size : int
        Entries of the vocabulary (V, the count matrix's columns).
    """

    keys: pa.Array
    word_column: np.ndarray
    pair_codes: np.ndarray
    pair_column: np.ndarray
    size: int

    @classmethod
    def of(cls, vocabulary) -> "Lexicon":
        """The lexicon of ``vocabulary`` (sequence of str, length V; entry ``j`` is column ``j``).

        Raises ValueError on a repeated entry, as scikit-learn does for a vocabulary given as a list.
        """
        entries = pa.array(np.asarray(vocabulary, dtype=object).reshape(-1).tolist(), pa.string())
        if pc.count_distinct(entries).as_py() != len(entries):
            raise ValueError("Duplicate term in vocabulary.")
        parts = pc.split_pattern(entries, " ")
        n_parts = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
        stop = pc.is_in(entries, value_set=_STOP_WORDS).to_numpy(zero_copy_only=False)
        words = np.flatnonzero((n_parts == 1) & ~stop)
        pairs = np.flatnonzero(n_parts == 2)
        left = pc.list_element(parts.take(pa.array(pairs, pa.int64())), 0)
        right = pc.list_element(parts.take(pa.array(pairs, pa.int64())), 1)
        both_stop = (pc.is_in(left, value_set=_STOP_WORDS).to_numpy(zero_copy_only=False)
                     & pc.is_in(right, value_set=_STOP_WORDS).to_numpy(zero_copy_only=False))
        pairs, left, right = pairs[~both_stop], left.filter(pa.array(~both_stop)), right.filter(pa.array(~both_stop))
        keys = pc.unique(pa.concat_arrays([entries.take(pa.array(words, pa.int64())), left, right]))
        u = len(keys)
        word_column = np.full(u + 1, -1, np.int64)
        word_column[_positions(entries.take(pa.array(words, pa.int64())), keys)] = words
        codes = _positions(left, keys) * u + _positions(right, keys)
        order = np.argsort(codes, kind="stable")
        return cls(keys, word_column, codes[order], pairs[order].astype(np.int64), len(entries))


_STOP_WORDS = pa.array(sorted(ENGLISH_STOP_WORDS), pa.string())


def _positions(values: pa.Array, keys: pa.Array) -> np.ndarray:
    """Position of each value among ``keys``, ``len(keys)`` when absent, ndarray of int64, shape (len(values),)."""
    found = pc.index_in(values, value_set=keys)
    return pc.fill_null(found, len(keys)).to_numpy(zero_copy_only=False).astype(np.int64)


def vocabulary_hits(batch: TokenBatch, lexicon: Lexicon, *, bigrams: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every occurrence of a vocabulary entry in the batch: its text and its column.

    Parameters
    ----------
    batch : TokenBatch
    lexicon : Lexicon
    bigrams : bool
        Words and pairs (:func:`words_and_bigrams`), or words only (:func:`content_words`).

    Returns
    -------
    doc, column : ndarray of int64, shape (H,)
        One entry per occurrence (a word as many times as it occurs), in no particular order.
    """
    u = len(lexicon.keys)
    ids = pc.fill_null(pc.index_in(batch.tokens, value_set=lexicon.keys), u).to_numpy()  # int32: half the bytes
    column = lexicon.word_column[ids]
    word = column >= 0
    doc, column = batch.doc[word], column[word]
    if not bigrams or ids.size < 2 or not lexicon.pair_codes.size:
        return doc, column
    pair = ids[:-1] < u
    pair &= ids[1:] < u
    pair &= batch.doc[:-1] == batch.doc[1:]  # adjacent tokens of one text, both keys
    codes = ids[:-1][pair].astype(np.int64) * u + ids[1:][pair]
    at = pc.index_in(codes, value_set=pa.array(lexicon.pair_codes))  # Arrow's hash: faster than a binary search
    hit = at.is_valid().to_numpy(zero_copy_only=False)
    return (np.concatenate([doc, batch.doc[:-1][pair][hit]]),
            np.concatenate([column, lexicon.pair_column[at.drop_null().to_numpy()]]))


def count_matrix(batch: TokenBatch, lexicon: Lexicon, *, bigrams: bool, binary: bool, dtype=np.float32):
    """The document-term matrix scikit-learn's CountVectorizer makes of the batch's token lists.

    Equal to ``CountVectorizer(analyzer=words_and_bigrams or content_words, vocabulary=...,
    binary=binary, dtype=dtype).transform(batch.lists())``: same values, dtype, index dtypes
    (int32 below 2**31 entries), sorted indices and sparse type (the ``sparse_interface`` of
    scikit-learn's configuration); a test holds the two equal.

    Returns
    -------
    scipy.sparse CSR, shape (n, V)
    """
    v = lexicon.size
    doc, column = vocabulary_hits(batch, lexicon, bigrams=bigrams)
    key, counts = distinct(doc * max(v, 1) + column)
    rows, cols = np.divmod(key, max(v, 1))
    index = np.int32 if key.size <= np.iinfo(np.int32).max else np.int64
    indptr = np.searchsorted(rows, np.arange(batch.n + 1)).astype(index)
    x = sparse.csr_array((np.ones(key.size, dtype) if binary else counts.astype(dtype), cols.astype(index), indptr),
                         shape=(batch.n, v), dtype=dtype)
    x.sort_indices()
    return sparse.csr_matrix(x) if get_config()["sparse_interface"] == "spmatrix" else x


def distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of int64 keys and how often each occurs, ndarrays of int64, shape (D,).

    ``np.unique(keys, return_counts=True)`` by a sort: on numpy 2.4 np.unique hashes first,
    ten times slower on a batch's few million (text, term) keys.
    """
    if keys.size and 0 <= keys.min() and keys.max() <= np.iinfo(np.int32).max:
        keys = keys.astype(np.int32)  # sorts faster; given back as int64
    keys = np.sort(keys).astype(np.int64)
    first = np.flatnonzero(np.diff(keys, prepend=keys[:1] - 1)) if keys.size else np.zeros(0, np.int64)
    return keys[first], np.diff(np.append(first, keys.size))
