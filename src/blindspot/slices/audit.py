"""The slice stage's computation: predictions -> tests, findings, metrics, membership.

:func:`audit_slices` does everything between reading and writing and returns a
:class:`SliceAudit`; the stage only writes and draws what is computed here. Its settings
come in one :class:`SliceSettings`; the tables it builds on the way (predicates, slices,
tests, q values, ranks) are held in one :class:`AuditTables`, which every writer below
(findings, metrics, membership, confusions) reads.

One FDR family
--------------
Every test made in a run is in one Benjamini-Hochberg family: the class-level tests
(each class's recall against the other classes'), every watchlist slice's tests and
every discovery candidate's tests, topics included (a slice that is both on the
watchlist and among the candidates is tested once), each slice's error rate tested
*within the true classes* (:func:`blindspot.slices.evaluate.stratified_greater`), and
each tested error term's cross-fitted p value. All tests are one-sided (the slice,
class or term is worse).

Why the within-class tests join the one family rather than replace the marginal ones or
form a family of their own: the brief makes two kinds of claim, "worse within its
classes" and "worse than the rest, through its class mix", and both must be controlled;
one family over every claim keeps the false-discovery rate of everything the brief says
at ``fdr_alpha`` (two families would allow up to twice that), at the cost of about a
fifth more tests (the sweep in ``bench/README.md`` measured no loss of power on the
planted slices). A recall is already within one class, so its test is its own
conditional test and is not counted twice.

Text blind spots nobody named: topics and error terms
-----------------------------------------------------
Two families of slices come from the review texts themselves rather than from a column
or a detector someone chose (:mod:`blindspot.slices.textslices`):

- **Topics** (:mod:`blindspot.slices.topics`): what the reviews are about, learned by
  TF-IDF and non-negative matrix factorisation on a seeded sample of the texts
  (``slices.text_sample_rows``), one topic per 100 sampled reviews, at most
  ``slices.topics_max``; a review belongs to every topic it weighs at least
  ``slices.topic_weight_floor`` on. Each topic is a text predicate (feature ``"topic"``,
  key ``topic_<term>_<term>_<term>``) and is tested like any discovered slice, with the
  same tests, findings, coverage and membership. Testing it on the same rows it was
  learned from is honest because it was learned from the texts alone, never from the
  labels, the predictions or the errors: under a model whose errors do not depend on
  the text, a topic is a text-defined set of rows like a metadata value. Topics are
  tested alone (depth 1): each would otherwise add a pair-slice per other predicate to
  the family, and a topic is already a learned conjunction of words.
- **Error-associated terms** (:mod:`blindspot.slices.terms`): words and bigrams whose
  reviews the model gets wrong within their true classes. Choosing them *by* their
  errors and testing them on the same rows would find "significant" words in pure noise,
  so they are cross-fitted: the rows are split in two halves by a seeded hash of their
  ids, the ``slices.terms_top_k`` most suspicious terms of one half are tested on the
  other half with the audit's exact test within the true classes, and the other way
  round, and the two p values are combined (``min(1, 2 min(p_AB, p_BA))``). Each tested
  term's combined p value is one more test in the one family (``family.n_term_tests``);
  a term with ``q <= fdr_alpha`` is a blind spot of its own (a finding of source
  ``"term"``, evidence ``"within_class"``, ranked with the slices by the evidence within
  classes; its effect sizes are on all rows, for reading). Terms are not predicates:
  their candidates are many and chosen by error, so discovery never conjoins them.

Both are computed from the texts a batch at a time (:mod:`blindspot.slices.textpass`):
the fitting sample is read once, one pass makes the detector flags, the topics'
membership and examples and the terms' count tables, and one more pass, only when some
term is significant, finds the rows holding those terms. ``reports/text_slices.json``
lists every topic and every tested term.

Rows stay where they were read
------------------------------
No value of every row is held here: each batch of rows is kept where it was read (a Dask
worker with ``engine: dask``) with its text pass (:class:`blindspot.slices.batch.SliceBatch`),
and the audit asks the batches for counts (:class:`blindspot.slices.batch.SliceRows`). The
predicates are fixed from the batches' summaries (the word counts' and each metadata
column's value counts: :func:`blindspot.slices.features.define_predicates`), each batch then
computes its rows of every one, a bit a row, and discovery's levels, the watchlist's and the
topics' counts, the confusions and the slice table's columns are sums or joins over the
batches. Counts are integers: any batches and both engines give the same audit (tested).

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
"watchlist", "discovered" or "term"), ``key``, ``description``, ``slice`` (feature -> value, or
a range ``{"ge": lo, "lt"|"le": hi}``; class findings use ``{"label": <class>}``),
``n`` (rows behind the metric: slice rows for ``error_rate``, rows of the class for
``recall_<class>``), ``slice_n``, ``metric``, ``higher_is_better``, ``estimate`` (the
metric, an encoded :class:`~blindspot.results.estimate.Estimate` with its Wilson
interval), ``rest_value``, ``gap`` (the metric minus the rest's, an Estimate with its
Newcombe interval), ``p_value``,
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
never by parsing it (:mod:`blindspot.slices.keys`). A term finding has the fields of a slice
finding (``slice`` ``{"term": <term>}``, ``p_value`` = ``conditional_p_value`` = the combined
cross-fitted p) and ``method``, ``selected_on`` ("a", "b" or "both"), ``p_a_to_b`` and
``p_b_to_a`` (null for a direction that did not select it).

Metrics (``metrics/slices.json``)
---------------------------------
Every key is declared in :mod:`blindspot.results.slices`. A metric test there is the metric's
encoded Estimate (``value``, ``ci_low``, ``ci_high``, ``method``) with the test's fields
beside those (``n``, ``rest_value``, ``gap`` as an Estimate of its own, ``p_value``, ...), so
``dvc metrics diff`` follows ``watchlist.<key>.<metric>.value``.
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

``family`` also counts ``n_conditional_tests``, ``n_term_tests`` and ``n_class_mix_slices`` (slices
with a class-mix finding and no finding of their own); ``text_slices`` summarises the topics
(``k``, ``n_fit``, ``reason``, how many were tested and found) and the terms (candidates,
halves, selected, significant, ``reason``); ``settings`` names
``conditional_test`` and ``conjunction_rule``; a slice metric entry carries
``evidence`` and ``conditional_p_value``/``conditional_q_value`` (or
``conditional_reason``), an error_rate entry ``expected_given_class_mix``; a discovered
entry ``rank`` (null when it has no finding of its own) and ``class_mix_rank``.

Class findings compare a class's recall with the pooled recall of the other classes
(``rest_value``): v1's neutral recall of 0 is the finding ``{"label": "neutral"}``,
metric ``recall``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from blindspot.memory import release_freed_heap
from blindspot.results.estimate import Estimate
from blindspot.slices.batch import SliceRows
from blindspot.slices.coverage import coverage, merge_coverage
from blindspot.slices.discovery import discover, within_parent_tests
from blindspot.slices.evaluate import Counts, class_tests, metric_names, slice_tests
from blindspot.slices import textslices
from blindspot.slices.membership import Membership
from blindspot.slices.features import CONJUNCTION, PredicateTable, define_predicates, merge_specs
from blindspot.slices.textpass import FrameTexts, TextSource
from blindspot.slices.watchlist import resolve_watchlist
from blindspot.stats import bh_qvalues, wilson_interval

# Method codes written beside the numbers (short: `dvc metrics diff` prints them in its table).
TEST_METHOD = "fisher_exact_one_sided_worse"  # hypergeometric upper tail, slice worse than the rest
INTERVAL_METHOD = "wilson"
GAP_INTERVAL_METHOD = "newcombe_hybrid_score"  # difference of two Wilson intervals
FDR_METHOD = "bh_one_family_all_tests"  # Benjamini-Hochberg over classes, watchlist, discovery and terms
# The error rate within the true classes: exact conditional test of the stratified 2x2 tables.
CONDITIONAL_TEST_METHOD = "exact_stratified_by_true_class_one_sided_worse"
# A conjunction is reported only when worse than the rest of each parent, within it (own BH family).
PARENT_RULE = "worse_within_each_parent_bh"
# Which group a significant finding belongs to (``evidence``).
WITHIN_CLASS = "within_class"  # worse within its true classes: a blind spot of its own
CLASS_MIX = "class_mix"  # worse only because it holds more of the weak classes
# The seed of the text slices (topics' sample and NNDSVD, the terms' split) when none is given:
# the project's default ``seed`` (params.yaml); the stage passes the configured one.
DEFAULT_SEED = 20261122


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
    members : Membership
        The slice table's columns (``watch__<key>`` / ``found__<key>``), a range of rows at a
        time; :attr:`membership` is the whole table.
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
    text_slices : dict
        Content of ``reports/text_slices.json`` (6 significant digits).
    term_tests : DataFrame
        One row per tested error term (:func:`blindspot.slices.textslices.term_tests`), with its
        ``q_value``, ``significant`` and ``rank``.
    topic_columns : list of int, length T
        The learned topics' predicate columns, in topic order (``text_slices["topics"]["topics"]``).
    """

    metrics: dict
    findings: list
    members: Membership
    slices: pd.DataFrame
    tests: pd.DataFrame
    classes_tests: pd.DataFrame
    confusions: list = field(default_factory=list)
    unresolved: list = field(default_factory=list)
    text_slices: dict = field(default_factory=dict)
    term_tests: pd.DataFrame = field(default_factory=pd.DataFrame)
    topic_columns: list = field(default_factory=list)

    @property
    def membership(self) -> pd.DataFrame:
        """``id`` then ``watch__<key>`` / ``found__<key>`` boolean columns, every row (the audited table's ids)."""
        return self.members.frame()


