"""The judge's candidates from a table read a batch at a time: per-batch shortlists, merged.

:func:`blindspot.judge.select.select_candidates` takes every row, but of each of its four
orders it can only ever take the first ``max_candidates`` rows:

- rule 1 takes the ``min(random_sample_size, max_candidates, n)`` rows of smallest key;
- rule 2 takes the first ``budget`` of its order that rule 1 did not take; rule 1 took at
  most ``n_random`` rows and the budget is ``max_candidates - n_random``, so they lie in
  the first ``max_candidates`` of the order;
- rules 3 and 4 only rank rows that rules 2 (and 3) cannot hold, so only rule 1 may have
  taken rows of their orders: the same bound holds.

So a :class:`Shortlist` keeps, of any set of rows, the union of those four heads (at most
``min(random_sample_size, max_candidates) + 3 max_candidates`` rows) and the whole set's
counts; the shortlist of two disjoint sets merged is the shortlist of their union (each head
of the union lies in the union of the heads), and choosing from the merged shortlist gives
the selection of all rows (tested against :func:`select_candidates` on every row). A batch
of a million rows leaves a few hundred; the stage holds those, never a value per row.

The confident-learning thresholds (:func:`blindspot.judge.agreement.confident_learning_suspects`)
are class means of probabilities, summed in fixed point (:func:`blindspot.counts.unit_sums`),
so they merge exactly too; a second pass counts the rows they flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from blindspot.judge.agreement import OwnClassSums
from blindspot.judge.select import DRAWS, RankKeys, Selection, select_candidates
from blindspot.samples import hash_order

_ROW_FIELDS = ("rows", "confidence", "confidently_incorrect", "sarcasm_cue", "mixed_cue")  # one value a kept row


@dataclass(frozen=True, eq=False)
class Shortlist:
    """The rows of a set that the selection could choose, and the set's counts.

    Attributes
    ----------
    rows : ndarray of int64, shape (m,)
        Positions in the whole table, ascending.
    confidence : ndarray of float, shape (m,)
    confidently_incorrect, sarcasm_cue, mixed_cue : ndarray of bool, shape (m,)
    keys : RankKeys
        The rows' seeded keys, arrays of shape (m,).
    n_rows : int
        Rows of the set (all of them, not only the ``m`` kept).
    available : dict of str to int
        Rows of the set meeting each targeted rule (``confidently_incorrect``, ``sarcasm_cue``,
        ``mixed_cue``).
    max_candidates, random_sample_size : int
        The budget the heads are cut to (two shortlists merge only under the same budget).
    """

    rows: np.ndarray
    confidence: np.ndarray
    confidently_incorrect: np.ndarray
    sarcasm_cue: np.ndarray
    mixed_cue: np.ndarray
    keys: RankKeys
    n_rows: int
    available: dict
    max_candidates: int
    random_sample_size: int

    @classmethod
    def of(cls, confidently_incorrect, sarcasm_cue, mixed_cue, confidence, keys: RankKeys, *,
           max_candidates: int, random_sample_size: int, offset: int = 0) -> "Shortlist":
        """The shortlist of consecutive rows.

        Parameters
        ----------
        confidently_incorrect, sarcasm_cue, mixed_cue : array_like of bool, shape (n,)
        confidence : array_like of float, shape (n,)
        keys : RankKeys
            Arrays of shape (n,).
        max_candidates, random_sample_size : int
            ``judge.max_candidates`` and ``judge.random_sample_size``.
        offset : int
            Position of the first row in the whole table.
        """
        if max_candidates < 0 or random_sample_size < 0:
            raise ValueError(f"max_candidates and random_sample_size must be >= 0, got {max_candidates} and "
                             f"{random_sample_size}")
        wrong = np.asarray(confidently_incorrect, dtype=bool)
        sarcasm, mixed = np.asarray(sarcasm_cue, dtype=bool), np.asarray(mixed_cue, dtype=bool)
        n = wrong.shape[0]
        available = {"confidently_incorrect": int(wrong.sum()), "sarcasm_cue": int(sarcasm.sum()),
                     "mixed_cue": int(mixed.sum())}
        whole = cls(np.arange(offset, offset + n, dtype=np.int64), np.asarray(confidence, dtype=float), wrong,
                    sarcasm, mixed, keys, n, available, int(max_candidates), int(random_sample_size))
        return whole._cut()

    def _take(self, kept: np.ndarray) -> "Shortlist":
        """The rows at ``kept`` (positions into this shortlist, ascending), counts unchanged."""
        keys = RankKeys(**{draw: getattr(self.keys, draw)[kept] for draw in DRAWS})
        return Shortlist(self.rows[kept], self.confidence[kept], self.confidently_incorrect[kept],
                         self.sarcasm_cue[kept], self.mixed_cue[kept], keys, self.n_rows, self.available,
                         self.max_candidates, self.random_sample_size)

    def _cut(self) -> "Shortlist":
        """Only the heads of the four orders (the module docstring says why they are enough)."""
        cap = self.max_candidates
        wrong, sarcasm, mixed = self.confidently_incorrect, self.sarcasm_cue, self.mixed_cue
        keep = np.zeros(self.rows.shape[0], dtype=bool)
        keep[hash_order(self.keys.random_sample)[:min(self.random_sample_size, cap)]] = True
        # The orders of select_candidates; the rows are in table order here, so a tie falls as it does there.
        pos = np.flatnonzero(wrong)
        keep[pos[np.lexsort((pos, self.keys.sarcasm_cue[pos], -self.confidence[pos]))][:cap]] = True
        for rows, key in ((np.flatnonzero(sarcasm & ~wrong), self.keys.sarcasm_cue),
                          (np.flatnonzero(mixed & ~sarcasm & ~wrong), self.keys.mixed_cue)):
            keep[rows[hash_order(key[rows])][:cap]] = True
        return self._take(np.flatnonzero(keep))

    def merge(self, other: "Shortlist") -> "Shortlist":
        """The shortlist of the rows of both (disjoint rows, the same budget)."""
        if (self.max_candidates, self.random_sample_size) != (other.max_candidates, other.random_sample_size):
            raise ValueError("shortlists of different budgets cannot merge: "
                             f"{(self.max_candidates, self.random_sample_size)} vs "
                             f"{(other.max_candidates, other.random_sample_size)}.")
        joined = {name: np.concatenate([getattr(self, name), getattr(other, name)]) for name in _ROW_FIELDS}
        keys = RankKeys(**{d: np.concatenate([getattr(self.keys, d), getattr(other.keys, d)]) for d in DRAWS})
        available = {rule: self.available[rule] + other.available[rule] for rule in self.available}
        union = Shortlist(**joined, keys=keys, n_rows=self.n_rows + other.n_rows, available=available,
                          max_candidates=self.max_candidates, random_sample_size=self.random_sample_size)
        return union._take(np.argsort(union.rows, kind="stable"))._cut()

    def select(self) -> Selection:
        """The candidates (:func:`select_candidates` on every row of the set, from the shortlist alone).

        Returns
        -------
        Selection
            ``index`` holds positions in the whole table; ``available`` counts the whole set.
        """
        chosen = select_candidates(self.confidently_incorrect, self.sarcasm_cue, self.mixed_cue, self.confidence,
                                   max_candidates=self.max_candidates, random_sample_size=self.random_sample_size,
                                   ranks=self.keys)
        # The random sample's size is min(random_sample_size, max_candidates, n): the shortlist holds
        # at least that many of the set's rows, so its own n gives the same size.
        return Selection(index=self.rows[chosen.index], member=chosen.member, selected_by=chosen.selected_by,
                         available={"rows": int(self.n_rows), **self.available}, turn=chosen.turn)


@dataclass(frozen=True, eq=False)
class Scan:
    """What one pass over the table leaves for the judge: the shortlist and the own-class sums.

    Attributes
    ----------
    shortlist : Shortlist
    own_class : OwnClassSums or None
        None when the table has no class probabilities.
    """

    shortlist: Shortlist
    own_class: OwnClassSums | None

    def merge(self, other: "Scan") -> "Scan":
        own = None if self.own_class is None else self.own_class.merge(other.own_class)
        return Scan(self.shortlist.merge(other.shortlist), own)


def reduce_scans(parts) -> Scan | None:
    """Consecutive batches' scans (each with its rows counted from 0), merged in row order; None for no batch."""
    merged, offset = None, 0
    for part in parts:
        part = Scan(_shifted(part.shortlist, offset), part.own_class)
        offset += part.shortlist.n_rows
        merged = part if merged is None else merged.merge(part)
    return merged


