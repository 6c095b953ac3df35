"""Duplicate texts and what they do to accuracy: the signature of train/test leakage.

A text that occurs several times in an audited set has often also been seen in
training (a review posted twice, a template sentence, a sentence copied across
folds). A model right on such texts far more often than on the others is being
graded partly on what it memorised, and its accuracy overstates what it will do on
new text. :func:`duplicate_accuracy` measures that, for ``metrics/profile.json``:

- duplicate groups are texts equal after a light normalisation (:data:`NORMALISATION`):
  Python's full Unicode case folding (``str.casefold``: "Straße" and "STRASSE" match)
  and every run of Unicode whitespace collapsed to one space, leading and trailing
  whitespace removed. Punctuation, accents and spelling are left alone, so a group
  holds the same text typed again, not a paraphrase;
- a row is *duplicated* when its group holds two rows or more (every copy counts,
  the first included) and *unique* otherwise;
- accuracy on each with Wilson intervals, over rows (what the headline accuracy counts);
- one pre-specified test that duplicated texts are easier: the one-sided Fisher exact
  test on the 2x2 table of (duplicated, unique) x (correct, wrong) with *each repeated
  text counted once* (its first row). Rows of one group are not independent (the same
  text usually gets the same prediction and the same label), so a test over rows counts
  a group's evidence once per copy: with groups of two it fires on about 10% of
  leakage-free data at a nominal 5% (measured in ``tests/test_profiling_duplicates.py``).
  The p value is a hypergeometric upper tail (:func:`fisher_greater_p`; equal to
  ``scipy.stats.fisher_exact(..., alternative="greater")``, tested), so the profile
  stage need not import ``scipy.stats``;
- label conflicts: groups whose rows carry more than one gold label (the same text
  labelled two ways is label noise, whatever the model does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot.results.estimate import Estimate
from blindspot.stats import wilson_interval

#: How texts are made comparable before grouping (written into the metrics file).
NORMALISATION = "casefold_collapse_whitespace"
#: The test behind ``easier_p_value`` (written into the metrics file): one row per repeated text.
EASIER_TEST = "fisher_exact_one_sided_first_row_per_group"


def normalise_text(text: str) -> str:
    """The grouping key of one text: case folded, whitespace collapsed and trimmed."""
    return " ".join(text.casefold().split())


def group_codes(texts) -> np.ndarray:
    """Integer group of each text after :func:`normalise_text`.

    Parameters
    ----------
    texts : array_like of str, shape (n,)
        Missing values are read as the empty text.

    Returns
    -------
    ndarray of int64, shape (n,)
        Equal codes for texts equal after normalisation, numbered 0, 1, ... in order of
        first appearance (so the first row of group ``g`` comes before that of ``g + 1``).
    """
    texts = pd.Series(texts)
    if not isinstance(texts.dtype, pd.StringDtype):
        texts = texts.astype("str")
    # Normalise each distinct text once (a duplicate-heavy set pays for its distinct texts only).
    exact, distinct = pd.factorize(texts.fillna(""))
    # tolist() converts the Arrow strings in one call (iterating the Index converts one at a time).
    keys = np.asarray([normalise_text(t) for t in distinct.tolist()], dtype=object)
    normalised, _ = pd.factorize(keys)
    return normalised.astype(np.int64)[exact] if len(exact) else np.zeros(0, dtype=np.int64)


def fisher_greater_p(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p value that the first row has the higher share of the first column.

    For the table ``[[a, b], [c, d]]`` with its margins fixed, ``a`` follows a
    hypergeometric law; the p value is ``P(A >= a)``, as
    ``scipy.stats.fisher_exact([[a, b], [c, d]], alternative="greater")``.

    The point probabilities are built from their ratio,
    ``P(x + 1) / P(x) = (K - x)(m - x) / ((x + 1)(N - K - m + x + 1))`` with
    ``N = a + b + c + d``, ``K = a + c``, ``m = a + b``, summed in log space: no
    factorials, no underflow before the final exponent, no scipy.

    Parameters
    ----------
    a, b, c, d : int
        Non-negative cell counts.

    Returns
    -------
    float
        In [0, 1]; NaN when a row or a column of the table is empty (nothing to test).
    """
    a, b, c, d = (int(x) for x in (a, b, c, d))
    if min(a, b, c, d) < 0:
        raise ValueError(f"cell counts must be non-negative. Got {[a, b, c, d]} instead.")
    n, k, m = a + b + c + d, a + c, a + b
    if m == 0 or m == n or k == 0 or k == n:
        return float("nan")
    lo, hi = max(0, m - (n - k)), min(k, m)
    if a <= lo:
        return 1.0
    x = np.arange(lo, hi, dtype=float)
    steps = np.log(k - x) + np.log(m - x) - np.log(x + 1) - np.log(n - k - m + x + 1)
    logw = np.concatenate(([0.0], np.cumsum(steps)))  # log P(x) - log P(lo), x = lo..hi
    top = logw.max()
    total = np.log(np.exp(logw - top).sum())
    tail = np.log(np.exp(logw[a - lo:] - top).sum())
    return float(min(1.0, np.exp(tail - total)))


