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

Reporting rule ("not explained by a parent")
--------------------------------------------
A conjunction is reported for a metric only if its score (``-log10 p``, see
:mod:`blindspot.slices.evaluate`) is strictly higher than the score of each of its
parents (the conjunctions one predicate shorter) for the same metric: if "negated_term
and jargon_high" is no stronger evidence of weakness than "jargon_high" alone, the
shorter description explains it. This rule only removes findings after FDR control,
so it never adds a false one.

Ranking
-------
Reported findings are ranked by score, highest first (ties: larger excess errors,
then key). The score favours the sharpest description of a blind spot: a looser parent
dilutes the gap and a smaller child loses evidence, so both score lower than the
slice where the errors really are. ``excess`` beside it says what the slice costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd

from blindspot.slices.evaluate import Counts, extension_counts


@dataclass
class Candidates:
    """Enumerated conjunctions.

    Attributes
    ----------
    members : list of tuple of int
        Predicate columns of each conjunction, ascending.
    counts : Counts
        Their counts, in the same order.
    """

    members: list[tuple[int, ...]]
    counts: Counts


def enumerate_conjunctions(matrix: np.ndarray, features: Sequence[str], cell: np.ndarray, k: int, *,
                           max_depth: int, min_support: int) -> Candidates:
    """Every conjunction of up to ``max_depth`` predicates with enough support.

    Parameters
    ----------
    matrix : ndarray of bool, shape (n, P)
    features : sequence of str, length P
        Feature of each predicate (no two predicates of one feature are conjoined).
    cell : ndarray of int, shape (n,)
        Cell of each row (:func:`blindspot.slices.evaluate.cells`).
    k : int
        Classes.
    max_depth : int
        Longest conjunction (>= 1).
    min_support : int

    Returns
    -------
    Candidates
        Level 1 first (predicate order), then each deeper level.
    """
    if max_depth < 1:
        raise ValueError(f"max_depth must be at least 1; got {max_depth}.")
    p = matrix.shape[1]
    feature_code = pd.factorize(pd.Series(list(features), dtype=object))[0] if p else np.zeros(0, np.int64)
    single = Counts.from_cells(extension_counts(matrix, None, cell, 2 * k)[0], k)
    keep = np.flatnonzero(single.n >= min_support)
    members = [(int(j),) for j in keep]
    parts = [single.take(keep)]
    parents = keep[:, None]
    parent_n = single.n[keep]
    for depth in range(2, max_depth + 1):
        if len(parents) == 0:
            break
        ext = extension_counts(matrix, parents, cell, 2 * k)
        ext_n = np.rint(ext.sum(axis=2)).astype(np.int64)
        cols = np.arange(p)
        valid = cols[None, :] > parents[:, -1:]
        for t in range(depth - 1):
            valid &= feature_code[None, :] != feature_code[parents[:, t]][:, None]
        valid &= ext_n >= min_support
        valid &= (ext_n < parent_n[:, None]) & (ext_n < single.n[None, :])
        rows, cols_ok = np.nonzero(valid)
        parents = np.column_stack([parents[rows], cols_ok])
        parent_n = ext_n[rows, cols_ok]
        members += [tuple(int(x) for x in row) for row in parents]
        parts.append(Counts.from_cells(ext[rows, cols_ok], k))
    return Candidates(members, Counts.concat(parts, k))


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
