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
  text counted once*, through one of its rows: the row of smallest seeded hash of its id
  (:func:`blindspot.samples.row_hash`), so the same rows in any order choose the same
  one, which the first row in file order would not. Rows of one group are not independent (the same
  text usually gets the same prediction and the same label), so a test over rows counts
  a group's evidence once per copy: with groups of two it fires on about 10% of
  leakage-free data at a nominal 5% (measured in ``tests/test_profiling_duplicates.py``).
  The p value is a hypergeometric upper tail (:func:`fisher_greater_p`; equal to
  ``scipy.stats.fisher_exact(..., alternative="greater")``, tested), so the profile
  stage need not import ``scipy.stats``;
- label conflicts: groups whose rows carry more than one gold label (the same text
  labelled two ways is label noise, whatever the model does).

Grouping without holding the texts: :func:`text_digests` gives each row a 128-bit digest
of its text as given and of its normalised text, one batch of rows at a time, and
:meth:`DigestGroups.of` reduces the batch to one record per distinct digest (rows,
correct rows, smallest and largest label code, rank and correctness of the representative
row). The records of two batches merge (:meth:`DigestGroups.merge`) into those of their
union, whatever the split and the order of the rows; they split by the digest's leading
bits into buckets (:meth:`DigestGroups.buckets`) that each hold every row of their
digests, and each bucket's :meth:`DigestGroups.counts` are integers that add across
buckets. The metrics are built from their sum (:func:`duplicate_accuracy_from_counts`,
:func:`duplicate_profile_from_counts`). Buckets because a table too large for one process
cannot gather one record per group of every partition in one place either: the workers
each reduce the buckets routed to them and send back ten integers.

:func:`digest_codes` (the groups of a whole table, numbered by first appearance) and
:func:`duplicate_accuracy_of_groups` (each repeated text through its first row) are the
in-memory reference the reduce is tested against: with the row positions as ranks it gives
their numbers exactly. :func:`group_codes` is the same grouping on texts held in memory,
kept as the reference the digests are tested against.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blindspot.results.estimate import Estimate
from blindspot.stats import wilson_interval

#: How texts are made comparable before grouping (written into the metrics file).
NORMALISATION = "casefold_collapse_whitespace"
#: The test behind ``easier_p_value`` (written into the metrics file): one row per repeated text,
#: the row of smallest seeded hash of its id (:attr:`DigestGroups.rep_rank`), not the first row.
EASIER_TEST = "fisher_exact_one_sided_one_seeded_row_per_group"


#: One text digest: 16 bytes (two independent 64-bit hashes side by side), compared as raw bytes.
DIGEST = np.dtype("V16")
# Two keys make two independent SipHash-2-4 functions (pandas.util.hash_array, vectorised in C).
_HASH_KEYS = ("blindspot-dup-k1", "blindspot-dup-k2")
# Texts that " ".join(t.casefold().split()) changes beyond lower-casing ASCII letters, when they
# are ASCII: a whitespace byte other than a single space (Python's str.split also splits on the
# separators \x1c-\x1f), two spaces in a row, or a space at either end.
_IRREGULAR_SPACE = r"[\t-\r\x1c-\x1f]|  |^ | $"


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
    texts = _as_strings(texts)
    # Normalise each distinct text once (a duplicate-heavy set pays for its distinct texts only).
    exact, distinct = pd.factorize(texts.fillna(""))
    # tolist() converts the Arrow strings in one call (iterating the Index converts one at a time).
    keys = np.asarray([normalise_text(t) for t in distinct.tolist()], dtype=object)
    normalised, _ = pd.factorize(keys)
    return normalised.astype(np.int64)[exact] if len(exact) else np.zeros(0, dtype=np.int64)


def _as_strings(texts) -> pd.Series:
    texts = pd.Series(texts)
    return texts if isinstance(texts.dtype, pd.StringDtype) else texts.astype("str")


def arrow_strings(texts) -> pa.Array:
    """``texts`` as one Arrow large_string array, missing values as ""."""
    arr = pa.array(_as_strings(texts).fillna("").array)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr.cast(pa.large_string())


