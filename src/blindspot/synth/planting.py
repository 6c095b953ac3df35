"""Planting blind spots: parsing slice predicates, assigning rows to slices, keeping slices disjoint.

A planted slice is a predicate on metadata and/or latent attributes. Rows are
assigned to slices first (so each holds its ``share`` of rows), the assigned rows get
the slice's values, and rows that match a slice by chance get an attribute redrawn.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from blindspot.synth.attributes import sample_codes
from blindspot.synth.spec import LATENT_VALUES, METADATA_COLUMNS, METADATA_VALUES, PlantedSlice

_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def parse_predicate(predicate: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    """``{column: value}`` -> sorted ``((column, value code), ...)``; validates both."""
    if not predicate:
        raise ValueError("a planted slice needs a non-empty predicate")
    out = []
    for col, value in predicate.items():
        if col in METADATA_VALUES:
            values = METADATA_VALUES[col]
            if str(value) not in values:
                raise ValueError(f"unknown value {value!r} for {col!r}; expected one of {values}")
            out.append((col, values.index(str(value))))
        elif col == "register":
            if str(value) not in LATENT_VALUES[col]:
                raise ValueError(f"unknown value {value!r} for 'register'; expected 'plain' or 'jargon'")
            out.append((col, LATENT_VALUES[col].index(str(value))))
        elif col in LATENT_VALUES:
            flag = value if isinstance(value, (bool, np.bool_)) else _BOOL_WORDS.get(str(value).strip().lower())
            if flag is None:
                raise ValueError(f"value {value!r} for {col!r} is not a boolean")
            out.append((col, int(bool(flag))))
        else:
            known = METADATA_COLUMNS + tuple(LATENT_VALUES)
            raise ValueError(f"unknown predicate column {col!r}; expected one of {known}")
    return tuple(sorted(out))


def predicate_json(parsed: tuple[tuple[str, int], ...]) -> dict:
    """Parsed predicate -> ``{column: value}`` with native JSON types."""
    out = {}
    for col, code in parsed:
        value = METADATA_VALUES[col][code] if col in METADATA_VALUES else LATENT_VALUES[col][code]
        out[col] = value if isinstance(value, (bool, str)) else str(value)
    return out


def _assignment_probabilities(parsed, shares, tables, class_pol, class_shares, weights=None) -> np.ndarray:
    """Probability that a row of each class is assigned to each slice, shape (K, m).

    A slice can only take rows whose polarity allows all its values (``sarcastic=True``
    takes negative rows only); to keep ``share`` of *all* rows its eligible rows are
    assigned with probability ``share * w_c / sum(eligible class shares * w)`` (``w``
    the slice's class weights, 1 by default).
    """
    m, k = len(parsed), len(class_pol)
    out = np.zeros((k, m))
    for j, pred in enumerate(parsed):
        eligible = np.ones(3, bool)
        for col, code in pred:
            eligible &= tables[col][:, code] > 0
        w = np.ones(k) if weights is None or weights[j] is None else np.asarray(weights[j], float)
        if w.shape != (k,) or (w < 0).any():
            raise ValueError(f"class_weights must be {k} non-negative numbers, got {weights[j]!r}")
        ok = eligible[class_pol] & (w > 0)
        p_eligible = float(np.sum(np.asarray(class_shares) * w * ok))
        if p_eligible <= 0:
            raise ValueError(f"planted slice {predicate_json(pred)} cannot hold on any class")
        out[ok, j] = shares[j] * w[ok] / p_eligible
    if (out.sum(axis=1) > 1 + 1e-12).any():
        raise ValueError("planted slice shares too large: they must fit (disjointly) into the rows that can hold them")
    return out


def check_not_nested(parsed) -> None:
    """Slices are disjoint, so no predicate may imply another (contain all its terms)."""
    for j, pj in enumerate(parsed):
        for k, pk in enumerate(parsed):
            if j != k and set(pk) <= set(pj):
                raise ValueError(
                    f"planted slice {predicate_json(pj)} lies inside {predicate_json(pk)}: slices must be disjoint")


def _repair(codes: dict, assign: np.ndarray, parsed, pol: np.ndarray, tables: dict,
            rng: np.random.Generator, max_rounds: int = 100) -> None:
    """Redraw attributes until each row matches exactly the slice it is assigned to.

    A row matching slice ``k`` by chance (unassigned, or assigned to another slice)
    gets one of ``k``'s attributes redrawn without ``k``'s value, choosing among the
    attributes its own slice does not pin. Modifies ``codes`` in place.

    Raises
    ------
    ValueError
        Some row cannot avoid a predicate, or the redraws do not settle.
    """
    m = len(parsed)
    pinned = {col: np.array([any(c == col for c, _ in parsed[j]) for j in range(m)] + [False])
              for col in tables}
    for _ in range(max_rounds):
        clean = True
        for k, pred in enumerate(parsed):
            match = np.ones(assign.size, bool)
            for col, code in pred:
                match &= codes[col] == code
            rows = np.flatnonzero(match & (assign != k))
            if rows.size == 0:
                continue
            clean = False
            own = np.where(assign[rows] >= 0, assign[rows], m)  # m: no slice
            usable = np.empty((rows.size, len(pred)), bool)
            for i, (col, code) in enumerate(pred):
                usable[:, i] = ~pinned[col][own] & (tables[col][pol[rows], code] < 1)
            if not usable.any(axis=1).all():
                raise ValueError("planted slices cannot be made disjoint: some rows cannot avoid a predicate "
                                 "(e.g. sarcastic=false holds on every non-negative row)")
            score = np.where(usable, rng.random(usable.shape), -1.0)
            pick = score.argmax(axis=1)
            for i, (col, code) in enumerate(pred):
                sel = rows[pick == i]
                if sel.size:
                    codes[col][sel] = sample_codes(tables[col], pol[sel], rng, exclude=code)
        if clean:
            return
    raise ValueError("planted slices did not become disjoint; simplify the predicates")




def plant(codes: dict, label: np.ndarray, class_pol: np.ndarray, parsed, planted: Sequence[PlantedSlice],
          tables: dict, class_shares: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Assign rows to the planted slices and give them the slices' values.

    Parameters
    ----------
    codes : dict of str to ndarray of int, each shape (n,)
        Value code of every attribute per row; modified in place so that each row
        matches exactly the slice it is assigned to.
    label : ndarray of int, shape (n,)
    class_pol : ndarray of int, shape (K,)
        Polarity code of each class.
    parsed : sequence of parsed predicates (see :func:`parse_predicate`), length m
    planted : sequence of PlantedSlice, length m
    tables : dict of str to ndarray, shape (3, V)
        Value probabilities by polarity (see :func:`blindspot.synth.attributes.attribute_tables`).
    class_shares : ndarray, shape (K,)
    rng : Generator

    Returns
    -------
    ndarray of int64, shape (n,)
        Planted slice index of each row, -1 for none.
    """
    assign = np.full(label.size, -1, np.int64)
    if not parsed:
        return assign
    probs = _assignment_probabilities(parsed, [s.share for s in planted], tables, class_pol, class_shares,
                                      [s.class_weights for s in planted])
    u = rng.random(label.size)
    for p in range(len(class_pol)):
        rows = label == p
        cdf = np.cumsum(probs[p])
        j = np.searchsorted(cdf, u[rows], side="right")
        assign[rows] = np.where(j < len(parsed), j, -1)
    for j, pred in enumerate(parsed):
        for col, code in pred:
            codes[col][assign == j] = code
    _repair(codes, assign, parsed, class_pol[label], tables, rng)
    return assign
