"""The slice stage's computation: predictions -> tests, findings, metrics, membership.

:func:`audit_slices` does everything between reading and writing and returns a
:class:`SliceAudit`; the stage only writes and draws what is computed here.

One FDR family
--------------
Every test made in a run is in one Benjamini-Hochberg family: the class-level tests
(each class's recall against the other classes'), every watchlist slice's tests and
every discovery candidate's tests (a slice that is both on the watchlist and among the
candidates is tested once), and each slice's error rate tested *within the true
classes* (:func:`blindspot.slices.evaluate.stratified_greater`). All tests are
one-sided (the slice, or class, is worse).

Why the within-class tests join the one family rather than replace the marginal ones or
form a family of their own: the brief makes two kinds of claim, "worse within its
classes" and "worse than the rest, through its class mix", and both must be controlled;
one family over every claim keeps the false-discovery rate of everything the brief says
at ``fdr_alpha`` (two families would allow up to twice that), at the cost of about a
fifth more tests (the sweep in ``bench/README.md`` measured no loss of power on the
planted slices). A recall is already within one class, so its test is its own
conditional test and is not counted twice.

Two groups (``evidence``)
-------------------------
- ``"within_class"``, a blind spot of its own: the error rate within the true classes
  has ``q <= fdr_alpha`` (a recall: its own test does). Ranked (``rank``) by the
  evidence within classes (``-log10`` of the conditional p value).
- ``"class_mix"``, the class weakness restated: the error rate against the rest has
  ``q <= fdr_alpha`` but not within classes. Listed apart (``class_mix_rank``), by the
  evidence against the rest.

A finding is *significant* when it is in either group. A conjunction must also be worse
than the rest of each parent, within it (:mod:`blindspot.slices.discovery`); otherwise
it is ``explained_by_parent`` and not reported.

Findings (``reports/findings.json``)
------------------------------------
A list, ordered: class findings, then significant slice findings by rank, then the
watchlist's remaining tested comparisons. Each finding is one (slice, metric) test:

``id`` (unique, stable: ``<source>__<key>__<metric>``, for classes
``class__<class>__recall``), ``source`` ("class",
"watchlist" or "discovered"), ``key``, ``description``, ``slice`` (feature -> value, or
a range ``{"ge": lo, "lt"|"le": hi}``; class findings use ``{"label": <class>}``),
``n`` (rows behind the metric: slice rows for ``error_rate``, rows of the class for
``recall_<class>``), ``slice_n``, ``metric``, ``higher_is_better``, ``value`` with
``ci_low``/``ci_high`` (Wilson interval of the value), ``rest_value``, ``gap`` (value
minus rest value) with ``gap_ci_low``/``gap_ci_high`` (Newcombe), ``p_value``,
``q_value``, ``significant``, ``excess`` (errors or misses beyond the overall rate),
``excess_given_class_mix`` and ``expected_given_class_mix`` (error_rate only: errors
beyond, and errors expected from, the slice's mix of true classes; null otherwise),
``score`` (``-log10 p``), ``rank`` (1 = strongest blind spot of its own; null for
class findings, class-mix findings and non-significant ones), ``explained_by_parent``;
for slice findings ``conditional_p_value``, ``conditional_q_value`` and
``conditional_score`` (the error rate within the true classes; a recall's are its own
test's), ``evidence`` ("within_class", "class_mix" or null) and ``class_mix_rank``; for a
reported conjunction ``within_parents`` (``{"key", "p_value", "q_value"}`` per parent:
the conjunction against the rest of that parent, within it); for watchlist
findings ``discovered`` (whether discovery would have reported it too), and for slice
findings ``parts``: one record per predicate of the key, in the key's order (the key
split on ``__and__``), ``{"key", "source", "column", "value"}`` with ``source``
"metadata" or "text", the exact raw column name (or text feature) and value (a raw
string; null for missing; ``{"not_in": [...]}`` for the pooled rare values; a range
for bins and thresholds; true for a detector). The key is read back through ``parts``,
never by parsing it (:mod:`blindspot.slices.keys`).

Metrics (``metrics/slices.json``)
---------------------------------
``n_rows``, ``settings``, ``family`` (test counts), ``classes`` (class -> recall test),
``watchlist`` and ``discovered`` (key -> slice entry: ``n``, ``share``, ``depth``,
``parts`` as above, ``tested`` and ``reason`` when untested, ``accuracy`` and one entry
per metric; an unresolved watchlist key has only ``n`` = 0, ``tested``, ``reason``
"not_present" and ``detail``, a sentence per missing part; an empty one has the reason
``no_rows``), ``columns_tested`` (column key -> ``column`` raw name, ``kind``,
``n_values``, ``n_predicates``, for categorical columns ``n_own`` and ``n_pooled``, and the
test counts of :mod:`blindspot.slices.coverage`) and ``columns_skipped`` (column key -> ``column``,
``reason``, ``detail``): every metadata column is in exactly one of the two; ``text_features``
(text feature -> ``slices``, key -> what it selects, the same test counts, and for ``length``
the word-count quantile levels and whole-word edges, ``n_words_quantiles``). A slice
that is both watched and discovered is keyed by its watchlist key everywhere.

``family`` also counts ``n_conditional_tests`` and ``n_class_mix_slices`` (slices
with a class-mix finding and no finding of their own); ``settings`` names
``conditional_test`` and ``conjunction_rule``; a slice metric entry carries
``evidence`` and ``conditional_p_value``/``conditional_q_value`` (or
``conditional_reason``), an error_rate entry ``expected_given_class_mix``; a discovered
entry ``rank`` (null when it has no finding of its own) and ``class_mix_rank``.

Class findings compare a class's recall with the pooled recall of the other classes
(``rest_value``): v1's neutral recall of 0 is the finding ``{"label": "neutral"}``,
metric ``recall``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from blindspot.metrics import confusion_counts
from blindspot.slices.coverage import coverage, merge_coverage
from blindspot.slices.discovery import enumerate_conjunctions, within_parent_tests
from blindspot.slices.evaluate import Counts, cells, class_tests, mask_counts, slice_tests
from blindspot.slices.features import CONJUNCTION, PredicateTable, build_predicates, merge_specs
from blindspot.slices.watchlist import resolve_watchlist
from blindspot.stats import bh_qvalues, wilson_interval

# Method codes written beside the numbers (short: `dvc metrics diff` prints them in its table).
TEST_METHOD = "fisher_exact_one_sided_worse"  # hypergeometric upper tail, slice worse than the rest
INTERVAL_METHOD = "wilson"
GAP_INTERVAL_METHOD = "newcombe_hybrid_score"  # difference of two Wilson intervals
FDR_METHOD = "bh_one_family_all_tests"  # Benjamini-Hochberg over classes, watchlist and discovery
# The error rate within the true classes: exact conditional test of the stratified 2x2 tables.
CONDITIONAL_TEST_METHOD = "exact_stratified_by_true_class_one_sided_worse"
# A conjunction is reported only when worse than the rest of each parent, within it (own BH family).
PARENT_RULE = "worse_within_each_parent_bh"
# Which group a significant finding belongs to (``evidence``).
WITHIN_CLASS = "within_class"  # worse within its true classes: a blind spot of its own
CLASS_MIX = "class_mix"  # worse only because it holds more of the weak classes


@dataclass
class SliceAudit:
    """Everything the slice stage writes.

    Attributes
    ----------
    metrics : dict
        Content of ``metrics/slices.json``.
    findings : list of dict
        Content of ``reports/findings.json`` (see module docstring); floats carry 6
        significant digits (write them unrounded: p values of 1e-60 are findings too).
    membership : DataFrame
        ``id`` then ``watch__<key>`` / ``found__<key>`` boolean columns.
    slices : DataFrame
        One row per tested slice: key, description, depth, members, sources, n.
    tests : DataFrame
        One row per (slice, metric), with q values and flags.
    classes_tests : DataFrame
        One row per class.
    confusions : list of (str, ndarray (K, K))
        Title and confusion counts of the top blind spots (for the plot).
    unresolved : list of (str, list of str)
        Watchlist keys not present in the data, with the missing predicate keys.
    """

    metrics: dict
    findings: list
    membership: pd.DataFrame
    slices: pd.DataFrame
    tests: pd.DataFrame
    classes_tests: pd.DataFrame
    confusions: list = field(default_factory=list)
    unresolved: list = field(default_factory=list)


def significant_digits(value, digits: int = 6):
    """Floats (recursively) rounded to ``digits`` significant digits, so tiny p values keep
    their magnitude in ``reports/findings.json`` (written unrounded) and stay stable."""
    if isinstance(value, dict):
        return {k: significant_digits(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [significant_digits(v, digits) for v in value]
    if isinstance(value, (float, np.floating)) and np.isfinite(value):
        return float(f"{float(value):.{digits}g}")
    return value


def _conjunction_key(table: PredicateTable, members: Sequence[int]) -> str:
    return CONJUNCTION.join(sorted(table.predicates[j].key for j in members))


def _spec(table: PredicateTable, members: Sequence[int]) -> dict:
    return merge_specs([table.predicates[j] for j in members])


def _parts(table: PredicateTable, members: Sequence[int]) -> list[dict]:
    """:attr:`Predicate.part` of each member, in the order of the conjunction key."""
    return [table.predicates[j].part for j in sorted(members, key=lambda j: table.predicates[j].key)]


def _description(table: PredicateTable, members: Sequence[int]) -> str:
    return " and ".join(table.predicates[j].description for j in sorted(members, key=lambda j: table.predicates[j].key))


def _mask(table: PredicateTable, members: Sequence[int]) -> np.ndarray:
    return np.logical_and.reduce(table.matrix[:, list(members)], axis=1)


def _metric_entry(row: Mapping) -> dict:
    entry = {"n": int(row["n"]), "value": row["value"], "ci_low": row["ci_low"], "ci_high": row["ci_high"],
             "rest_value": row["rest_value"], "gap": row["gap"], "gap_ci_low": row["gap_ci_low"],
             "gap_ci_high": row["gap_ci_high"], "excess": row["excess"], "tested": bool(row["tested"])}
    if row["metric"] == "error_rate":
        entry["excess_given_class_mix"] = row["excess_given_class_mix"]
        entry["expected_given_class_mix"] = row["expected_given_class_mix"]
    if row["tested"]:
        entry.update(p_value=row["p_value"], q_value=row["q_value"], score=row["score"],
                     significant=bool(row["significant"]))
        if "evidence" in row:  # slice metrics (class entries have no test within classes)
            entry["evidence"] = row["evidence"] or None
            if row["cond_tested"]:
                entry.update(conditional_p_value=row["cond_p_value"], conditional_q_value=row["cond_q_value"])
            else:
                entry["conditional_reason"] = row["cond_reason"]
    else:
        entry["reason"] = row["reason"]
    return entry


def _finding(row: Mapping, *, source: str, key: str, description: str, spec: dict, slice_n: int,
             parts: list | None = None) -> dict:
    out = {
        # class keys already say "class__<name>"
        "id": f"{key}__{row['metric']}" if source == "class" else f"{source}__{key}__{row['metric']}",
        "source": source,
        "key": key,
        "description": description,
        "slice": spec,
        "slice_n": int(slice_n),
        "n": int(row["n"]),
        "metric": row["metric"],
        "higher_is_better": bool(row["higher_is_better"]),
        "value": row["value"],
        "ci_low": row["ci_low"],
        "ci_high": row["ci_high"],
        "rest_value": row["rest_value"],
        "gap": row["gap"],
        "gap_ci_low": row["gap_ci_low"],
        "gap_ci_high": row["gap_ci_high"],
        "p_value": row["p_value"],
        "q_value": row["q_value"],
        "significant": bool(row["significant"]),
        "excess": row["excess"],
        "excess_given_class_mix": row.get("excess_given_class_mix", float("nan")),
        "expected_given_class_mix": row.get("expected_given_class_mix", float("nan")),
        "score": row["score"],
        "rank": None,
        "explained_by_parent": bool(row.get("explained", False)),
    }
    if source != "class":
        out.update(conditional_p_value=row["cond_p_value"], conditional_q_value=row["cond_q_value"],
                   conditional_score=row["cond_score"], evidence=row["evidence"] or None, class_mix_rank=None)
    if parts is not None:
        out["parts"] = parts
    return out


def audit_slices(frame: pd.DataFrame, classes: Sequence[str], *, min_support: int, min_class_support: int,
                 max_depth: int, text_detectors: Sequence[str], jargon_high_density: float, caps_high_share: float,
                 length_bands: Mapping[str, Sequence], max_levels: int | None, n_quantiles: int,
                 length_quantiles: int = 0, very_short_words: int | None = None,
                 metadata_exclude: Sequence[str] = (), watchlist: Sequence[str] = (), fdr_alpha: float = 0.05,
                 ci_level: float = 0.95, top_k_plots: int = 4) -> SliceAudit:
    """Slice features, watchlist and discovered slices, tests, FDR, findings.

    Parameters
    ----------
    frame : DataFrame
        Canonical predictions (``id``, ``text``, ``y_true``, ``y_pred``, ``meta__*``).
    classes : sequence of str, length K
    min_support, min_class_support, max_depth, text_detectors, jargon_high_density,
    caps_high_share, length_bands, max_levels, n_quantiles, metadata_exclude, watchlist, top_k_plots
        As in :class:`blindspot.config.SlicesConfig`.
    fdr_alpha, ci_level : float
        ``stats.fdr_alpha`` and ``stats.ci_level``.

    Returns
    -------
    SliceAudit
    """
    k = len(classes)
    n_rows = len(frame)
    y_true = frame["y_true"].to_numpy(dtype=np.int64)
    y_pred = frame["y_pred"].to_numpy(dtype=np.int64)
    table = build_predicates(frame, text_detectors=text_detectors, jargon_high_density=jargon_high_density,
                             caps_high_share=caps_high_share, length_bands=length_bands, max_levels=max_levels,
                             n_quantiles=n_quantiles, metadata_exclude=metadata_exclude, min_support=min_support,
                             length_quantiles=length_quantiles, very_short_words=very_short_words)
    cell = cells(y_true, y_pred, k)
    totals = Counts.from_cells(np.bincount(cell, minlength=2 * k)[None, :], k)
    candidates = enumerate_conjunctions(table.matrix, table.features, cell, k, max_depth=max_depth,
                                        min_support=min_support)
    items = resolve_watchlist(list(watchlist), table)

    # The slices to test: discovery candidates, plus watchlist slices that are not one.
    position = {m: i for i, m in enumerate(candidates.members)}
    rows = [{"key": _conjunction_key(table, m), "members": m, "depth": len(m), "discovery": True, "watch": []}
            for m in candidates.members]
    extra_masks = []
    watch_slice: dict[str, int] = {}
    for item in items:
        if not item.resolved:
            continue
        if item.members is not None and item.members in position:
            i = position[item.members]
        else:
            i = len(rows)
            rows.append({"key": item.key, "members": item.members, "depth": len(item.parts), "discovery": False,
                         "watch": []})
            extra_masks.append(item.mask)
            position[("watch", item.key)] = i
        rows[i]["watch"].append(item.key)
        watch_slice[item.key] = i
    counts = candidates.counts
    if extra_masks:
        counts = Counts.concat([counts, mask_counts(np.column_stack(extra_masks), y_true, y_pred, k)], k)
    slices = pd.DataFrame(rows, columns=["key", "members", "depth", "discovery", "watch"])
    slices["n"] = counts.n

    tests = slice_tests(counts, totals, classes, min_support=min_support, min_class_support=min_class_support,
                        level=ci_level)
    cls = class_tests(totals, classes, min_class_support=min_class_support, level=ci_level)

    # One BH family over every test made: classes, every slice metric against the rest, and
    # every slice's error rate within the true classes (a recall's test is already within
    # one class, so it is not counted twice).
    is_err = (tests["metric"] == "error_rate").to_numpy()
    cond_p = np.where(is_err, tests["cond_p_value"].to_numpy(), np.nan)
    q = bh_qvalues(np.concatenate([cls["p_value"].to_numpy(), tests["p_value"].to_numpy(), cond_p]))
    cls["q_value"] = q[:k]
    tests["q_value"] = q[k:k + len(tests)]
    tests["cond_q_value"] = np.where(is_err, q[k + len(tests):], tests["q_value"])
    cls["significant"] = cls["tested"] & (cls["q_value"] <= fdr_alpha)
    tests["marginal_significant"] = tests["tested"] & (tests["q_value"] <= fdr_alpha)
    tests["cond_significant"] = tests["cond_tested"] & (tests["cond_q_value"] <= fdr_alpha)
    tests["evidence"] = np.where(tests["cond_significant"], WITHIN_CLASS,
                                 np.where(tests["marginal_significant"], CLASS_MIX, ""))
    tests["significant"] = tests["evidence"] != ""

    n_metrics = 1 + k
    members_for_expl = [m if m is not None else ("watch", r) for r, m in enumerate(slices["members"])]
    parent_tests = _parent_rule(members_for_expl, counts, tests, n_metrics, fdr_alpha)
    tests["reported"] = tests["significant"] & ~tests["explained"]

    # Rank the reported slice findings (watchlist or discovered): blind spots of their own
    # by the evidence within classes, class-mix ones apart by the evidence against the rest.
    visible = slices["discovery"].to_numpy()[tests["slice"]] | slices["watch"].map(bool).to_numpy()[tests["slice"]]
    tests["rank"] = np.nan
    tests["class_mix_rank"] = np.nan
    for group, score_col, rank_col in ((WITHIN_CLASS, "cond_score", "rank"), (CLASS_MIX, "score", "class_mix_rank")):
        reported = tests[tests["reported"] & visible & (tests["evidence"] == group)].copy()
        reported["key"] = slices["key"].to_numpy()[reported["slice"]]
        reported = reported.sort_values([score_col, "excess", "key", "metric"], ascending=[False, False, True, True],
                                        kind="mergesort")
        tests.loc[reported.index, rank_col] = np.arange(1, len(reported) + 1)

    spec_of, desc_of, parts_of = {}, {}, {}
    for i, row in slices.iterrows():  # over slices, not rows of data
        if row["members"] is not None:
            spec_of[i], desc_of[i] = _spec(table, row["members"]), _description(table, row["members"])
            parts_of[i] = _parts(table, row["members"])
    for item in items:
        s = watch_slice.get(item.key)
        if item.resolved and s not in spec_of:
            spec_of[s], desc_of[s], parts_of[s] = item.spec, item.description, item.records

    findings = significant_digits(_findings(cls, tests, slices, items, watch_slice, spec_of, desc_of, parts_of,
                                            classes, parent_tests))
    membership = _membership(frame, table, slices, tests, items, watch_slice)
    metrics = _metrics(n_rows, table, slices, tests, cls, items, watch_slice, parts_of, classes, counts,
                       min_support=min_support, min_class_support=min_class_support, max_depth=max_depth,
                       fdr_alpha=fdr_alpha, ci_level=ci_level, findings=findings)
    confusions = _top_confusions(table, slices, tests, items, watch_slice, y_true, y_pred, k, top_k_plots, desc_of)
    slices["description"] = [desc_of.get(i, "") for i in range(len(slices))]
    unresolved = [(item.key, item.missing) for item in items if not item.resolved]
    return SliceAudit(metrics, findings, membership, slices, tests, cls, confusions, unresolved)


def _parent_rule(members, counts, tests, n_metrics, fdr_alpha) -> dict:
    """Flag ``tests["explained"]``: a significant conjunction not worse than the rest of some parent.

    Returns ``{(slice, metric index): [{"parent", "p_value", "q_value"}, ...]}`` for the
    findings' ``within_parents`` (see :mod:`blindspot.slices.discovery`).
    """
    sig = tests["significant"].to_numpy().reshape(-1, n_metrics)
    pt = within_parent_tests(members, counts, sig)
    pt["q_value"] = bh_qvalues(pt["p_value"].to_numpy()) if len(pt) else np.zeros(0)
    explained = np.zeros(sig.shape, dtype=bool)
    out: dict = {}
    for row in pt.itertuples(index=False):  # a loop over (conjunction, parent) tests, not rows
        s, m = int(row.slice), int(row.metric)
        explained[s, m] |= not row.q_value <= fdr_alpha
        out.setdefault((s, m), []).append({"parent": int(row.parent), "p_value": float(row.p_value),
                                           "q_value": float(row.q_value)})
    tests["explained"] = explained.ravel()
    return out


def _findings(cls, tests, slices, items, watch_slice, spec_of, desc_of, parts_of, classes, parent_tests) -> list:
    n_metrics = 1 + len(classes)
    metric_index = {m: i for i, m in enumerate(["error_rate"] + [f"recall_{c}" for c in classes])}

    def with_parents(f, s, metric):
        records = parent_tests.get((s, metric_index[metric]))
        if records:
            f["within_parents"] = [{"key": _display_key(slices, r["parent"]), "p_value": r["p_value"],
                                    "q_value": r["q_value"]} for r in records]
        return f

    def place(f, row):
        if np.isfinite(row["rank"]):
            f["rank"] = int(row["rank"])
            ranked.append(f)
        elif np.isfinite(row["class_mix_rank"]):
            f["class_mix_rank"] = int(row["class_mix_rank"])
            mixed.append(f)
        else:
            return False
        return True

    del n_metrics
    out = []
    for _, row in cls.iterrows():
        if row["tested"]:
            out.append(_finding(row, source="class", key=f"class__{row['class']}",
                                description=f"true class '{row['class']}' against the other classes",
                                spec={"label": row["class"]}, slice_n=row["n"]))
    ranked, mixed, rest = [], [], []
    by_slice = {s: g for s, g in tests.groupby("slice", sort=True)}
    watch_done = set()
    for item in items:
        if not item.resolved:
            continue
        s = watch_slice[item.key]
        for _, row in by_slice[s].iterrows():
            if not row["tested"]:
                continue
            f = _finding(row, source="watchlist", key=item.key, description=desc_of[s], spec=spec_of[s],
                         slice_n=slices.at[s, "n"], parts=item.records)
            f["discovered"] = bool(slices.at[s, "discovery"] and row["reported"])
            with_parents(f, s, row["metric"])
            if not place(f, row):
                rest.append(f)
        watch_done.add(s)
    discovered = tests[tests["reported"] & slices["discovery"].to_numpy()[tests["slice"]]]
    for _, row in discovered.iterrows():
        s = int(row["slice"])
        if s in watch_done:
            continue
        f = _finding(row, source="discovered", key=slices.at[s, "key"], description=desc_of[s], spec=spec_of[s],
                     slice_n=slices.at[s, "n"], parts=parts_of[s])
        with_parents(f, s, row["metric"])
        place(f, row)
    ranked.sort(key=lambda f: f["rank"])
    mixed.sort(key=lambda f: f["class_mix_rank"])
    return out + ranked + mixed + rest


def _display_key(slices, s) -> str:
    """A slice's key as the findings show it (its watchlist key when it is watched)."""
    watched = slices.at[s, "watch"]
    return watched[0] if watched else slices.at[s, "key"]


