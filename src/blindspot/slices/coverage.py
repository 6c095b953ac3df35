"""What was tested, column by column: the record behind "tested and came out clean".

A fairness reader asks first whether a column (sex, age, site) was looked at at all, and
what came of it. :func:`coverage` counts, for every metadata column and every text
feature, the slices made from it alone and in conjunctions with other features, the tests
made on them (all in the stage's one Benjamini-Hochberg family) and how many survived it.
A column whose slices were tested and none survived is *clean* at that FDR level: no
evidence of a gap, which is not proof of no gap (the counts say how much was looked at).

Output (merged into ``metrics/slices.json``)
--------------------------------------------
Each record of ``columns_tested`` (metadata, by column key) and of ``text_features`` (by
text feature: ``jargon``, ``caps``, ``length``, one per detector) gains:

``n_slices_tested``, ``n_tests``, ``n_significant`` (slices of this feature alone),
``significant`` (key -> number of its significant tests; only keys that have one) and
``conjunctions``: ``{"n_slices_tested", "n_tests", "n_significant", "n_reported"}`` over the
tested conjunctions that include one of its predicates, ``n_reported`` counting the significant
tests that are findings of their own (not explained by a parent, :mod:`blindspot.slices.discovery`):
"site = yelp and sex = F" significant only because yelp reviews are worse says nothing about sex.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from blindspot.slices.features import PredicateTable


def _group(table: PredicateTable, j: int) -> tuple[str, str]:
    """(``"metadata"`` or ``"text"``, column key or text feature) of predicate ``j``."""
    p = table.predicates[j]
    if p.source == "metadata":
        return "metadata", p.key.partition("__")[0]
    return "text", p.feature


def coverage(table: PredicateTable, slices: pd.DataFrame, tests: pd.DataFrame) -> dict:
    """Tests and significant tests per metadata column and text feature.

    Parameters
    ----------
    table : PredicateTable
    slices : DataFrame, one row per tested slice
        ``members``: tuple of predicate columns, or None for a watchlist slice built on
        demand (a rare value; not attributed, it is in the watchlist section).
    tests : DataFrame, one row per (slice, metric)
        ``slice`` (row of ``slices``), ``tested``, ``significant``, and ``reported`` (significant and
        not explained by a parent; taken as ``significant`` when absent).

    Returns
    -------
    dict
        ``(source, group) -> record`` (see the module docstring), for every group that has
        a predicate, tested or not.
    """
    out: dict = {}
    for j in range(len(table.predicates)):
        out.setdefault(_group(table, j), {"n_slices_tested": 0, "n_tests": 0, "n_significant": 0,
                                          "significant": {},
                                          "conjunctions": {"n_slices_tested": 0, "n_tests": 0, "n_significant": 0,
                                                           "n_reported": 0}})
    if not len(tests):
        return out
    significant = tests["tested"] & tests["significant"]
    reported = significant & (tests["reported"] if "reported" in tests else True)
    per_slice = (tests.assign(tested=tests["tested"].astype(int), significant=significant.astype(int),
                              reported=reported.astype(int))
                 .groupby("slice")[["tested", "significant", "reported"]].sum())
    for s, row in per_slice.iterrows():  # over tested slices, not rows of data
        n_tests, n_sig = int(row["tested"]), int(row["significant"])
        members = slices.at[s, "members"]
        if not n_tests or members is None:
            continue
        groups = {_group(table, j) for j in members}
        for g in groups:
            record = out[g] if len(members) == 1 else out[g]["conjunctions"]
            record["n_slices_tested"] += 1
            record["n_tests"] += n_tests
            record["n_significant"] += n_sig
            if len(members) > 1:
                record["n_reported"] += int(row["reported"])
            if len(members) == 1 and n_sig:
                key = table.predicates[members[0]].key
                record["significant"][key] = record["significant"].get(key, 0) + n_sig
    return out


def merge_coverage(table: PredicateTable, counts: Mapping) -> tuple[dict, dict]:
    """``columns_tested`` and ``text_features`` of ``metrics/slices.json`` with the counts of
    :func:`coverage` in each record (text features in predicate order)."""
    empty = {"n_slices_tested": 0, "n_tests": 0, "n_significant": 0, "significant": {},
             "conjunctions": {"n_slices_tested": 0, "n_tests": 0, "n_significant": 0, "n_reported": 0}}
    columns = {}
    for key, c in table.columns.items():
        if c["status"] == "tested":
            columns[key] = {**{f: v for f, v in c.items() if f != "status"},
                            **counts.get(("metadata", key), empty)}
    text = {}
    for feature, record in table.text_features.items():
        text[feature] = {**record, "n_predicates": len(record["slices"]), **counts.get(("text", feature), empty)}
    return columns, text