@dataclass(frozen=True)
class SliceSettings:
    """Every setting of the slice audit, in one object.

    The fields of :class:`blindspot.config.SlicesConfig` (see there for their meaning)
    and the two of ``stats`` the audit reads: ``fdr_alpha`` (the level of the one
    Benjamini-Hochberg family) and ``ci_level`` (of every interval), and the run's
    ``seed`` (the text slices' fitting sample, NMF initialisation and terms' split).
    """

    min_support: int
    min_class_support: int
    max_depth: int
    text_detectors: Sequence[str]
    jargon_high_density: float
    caps_high_share: float
    length_bands: Mapping[str, Sequence]
    max_levels: int | None
    n_quantiles: int
    length_quantiles: int = 0
    very_short_words: int | None = None
    metadata_exclude: Sequence[str] = ()
    watchlist: Sequence[str] = ()
    fdr_alpha: float = 0.05
    ci_level: float = 0.95
    top_k_plots: int = 4
    topics_max: int = 20
    topic_weight_floor: float = 0.15
    text_sample_rows: int = 20_000
    terms_top_k: int = 20
    terms_min_support: int = 30
    terms_max_df: float = 0.5
    seed: int = DEFAULT_SEED

    @classmethod
    def from_config(cls, slices, stats, seed: int = DEFAULT_SEED) -> "SliceSettings":
        """From the typed config: ``cfg.slices`` (a SlicesConfig), ``cfg.stats`` and ``cfg.seed``."""
        return cls(**asdict(slices), fdr_alpha=stats.fdr_alpha, ci_level=stats.ci_level, seed=seed)

    def predicate_options(self) -> dict:
        """The keyword arguments of :func:`blindspot.slices.features.build_predicates`."""
        names = ("text_detectors", "jargon_high_density", "caps_high_share", "length_bands", "max_levels",
                 "n_quantiles", "metadata_exclude", "min_support", "length_quantiles", "very_short_words")
        return {name: getattr(self, name) for name in names}