def _membership(frame, table, slices, tests, items, watch_slice) -> pd.DataFrame:
    columns = {"id": frame["id"].astype("string").to_numpy()}
    for item in items:
        if item.resolved:
            columns[f"watch__{item.key}"] = item.mask
    found = tests[tests["reported"] & slices["discovery"].to_numpy()[tests["slice"]]]
    order = found.sort_values("rank")["slice"].drop_duplicates()
    for s in order:
        if slices.at[s, "watch"]:
            continue
        columns[f"found__{slices.at[s, 'key']}"] = _mask(table, slices.at[s, "members"])
    out = pd.DataFrame(columns)
    out["id"] = out["id"].astype("string")
    return out


def _slice_entry(s, slices, tests_by_slice, counts, n_rows, ci_level, parts) -> dict:
    n = int(slices.at[s, "n"])
    entry = {"n": n, "share": n / n_rows if n_rows else float("nan"), "depth": int(slices.at[s, "depth"]),
             "parts": parts}
    group = tests_by_slice[s]
    err = group[group["metric"] == "error_rate"].iloc[0]
    entry["tested"] = bool(err["tested"])
    if not err["tested"]:
        entry["reason"] = err["reason"]
    if n:
        correct = n - int(counts.errors[s])
        low, high = wilson_interval(correct, n, ci_level)
        entry["accuracy"] = {"value": correct / n, "ci_low": float(low), "ci_high": float(high)}
    for _, row in group.iterrows():
        entry[row["metric"]] = _metric_entry(row)
    return entry