def normalised_texts(texts) -> np.ndarray:
    """:func:`normalise_text` of every text, without a Python call for most of them.

    An ASCII text whose only whitespace is single spaces between words normalises to
    itself lower-cased, which Arrow does for the whole column; the others (accents,
    tabs, new lines, repeated spaces) go through :func:`normalise_text` one by one.

    Parameters
    ----------
    texts : array_like of str, shape (n,)
        Missing values are read as the empty text.

    Returns
    -------
    ndarray of object (str), shape (n,)
    """
    return _normalised(arrow_strings(texts))


def _normalised(arr: pa.Array) -> np.ndarray:
    out = pc.ascii_lower(arr).to_numpy(zero_copy_only=False)
    slow = pc.or_(pc.invert(pc.string_is_ascii(arr)), pc.match_substring_regex(arr, _IRREGULAR_SPACE))
    rows = np.flatnonzero(slow.to_numpy(zero_copy_only=False))
    if rows.size:
        out[rows] = [normalise_text(t) for t in arr.take(pa.array(rows, type=pa.int64())).to_pylist()]
    return out


def _hash128(values: np.ndarray) -> np.ndarray:
    """Two keyed 64-bit hashes of each str of an object array, as one :data:`DIGEST` per value."""
    halves = [pd.util.hash_array(values, encoding="utf8", hash_key=key, categorize=False) for key in _HASH_KEYS]
    return np.stack(halves, axis=1).view(DIGEST).reshape(-1)


def text_digests(texts) -> tuple[np.ndarray, np.ndarray]:
    """128-bit digest of each text as given and after :func:`normalise_text`.

    Equal texts get equal digests. Different texts get different ones but for a
    collision, which no table can be expected to meet: the digest is two independent
    keyed 64-bit hashes, as good as a random 128-bit value for texts not crafted
    against the (public) keys, and among ``k`` distinct texts the chance that any two
    of 2^128 equally likely values coincide is below ``k^2 / 2^129``: about 1.5e-25
    for ten million distinct texts and 1.5e-21 for a billion. Only such a coincidence
    could merge two groups and change a count, so grouping on digests reports the
    numbers grouping on the texts does.

    Parameters
    ----------
    texts : array_like of str, shape (n,)
        One batch of rows; missing values are read as the empty text.

    Returns
    -------
    exact, normalised : ndarray of :data:`DIGEST`, shape (n,)
    """
    arr = arrow_strings(texts)
    return _hash128(arr.to_numpy(zero_copy_only=False)), _hash128(_normalised(arr))


def digest_codes(digests) -> np.ndarray:
    """Integer group of each row, equal digests in one group, numbered by first appearance.

    Parameters
    ----------
    digests : ndarray of :data:`DIGEST`, shape (n,)
        The whole table's digests (:func:`text_digests` of every batch, concatenated).

    Returns
    -------
    ndarray of int64, shape (n,)
        As :func:`group_codes` numbers them: the first row of group ``g`` comes before
        that of ``g + 1``.
    """
    digests = np.asarray(digests, dtype=DIGEST)
    halves = digests.view(np.uint64).reshape(-1, 2)
    # A hash table on the first 64 bits (pandas numbers by first appearance): 5 times faster
    # and a third less memory than sorting 16-byte keys. It is the grouping on all 128 bits
    # unless two different digests share their first half (chance about k^2 / 2^65 among k
    # distinct texts: 3e-6 for ten million); then a group's second halves differ, and the
    # sort on all 16 bytes decides.
    codes, firsts = pd.factorize(halves[:, 0])
    second = np.zeros(len(firsts), dtype=np.uint64)
    second[codes] = halves[:, 1]  # any row's second half, per group
    if np.array_equal(second[codes], halves[:, 1]):
        return codes.astype(np.int64, copy=False)
    return _sorted_codes(digests)