@dataclass(frozen=True)
class AuditTables:
    """The audit's intermediate tables: built once by :func:`_tables`, read by every writer.

    Attributes
    ----------
    classes : list of str, length K
    n_rows : int
    table : PredicateTable
        Every predicate, fixed from the summaries of the rows (no matrix: the batches hold the rows).
    items : list of WatchItem
        The watchlist in config order, resolved or not.
    slices : DataFrame
        One row per slice tested (S rows): ``key``, ``members`` (predicate columns, or
        None for a watchlist slice built on demand), ``depth``, ``discovery``, ``watch``
        (watchlist keys naming it), ``n``.
    watch_slice : dict of str to int
        Resolved watchlist key -> row of ``slices``.
    counts : Counts
        Counts of the S slices.
    tests : DataFrame
        One row per (slice, metric) (:func:`blindspot.slices.evaluate.slice_tests`)
        with the family's q values, ``evidence``, ``explained``, ``reported`` and ranks.
    cls : DataFrame
        One row per class (:func:`blindspot.slices.evaluate.class_tests`) with q values.
    parent_tests : dict
        ``(slice, metric index) -> [{"parent", "p_value", "q_value"}, ...]`` (:func:`_parent_rule`).
    spec_of, desc_of, parts_of : dict of int
        Row of ``slices`` -> its ``slice`` spec, description and ``parts`` records.
    text : TextSlices
        Topics and error terms (:mod:`blindspot.slices.textslices`).
    terms : DataFrame
        One row per tested error term (:func:`blindspot.slices.textslices.term_tests`) with
        the family's ``q_value``, ``significant`` and ``rank``.
    totals : Counts
        All rows (one slice).
    single : Counts
        Every predicate alone, in column order.
    """

    classes: list
    n_rows: int
    table: PredicateTable
    items: list
    slices: pd.DataFrame
    watch_slice: dict
    counts: Counts
    tests: pd.DataFrame
    cls: pd.DataFrame
    parent_tests: dict
    spec_of: dict
    desc_of: dict
    parts_of: dict
    text: textslices.TextSlices = None
    terms: pd.DataFrame = None
    totals: Counts = None
    single: Counts = None

    def display_key(self, s: int) -> str:
        """A slice's key as the findings show it (its watchlist key when it is watched)."""
        watched = self.slices.at[s, "watch"]
        return watched[0] if watched else self.slices.at[s, "key"]

    def discovered_tests(self) -> pd.DataFrame:
        """The reported tests of discovered slices (a watched one too, when discovery found it)."""
        return self.tests[self.tests["reported"] & self.slices["discovery"].to_numpy()[self.tests["slice"]]]


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


def _estimate(row: Mapping) -> dict:
    """The metric of a test row, encoded with its Wilson interval."""
    return Estimate(row["value"], row["ci_low"], row["ci_high"], INTERVAL_METHOD).encode()


