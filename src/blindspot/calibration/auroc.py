"""Confidence AUROC computed exactly from batches of rows, none holding every row.

The AUROC of confidence as a score for being correct is the Mann-Whitney statistic
``U / (n1 n0)``: ``n1`` correct rows, ``n0`` wrong ones, and ``U`` the number of
(correct, wrong) pairs in which the correct row's confidence is higher, a tie counting
half. Doubled, ``U2 = 2 U`` is a count of pairs, an integer.

Decomposition. Give every confidence an integer key that sorts as the floats do
(:func:`~blindspot.calibration.quantiles.float_keys`) and cut the key line at sorted boundaries (``edges``) into buckets,
a row in bucket ``searchsorted(edges, key, side="right")``. Equal confidences have equal keys,
so they share a bucket, and every row of a lower bucket has a strictly lower confidence than
every row of a higher one. A pair of rows then either lies in one bucket, where
:func:`bucket_u` counts it from that bucket's rows alone, or in two buckets, where it counts 2
exactly when the correct row is in the higher one. So::

    U2 = sum_b u2_b + 2 * sum_b n_correct_b * (wrong rows in buckets below b)

which :func:`auroc_of_buckets` adds up from three integers a bucket. Every term is a count of
pairs, and counts do not depend on which batch a row came in, on the order of the rows or
on where the edges lie: batches change only who holds which part of a bucket
(:func:`bucket_rows` is the map of one batch, :func:`bucket_u` the reduce of one bucket over
every batch's parts), and edges only how the pairs are split between the two sums. Any
edges give the same AUROC; good ones (:func:`edges_from_values`) keep the buckets of like
size, so that no reduce holds much more than ``n / B`` rows.

The result is the exact rational ``U2 / (2 n1 n0)`` rounded to a float once. It is the same
number, to the last bit, for any batches and buckets, and it can differ from
:func:`blindspot.calibration.summary.confidence_auroc`, which sums float average ranks, in
the last bits only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from blindspot.calibration.quantiles import float_keys


def _check_edges(edges) -> np.ndarray:
    edges = np.asarray(edges, dtype=np.uint64).reshape(-1)
    if edges.size > 1 and np.any(edges[1:] < edges[:-1]):
        raise ValueError("bucket edges must be non-decreasing.")
    return edges


def bucket_rows(confidence, correct, edges) -> list:
    """The map of one batch: its rows' keys split by bucket and by correctness.

    Parameters
    ----------
    confidence : array_like of float, shape (n,)
        No NaN.
    correct : array_like of bool, shape (n,)
    edges : array_like of uint64, shape (B - 1,)
        Non-decreasing key boundaries; a row goes to bucket
        ``searchsorted(edges, float_keys(confidence), side="right")``.

    Returns
    -------
    list of tuple, length B
        Bucket ``b``'s part ``(correct_keys, wrong_keys)``: sorted uint64 arrays, shapes
        ``(n1_b,)`` and ``(n0_b,)``, each its own copy (picklable alone, freed alone).
    """
    key = float_keys(confidence)
    correct = np.asarray(correct, dtype=bool).reshape(-1)
    if correct.size != key.size:
        raise ValueError(f"correct has {correct.size} rows and confidence {key.size}.")
    edges = _check_edges(edges)
    right, wrong = np.sort(key[correct]), np.sort(key[~correct])
    # Bucket b holds edges[b - 1] <= key < edges[b]: in a sorted array, the rows from the first
    # key >= edges[b - 1] up to the first key >= edges[b] (searchsorted side="left").
    cuts_r = np.concatenate(([0], np.searchsorted(right, edges, side="left"), [right.size]))
    cuts_w = np.concatenate(([0], np.searchsorted(wrong, edges, side="left"), [wrong.size]))
    return [(right[cuts_r[b]:cuts_r[b + 1]].copy(), wrong[cuts_w[b]:cuts_w[b + 1]].copy())
            for b in range(edges.size + 1)]


@dataclass(frozen=True)
class BucketU:
    """The pair counts of one bucket.

    Attributes
    ----------
    n_correct : int
        Correct rows in the bucket.
    n_wrong : int
        Wrong rows in the bucket.
    u2 : int
        Twice the Mann-Whitney U within the bucket: each (correct, wrong) pair counts 2 when
        the correct row's confidence is higher, 1 when the two are equal, 0 otherwise.
    """

    n_correct: int
    n_wrong: int
    u2: int


def bucket_u(parts: Iterable[tuple]) -> BucketU:
    """The reduce of one bucket: its pair counts from its part of every batch.

    Parameters
    ----------
    parts : iterable of tuple
        The bucket's ``(correct_keys, wrong_keys)`` of each batch (:func:`bucket_rows`), in
        any order; sorted uint64 arrays.

    Returns
    -------
    BucketU

    Notes
    -----
    Only the wrong keys are merged (one stable sort of sorted runs); each batch's correct
    keys are looked up in them where they are. A correct key ``c`` counts
    ``#(w < c) + #(w <= c)``: 2 a lower wrong key, 1 an equal one. The per-part sums are
    int64 sums of at most ``2 n1 n0`` (exact while the bucket has fewer than about 4e9
    rows) and are added as Python ints.
    """
    parts = list(parts)
    if not parts:
        return BucketU(0, 0, 0)
    wrong = np.sort(np.concatenate([np.asarray(w, dtype=np.uint64) for _, w in parts]), kind="stable")
    n_correct, u2 = 0, 0
    for right, _ in parts:
        right = np.asarray(right, dtype=np.uint64)
        n_correct += right.size
        u2 += int(np.searchsorted(wrong, right, side="left").sum(dtype=np.int64))
        u2 += int(np.searchsorted(wrong, right, side="right").sum(dtype=np.int64))
    return BucketU(n_correct, int(wrong.size), u2)


def auroc_of_buckets(buckets: Sequence[BucketU]) -> float:
    """The AUROC of confidence for being correct from every bucket's counts.

    Parameters
    ----------
    buckets : sequence of BucketU, length B
        In key order (bucket 0 the lowest confidences), as :func:`bucket_u` gives them.

    Returns
    -------
    float
        ``U2 / (2 n1 n0)``, the exact rational rounded once; NaN when every row is correct,
        every row wrong, or there is no row.
    """
    u2, n1, n0 = 0, 0, 0
    for b in buckets:
        # Every correct row of this bucket is above every wrong row of the buckets below it.
        u2 += b.u2 + 2 * b.n_correct * n0
        n1 += b.n_correct
        n0 += b.n_wrong
    if n1 == 0 or n0 == 0:
        return float("nan")
    # True division of Python ints is correctly rounded, however large they are.
    return u2 / (2 * n1 * n0)


def exact_auroc(correct, confidence) -> float:
    """:func:`auroc_of_buckets` of all rows in one batch and one bucket.

    Parameters
    ----------
    correct : array_like of bool, shape (n,)
    confidence : array_like of float, shape (n,)
        No NaN.

    Returns
    -------
    float
        What any batching and bucketing of the same rows gives, bit for bit.
    """
    (part,) = bucket_rows(confidence, correct, np.zeros(0, dtype=np.uint64))
    return auroc_of_buckets([bucket_u([part])])


def edges_from_values(values, n_buckets: int) -> np.ndarray:
    """Bucket edges that split ``values`` into ``n_buckets`` runs of about equal size.

    Any edges give the same AUROC; these only balance the buckets, so pass values like the
    rows' confidences: a seeded sample of them, or a batch's. The edges are the keys of evenly
    spaced order statistics of ``values``, duplicates dropped (a value repeated over more than
    a bucket's share stays in one bucket, as its ties must), so there may be fewer than
    ``n_buckets - 1``.

    Parameters
    ----------
    values : array_like of float, shape (m,)
        No NaN.
    n_buckets : int
        At least 1.

    Returns
    -------
    ndarray of uint64, shape (k,), k <= n_buckets - 1
        Strictly increasing; empty (one bucket) when ``values`` is empty or ``n_buckets`` is 1.
    """
    if n_buckets < 1:
        raise ValueError(f"n_buckets must be at least 1. Got {n_buckets} instead.")
    keys = np.sort(float_keys(values))
    if keys.size == 0:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(keys[bucket_ranks(keys.size, n_buckets)])


def bucket_ranks(n: int, n_buckets: int) -> np.ndarray:
    """The 0-based ranks ``i n // B`` (``i`` = 1 .. B - 1) whose values cut ``n`` rows into ``B`` buckets
    of like size, int64 shape (B - 1,)."""
    return (np.arange(1, n_buckets, dtype=np.int64) * int(n)) // n_buckets