def _shifted(s: Shortlist, offset: int) -> Shortlist:
    return Shortlist(s.rows + offset, s.confidence, s.confidently_incorrect, s.sarcasm_cue, s.mixed_cue, s.keys,
                     s.n_rows, s.available, s.max_candidates, s.random_sample_size)


def scan_frame(frame: pd.DataFrame, *, cues, keys: RankKeys, proba, confident_threshold: float,
               max_candidates: int, random_sample_size: int) -> Scan:
    """One batch's :class:`Scan`.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        ``confidence``, ``correct`` and ``y_true`` of consecutive rows.
    cues : (sarcasm, mixed), ndarray of bool, shape (n,) each
    keys : RankKeys
        Arrays of shape (n,).
    proba : ndarray, shape (n, K), or None
    confident_threshold, max_candidates, random_sample_size
        ``judge.*``.
    """
    confidence = frame["confidence"].to_numpy(dtype=float)
    wrong = ~frame["correct"].to_numpy(dtype=bool) & (confidence >= confident_threshold)
    sarcasm, mixed = cues
    shortlist = Shortlist.of(wrong, sarcasm, mixed, confidence, keys, max_candidates=max_candidates,
                             random_sample_size=random_sample_size)
    own = None if proba is None else OwnClassSums.of(frame["y_true"].to_numpy(dtype=np.int64), proba)
    return Scan(shortlist, own)