def _gap(row: Mapping) -> dict:
    """The gap of a test row to the rest, encoded with its Newcombe interval."""
    return Estimate(row["gap"], row["gap_ci_low"], row["gap_ci_high"], GAP_INTERVAL_METHOD).encode()


def _metric_entry(row: Mapping) -> dict:
    """A metric test of ``metrics/slices.json`` (:func:`blindspot.results.slices.metric_keys`): the metric's
    estimate, with the test's fields beside its own so that ``<metric>.value`` stays one DVC key."""
    entry = {**_estimate(row), "n": int(row["n"]), "rest_value": row["rest_value"], "gap": _gap(row),
             "excess": row["excess"], "tested": bool(row["tested"])}
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
        "estimate": _estimate(row),
        "rest_value": row["rest_value"],
        "gap": _gap(row),
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


def audit_slices(frame: pd.DataFrame, classes: Sequence[str], settings: SliceSettings | None = None, *,
                 texts=None, **options) -> SliceAudit:
    """Slice features, watchlist and discovered slices, tests, FDR, findings.

    Parameters
    ----------
    frame : DataFrame
        Canonical predictions (``id``, ``y_true``, ``y_pred``, ``meta__*``, and ``text``
        unless ``texts`` is given). With a :class:`~blindspot.slices.textpass.FileTexts` every
        column is read from the file; only ``len(frame)`` and, when present, ``frame["id"]`` (the
        slice table's ids) are read here, so the stage passes an index of its rows.
    classes : sequence of str, length K
    settings : SliceSettings, optional
        Every setting; or pass its fields as keywords instead (``options``).
    texts : Series of str, iterable of Series of str, or TextSource, optional
        The rows' texts, whole or in consecutive batches; or where the rows are read from
        (:class:`blindspot.slices.textpass.FileTexts`: the stage's validated table, a batch at a
        time, on the Dask workers with ``engine: dask``; its metadata is read from the file
        too); default ``frame["text"]``.

    Returns
    -------
    SliceAudit
    """
    if settings is None:
        settings = SliceSettings(**options)
    elif options:
        raise TypeError(f"audit_slices takes settings or keywords, not both; got {sorted(options)} too.")
    classes = list(classes)
    source = _text_source(frame, texts)
    fitted = textslices.fit_text(source, len(frame), len(classes), settings)
    with source.parts(fitted.models) as parts:
        rows = SliceRows(parts, len(frame), len(classes))
        t = _tables(rows, classes, settings, fitted, source.metadata_names)
        # Pass 3 over the texts, only when some error term is significant: the rows holding each one.
        significant = _significant_terms(t.terms)
        rows.find_terms(significant["term"].tolist() if len(significant) else [])
        findings = significant_digits(_findings(t))
        membership = _membership(frame, t, rows)
        confusions = _top_confusions(t, rows, settings.top_k_plots)
    metrics = _metrics(t, settings, findings)
    t.slices["description"] = [t.desc_of.get(i, "") for i in range(len(t.slices))]
    unresolved = [(item.key, item.missing) for item in t.items if not item.resolved]
    topics = _topic_columns(t)
    topic_counts = t.single.take(topics) if topics else Counts.concat([], len(classes))
    text_report = significant_digits(textslices.report(t.text, _topic_records(t), topic_counts, t.n_rows,
                                                       t.totals, t.terms))
    return SliceAudit(metrics, findings, membership, t.slices, t.tests, t.cls, confusions, unresolved, text_report,
                      t.terms, topics)


def _text_source(frame: pd.DataFrame, texts) -> TextSource:
    """Where the audit reads rows from: a :class:`~blindspot.slices.textpass.TextSource` (the stage's
    file), or the table in memory with its texts (``frame["text"]``, a Series, or batches of one,
    joined here: a library call holds its texts anyway)."""
    if isinstance(texts, TextSource):
        return texts
    if texts is None:
        series = frame["text"]
    elif isinstance(texts, pd.Series):
        series = texts
    elif isinstance(texts, (list, tuple, np.ndarray)):
        series = pd.Series(list(texts), dtype=object)
    else:
        parts = list(texts)
        series = pd.concat(parts, ignore_index=True) if parts else pd.Series([], dtype=object)
    return FrameTexts(frame, series.reset_index(drop=True))


def _significant_terms(terms: pd.DataFrame) -> pd.DataFrame:
    """The significant error terms, by rank."""
    if not len(terms):
        return terms
    return terms[terms["significant"]].sort_values("rank", kind="mergesort")


def _topic_columns(t: "AuditTables") -> list:
    """The learned topics' columns of the predicate matrix, in topic order."""
    return [j for j, p in enumerate(t.table.predicates) if p.feature == textslices.TOPIC_FEATURE and p.source == "text"]