def _accuracy(correct: int, n: int, level: float, empty_reason: str) -> dict:
    low, high = wilson_interval(correct, n, level)
    value = float(correct / n) if n else float("nan")
    return {"n": int(n), "correct": int(correct),
            **Estimate(value, float(low), float(high), "wilson", "" if n else empty_reason).encode()}


def duplicate_accuracy(texts, labels, correct, *, level: float) -> dict:
    """Duplicate groups, label conflicts, and accuracy on duplicated against unique rows.

    Parameters
    ----------
    texts : array_like of str, shape (n,)
    labels : array_like, shape (n,)
        Gold labels (any hashable values).
    correct : array_like of bool, shape (n,)
        Whether the prediction of each row is right.
    level : float
        Confidence level of the Wilson intervals.

    Returns
    -------
    dict
        ``normalisation``; ``groups`` (normalised texts with two rows or more);
        ``rows_duplicated`` (rows in those groups, every copy); ``rows_unique``;
        ``conflicting_label_groups`` and ``rows_in_conflicting_groups`` (groups whose rows
        carry more than one gold label); ``accuracy_duplicated`` and ``accuracy_unique``
        ``{n, correct, value, ci_low, ci_high, method}`` over rows (Wilson at ``level``; NaN with a
        ``reason`` when there is no such row); ``groups_first_row_correct`` and
        ``easier_p_value``: the one-sided Fisher exact test that repeated texts are right
        more often, on ``[[groups_first_row_correct, groups - groups_first_row_correct],
        [accuracy_unique.correct, rows_unique - accuracy_unique.correct]]`` (NaN with
        ``easier_p_value_reason`` when it cannot be computed); ``easier_test``,
        ``ci_level``.
    """
    codes = group_codes(texts)
    correct = np.asarray(correct, dtype=bool)
    label_codes, levels = pd.factorize(pd.Series(labels), use_na_sentinel=False)
    if not (len(codes) == len(correct) == len(label_codes)):
        raise ValueError(f"texts, labels and correct must have one entry per row. "
                         f"Got {len(codes)}, {len(label_codes)} and {len(correct)} instead.")
    n_groups = int(codes.max()) + 1 if codes.size else 0
    size = np.bincount(codes, minlength=n_groups)
    dup = size[codes] > 1
    # Distinct (group, label) pairs: a group with two or more is a label conflict. A presence
    # table (no sort) while it stays under ~50 MB, as in profiling.duplicate_profile.
    width = max(len(levels), 1)
    pairs = codes * width + label_codes
    if n_groups * width <= 50_000_000:
        seen = np.zeros(n_groups * width, dtype=bool)
        seen[pairs] = True
        labels_per_group = seen.reshape(-1, width).sum(axis=1)
    else:
        labels_per_group = np.bincount(np.unique(pairs) // width, minlength=n_groups)
    conflicting = labels_per_group > 1

    n_dup, n_uni = int(dup.sum()), int((~dup).sum())
    a, c = int(correct[dup].sum()), int(correct[~dup].sum())
    # The test's unit is a text: each repeated text enters once, through its first row.
    # Codes are numbered by first appearance, so a row opens its group exactly when its code
    # exceeds every code before it.
    first = codes > np.concatenate(([-1], np.maximum.accumulate(codes)[:-1])) if codes.size else codes.astype(bool)
    n_groups_dup = int((size > 1).sum())
    g = int(correct[first & dup].sum())
    out = {
        "normalisation": NORMALISATION,
        "groups": n_groups_dup,
        "groups_first_row_correct": g,
        "rows_duplicated": n_dup,
        "rows_unique": n_uni,
        "conflicting_label_groups": int(conflicting.sum()),
        "rows_in_conflicting_groups": int(size[conflicting].sum()),
        "accuracy_duplicated": _accuracy(a, n_dup, level, "no text occurs more than once"),
        "accuracy_unique": _accuracy(c, n_uni, level, "every text occurs more than once"),
        "easier_p_value": fisher_greater_p(g, n_groups_dup - g, c, n_uni - c),
        "easier_test": EASIER_TEST,
        "ci_level": float(level),
    }
    if not np.isfinite(out["easier_p_value"]):
        out["easier_p_value_reason"] = (
            "no text occurs more than once" if not n_dup else "every text occurs more than once" if not n_uni
            else "every prediction tested is right" if g + c == n_groups_dup + n_uni
            else "every prediction tested is wrong")
    return out
