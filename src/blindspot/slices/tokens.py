"""The words of a review as the topics and the error terms read them, tokenised once per batch.

A token is a run of two or more letters of the lower-cased text (no numbers, no doses
such as "40 mg"): scikit-learn's word analyzer with :data:`TOKEN_PATTERN`. The text pass
tokenises each batch once and hands the same token lists to the topics' TF-IDF
(:mod:`blindspot.slices.topics`, stop words removed) and to the error terms' counts
(:mod:`blindspot.slices.terms`, content words and bigrams): the regular expression is most of the
cost of either, so doing it once saves a third of the pass.
"""

from __future__ import annotations

import re

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