def _topic_slices(t: "AuditTables") -> dict:
    """Topic key -> its row of ``slices`` (a topic is tested alone, at depth 1), for the tested ones."""
    index = {j: t.table.predicates[j].key for j in _topic_columns(t)}
    return {index[m[0]]: s for s, m in enumerate(t.slices["members"]) if m is not None and len(m) == 1
            and m[0] in index}


def _topic_records(t: "AuditTables") -> dict:
    """Topic key -> ``tested``, ``evidence``, ``rank``, ``q_value``, ``conditional_q_value`` (what the
    one family made of it)."""
    out = {}
    for key, s in _topic_slices(t).items():
        group = t.tests[t.tests["slice"] == s]
        err = group[group["metric"] == "error_rate"].iloc[0]
        own, mix = group["rank"].dropna(), group["class_mix_rank"].dropna()
        out[key] = {"tested": bool(err["tested"]),
                    "evidence": WITHIN_CLASS if len(own) else CLASS_MIX if len(mix) else None,
                    "rank": int(own.min()) if len(own) else None,
                    "q_value": float(err["q_value"]) if err["tested"] else None,
                    "conditional_q_value": float(err["cond_q_value"]) if err["cond_tested"] else None}
    return out


def _tables(rows: SliceRows, classes: list, settings: SliceSettings, fitted: textslices.FittedText,
            metadata_names: Sequence[str]) -> AuditTables:
    """Predicates, the slices to test, their tests in one FDR family, the parent rule and ranks.

    Every count comes from the kept batches (``rows``); this function holds no value per row.
    """
    k = len(classes)
    # The text pass's examples and term counts, and the summaries every predicate is fixed from.
    topics = fitted.models.topics
    examples, term_counts, words = rows.text(topics.k if topics is not None else 0)
    text = textslices.text_slices(fitted, examples, term_counts, settings)
    summaries = rows.metadata(settings.n_quantiles, metadata_names, settings.metadata_exclude)
    table = define_predicates(words, summaries, topics=text.predicates(), metadata_names=metadata_names,
                              **settings.predicate_options())
    items = resolve_watchlist(list(settings.watchlist), table)  # its rare values join the table as extra rules
    rows.fix_predicates(table.rules, [rule for _, rule in table.extras], len(table.predicates))
    release_freed_heap()  # the text pass's flags and topics, let go where the batches are
    totals = rows.totals()
    alone = [p.feature == textslices.TOPIC_FEATURE and p.source == "text" for p in table.predicates]
    candidates = discover(rows.extension, len(table.predicates), table.features, k, max_depth=settings.max_depth,
                          min_support=settings.min_support, alone=alone)
    slices, watch_slice, extra = _slices_to_test(table, candidates.members, items)
    counts = candidates.counts
    if extra:
        counts = Counts.concat([counts, rows.counts(extra)], k)
    slices["n"] = counts.n

    tests = slice_tests(counts, totals, classes, min_support=settings.min_support,
                        min_class_support=settings.min_class_support, level=settings.ci_level)
    cls = class_tests(totals, classes, min_class_support=settings.min_class_support, level=settings.ci_level)
    terms = textslices.term_tests(text, totals, classes, settings.ci_level)
    _one_family(tests, cls, settings.fdr_alpha, terms)
    members_for_expl = [m if m is not None else ("watch", r) for r, m in enumerate(slices["members"])]
    parent_tests = _parent_rule(members_for_expl, counts, tests, 1 + k, settings.fdr_alpha)
    tests["reported"] = tests["significant"] & ~tests["explained"]
    _rank(tests, slices, terms)
    spec_of, desc_of, parts_of = _labels(table, slices, items, watch_slice)
    return AuditTables(classes, rows.n, table, items, slices, watch_slice, counts, tests, cls,
                       parent_tests, spec_of, desc_of, parts_of, text, terms, totals, candidates.single)


def _slices_to_test(table: PredicateTable, candidates: Sequence[tuple], items: list
                    ) -> tuple[pd.DataFrame, dict, list]:
    """The slices to test: discovery candidates, plus watchlist slices that are not one.

    Returns
    -------
    slices : DataFrame
        ``key, members, depth, discovery, watch``, candidates first.
    watch_slice : dict of str to int
        Resolved watchlist key -> row of ``slices``.
    extra : list of tuple of int
        The columns (:attr:`WatchItem.columns`) of the watchlist slices appended after the candidates, in order.
    """
    position = {m: i for i, m in enumerate(candidates)}
    rows = [{"key": _conjunction_key(table, m), "members": m, "depth": len(m), "discovery": True, "watch": []}
            for m in candidates]
    extra = []
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
            extra.append(item.columns)
            position[("watch", item.key)] = i
        rows[i]["watch"].append(item.key)
        watch_slice[item.key] = i
    return pd.DataFrame(rows, columns=["key", "members", "depth", "discovery", "watch"]), watch_slice, extra


