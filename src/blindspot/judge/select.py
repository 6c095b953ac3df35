"""Which rows the judge reads: documented rules within a budget.

Rules, in order, until ``max_candidates`` distinct rows are chosen:

1. **Random sample** (``random_sample_size`` rows): a seeded simple random sample of the
   *whole* table, drawn first. Because it ignores every targeting rule, agreement
   measured on it estimates agreement on the population; a sample of only the
   untargeted rest would leave out the hard rows and flatter the judge.
2. **Confidently incorrect**: wrong and ``confidence >= confident_threshold``, most
   confident first (ties: file order).
3. **Sarcasm cue** (not already taken by rule 2), in seeded random order.
4. **Mixed-sentiment cue** (not taken by rules 2-3), in seeded random order.

A row met by a targeted rule that is already in the random sample is not chosen twice;
it carries both memberships. Every chosen row records every rule it satisfies (so the
targeted subset is "chosen rows meeting rule 2, 3 or 4", whatever chose them first)
and ``selected_by``, the first rule that chose it. Rows of rules 3-4 have no natural
ranking, hence the seeded shuffle: a budget cut then leaves a random subset, not the
first rows of the file.

The function takes boolean cue arrays, so it is independent of how cues are detected
(the stage uses :mod:`blindspot.text_features`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RULES = ("random_sample", "confidently_incorrect", "sarcasm_cue", "mixed_cue")


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
    """

    index: np.ndarray
    member: dict
    selected_by: np.ndarray
    available: dict

    @property
    def targeted(self) -> np.ndarray:
        """Chosen rows that satisfy at least one targeted rule, shape (n_selected,)."""
        return self.member["confidently_incorrect"] | self.member["sarcasm_cue"] | self.member["mixed_cue"]


def _as_bool(name, values, n):
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    return arr.astype(bool)


def select_candidates(confidently_incorrect, sarcasm_cue, mixed_cue, confidence, *, max_candidates: int,
                      random_sample_size: int, rng: np.random.Generator) -> Selection:
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
    rng : numpy.random.Generator

    Returns
    -------
    Selection
    """
    confidence = np.asarray(confidence, dtype=float)
    n = confidence.shape[0]
    wrong = _as_bool("confidently_incorrect", confidently_incorrect, n)
    sarcasm = _as_bool("sarcasm_cue", sarcasm_cue, n)
    mixed = _as_bool("mixed_cue", mixed_cue, n)
    if max_candidates < 0 or random_sample_size < 0:
        raise ValueError(f"max_candidates and random_sample_size must be >= 0, got {max_candidates} and {random_sample_size}")

    n_random = min(random_sample_size, max_candidates, n)
    sample = rng.choice(n, size=n_random, replace=False) if n_random else np.zeros(0, dtype=np.int64)
    order_wrong = np.flatnonzero(wrong)
    order_wrong = order_wrong[np.argsort(-confidence[order_wrong], kind="stable")]
    order_sarcasm = rng.permutation(np.flatnonzero(sarcasm & ~wrong))
    order_mixed = rng.permutation(np.flatnonzero(mixed & ~sarcasm & ~wrong))

    chosen = np.zeros(n, dtype=bool)
    first_rule = np.full(n, "", dtype=object)
    chosen[sample] = True
    first_rule[sample] = "random_sample"
    budget = max_candidates - n_random
    for rule, order in (("confidently_incorrect", order_wrong), ("sarcasm_cue", order_sarcasm), ("mixed_cue", order_mixed)):
        fresh = order[~chosen[order]][:max(budget, 0)]
        chosen[fresh] = True
        first_rule[fresh] = rule
        budget -= fresh.size

    index = np.flatnonzero(chosen)
    in_sample = np.zeros(n, dtype=bool)
    in_sample[sample] = True
    member = {"random_sample": in_sample[index], "confidently_incorrect": wrong[index],
              "sarcasm_cue": sarcasm[index], "mixed_cue": mixed[index]}
    available = {"rows": int(n), "confidently_incorrect": int(wrong.sum()), "sarcasm_cue": int(sarcasm.sum()),
                 "mixed_cue": int(mixed.sum())}
    return Selection(index=index, member=member, selected_by=first_rule[index].astype(str), available=available)
