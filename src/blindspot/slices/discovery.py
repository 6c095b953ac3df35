"""Automatic discovery: conjunctions of predicates, level by level, from counts alone.

Enumeration
-----------
Level 1 is every predicate with at least ``min_support`` rows. Level ``d`` extends each
level ``d - 1`` conjunction by one predicate of a higher column index and of a feature
not already in it (values of one column are disjoint), keeping the extension only when
it has at least ``min_support`` rows (support only shrinks, so nothing below is lost)
and fewer rows than each of the two conjoined parts (otherwise it is the same set of
rows as a part: the same test again). All counts of a level come from one blocked
matrix product (:func:`blindspot.slices.evaluate.extension_counts`); no row is visited
per candidate.

Every enumerated conjunction that can be tested *is* tested, and every one of those
tests enters the one Benjamini-Hochberg family of the stage: discovery never tests
more than it counts.

Reporting rule: a conjunction earns its place within each parent
-----------------------------------------------------------------
Being worse than the rest of the data is not enough for "question mark and sex =
Female": it may only restate its parent "question mark". A significant conjunction
is reported for a metric only when, *within each parent* (the conjunctions one
predicate shorter), it is worse than the rest of that parent
(:func:`within_parent_tests`): the error rate by the exact test stratified on the true
class (:func:`blindspot.slices.evaluate.stratified_greater`, on the parent's rows), a
recall by the one-sided Fisher test on the parent's rows of that class. These tests,
for every parent of every significant conjunction finding, form their own
Benjamini-Hochberg family; the conjunction needs ``q <= alpha`` against every parent
(an intersection-union rule: each parent must be beaten). The rule only removes
findings after the main FDR control, so it never adds a false one; it replaces the
earlier rule "scores higher than each parent", which let a conjunction through on a
score alone.

Ranking
-------
See :mod:`blindspot.slices.audit`: findings of their own (worse within their true
classes) are ranked by the evidence within classes, highest first; slices worse only
through their class mix are listed apart, by their evidence against the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from blindspot.bits import BitColumns
from blindspot.slices.evaluate import Counts, extension_counts, fisher_greater, stratified_greater


@dataclass
class Candidates:
    """Enumerated conjunctions.

    Attributes
    ----------
    members : list of tuple of int
        Predicate columns of each conjunction, ascending.
    counts : Counts
        Their counts, in the same order.
    single : Counts or None
        The counts of every predicate alone, in column order (supported or not).
    """

    members: list[tuple[int, ...]]
    counts: Counts
    single: Counts | None = None


def enumerate_conjunctions(matrix: np.ndarray | BitColumns, features: Sequence[str], cell: np.ndarray, k: int, *,
                           max_depth: int, min_support: int, alone: Sequence[bool] | None = None) -> Candidates:
    """Every conjunction of up to ``max_depth`` predicates with enough support, counted on ``matrix``.

    Parameters
    ----------
    matrix : ndarray of bool, shape (n, P), or :class:`blindspot.bits.BitColumns`
    features : sequence of str, length P
        Feature of each predicate (no two predicates of one feature are conjoined).
    cell : ndarray of int, shape (n,)
        Cell of each row (:func:`blindspot.slices.evaluate.cells`).
    k : int
        Classes.
    max_depth, min_support, alone
        As :func:`discover`.

    Returns
    -------
    Candidates
    """
    return discover(lambda parents: extension_counts(matrix, parents, cell, 2 * k), matrix.shape[1], features, k,
                    max_depth=max_depth, min_support=min_support, alone=alone)


def discover(extend: Callable, p: int, features: Sequence[str], k: int, *, max_depth: int, min_support: int,
             alone: Sequence[bool] | None = None) -> Candidates:
    """Every conjunction of up to ``max_depth`` predicates with enough support, from counts alone.

    Parameters
    ----------
    extend : callable
        ``extend(parents) -> ndarray (C, P, 2K)``: the cell counts of every (parent conjunction,
        predicate) pair, ``parents`` an int array (C, d) of predicate columns or None for each
        predicate alone (:func:`blindspot.slices.evaluate.extension_counts` over all rows, or
        its sum over batches: :class:`blindspot.slices.batch.SliceRows`). Called once a level.
    p : int
        Predicates.
    features : sequence of str, length P
        Feature of each predicate (no two predicates of one feature are conjoined).
    k : int
        Classes.
    max_depth : int
        Longest conjunction (>= 1).
    min_support : int
    alone : sequence of bool, length P, optional
        Predicates tested alone only, never conjoined (learned topics: each would add a
        pair-slice per other predicate to the family, and a topic is already a learned
        conjunction of words).

    Returns
    -------
    Candidates
        Level 1 first (predicate order), then each deeper level.
    """
    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1; got {max_depth}.")
    feature_code = pd.factorize(pd.Series(list(features), dtype=object))[0] if p else np.zeros(0, np.int64)
    single = Counts.from_cells(extend(None)[0], k)
    keep = np.flatnonzero(single.n >= min_support)
    members = [(int(j),) for j in keep]
    parts = [single.take(keep)]
    solo = np.zeros(p, bool) if alone is None else np.asarray(alone, bool)
    parents = keep[~solo[keep]][:, None]
    parent_n = single.n[keep[~solo[keep]]]
    for depth in range(2, max_depth + 1):
        if len(parents) == 0:
            break
        ext = extend(parents)
        ext_n = np.rint(ext.sum(axis=2)).astype(np.int64)
        cols = np.arange(p)
        valid = cols[None, :] > parents[:, -1:]
        for t in range(depth - 1):
            valid &= feature_code[None, :] != feature_code[parents[:, t]][:, None]
        valid &= ~solo[None, :]
        valid &= ext_n >= min_support
        valid &= (ext_n < parent_n[:, None]) & (ext_n < single.n[None, :])
        rows, cols_ok = np.nonzero(valid)
        parents = np.column_stack([parents[rows], cols_ok])
        parent_n = ext_n[rows, cols_ok]
        members += [tuple(int(x) for x in row) for row in parents]
        parts.append(Counts.from_cells(ext[rows, cols_ok], k))
    return Candidates(members, Counts.concat(parts, k), single)


def explained_by_parent(members: Sequence[tuple[int, ...]], score: np.ndarray) -> np.ndarray:
    """Whether each conjunction's score is matched by one of its parents (per metric).

    Parameters
    ----------
    members : sequence of tuple of int, length S
    score : ndarray of float, shape (S, M)
        NaN where a metric was not tested.

    Returns
    -------
    ndarray of bool, shape (S, M)
        True where some parent (one predicate shorter, present in ``members``) has a
        score >= this one for that metric. Single predicates are never explained.
    """
    index = {m: i for i, m in enumerate(members)}
    explained = np.zeros(score.shape, dtype=bool)
    for i, m in enumerate(members):  # a loop over candidate slices, not rows
        if len(m) < 2:
            continue
        for parent in combinations(m, len(m) - 1):
            j = index.get(parent)
            if j is not None:
                with np.errstate(invalid="ignore"):
                    explained[i] |= score[j] >= score[i]
    return explained


def within_parent_tests(members: Sequence[tuple], counts: Counts, wanted: np.ndarray) -> pd.DataFrame:
    """Each wanted conjunction against each parent, within that parent.

    Parameters
    ----------
    members : sequence of tuple, length S
        Predicate columns of each slice (a tuple of length 1 or a non-predicate
        marker has no parents).
    counts : Counts, S slices
    wanted : ndarray of bool, shape (S, 1 + K)
        Which (slice, metric) pairs to test (metrics: error_rate, then recall of each
        class); single predicates are skipped.

    Returns
    -------
    DataFrame with columns ``slice``, ``parent`` (positions in ``members``), ``metric``
    (column index in ``wanted``) and ``p_value``: one-sided, the conjunction worse than
    the rest of the parent (error rate: exact test stratified on the true class;
    recall: Fisher on the parent's rows of that class). A parent equal to its child on
    a class's rows gives p = 1 (nothing left to be worse than).
    """
    index = {m: i for i, m in enumerate(members)}
    child, parent = [], []
    for i in np.flatnonzero(wanted.any(axis=1)):  # a loop over significant conjunctions, not rows
        m = members[i]
        if not isinstance(m, tuple) or len(m) < 2 or not all(isinstance(x, (int, np.integer)) for x in m):
            continue
        for sub in combinations(m, len(m) - 1):
            j = index.get(sub)
            if j is not None:
                child.append(int(i))
                parent.append(j)
    out = []
    if not child:
        return pd.DataFrame({"slice": [], "parent": [], "metric": [], "p_value": []})
    c, p = np.asarray(child), np.asarray(parent)
    miss = counts.support - counts.correct
    k = counts.support.shape[1]
    rows = np.flatnonzero(wanted[c, 0])
    if rows.size:
        pv, _, _ = stratified_greater(miss[c[rows]], counts.support[c[rows]], miss[p[rows]],
                                      counts.support[p[rows]])
        out.append(pd.DataFrame({"slice": c[rows], "parent": p[rows], "metric": 0, "p_value": pv}))
    for j in range(k):
        rows = np.flatnonzero(wanted[c, 1 + j])
        if rows.size:
            pv, _ = fisher_greater(miss[c[rows], j], counts.support[c[rows], j], miss[p[rows], j],
                                   counts.support[p[rows], j])
            out.append(pd.DataFrame({"slice": c[rows], "parent": p[rows], "metric": 1 + j, "p_value": pv}))
    frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        {"slice": [], "parent": [], "metric": [], "p_value": []})
    # Nothing can vary within the parent (every stratum fixed): the conjunction is not shown worse.
    frame["p_value"] = frame["p_value"].fillna(1.0)
    return frame