def _one_family(tests: pd.DataFrame, cls: pd.DataFrame, fdr_alpha: float, terms: pd.DataFrame | None = None) -> None:
    """q values of one BH family over every test made, and each test's ``evidence`` (in place).

    The family: classes, every slice metric against the rest, every slice's error rate
    within the true classes (a recall's test is already within one class, so it is not
    counted twice), and each tested error term's combined cross-fitted p value
    (``terms``, whose ``q_value`` and ``significant`` are set too).
    """
    k = len(cls)
    is_err = (tests["metric"] == "error_rate").to_numpy()
    cond_p = np.where(is_err, tests["cond_p_value"].to_numpy(), np.nan)
    term_p = terms["p_value"].to_numpy(float) if terms is not None else np.zeros(0)
    q = bh_qvalues(np.concatenate([cls["p_value"].to_numpy(), tests["p_value"].to_numpy(), cond_p, term_p]))
    cls["q_value"] = q[:k]
    tests["q_value"] = q[k:k + len(tests)]
    tests["cond_q_value"] = np.where(is_err, q[k + len(tests):k + 2 * len(tests)], tests["q_value"])
    if terms is not None:
        terms["q_value"] = q[k + 2 * len(tests):]
        terms["significant"] = terms["q_value"].to_numpy(float) <= fdr_alpha
        # A term's one test is already within the true classes: its conditional q is its q.
        terms["cond_q_value"] = terms["q_value"]
        terms["evidence"] = np.where(terms["significant"], WITHIN_CLASS, "")
    cls["significant"] = cls["tested"] & (cls["q_value"] <= fdr_alpha)
    tests["marginal_significant"] = tests["tested"] & (tests["q_value"] <= fdr_alpha)
    tests["cond_significant"] = tests["cond_tested"] & (tests["cond_q_value"] <= fdr_alpha)
    tests["evidence"] = np.where(tests["cond_significant"], WITHIN_CLASS,
                                 np.where(tests["marginal_significant"], CLASS_MIX, ""))
    tests["significant"] = tests["evidence"] != ""


def _rank(tests: pd.DataFrame, slices: pd.DataFrame, terms: pd.DataFrame | None = None) -> None:
    """``rank`` and ``class_mix_rank`` of the reported slice findings, and ``rank`` of the
    significant error terms (in place).

    Blind spots of their own (slices worse within their classes, significant terms) are
    ranked together by the evidence within classes, class-mix ones apart by the evidence
    against the rest; only watched or discovered slices count.
    """
    visible = slices["discovery"].to_numpy()[tests["slice"]] | slices["watch"].map(bool).to_numpy()[tests["slice"]]
    tests["rank"] = np.nan
    tests["class_mix_rank"] = np.nan
    if terms is not None:
        terms["rank"] = np.nan
    for group, score_col, rank_col in ((WITHIN_CLASS, "cond_score", "rank"), (CLASS_MIX, "score", "class_mix_rank")):
        reported = tests[tests["reported"] & visible & (tests["evidence"] == group)].copy()
        reported["key"] = slices["key"].to_numpy()[reported["slice"]]
        reported["term_row"] = -1
        if group == WITHIN_CLASS and terms is not None and len(terms):
            sig = terms[terms["significant"]]
            reported = pd.concat([reported, pd.DataFrame({
                score_col: sig["cond_score"].to_numpy(float), "excess": sig["excess"].to_numpy(float),
                "key": sig["key"].to_numpy(object), "metric": "error_rate", "term_row": sig.index.to_numpy()})])
        reported = reported.sort_values([score_col, "excess", "key", "metric"], ascending=[False, False, True, True],
                                        kind="mergesort")
        ranks = np.arange(1, len(reported) + 1)
        is_term = reported["term_row"].to_numpy() >= 0
        tests.loc[reported.index[~is_term], rank_col] = ranks[~is_term]
        if is_term.any():
            terms.loc[reported["term_row"].to_numpy()[is_term], "rank"] = ranks[is_term]


def _labels(table: PredicateTable, slices: pd.DataFrame, items: list, watch_slice: dict) -> tuple[dict, dict, dict]:
    """Each slice's ``slice`` spec, description and ``parts`` records, by row of ``slices``."""
    spec_of, desc_of, parts_of = {}, {}, {}
    for i, row in slices.iterrows():  # over slices, not rows of data
        if row["members"] is not None:
            spec_of[i], desc_of[i] = _spec(table, row["members"]), _description(table, row["members"])
            parts_of[i] = _parts(table, row["members"])
    for item in items:
        s = watch_slice.get(item.key)
        if item.resolved and s not in spec_of:
            spec_of[s], desc_of[s], parts_of[s] = item.spec, item.description, item.records
    return spec_of, desc_of, parts_of


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


