"""Which rows the judge reads: documented rules within a budget.

Rules, in order, until ``max_candidates`` distinct rows are chosen:

1. **Random sample** (``random_sample_size`` rows): a seeded simple random sample of the
   *whole* table, drawn first: the rows of smallest ``random_sample`` rank key. Because it
   ignores every targeting rule, agreement measured on it estimates agreement on the
   population; a sample of only the untargeted rest would leave out the hard rows and
   flatter the judge.
2. **Confidently incorrect**: wrong and ``confidence >= confident_threshold``, most
   confident first (ties: by the ``sarcasm_cue`` rank key, see :class:`RankKeys`).
3. **Sarcasm cue** (not already taken by rule 2), by ascending ``sarcasm_cue`` rank key: a
   seeded random order.
4. **Mixed-sentiment cue** (not taken by rules 2-3), by ascending ``mixed_cue`` rank key.

A row met by a targeted rule that is already in the random sample is not chosen twice;
it carries both memberships. Every chosen row records every rule it satisfies (so the
targeted subset is "chosen rows meeting rule 2, 3 or 4", whatever chose them first)
and ``selected_by``, the first rule that chose it. Rows of rules 3-4 have no natural
ranking, hence the seeded order: a budget cut then leaves a random subset, not the
first rows of the file. The judge asks about the chosen rows in the order they were
chosen (``Selection.turn``), so a call budget that runs out spares the random sample.

Every random choice ranks rows by a seeded hash of their *ids*
(:func:`blindspot.samples.row_hash`), never by their positions. So the same rows in
another order, or split into other partitions, give the same candidates and the same
``metrics/judge.json``; and each draw is a bottom-k over per-row keys, which merges
across partitions (keep the smallest keys of the union), as :mod:`blindspot.samples`
explains.

The function takes boolean cue arrays, so it is independent of how cues are detected
(the stage uses :mod:`blindspot.text_features`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from blindspot.samples import hash_order, hash_sample, row_hashes

RULES = ("random_sample", "confidently_incorrect", "sarcasm_cue", "mixed_cue")
#: The seeded draws over rows, each named ``judge/<draw>`` for :func:`~blindspot.samples.row_hash`.
DRAWS = ("random_sample", "sarcasm_cue", "mixed_cue")


@dataclass(frozen=True, eq=False)
class RankKeys:
    """Each row's key in the selection's seeded draws: ``row_hash(seed, ids, "judge/<draw>")``.

    A row's keys depend on its id and the seed only, not on its position. The ties among
    confidently incorrect rows of equal confidence are ordered by ``sarcasm_cue`` too:
    rule 3 ranks only rows that are *not* confidently incorrect, so the two orders use
    the keys of disjoint rows and stay independent, and no fourth array is held.

    Attributes
    ----------
    random_sample : ndarray of uint64, shape (n_rows,)
        Rule 1 samples the rows of smallest key.
    sarcasm_cue : ndarray of uint64, shape (n_rows,)
        Orders rule 3's rows, and rule 2's ties.
    mixed_cue : ndarray of uint64, shape (n_rows,)
        Orders rule 4's rows.
    """

    random_sample: np.ndarray
    sarcasm_cue: np.ndarray
    mixed_cue: np.ndarray

    @classmethod
    def of(cls, ids, seed: int) -> "RankKeys":
        """The keys of some rows.

        Parameters
        ----------
        ids : array_like, shape (n,)
            Row ids (hashed as strings); a row's keys depend on its id alone, so one batch's
            keys are those rows' keys in the whole table.
        seed : int
            The run's ``seed``.

        Returns
        -------
        RankKeys
            Arrays of shape (n,).
        """
        return cls(**dict(zip(DRAWS, row_hashes(seed, ids, [f"judge/{draw}" for draw in DRAWS]))))  # ids hashed once

    def __len__(self) -> int:
        return int(self.random_sample.shape[0])


@dataclass
class Selection:
    """Chosen rows.

    Attributes
    ----------
    index : ndarray of int, shape (n_selected,)
        Positions into the table, ascending.
    member : dict of str -> ndarray of bool, shape (n_selected,)
        For each rule in :data:`RULES`, whether each chosen row satisfies it
        (``random_sample``: was drawn into the sample).
    selected_by : ndarray of str, shape (n_selected,)
        The first rule that chose each row.
    available : dict of str -> int
        How many rows of the whole table satisfy each targeted rule.
    turn : ndarray of int64, shape (n_selected,), optional
        When each chosen row was chosen (0 first): the random sample by key, then rules
        2-4 each in its order. The judge asks in this order, so a call budget that runs
        out leaves the last-chosen rows unasked, not the last rows of the file.
    """

    index: np.ndarray
    member: dict
    selected_by: np.ndarray
    available: dict
    turn: Optional[np.ndarray] = None

    @property
    def targeted(self) -> np.ndarray:
        """Chosen rows that satisfy at least one targeted rule, shape (n_selected,)."""
        return self.member["confidently_incorrect"] | self.member["sarcasm_cue"] | self.member["mixed_cue"]


def _as_bool(name, values, n):
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr.astype(bool)


def _as_keys(ranks: RankKeys, n: int) -> RankKeys:
    for draw in DRAWS:
        shape = np.shape(getattr(ranks, draw))
        if shape != (n,):
            raise ValueError(f"ranks.{draw} must have shape ({n},), got {shape}")
    return RankKeys(**{draw: np.asarray(getattr(ranks, draw), dtype=np.uint64) for draw in DRAWS})


def select_candidates(confidently_incorrect, sarcasm_cue, mixed_cue, confidence, *, max_candidates: int,
                      random_sample_size: int, ranks: RankKeys) -> Selection:
    """Choose the rows to judge (rules in the module docstring).

    Parameters
    ----------
    confidently_incorrect, sarcasm_cue, mixed_cue : array_like of bool, shape (n_rows,)
    confidence : array_like of float, shape (n_rows,)
        Ranks the confidently incorrect rows.
    max_candidates : int
        Most rows chosen in all (the budget).
    random_sample_size : int
        Rows drawn by rule 1 (capped by ``max_candidates`` and ``n_rows``).
    ranks : RankKeys
        Every row's seeded keys, arrays of shape (n_rows,) (``RankKeys.of(ids, seed)``):
        the only source of randomness, so the choice of rows does not depend on their order.

    Returns
    -------
    Selection
    """
    confidence = np.asarray(confidence, dtype=float)
    n = confidence.shape[0]
    wrong = _as_bool("confidently_incorrect", confidently_incorrect, n)
    sarcasm = _as_bool("sarcasm_cue", sarcasm_cue, n)
    mixed = _as_bool("mixed_cue", mixed_cue, n)
    ranks = _as_keys(ranks, n)
    if max_candidates < 0 or random_sample_size < 0:
        raise ValueError(f"max_candidates and random_sample_size must be >= 0, got {max_candidates} and {random_sample_size}")

    n_random = min(random_sample_size, max_candidates, n)
    sample = hash_sample(ranks.random_sample, n_random)
    order_wrong = np.flatnonzero(wrong)
    # The last key sorts first: confidence descending, then the key, then the position (a 64-bit collision only).
    order_wrong = order_wrong[np.lexsort((order_wrong, ranks.sarcasm_cue[order_wrong], -confidence[order_wrong]))]
    order_sarcasm = _by_key(np.flatnonzero(sarcasm & ~wrong), ranks.sarcasm_cue)
    order_mixed = _by_key(np.flatnonzero(mixed & ~sarcasm & ~wrong), ranks.mixed_cue)

    chosen = np.zeros(n, dtype=bool)
    first_rule = np.full(n, "", dtype=object)
    chosen[sample] = True
    first_rule[sample] = "random_sample"
    picked = [_by_key(sample, ranks.random_sample)]
    budget = max_candidates - n_random
    for rule, order in (("confidently_incorrect", order_wrong), ("sarcasm_cue", order_sarcasm), ("mixed_cue", order_mixed)):
        fresh = order[~chosen[order]][:max(budget, 0)]
        chosen[fresh] = True
        first_rule[fresh] = rule
        picked.append(fresh)
        budget -= fresh.size
    turn = np.zeros(n, dtype=np.int64)
    picked = np.concatenate(picked)
    turn[picked] = np.arange(picked.size)

    index = np.flatnonzero(chosen)
    in_sample = np.zeros(n, dtype=bool)
    in_sample[sample] = True
    member = {"random_sample": in_sample[index], "confidently_incorrect": wrong[index],
              "sarcasm_cue": sarcasm[index], "mixed_cue": mixed[index]}
    available = {"rows": int(n), "confidently_incorrect": int(wrong.sum()), "sarcasm_cue": int(sarcasm.sum()),
                 "mixed_cue": int(mixed.sum())}
    return Selection(index=index, member=member, selected_by=first_rule[index].astype(str), available=available,
                     turn=turn[index])


def _by_key(rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``rows`` (positions, shape (m,)) by ascending ``keys[rows]``: a seeded order that ignores the file's."""
    return rows[hash_order(keys[rows])]