def _metrics(n_rows, table, slices, tests, cls, items, watch_slice, parts_of, classes, counts, *, min_support,
             min_class_support, max_depth, fdr_alpha, ci_level, findings) -> dict:
    tests_by_slice = {s: g for s, g in tests.groupby("slice", sort=True)}
    watch = {}
    for item in items:
        if not item.resolved:
            watch[item.key] = {"n": 0, "tested": False, "reason": item.reason, "detail": item.detail}
            continue
        watch[item.key] = _slice_entry(watch_slice[item.key], slices, tests_by_slice, counts, n_rows, ci_level,
                                       item.records)
    discovered = {}
    reported = tests[tests["reported"] & slices["discovery"].to_numpy()[tests["slice"]]]
    for s, group in reported.groupby("slice", sort=True):
        # A watched slice keeps its watchlist key (as in findings and slices.parquet), even when the
        # watchlist writes a conjunction in another order than discovery does.
        watched = slices.at[s, "watch"]
        key = watched[0] if watched else slices.at[s, "key"]
        entry = _slice_entry(s, slices, tests_by_slice, counts, n_rows, ci_level,
                             watch[key]["parts"] if watched else parts_of[s])
        own, mix = group["rank"].dropna(), group["class_mix_rank"].dropna()
        entry["rank"] = int(own.min()) if len(own) else None
        entry["class_mix_rank"] = int(mix.min()) if len(mix) else None
        entry["on_watchlist"] = bool(watched)
        discovered[key] = entry
    class_entries = {}
    for _, row in cls.iterrows():
        class_entries[row["class"]] = {"n": int(row["n"]), "recall": _metric_entry(row)}
    n_cond = int((tests["cond_tested"] & (tests["metric"] == "error_rate")).sum())
    n_tests = int(cls["tested"].sum() + tests["tested"].sum()) + n_cond
    slice_findings = [f for f in findings if f["source"] != "class" and f["significant"]]
    return {
        "n_rows": n_rows,
        "settings": {"min_support": min_support, "min_class_support": min_class_support, "max_depth": max_depth,
                     "fdr_alpha": fdr_alpha, "ci_level": ci_level, "test": TEST_METHOD,
                     "interval_method": INTERVAL_METHOD, "gap_interval_method": GAP_INTERVAL_METHOD,
                     "fdr_method": FDR_METHOD, "conditional_test": CONDITIONAL_TEST_METHOD,
                     "conjunction_rule": PARENT_RULE},
        "family": {
            "n_predicates": len(table.predicates),
            "n_slices_tested": int(tests.groupby("slice")["tested"].any().sum()),
            "n_tests": n_tests,
            "n_conditional_tests": n_cond,
            "n_significant_tests": int(cls["significant"].sum() + tests["marginal_significant"].sum()
                                       + (tests["cond_significant"] & (tests["metric"] == "error_rate")).sum()),
            "n_blind_spots": len({f["key"] for f in slice_findings if f["rank"] is not None}),
            "n_class_mix_slices": len({f["key"] for f in slice_findings if f.get("class_mix_rank") is not None}
                                      - {f["key"] for f in slice_findings if f["rank"] is not None}),
            "n_class_findings": int(cls["significant"].sum()),
        },
        "classes": class_entries,
        # Each tested column and text feature with its tests and significant ones (slices.coverage).
        **dict(zip(("columns_tested", "text_features"), merge_coverage(table, coverage(table, slices, tests)))),
        "columns_skipped": {k: {f: v for f, v in c.items() if f != "status"}
                            for k, c in table.columns.items() if c["status"] == "skipped"},
        "watchlist": watch,
        "discovered": discovered,
    }


def _top_confusions(table, slices, tests, items, watch_slice, y_true, y_pred, k, top_k, desc_of) -> list:
    ranked = tests[np.isfinite(tests["rank"])].sort_values("rank")["slice"].drop_duplicates().tolist()
    chosen = ranked[:top_k]
    out = []
    masks = {watch_slice[i.key]: i.mask for i in items if i.resolved}
    for s in chosen:
        mask = masks.get(s)
        if mask is None:
            mask = _mask(table, slices.at[s, "members"])
        key = slices.at[s, "watch"][0] if slices.at[s, "watch"] else slices.at[s, "key"]
        out.append((key, confusion_counts(y_true[mask], y_pred[mask], k)))
    return out