def _findings(t: AuditTables) -> list:
    """``reports/findings.json``: class findings, ranked, class-mix, then the watchlist's other tests."""
    out = [_finding(row, source="class", key=f"class__{row['class']}",
                    description=f"true class '{row['class']}' against the other classes",
                    spec={"label": row["class"]}, slice_n=row["n"])
           for _, row in t.cls.iterrows() if row["tested"]]
    ranked, mixed, rest = [], [], []
    by_slice = {s: g for s, g in t.tests.groupby("slice", sort=True)}
    watch_done = set()
    for item in t.items:
        if not item.resolved:
            continue
        s = t.watch_slice[item.key]
        for _, row in by_slice[s].iterrows():
            if not row["tested"]:
                continue
            f = _slice_finding(t, row, s, source="watchlist", key=item.key, parts=item.records)
            f["discovered"] = bool(t.slices.at[s, "discovery"] and row["reported"])
            _place(f, row, ranked, mixed, rest)
        watch_done.add(s)
    for _, row in t.discovered_tests().iterrows():
        s = int(row["slice"])
        if s in watch_done:
            continue
        f = _slice_finding(t, row, s, source="discovered", key=t.slices.at[s, "key"], parts=t.parts_of[s])
        _place(f, row, ranked, mixed, [])
    for _, row in _significant_terms(t.terms).iterrows():  # significant error terms: blind spots of their own
        ranked.append(textslices.term_finding(row, int(row["rank"])))
    ranked.sort(key=lambda f: f["rank"])
    mixed.sort(key=lambda f: f["class_mix_rank"])
    return out + ranked + mixed + rest


def _slice_finding(t: AuditTables, row: Mapping, s: int, *, source: str, key: str, parts: list) -> dict:
    """One slice's finding, with ``within_parents`` when the parent rule tested it."""
    f = _finding(row, source=source, key=key, description=t.desc_of[s], spec=t.spec_of[s],
                 slice_n=t.slices.at[s, "n"], parts=parts)
    records = t.parent_tests.get((s, metric_names(t.classes).index(row["metric"])))
    if records:
        f["within_parents"] = [{"key": t.display_key(r["parent"]), "p_value": r["p_value"], "q_value": r["q_value"]}
                               for r in records]
    return f


def _place(f: dict, row: Mapping, ranked: list, mixed: list, rest: list) -> None:
    """Append a slice finding to its group: ranked blind spots, class-mix ones, or the rest."""
    if np.isfinite(row["rank"]):
        f["rank"] = int(row["rank"])
        ranked.append(f)
    elif np.isfinite(row["class_mix_rank"]):
        f["class_mix_rank"] = int(row["class_mix_rank"])
        mixed.append(f)
    else:
        rest.append(f)


def _membership(frame: pd.DataFrame, t: AuditTables, rows: SliceRows) -> Membership:
    """The slice table's columns (:mod:`blindspot.slices.membership`): watched slices in config order,
    then found slices and error terms by rank, packed a bit a row from the batches."""
    names, specs = [], []
    for item in t.items:
        if item.resolved:
            names.append(f"watch__{item.key}")
            specs.append(item.columns)
    order = t.discovered_tests().sort_values("rank")["slice"].drop_duplicates()
    for s in order:
        if t.slices.at[s, "watch"]:
            continue
        names.append(f"found__{t.slices.at[s, 'key']}")
        specs.append(tuple(t.slices.at[s, "members"]))
    for j, key in enumerate(_significant_terms(t.terms)["key"] if len(t.terms) else []):
        names.append(f"found__{key}")
        specs.append(j)
    bits = rows.membership(specs)
    columns = {name: partial(bits.column, j) for j, name in enumerate(names)}
    return Membership(t.n_rows, columns, frame["id"] if "id" in frame.columns else None)


def _slice_entry(t: AuditTables, s: int, tests_by_slice: Mapping, ci_level: float, parts) -> dict:
    n = int(t.slices.at[s, "n"])
    entry = {"n": n, "share": n / t.n_rows if t.n_rows else float("nan"), "depth": int(t.slices.at[s, "depth"]),
             "parts": parts}
    group = tests_by_slice[s]
    err = group[group["metric"] == "error_rate"].iloc[0]
    entry["tested"] = bool(err["tested"])
    if not err["tested"]:
        entry["reason"] = err["reason"]
    if n:
        correct = n - int(t.counts.errors[s])
        low, high = wilson_interval(correct, n, ci_level)
        entry["accuracy"] = Estimate(correct / n, float(low), float(high), INTERVAL_METHOD).encode()
    for _, row in group.iterrows():
        entry[row["metric"]] = _metric_entry(row)
    return entry