def _sorted_codes(digests: np.ndarray) -> np.ndarray:
    """:func:`digest_codes` by sorting the 16-byte digests (no hash table holds them whole)."""
    if not len(digests):
        return np.zeros(0, dtype=np.int64)
    # np.unique numbers groups in digest order and gives each group's first row (a stable
    # sort); renumber the groups by that row.
    _, first, inverse = np.unique(digests, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


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


@dataclass(frozen=True)
class DuplicateCounts:
    """What both duplicate blocks of the profile are built from: integers that add across buckets.

    Every field is a sum over groups (or over their rows), and a group lies whole in one
    bucket (:meth:`DigestGroups.buckets`), so the counts of disjoint buckets add
    (:meth:`add`, :meth:`total`) to those of the whole table.

    Attributes
    ----------
    rows : int
        Rows.
    groups : int
        Groups (distinct digests).
    duplicated_groups : int
        Groups of two rows or more.
    duplicated_rows : int
        Rows in those groups, every copy.
    unique_rows : int
        Rows alone in their group.
    duplicated_correct, unique_correct : int
        Correct rows among the duplicated and the unique rows.
    duplicated_rep_correct : int
        Duplicated groups whose representative row is correct.
    conflicting_groups : int
        Groups whose rows carry more than one label.
    conflicting_rows : int
        Rows in those groups.
    """

    rows: int = 0
    groups: int = 0
    duplicated_groups: int = 0
    duplicated_rows: int = 0
    unique_rows: int = 0
    duplicated_correct: int = 0
    unique_correct: int = 0
    duplicated_rep_correct: int = 0
    conflicting_groups: int = 0
    conflicting_rows: int = 0

    def add(self, other: "DuplicateCounts") -> "DuplicateCounts":
        """The counts of the union of two disjoint buckets (or tables with no digest in common)."""
        return DuplicateCounts(*(a + b for a, b in zip(astuple(self), astuple(other))))

    @classmethod
    def total(cls, parts) -> "DuplicateCounts":
        """:meth:`add` over an iterable of counts (all zero for none)."""
        out = cls()
        for part in parts:
            out = out.add(part)
        return out


def digest_buckets(digests, n_buckets: int) -> np.ndarray:
    """Bucket of each digest, 0 .. n_buckets - 1: the leading bits of its first 64-bit half.

    Parameters
    ----------
    digests : ndarray of :data:`DIGEST`, shape (n,)
    n_buckets : int
        A power of two, 1 .. 2**32.

    Returns
    -------
    ndarray of uint64, shape (n,)
        Equal digests get equal buckets; nondecreasing along :class:`DigestGroups` order.
    """
    if n_buckets < 1 or n_buckets > 2 ** 32 or n_buckets & (n_buckets - 1):
        raise ValueError(f"n_buckets must be a power of two from 1 to 2**32. Got {n_buckets} instead.")
    first = _halves(digests)[:, 0]
    bits = n_buckets.bit_length() - 1
    # A shift by 64 is undefined for uint64, hence the one bucket apart.
    return first >> np.uint64(64 - bits) if bits else np.zeros(len(first), dtype=np.uint64)


def _halves(digests) -> np.ndarray:
    """The two 64-bit halves of each digest, shape (n, 2), uint64 as this machine reads them."""
    return np.ascontiguousarray(digests, dtype=DIGEST).view(np.uint64).reshape(-1, 2)


@dataclass(frozen=True, eq=False)
class DigestGroups:
    """One record per distinct digest of a set of rows: what the duplicate counts need of its group.

    Records are sorted by the digest read as two unsigned 64-bit integers (first half, then
    second, as this machine reads them), so equal sets of rows give equal arrays whatever
    their order. The representative of a group is its row of smallest rank; two rows of
    one group with the same rank (a 64-bit collision of their seeded hashes) count as one
    representative that is correct when either is ("True wins"), which no order of
    merging changes.

    Attributes
    ----------
    digests : ndarray of :data:`DIGEST`, shape (g,)
        Distinct, ascending.
    size : ndarray of int64, shape (g,)
        Rows in each group.
    label_min, label_max : ndarray of int64, shape (g,)
        Smallest and largest label code of its rows: the labels differ iff they differ.
    correct : ndarray of int64, shape (g,)
        Correct rows.
    rep_rank : ndarray of uint64, shape (g,)
        Smallest rank among its rows.
    rep_correct : ndarray of bool, shape (g,)
        Whether the row of that rank is correct.
    """

    digests: np.ndarray
    size: np.ndarray
    label_min: np.ndarray
    label_max: np.ndarray
    correct: np.ndarray
    rep_rank: np.ndarray
    rep_correct: np.ndarray

    def __len__(self) -> int:
        return len(self.digests)

    @classmethod
    def empty(cls) -> "DigestGroups":
        """The records of no rows."""
        return cls(np.zeros(0, DIGEST), *(np.zeros(0, np.int64) for _ in range(4)),
                   np.zeros(0, np.uint64), np.zeros(0, bool))

    @classmethod
    def of(cls, digests, labels, correct, rank) -> "DigestGroups":
        """The records of a batch of rows.

        Parameters
        ----------
        digests : ndarray of :data:`DIGEST`, shape (n,)
            :func:`text_digests` of the rows' texts (one of its two outputs).
        labels : array_like of int, shape (n,)
            Gold label codes, the same code for the same label in every batch (class indices).
        correct : array_like of bool, shape (n,)
            Whether the prediction of each row is right.
        rank : array_like of uint64, shape (n,)
            Picks the representative (smallest rank): :func:`blindspot.samples.row_hash` of the
            ids, so the choice follows the rows, not their order; the positions
            (``np.arange(n)``) pick the first row, as :func:`duplicate_accuracy_of_groups` does.

        Returns
        -------
        DigestGroups
        """
        digests = np.ascontiguousarray(digests, dtype=DIGEST).reshape(-1)
        labels, correct, rank = np.asarray(labels), np.asarray(correct, dtype=bool), np.asarray(rank)
        if not (len(digests) == len(labels) == len(correct) == len(rank)):
            raise ValueError(f"digests, labels, correct and rank must have one entry per row. "
                             f"Got {len(digests)}, {len(labels)}, {len(correct)} and {len(rank)} instead.")
        for name, values in (("labels", labels), ("rank", rank)):
            if values.size and not np.issubdtype(values.dtype, np.integer):
                raise ValueError(f"{name} must be integers. Got dtype {values.dtype} instead.")
        if rank.size and np.issubdtype(rank.dtype, np.signedinteger) and rank.min() < 0:
            raise ValueError(f"rank must be non-negative. Got {rank.min()} instead.")
        labels = labels.astype(np.int64)
        # Each row is a group of one; the regrouping that merges batches then makes the groups.
        return _regroup(digests, np.ones(len(digests), np.int64), labels, labels, correct.astype(np.int64),
                        rank.astype(np.uint64), correct)

    def merge(self, other: "DigestGroups") -> "DigestGroups":
        """The records of the union of the rows of ``self`` and ``other`` (disjoint sets of rows)."""
        return DigestGroups.merged([self, other])

    @classmethod
    def merged(cls, parts) -> "DigestGroups":
        """:meth:`merge` of any number of records at once (one sort instead of one per pair)."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        return _regroup(*(np.concatenate(arrays) for arrays in zip(*(_arrays(p) for p in parts))))

    def buckets(self, n_buckets: int) -> list["DigestGroups"]:
        """The records split by :func:`digest_buckets`: bucket ``b`` holds the digests whose
        first half starts with the bits of ``b``, so a digest is in the same bucket in every batch.

        Parameters
        ----------
        n_buckets : int
            A power of two, 1 .. 2**32.

        Returns
        -------
        list of DigestGroups, length n_buckets
        """
        bucket = digest_buckets(self.digests, n_buckets)
        # Records are sorted by their first half, so each bucket is one slice of them.
        bounds = np.searchsorted(bucket, np.arange(n_buckets + 1, dtype=np.uint64))
        return [self._slice(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]

    def _slice(self, lo: int, hi: int) -> "DigestGroups":
        return DigestGroups(*(a[lo:hi] for a in _arrays(self)))

    def counts(self) -> DuplicateCounts:
        """The :class:`DuplicateCounts` of these groups."""
        dup = self.size > 1
        conflicting = self.label_min != self.label_max
        return DuplicateCounts(
            rows=int(self.size.sum()),
            groups=len(self),
            duplicated_groups=int(dup.sum()),
            duplicated_rows=int(self.size[dup].sum()),
            unique_rows=int((~dup).sum()),
            duplicated_correct=int(self.correct[dup].sum()),
            unique_correct=int(self.correct[~dup].sum()),
            duplicated_rep_correct=int(self.rep_correct[dup].sum()),
            conflicting_groups=int(conflicting.sum()),
            conflicting_rows=int(self.size[conflicting].sum()),
        )


def _arrays(groups: DigestGroups) -> tuple:
    """The arrays of ``groups`` in field order (``dataclasses.astuple`` would deep-copy them)."""
    return tuple(getattr(groups, f.name) for f in fields(groups))


def _regroup(digests, size, label_min, label_max, correct, rep_rank, rep_correct) -> DigestGroups:
    """Records with equal digests combined: sizes and correct rows add, label bounds widen,
    the representative of smallest rank wins (on a tie in rank, a correct one)."""
    if not len(digests):
        return DigestGroups.empty()
    halves = _halves(digests)
    order = np.lexsort((halves[:, 1], halves[:, 0]))
    h = halves[order]
    starts = np.flatnonzero(np.concatenate(([True], (h[1:] != h[:-1]).any(axis=1))))
    lengths = np.diff(np.append(starts, len(order)))
    rank = rep_rank[order]
    low = np.minimum.reduceat(rank, starts)
    at_low = rank == np.repeat(low, lengths)
    return DigestGroups(
        digests=digests[order][starts],
        size=np.add.reduceat(size[order], starts),
        label_min=np.minimum.reduceat(label_min[order], starts),
        label_max=np.maximum.reduceat(label_max[order], starts),
        correct=np.add.reduceat(correct[order], starts),
        rep_rank=low,
        rep_correct=np.logical_or.reduceat(at_low & rep_correct[order], starts),
    )


def _accuracy(correct: int, n: int, level: float, empty_reason: str) -> dict:
    low, high = wilson_interval(correct, n, level)
    value = float(correct / n) if n else float("nan")
    return {"n": int(n), "correct": int(correct),
            **Estimate(value, float(low), float(high), "wilson", "" if n else empty_reason).encode()}


def duplicate_profile_from_counts(c: DuplicateCounts) -> dict:
    """The exact-text duplicate counts of the profile (:func:`blindspot.profiling.duplicate_profile_of_groups`).

    Parameters
    ----------
    c : DuplicateCounts
        Of the digests of the texts as given (``exact`` of :func:`text_digests`).

    Returns
    -------
    dict
        ``distinct_texts``; ``duplicate_rows`` (rows whose text appeared in another row
        counted before); ``duplicated_texts`` (texts that occur more than once);
        ``conflicting_label_texts`` (texts carrying more than one label).
    """
    return {
        "distinct_texts": c.groups,
        "duplicate_rows": c.rows - c.groups,
        "duplicated_texts": c.duplicated_groups,
        "conflicting_label_texts": c.conflicting_groups,
    }


def duplicate_accuracy_from_counts(c: DuplicateCounts, level: float) -> dict:
    """Duplicate groups, label conflicts, and accuracy on duplicated against unique rows.

    Parameters
    ----------
    c : DuplicateCounts
        Of the normalised texts' groups.
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
        ``reason`` when there is no such row); ``groups_first_row_correct`` (repeated texts whose
        representative row is right: the row of smallest rank, see :class:`DigestGroups`) and
        ``easier_p_value``: the one-sided Fisher exact test that repeated texts are right
        more often, on ``[[groups_first_row_correct, groups - groups_first_row_correct],
        [accuracy_unique.correct, rows_unique - accuracy_unique.correct]]`` (NaN with
        ``easier_p_value_reason`` when it cannot be computed); ``easier_test``,
        ``ci_level``.
    """
    n_dup, n_uni, g = c.duplicated_rows, c.unique_rows, c.duplicated_rep_correct
    out = {
        "normalisation": NORMALISATION,
        "groups": c.duplicated_groups,
        "groups_first_row_correct": g,
        "rows_duplicated": n_dup,
        "rows_unique": n_uni,
        "conflicting_label_groups": c.conflicting_groups,
        "rows_in_conflicting_groups": c.conflicting_rows,
        "accuracy_duplicated": _accuracy(c.duplicated_correct, n_dup, level, "no text occurs more than once"),
        "accuracy_unique": _accuracy(c.unique_correct, n_uni, level, "every text occurs more than once"),
        "easier_p_value": fisher_greater_p(g, c.duplicated_groups - g, c.unique_correct, n_uni - c.unique_correct),
        "easier_test": EASIER_TEST,
        "ci_level": float(level),
    }
    if not np.isfinite(out["easier_p_value"]):
        out["easier_p_value_reason"] = (
            "no text occurs more than once" if not n_dup else "every text occurs more than once" if not n_uni
            else "every prediction tested is right" if g + c.unique_correct == c.duplicated_groups + n_uni
            else "every prediction tested is wrong")
    return out


def duplicate_accuracy(texts, labels, correct, *, level: float) -> dict:
    """:func:`duplicate_accuracy_of_groups` on the :func:`group_codes` of ``texts`` (array_like of str, shape (n,))."""
    return duplicate_accuracy_of_groups(group_codes(texts), labels, correct, level=level)


def duplicate_accuracy_of_groups(codes, labels, correct, *, level: float) -> dict:
    """:func:`duplicate_accuracy_from_counts` with each repeated text represented by its first row.

    The reference :class:`DigestGroups` is tested against: it needs every row's group at once
    and the order of the rows.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
        Group of each row after normalisation, numbered by first appearance
        (:func:`group_codes`, or :func:`digest_codes` of the normalised digests).
    labels : array_like, shape (n,)
        Gold labels (any hashable values).
    correct : array_like of bool, shape (n,)
        Whether the prediction of each row is right.
    level : float
        Confidence level of the Wilson intervals.

    Returns
    -------
    dict
        As :func:`duplicate_accuracy_from_counts`.
    """
    return duplicate_accuracy_from_counts(counts_of_codes(codes, labels, correct), level=level)


def counts_of_codes(codes, labels, correct) -> DuplicateCounts:
    """The :class:`DuplicateCounts` of rows grouped by ``codes``, each group represented by its first row.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
        Numbered by first appearance, as :func:`duplicate_accuracy_of_groups` takes them.
    labels : array_like, shape (n,)
        Gold labels (any hashable values).
    correct : array_like of bool, shape (n,)

    Returns
    -------
    DuplicateCounts
    """
    codes = np.asarray(codes, dtype=np.int64)
    correct = np.asarray(correct, dtype=bool)
    label_codes, levels = pd.factorize(pd.Series(labels), use_na_sentinel=False)
    if not (len(codes) == len(correct) == len(label_codes)):
        raise ValueError(f"codes, labels and correct must have one entry per row. "
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
    # Codes are numbered by first appearance, so a row opens its group exactly when its code
    # exceeds every code before it.
    first = codes > np.concatenate(([-1], np.maximum.accumulate(codes)[:-1])) if codes.size else codes.astype(bool)
    return DuplicateCounts(
        rows=len(codes),
        groups=n_groups,
        duplicated_groups=int((size > 1).sum()),
        duplicated_rows=int(dup.sum()),
        unique_rows=int((~dup).sum()),
        duplicated_correct=int(correct[dup].sum()),
        unique_correct=int(correct[~dup].sum()),
        duplicated_rep_correct=int(correct[first & dup].sum()),
        conflicting_groups=int(conflicting.sum()),
        conflicting_rows=int(size[conflicting].sum()),
    )