def _metrics(t: AuditTables, settings: SliceSettings, findings: list) -> dict:
    """``metrics/slices.json`` (see the module docstring)."""
    tests_by_slice = {s: g for s, g in t.tests.groupby("slice", sort=True)}
    watch = {}
    for item in t.items:
        if not item.resolved:
            watch[item.key] = {"n": 0, "tested": False, "reason": item.reason, "detail": item.detail}
            continue
        watch[item.key] = _slice_entry(t, t.watch_slice[item.key], tests_by_slice, settings.ci_level, item.records)
    discovered = {}
    for s, group in t.discovered_tests().groupby("slice", sort=True):
        # A watched slice keeps its watchlist key (as in findings and slices.parquet), even when the
        # watchlist writes a conjunction in another order than discovery does.
        watched = t.slices.at[s, "watch"]
        key = t.display_key(s)
        entry = _slice_entry(t, s, tests_by_slice, settings.ci_level, watch[key]["parts"] if watched else t.parts_of[s])
        own, mix = group["rank"].dropna(), group["class_mix_rank"].dropna()
        entry["rank"] = int(own.min()) if len(own) else None
        entry["class_mix_rank"] = int(mix.min()) if len(mix) else None
        entry["on_watchlist"] = bool(watched)
        discovered[key] = entry
    return {
        "n_rows": t.n_rows,
        "settings": {"min_support": settings.min_support, "min_class_support": settings.min_class_support,
                     "max_depth": settings.max_depth, "fdr_alpha": settings.fdr_alpha, "ci_level": settings.ci_level,
                     "test": TEST_METHOD, "fdr_method": FDR_METHOD,
                     "conditional_test": CONDITIONAL_TEST_METHOD, "conjunction_rule": PARENT_RULE},
        "family": _family(t, findings),
        "classes": {row["class"]: {"n": int(row["n"]), "recall": _metric_entry(row)} for _, row in t.cls.iterrows()},
        # Each tested column and text feature with its tests and significant ones (slices.coverage).
        **dict(zip(("columns_tested", "text_features"), merge_coverage(t.table, coverage(t.table, t.slices, t.tests)))),
        "columns_skipped": {k: {f: v for f, v in c.items() if f != "status"}
                            for k, c in t.table.columns.items() if c["status"] == "skipped"},
        "watchlist": watch,
        "discovered": discovered,
        "text_slices": textslices.metrics_block(t.text, _topic_summary(t), t.terms),
    }


def _topic_summary(t: AuditTables) -> dict:
    """``n_tested``, ``n_blind_spots``, ``n_class_mix`` of the topics (``text_slices.topics``)."""
    records = _topic_records(t).values()
    return {"n_tested": sum(r["tested"] for r in records),
            "n_blind_spots": sum(r["evidence"] == WITHIN_CLASS for r in records),
            "n_class_mix": sum(r["evidence"] == CLASS_MIX for r in records)}


def _family(t: AuditTables, findings: list) -> dict:
    """``family`` of ``metrics/slices.json``: how many tests the one BH family holds, and what survived.

    ``n_blind_spots`` is counted here, once, from the findings: the slices and error
    terms with a ranked finding of their own. ``n_tests`` counts the term tests too
    (``n_term_tests``).
    """
    tests, cls = t.tests, t.cls
    is_err = tests["metric"] == "error_rate"
    n_cond = int((tests["cond_tested"] & is_err).sum())
    n_terms = int(len(t.terms))
    n_sig_terms = int(t.terms["significant"].sum()) if n_terms else 0
    slice_findings = [f for f in findings if f["source"] != "class" and f["significant"]]
    own = {f["key"] for f in slice_findings if f["rank"] is not None}
    return {
        "n_predicates": len(t.table.predicates),
        "n_slices_tested": int(tests.groupby("slice")["tested"].any().sum()),
        "n_tests": int(cls["tested"].sum() + tests["tested"].sum()) + n_cond + n_terms,
        "n_conditional_tests": n_cond,
        "n_term_tests": n_terms,
        "n_significant_tests": int(cls["significant"].sum() + tests["marginal_significant"].sum()
                                   + (tests["cond_significant"] & is_err).sum()) + n_sig_terms,
        "n_blind_spots": len(own),
        "n_class_mix_slices": len({f["key"] for f in slice_findings if f.get("class_mix_rank") is not None} - own),
        "n_class_findings": int(cls["significant"].sum()),
    }


def _top_confusions(t: AuditTables, rows: SliceRows, top_k: int) -> list:
    """Title and confusion counts of the ``top_k`` strongest blind spots of their own (for the plot)."""
    own = t.tests[np.isfinite(t.tests["rank"])].sort_values("rank").drop_duplicates("slice")
    ranked = [(float(r), "slice", int(s)) for r, s in zip(own["rank"], own["slice"])]
    sig = _significant_terms(t.terms)
    ranked += [(float(r), "term", j) for j, r in enumerate(sig["rank"] if len(sig) else [])]
    watched = {t.watch_slice[i.key]: i.columns for i in t.items if i.resolved}
    keys, specs = [], []
    for _, what, s in sorted(ranked)[:top_k]:
        if what == "term":
            keys.append(sig["key"].iloc[s])
            specs.append(s)
        else:
            keys.append(t.display_key(s))
            specs.append(watched[s] if s in watched else tuple(t.slices.at[s, "members"]))
    return list(zip(keys, rows.confusions(specs)))
