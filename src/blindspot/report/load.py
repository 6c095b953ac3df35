"""Everything the brief reads, loaded and named in one place.

The report never recomputes a number: it reads the files earlier stages wrote and
renders them. This module is the *only* place that knows their keys. Each
``parse_*`` function turns one file into a small typed view; when an upstream format
moves, the fix is here, usually one line.

Complete or failed: a file that is absent (the judge did not run, no comparison) gives
``None`` and the brief says so in that section. In a file that is present, a null or
NaN number is read as :class:`Unmeasured` (a NaN carrying the writer's reason, from a
sibling ``<key>_reason`` or ``reason``), which every formatter renders as "not
measurable: <reason>"; a missing key or a value of the wrong type stops the report
with :class:`~blindspot.errors.InputError` naming the file and the dotted key, never
a silently dropped section. ``metrics/profile.json`` must exist: without it there is
nothing to report.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from blindspot import paths
from blindspot.errors import InputError
from blindspot.keys import nearest_threshold, threshold_key
from blindspot.results import GENERIC_REASON, Estimate, Key, Unmeasured, measured
from blindspot.results.calibration import CALIBRATION
from blindspot.results.judge import JUDGE
from blindspot.results.compare import COMPARE as COMPARE_KEYS
from blindspot.results.profile import PROFILE
from blindspot.results.slices import FINDINGS, SLICES, TEXT_SLICES

# --- the files, and the pictures the brief shows (paths relative to the repository root) ---

COMPARE = paths.COMPARE_METRICS
TEXT_SLICES_FILE = paths.TEXT_SLICES  # reports/text_slices.json
TOPIC_PREFIX = "topic_"  # a learned topic's slice key (blindspot.slices.topics.KEY_PREFIX)
FIGURES = {
    "confusion": paths.PROFILE_PLOTS / "confusion_matrix.png",
    "class_distribution": paths.PROFILE_PLOTS / "class_distribution.png",
    "slice_confusion": paths.SLICE_PLOTS / "top_blind_spots_confusion.png",
    "forest": paths.SLICE_PLOTS / "gap_forest.png",
    "reliability": paths.CALIBRATION_PLOTS / "reliability.png",
    "reliability_slices": paths.CALIBRATION_PLOTS / "reliability_slices.png",
    "confidence_histogram": paths.CALIBRATION_PLOTS / "confidence_histogram.png",
    "recalibration": paths.CALIBRATION_PLOTS / "recalibration.png",
}


# --------------------------------------------------------------------------- reading values

# Reason codes the stages write, in words; any other code is shown with spaces for underscores.
REASONS = {
    "below_min_support": "fewer rows than slices.min_support",
    "below_min_class_support": "fewer rows of the class than slices.min_class_support",
    "not_present": "no row of this data falls in it",
    "no_rows": "no rows",
    "no_errors": "no errors to count",
    "no_probabilities": "the predictions file gives no class probabilities",
}


def humanize(reason) -> str:
    """A stage's reason code or sentence as words ("below_min_support" -> "fewer rows than ...")."""
    text = str(reason).strip()
    if text in REASONS:
        return REASONS[text]
    # Only a snake_case code is spelt out; a sentence or a config key (compare.min_rows) is kept as written.
    return text.replace("_", " ") if re.fullmatch(r"[a-z]+(?:_[a-z0-9]+)+", text) else text


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


NOT_HELD = object()  # what Src.held gives for a key the file does not hold (None is a null)


class Src:
    """One JSON object of an input file, with its file and key path.

    Every read names what it needs: a missing key or a value of the wrong type raises
    :class:`~blindspot.errors.InputError` naming the file and the dotted key (the
    section that needs it cannot be built, so the stage stops); a null or NaN number
    is read as :class:`Unmeasured`, with the writer's reason when it gives one (a
    sibling ``<key>_reason`` or ``reason``, here or in an enclosing object).
    """

    def __init__(self, file: str, data, path: tuple = (), parent: Optional["Src"] = None):
        self.file, self.path, self.parent = str(file), tuple(path), parent
        if not isinstance(data, dict):
            self._fail(None, "is not a JSON object", "a JSON object", type(data).__name__)
        self.data = data

    # -- errors and reasons
    def where(self, key=None) -> str:
        return ".".join(str(k) for k in (*self.path, *(() if key is None else (key,)))) or "(top level)"

    def _fail(self, key, problem: str, expected: str, found) -> None:
        raise InputError(self.file, f"cannot be read for the brief: {self.where(key)} {problem}.",
                         field=self.where(key), expected=expected, found=str(found)[:200],
                         hint="re-run the stage that writes this file (`dvc repro`); if it persists, the file's "
                              "layout and the report's reader (blindspot/report/load.py) disagree.")

    def reason(self, key) -> str:
        node, name = self, key
        base = str(key).removesuffix("_ci_low").removesuffix("_ci_high")  # an interval bound shares its value's reason
        while node is not None:
            for cand in dict.fromkeys((f"{name}_reason", f"{base}_reason", "reason")):
                value = node.data.get(cand)
                if isinstance(value, str) and value.strip():
                    return humanize(value)
            name = base = node.path[-1] if node.path else None
            node = node.parent
        return GENERIC_REASON

    # -- structure
    def has(self, key) -> bool:
        return key in self.data

    def _get(self, key):
        if key not in self.data:
            self._fail(key, "is missing", "the key, as the stage writes it", f"keys {sorted(self.data)[:12]}")
        return self.data[key]

    def sub(self, key) -> "Src":
        value = self._get(key)
        if not isinstance(value, dict):
            self._fail(key, "is not an object", "a JSON object", repr(value))
        return Src(self.file, value, (*self.path, key), self)

    def opt(self, key) -> Optional["Src"]:
        """An optional object: None when absent or null."""
        value = self.data.get(key)
        return None if value is None else self.sub(key)

    def objects(self, key=None) -> list:
        """(name, Src) of every object inside (``key``'s object, or this one), in file order."""
        node = self if key is None else self.sub(key)
        return [(str(k), node.sub(k)) for k in node.data]

    def raw(self, key, default=None):
        return self.data.get(key, default)

    # -- values
    def num(self, key):
        """A number; null or NaN -> :class:`Unmeasured` with its reason."""
        return self._number(key, self._get(key))

    def opt_num(self, key):
        """Like :meth:`num`, but None when the key is absent."""
        return self._number(key, self.data[key]) if key in self.data else None

    def _number(self, key, value):
        if value is None or (_is_number(value) and not math.isfinite(value)):
            return Unmeasured(self.reason(key))
        if isinstance(value, str) and value.strip().lower() in ("nan", "inf", "-inf", "infinity", "-infinity"):
            return Unmeasured(self.reason(key))
        if not _is_number(value):
            self._fail(key, "is not a number", "a number (or null with a reason)", repr(value))
        return float(value)

    def count(self, key):
        """A whole number (int); null or NaN -> :class:`Unmeasured`."""
        value = self.num(key)
        if not measured(value):
            return value
        if value != int(value):
            self._fail(key, "is not a whole number", "a count", repr(self.data[key]))
        return int(value)

    def opt_count(self, key):
        return self.count(key) if key in self.data else None

    def text(self, key, default=None) -> str:
        if key not in self.data and default is not None:
            return default
        value = self._get(key)
        if value is None:
            return default if default is not None else ""
        if isinstance(value, (dict, list)):
            self._fail(key, "is not a text", "a string", repr(value)[:80])
        return str(value)

    def flag(self, key, default: Optional[bool] = None) -> bool:
        if key not in self.data and default is not None:
            return default
        value = self._get(key)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return bool(default)  # an unknown flag is not a claim: read as its default (False)
        if isinstance(value, float) and value in (0.0, 1.0):
            return bool(value)
        if not isinstance(value, (bool, int)):
            self._fail(key, "is not true or false", "a boolean", repr(value))
        return bool(value)

    def nested(self, key) -> "Estimate":
        """``key: {value, ci_low, ci_high, method, reason}`` (:meth:`Estimate.encode`)."""
        d = self.sub(key)
        return Estimate(d.num("value"), d.opt_num("ci_low"), d.opt_num("ci_high"), d.text("method", ""),
                        d.text("reason", ""))

    def read(self, key: Key, **parts):
        """The value of a declared key (:mod:`blindspot.results`), read as its kind says.

        ``parts`` fill the key's ``<name>`` segments. A key the file does not hold, or holds
        with the wrong kind, stops the report naming file and key (:class:`InputError`).
        """
        *head, last = key.at(**parts)
        node = self
        for seg in head:
            node = node.sub(seg)
        return {"estimate": node.nested, "count": node.count, "number": node.num, "text": node.text,
                "flag": node.flag}[key.kind](last)

    def held(self, key: Key, **parts):
        """The raw JSON value of a declared key (a null included), or :data:`NOT_HELD` when it is absent."""
        node = self.data
        for seg in key.at(**parts):
            if not isinstance(node, dict) or seg not in node:
                return NOT_HELD
            node = node[seg]
        return node

    def holds(self, key: Key, **parts) -> bool:
        """Whether the file holds the declared key (a null included)."""
        return self.held(key, **parts) is not NOT_HELD

    def read_opt(self, key: Key, **parts):
        """:meth:`read` of an optional key: None when the file does not hold it."""
        return self.read(key, **parts) if self.holds(key, **parts) else None


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class ClassRow:
    name: str
    support: int
    share: float
    predicted: int
    predicted_share: float
    recall: Estimate
    precision: Estimate
    f1: Estimate


@dataclass(frozen=True)
class Profile:
    model: str
    n_rows: int
    ci_level: float
    accuracy: Estimate
    balanced_accuracy: Estimate
    f1_macro: Estimate
    mcc: Estimate
    cohen_kappa: Estimate
    majority_class: str
    majority_baseline: float
    lift: Estimate  # accuracy minus the majority baseline
    imbalance_ratio: float
    classes: tuple  # of ClassRow, in config order
    confusion: dict  # true -> predicted -> count
    interval_method: str
    duplicates: Optional["Duplicates"] = None  # repeated texts and the leakage test

    def cls(self, name: str) -> Optional[ClassRow]:
        return next((c for c in self.classes if c.name == name), None)


# A profile.json written before the leakage check existed: its duplicates block has exact counts only.
DUPLICATES_ABSENT = ("metrics/profile.json predates the duplicate-accuracy check: re-run the profile stage")


@dataclass(frozen=True)
class Duplicates:
    """``metrics/profile.json``'s ``duplicates`` block (:mod:`blindspot.duplicates`).

    Every number is :class:`Unmeasured` (with :data:`DUPLICATES_ABSENT`) when the file
    predates the check; a block that has the check but misses one of its keys stops the
    report like any other missing key.
    """

    groups: int  # texts occurring two times or more (case folded, whitespace collapsed)
    rows_duplicated: int
    rows_unique: int
    conflicting_groups: int
    rows_in_conflicting_groups: int
    accuracy_duplicated: Estimate
    accuracy_unique: Estimate
    easier_p_value: float  # one-sided Fisher exact, one row per repeated text


def parse_duplicates(m: Src) -> Duplicates:
    d = m.opt("duplicates")
    if d is None or not d.has("groups"):
        gone = Unmeasured(DUPLICATES_ABSENT)
        return Duplicates(gone, gone, gone, gone, gone, Estimate(gone), Estimate(gone), gone)
    P = PROFILE
    return Duplicates(groups=m.read(P["duplicates.groups"]),
                      rows_duplicated=m.read(P["duplicates.rows_duplicated"]),
                      rows_unique=m.read(P["duplicates.rows_unique"]),
                      conflicting_groups=m.read(P["duplicates.conflicting_label_groups"]),
                      rows_in_conflicting_groups=m.read(P["duplicates.rows_in_conflicting_groups"]),
                      accuracy_duplicated=m.read(P["duplicates.accuracy_duplicated"]),
                      accuracy_unique=m.read(P["duplicates.accuracy_unique"]),
                      easier_p_value=m.read(P["duplicates.easier_p_value"]))


def parse_profile(m: Src) -> Profile:
    P = PROFILE
    names = m.raw("classes")
    if not isinstance(names, (dict, list)) or not names:
        m._fail("classes", "is not a non-empty mapping of class names", "{class: index}", repr(names)[:80])
    classes = []
    for name in names:  # {class: index}, in config order
        c = {"class": str(name)}
        classes.append(ClassRow(
            str(name), m.read(P["per_class.<class>.support"], **c), m.read(P["label_distribution.<class>.share"], **c),
            m.read(P["prediction_distribution.<class>.n"], **c),
            m.read(P["prediction_distribution.<class>.share"], **c),
            m.read(P["per_class.<class>.recall"], **c), m.read(P["per_class.<class>.precision"], **c),
            m.read(P["per_class.<class>.f1"], **c)))
    confusion = m.sub("confusion_matrix")
    cell = P["confusion_matrix.<true>.<predicted>"]
    accuracy = m.read(P["accuracy"])
    return Profile(
        model=m.read(P["model"]) if m.has("model") else "", n_rows=m.read(P["n_rows"]),
        ci_level=m.read(P["ci_level"]), accuracy=accuracy,
        balanced_accuracy=m.read(P["balanced_accuracy"]), f1_macro=m.read(P["f1_macro"]), mcc=m.read(P["mcc"]),
        cohen_kappa=m.read(P["cohen_kappa"]), majority_class=m.read(P["majority_class"]),
        majority_baseline=m.read(P["majority_baseline_accuracy"]), lift=m.read(P["accuracy_over_baseline"]),
        imbalance_ratio=m.read(P["imbalance_ratio"]), classes=tuple(classes),
        confusion={t: {p: m.read(cell, true=t, predicted=p) for p in row.data} for t, row in confusion.objects()},
        interval_method=accuracy.method, duplicates=parse_duplicates(m))


@dataclass(frozen=True)
class Finding:
    """One (slice, metric) test of the slice stage (``reports/findings.json``)."""

    id: str
    source: str  # class | watchlist | discovered | term
    key: str
    description: str
    n: int  # rows behind the metric
    slice_n: int
    metric: str  # error_rate | recall_<class> | recall (class findings)
    higher_is_better: bool
    value: Estimate
    rest_value: float
    gap: Estimate
    p_value: Optional[float]
    q_value: Optional[float]
    significant: bool
    excess: float
    excess_given_class_mix: Optional[float]
    rank: Optional[int]
    explained_by_parent: bool
    label: Optional[str]  # the class, for class findings
    # The error rate within the true classes (slice findings; a recall's equals its own test).
    conditional_p_value: Optional[float] = None
    conditional_q_value: Optional[float] = None
    expected_given_class_mix: Optional[float] = None  # errors the slice's class mix predicts
    evidence: Optional[str] = None  # "within_class" (of its own) | "class_mix" (restates the class weakness)
    class_mix_rank: Optional[int] = None
    within_parents: tuple = ()  # of (parent key, p, q): the conjunction against the rest of each parent
    # A term finding (source "term"): its p value is cross-fitted, found on one half and tested on the other.
    method: str = ""  # cross_fit_bonferroni_min_of_two for a term; "" otherwise
    selected_on: str = ""  # a | b | both
    p_a_to_b: Optional[float] = None  # selected on half A, tested on half B (None: A did not select it)
    p_b_to_a: Optional[float] = None
    columns: tuple = ()  # of (source, column) of the slice's predicates ("parts"), in the key's order

    @property
    def text_kind(self) -> str:
        """"term" (an error-associated term), "topic" (a learned topic) or "" (a named or metadata slice).

        Read from the predicates (a part of source "text" and column "topic" or "term"); a
        finding written without its parts falls back on the source and the key's prefix.
        """
        if self.source == "term" or ("text", "term") in self.columns:
            return "term"
        if ("text", "topic") in self.columns or (not self.columns and self.key.startswith(TOPIC_PREFIX)
                                                 and "__" not in self.key):
            return "topic"
        return ""


def _finding_key(name: str) -> Key:
    """A finding's key relative to the finding (``reports/findings.json`` is a list; each item is read alone)."""
    return replace(FINDINGS[f"[].{name}"], path=name)


def _rank(f: Src, name: str) -> Optional[int]:
    """A rank, None when absent or null (a finding without that rank)."""
    return None if f.raw(name) is None else f.read(_finding_key(name))


def _opt_number(src: Src, key: str) -> Optional[float]:
    """A number that may be absent or null (a test not made): None then; any other value must be a number."""
    value = src.raw(key)
    if value is None or (_is_number(value) and not math.isfinite(value)):
        return None
    return src.num(key)


def parse_finding(f: Src) -> Finding:
    def read(name):
        return f.read(_finding_key(name))

    def opt(name):
        return f.read_opt(_finding_key(name))

    source = read("source")
    label = f.held(_finding_key("slice.<feature>"), feature="label") if source == "class" else None
    return Finding(
        id=read("id"), source=source, key=read("key"), description=opt("description") or "",
        n=read("n"), slice_n=read("slice_n"), metric=read("metric"), higher_is_better=read("higher_is_better"),
        value=read("estimate"), rest_value=read("rest_value"), gap=read("gap"), p_value=opt("p_value"),
        q_value=opt("q_value"), significant=read("significant"), excess=read("excess"),
        excess_given_class_mix=opt("excess_given_class_mix"), rank=_rank(f, "rank"),
        explained_by_parent=bool(opt("explained_by_parent")),
        label=str(label) if isinstance(label, str) and label else None,
        conditional_p_value=opt("conditional_p_value"), conditional_q_value=opt("conditional_q_value"),
        expected_given_class_mix=opt("expected_given_class_mix"), evidence=opt("evidence") or None,
        class_mix_rank=_rank(f, "class_mix_rank"),
        within_parents=tuple((str(r.get("key", "")), r.get("p_value"), r.get("q_value"))
                             for r in (f.raw("within_parents") or []) if isinstance(r, dict)),
        method=f.text("method", ""), selected_on=f.text("selected_on", ""),
        p_a_to_b=_opt_number(f, "p_a_to_b"), p_b_to_a=_opt_number(f, "p_b_to_a"),
        columns=tuple((str(r.get("source", "")), str(r.get("column", "")))
                      for r in (f.raw("parts") or []) if isinstance(r, dict)))


@dataclass(frozen=True)
class Coverage:
    """What was tested on one metadata column or text feature (``metrics/slices.json``
    ``columns_tested`` / ``text_features``, counted by :mod:`blindspot.slices.coverage`)."""

    name: str  # raw column name, or text feature
    source: str  # "metadata" or "text"
    kind: str  # categorical, numeric, date; "" for text features
    n_values: Optional[int]  # distinct values of a metadata column
    n_pooled: Optional[int]  # of them, rarer than min_support and pooled as "other" (categorical only)
    n_predicates: int
    n_slices_tested: int
    n_tests: int
    n_significant: int
    significant: tuple  # keys of its own slices with a significant test, file order
    conj_slices_tested: int
    conj_tests: int
    conj_significant: int
    conj_reported: int  # of them, findings of their own (not explained by a parent)
    edges: tuple = ()  # whole-word quantile edges behind length_q<i> (feature "length")


def parse_coverage(m: Src) -> tuple:
    """Every tested column and text feature with its counts, metadata first; empty for a metrics file
    written before the counts were (they arrived with the length quantile bins)."""
    out = []
    for source, block, at in (("metadata", "columns_tested", "columns_tested.<column>"),
                              ("text", "text_features", "text_features.<feature>")):
        held = m.opt(block)
        for name in (held.data if held is not None else {}):
            part = {"column": name} if source == "metadata" else {"feature": name}

            def read(field):
                return m.read(SLICES[f"{at}.{field}"], **part)

            def opt(field):
                return m.read_opt(SLICES[f"{at}.{field}"], **part)

            if opt("n_tests") is None or opt("conjunctions.n_reported") is None:
                return ()
            significant = m.held(SLICES[f"{at}.significant"], **part)
            edges = (m.held(SLICES["text_features.<feature>.n_words_quantiles.edges"], **part)
                     if source == "text" else None)
            out.append(Coverage(
                name=read("column") if source == "metadata" else name, source=source,
                kind=read("kind") if source == "metadata" else "",
                n_values=opt("n_values") if source == "metadata" else None,
                n_pooled=opt("n_pooled") if source == "metadata" else None, n_predicates=read("n_predicates"),
                n_slices_tested=read("n_slices_tested"), n_tests=read("n_tests"), n_significant=read("n_significant"),
                significant=tuple(significant) if isinstance(significant, dict) else (),
                conj_slices_tested=read("conjunctions.n_slices_tested"), conj_tests=read("conjunctions.n_tests"),
                conj_significant=read("conjunctions.n_significant"), conj_reported=read("conjunctions.n_reported"),
                edges=tuple(int(e) for e in edges) if isinstance(edges, list) else ()))
    return tuple(out)


@dataclass(frozen=True)
class WatchSlice:
    key: str
    n: int
    share: Optional[float]
    tested: bool
    reason: str
    error_rate: Optional[Estimate]
    rest_error_rate: Optional[float]
    q_value: Optional[float]
    significant: bool
    evidence: Optional[str] = None  # error rate: "within_class" | "class_mix" (see Finding.evidence)
    untested: dict = field(default_factory=dict)  # metric -> reason code, for metrics not tested here


def _untested(w: Src) -> dict:
    """The metrics of a watchlist slice that were not tested, with the reason's code (humanize gives words)."""
    return {k: v.get("reason", "") for k, v in (w.data or {}).items()
            if isinstance(v, dict) and v.get("tested") is False and isinstance(v.get("reason", ""), str)}


@dataclass(frozen=True)
class Slices:
    n_rows: int
    fdr_alpha: float
    ci_level: float
    test: str
    gap_interval_method: str
    n_tests: int
    n_slices_tested: int
    findings: tuple  # of Finding, in the file's order
    watchlist: tuple  # of WatchSlice, in the file's (key) order
    coverage: tuple = ()  # of Coverage: what was tested, column by column (empty in older metrics files)
    skipped_columns: tuple = ()  # of (raw column name, reason in words): metadata not sliced

    @property
    def class_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.source == "class"]

    @property
    def blind_spots(self) -> list[Finding]:
        """Significant slice findings the slice stage ranked, best first."""
        ranked = [f for f in self.findings if f.source != "class" and f.significant and f.rank is not None]
        return sorted(ranked, key=lambda f: f.rank)

    @property
    def class_mix(self) -> list[Finding]:
        """Significant slice findings worse only through their mix of true classes, strongest first."""
        mixed = [f for f in self.findings if f.source != "class" and f.significant and f.class_mix_rank is not None]
        return sorted(mixed, key=lambda f: f.class_mix_rank)

    def on_watchlist(self, key: str) -> bool:
        return any(w.key == key for w in self.watchlist)


def _watch_slice(m: Src, key: str) -> WatchSlice:
    """One slice of ``watchlist`` in ``metrics/slices.json``, with its error rate's test."""
    S, at, err = SLICES, {"slice": key}, {"slice": key, "metric": "error_rate"}
    rate = m.read_opt(S["watchlist.<slice>.<metric>"], **err)  # absent when the key is not present in the data
    reason = m.read_opt(S["watchlist.<slice>.reason"], **at) or ""
    return WatchSlice(
        key=key, n=m.read(S["watchlist.<slice>.n"], **at), share=m.read_opt(S["watchlist.<slice>.share"], **at),
        tested=bool(m.read_opt(S["watchlist.<slice>.tested"], **at)), reason=humanize(reason) if reason else "",
        error_rate=rate, rest_error_rate=m.read_opt(S["watchlist.<slice>.<metric>.rest_value"], **err),
        q_value=m.read_opt(S["watchlist.<slice>.<metric>.q_value"], **err),
        significant=bool(m.read_opt(S["watchlist.<slice>.<metric>.significant"], **err)),
        evidence=m.read_opt(S["watchlist.<slice>.<metric>.evidence"], **err) or None,
        untested=_untested(m.sub("watchlist").sub(key)))


def _gap_method(m: Src) -> str:
    """The interval method of the gaps, as the first class's recall test names it ("" when no class has one)."""
    for name in m.sub("classes").data:
        gap = m.read_opt(SLICES["classes.<class>.recall.gap"], **{"class": name})
        if gap is not None and gap.method:
            return gap.method
    return ""


def parse_slices(m: Src, findings: list) -> Slices:
    """``metrics/slices.json`` (``m``) and ``reports/findings.json`` (a list, read as given)."""
    S = SLICES
    watch = [_watch_slice(m, key) for key in m.sub("watchlist").data]
    if not isinstance(findings, list):
        raise InputError(str(paths.FINDINGS), "cannot be read for the brief: not a JSON list of findings.",
                         expected="a list of objects", found=type(findings).__name__)
    parsed = tuple(parse_finding(Src(str(paths.FINDINGS), f, (str(i),))) for i, f in enumerate(findings))
    skipped = m.opt("columns_skipped")
    return Slices(n_rows=m.read(S["n_rows"]), fdr_alpha=m.read(S["settings.fdr_alpha"]),
                  ci_level=m.read(S["settings.ci_level"]), test=m.read_opt(S["settings.test"]) or "",
                  gap_interval_method=_gap_method(m), n_tests=m.read(S["family.n_tests"]),
                  n_slices_tested=m.read(S["family.n_slices_tested"]),
                  findings=parsed, watchlist=tuple(watch), coverage=parse_coverage(m),
                  skipped_columns=tuple((m.read(S["columns_skipped.<column>.column"], column=name),
                                         humanize(m.read(S["columns_skipped.<column>.reason"], column=name)))
                                        for name in (skipped.data if skipped is not None else {})))


# --------------------------------------------------------------------------- text slices (issue 16)


@dataclass(frozen=True)
class TopicRow:
    """One learned topic of ``reports/text_slices.json``."""

    key: str
    name: str  # "<t1> / <t2> / <t3>"
    top_terms: tuple  # of str, strongest first
    n: int
    tested: bool
    evidence: Optional[str]  # within_class | class_mix | None (not significantly worse, or not tested)
    rank: Optional[int]
    error_rate: Any  # float, or Unmeasured
    rest_error_rate: Any
    q_value: Optional[float]
    conditional_q_value: Optional[float]
    examples: tuple  # of (id, text): untrusted review text, escaped by the renderers


@dataclass(frozen=True)
class TermRow:
    """One error-associated term selected in either direction (``terms.tested``)."""

    term: str
    key: str
    n: int
    errors: int
    error_rate: Any
    rest_error_rate: Any
    expected_given_class_mix: Optional[float]
    n_a: int
    n_b: int
    selected_on: str  # a | b | both
    p_a_to_b: Optional[float]
    p_b_to_a: Optional[float]
    p_value: Any
    q_value: Optional[float]
    significant: bool
    rank: Optional[int]


@dataclass(frozen=True)
class TextSlices:
    """``reports/text_slices.json``: learned topics and cross-fitted error terms.

    A family the file does not hold is ``None`` with the reason in ``*_reason``; a family
    that ran but found nothing to test has an empty tuple and the stage's reason.
    """

    topics: Optional[tuple]  # of TopicRow, in topic order
    topics_k: int
    topics_n_fit: int
    topics_reason: str  # the stage's reason code or sentence as written ("" when the family ran)
    terms: Optional[tuple]  # of TermRow, by p value then term
    terms_n_candidates: int
    terms_n_a: int
    terms_n_b: int
    terms_reason: str
    terms_top_k: Optional[int] = None  # terms selected in each direction, at most


def _text_key(path: str) -> Key:
    """A key of one list item of ``reports/text_slices.json``, relative to the item (read alone)."""
    return replace(TEXT_SLICES[path], path=path.rsplit("].", 1)[1])


def _one_of(src: Src, key: str, allowed: tuple, *, nullable: bool) -> Optional[str]:
    """A text field that must be one of ``allowed`` (or null when ``nullable``)."""
    value = src.raw(key, NOT_HELD)
    if value is NOT_HELD and not nullable:
        src._get(key)  # raises: the key is missing
    if value is None or value is NOT_HELD:
        if not nullable:
            src._fail(key, "is null", " or ".join(allowed), "null")
        return None
    if value not in allowed:
        src._fail(key, "is not one of the known values", " or ".join(allowed) + (" or null" if nullable else ""),
                  repr(value))
    return value


def _rank_of(src: Src, key: str) -> Optional[int]:
    return None if src.raw(key) is None else src.count(key)


def parse_topic(t: Src) -> TopicRow:
    def read(name):
        return t.read(_text_key(f"topics.topics[].{name}"))

    terms = t.raw("top_terms")
    if not isinstance(terms, list) or not all(isinstance(x, str) for x in terms):
        t._fail("top_terms", "is not a list of terms", "a list of strings", repr(terms)[:80])
    examples = t.raw("examples")
    if not isinstance(examples, list):
        t._fail("examples", "is not a list", "a list of {id, text} objects", repr(examples)[:80])
    ex = [Src(t.file, e, (*t.path, "examples", str(i)), t) for i, e in enumerate(examples)]
    return TopicRow(key=read("key"), name=read("name"), top_terms=tuple(terms), n=read("n"),
                    tested=t.flag("tested"),
                    evidence=_one_of(t, "evidence", ("within_class", "class_mix"), nullable=True),
                    rank=_rank_of(t, "rank"), error_rate=t.num("error_rate"),
                    rest_error_rate=t.num("rest_error_rate"), q_value=_opt_number(t, "q_value"),
                    conditional_q_value=_opt_number(t, "conditional_q_value"),
                    examples=tuple((e.text("id"), e.text("text")) for e in ex))


def parse_term(t: Src) -> TermRow:
    def read(name):
        return t.read(_text_key(f"terms.tested[].{name}"))

    return TermRow(term=read("term"), key=read("key"), n=read("n"), errors=read("errors"),
                   error_rate=t.num("error_rate"), rest_error_rate=t.num("rest_error_rate"),
                   expected_given_class_mix=_opt_number(t, "expected_given_class_mix"), n_a=read("n_a"),
                   n_b=read("n_b"), selected_on=_one_of(t, "selected_on", ("a", "b", "both"), nullable=False),
                   p_a_to_b=_opt_number(t, "p_a_to_b"), p_b_to_a=_opt_number(t, "p_b_to_a"),
                   p_value=t.num("p_value"), q_value=_opt_number(t, "q_value"),
                   significant=t.flag("significant", False), rank=_rank_of(t, "rank"))


def _items(parent: Src, key: str) -> list:
    """The objects of the list ``key`` of ``parent``, each as a Src named by its index."""
    items = parent._get(key)
    if not isinstance(items, list):
        parent._fail(key, "is not a list", "a list of objects", repr(items)[:80])
    return [Src(parent.file, item, (*parent.path, key, str(i)), parent) for i, item in enumerate(items)]


def parse_text_slices(m: Src) -> TextSlices:
    """``reports/text_slices.json``; a family the file does not hold reads as not run."""
    T = TEXT_SLICES
    absent = "the slice stage did not write this family"
    topics = m.opt("topics")
    terms = m.opt("terms")
    top_k = terms.sub("settings").raw("top_k") if terms is not None and terms.opt("settings") is not None else None
    return TextSlices(
        topics=None if topics is None else tuple(parse_topic(t) for t in _items(topics, "topics")),
        topics_k=0 if topics is None else m.read(T["topics.k"]),
        topics_n_fit=0 if topics is None else m.read(T["topics.n_fit"]),
        topics_reason=absent if topics is None else topics.text("reason", ""),
        terms=None if terms is None else tuple(parse_term(t) for t in _items(terms, "tested")),
        terms_n_candidates=0 if terms is None else m.read(T["terms.n_candidates"]),
        terms_n_a=0 if terms is None else m.read(T["terms.n_a"]),
        terms_n_b=0 if terms is None else m.read(T["terms.n_b"]),
        terms_reason=absent if terms is None else terms.text("reason", ""),
        terms_top_k=top_k if isinstance(top_k, int) and not isinstance(top_k, bool) else None)


@dataclass(frozen=True)
class ConfidentRate:
    """Wrong with confidence >= threshold, among a set of rows."""

    threshold: float
    count: int
    rate: Estimate  # of all rows in the set
    n_confident: int
    share_of_errors: float
    error_rate_among_confident: Optional[Estimate] = None  # of the rows at or above the threshold


def _confident(m: Src, at: str, band: str, **parts) -> ConfidentRate:
    """The ``band`` (:func:`blindspot.keys.threshold_key`) of the ``confidently_incorrect`` block under ``at``.

    ``at`` is a declared prefix of :data:`blindspot.results.calibration.CALIBRATION` ("" for the top level,
    ``by_class.<class>``, ``slices.<slice>``), its ``<name>`` segments filled from ``parts``.
    """
    def key(name):
        return CALIBRATION[f"{at}.confidently_incorrect.<band>.{name}".lstrip(".")]

    parts = {**parts, "band": band}
    return ConfidentRate(m.read(key("threshold"), **parts), m.read(key("count"), **parts),
                         m.read(key("rate"), **parts), m.read(key("n_confident"), **parts),
                         m.read(key("share_of_errors"), **parts), m.read_opt(key("error_rate_among_confident"), **parts))


@dataclass(frozen=True)
class Calibration:
    n: int
    threshold: float  # the band the report uses
    thresholds: tuple
    ece: Estimate
    ece_p_value: Optional[float]
    ece_noise_floor: Optional[float]
    overconfidence: Estimate  # mean confidence minus accuracy
    mean_confidence: float
    accuracy: float
    confidence_auroc: Optional[float]
    brier: Optional[Estimate]
    confident: ConfidentRate  # rate values are Unmeasured when the file gives none
    by_class: dict  # class -> ConfidentRate (rows of that true class)
    by_slice: dict  # slice key -> ConfidentRate (evaluated slices)
    recal_status: str
    recal_reason: str
    recal_best: Optional[str]
    recal_ece_before: Optional[float]
    recal_ece_after: Optional[float]
    interval_method: str  # the methods the estimates name, in one line (_interval_methods)
    # Absent from files written before the direction and the advice existed: read as unmeasured / None.
    direction: str = "unmeasured"  # overconfident | underconfident | well_calibrated | mixed | unmeasured
    recal_advice: Optional["RecalAdvice"] = None  # at the band the report uses


@dataclass(frozen=True)
class RecalAdvice:
    """``recalibration.advice.<band>`` and the what-if numbers of the method it is about.

    ``method`` is the advised method or ``"none"``; ``reason`` one of
    :data:`blindspot.calibration.advice.REASONS`; ``considered`` the method the reason
    is about (``"none"`` when no method was looked at). The numbers are those of
    ``considered`` at the band (None when it is ``"none"``).
    """

    method: str
    reason: str
    considered: str
    ece_before: float
    ece_after: Optional[Estimate] = None
    ece_reduction: Optional[Estimate] = None
    count_before: Optional[int] = None
    count_after: Optional[int] = None
    rate_after: Optional[Estimate] = None
    correct_falling_below: Optional[int] = None
    correct_falling_below_share: Optional[float] = None
    correct_rising_above: Optional[int] = None


def _recal_advice(m: Src, band: str) -> Optional[RecalAdvice]:
    """The advice at ``band`` with its method's numbers; None when the file has no advice there."""
    C, at = CALIBRATION, {"band": band}
    if not m.holds(C["recalibration.advice.<band>.method"], **at):
        return None
    considered = m.read(C["recalibration.advice.<band>.considered"], **at)
    out = dict(method=m.read(C["recalibration.advice.<band>.method"], **at),
               reason=m.read(C["recalibration.advice.<band>.reason"], **at), considered=considered,
               ece_before=m.read(C["recalibration.none.ece"]))
    after = {"method": considered, "band": band}
    if considered != "none" and m.holds(C["recalibration.<method>.ece"], **after):
        crossing = "recalibration.<method>.confidently_incorrect.<band>."
        out.update(ece_after=m.read(C["recalibration.<method>.ece"], **after),
                   ece_reduction=m.read(C["recalibration.<method>.ece_reduction"], **after),
                   **{name: m.read(C[crossing + key], **after) for name, key in (
                       ("count_before", "count_before"), ("count_after", "count"), ("rate_after", "rate"),
                       ("correct_falling_below", "correct_falling_below"),
                       ("correct_falling_below_share", "correct_falling_below_share"),
                       ("correct_rising_above", "correct_rising_above"))})
    return RecalAdvice(**out)


def _interval_methods(ece: Estimate, overconfidence: Estimate, rate: Estimate) -> str:
    """The calibration intervals' methods in one line, as the estimates name them."""
    return (f"ECE: {ece.method or 'not recorded'}; overconfidence, Brier and log loss: "
            f"{overconfidence.method or 'not recorded'}; rates: {rate.method or 'not recorded'}")


def parse_calibration(m: Src, threshold: float) -> Calibration:
    C = CALIBRATION
    raw = m.raw("confident_thresholds")
    if not isinstance(raw, list) or not raw or not all(_is_number(t) for t in raw):
        m._fail("confident_thresholds", "is not a non-empty list of numbers", "[0.7, 0.8, ...]", repr(raw)[:80])
    thresholds = tuple(float(t) for t in raw)
    used = nearest_threshold(thresholds, threshold)  # the brief names it when it is not the configured one
    band = threshold_key(used)
    by_class = {c: _confident(m, "by_class.<class>", band, **{"class": c}) for c, _ in m.objects("by_class")}
    by_slice = {k: _confident(m, "slices.<slice>", band, slice=k) for k, v in m.objects("slices")
                if v.raw("status") == "ok" and v.has("confidently_incorrect")}
    status = m.read(C["recalibration.status"])
    reason = m.read_opt(C["recalibration.reason"]) or ""
    best = (m.read_opt(C["recalibration.best_method"]) or None) if status == "ok" else None
    ece, overconfidence, confident = m.read(C["overall.ece"]), m.read(C["overall.overconfidence"]), \
        _confident(m, "", band)
    return Calibration(
        n=m.read(C["n"]), threshold=used, thresholds=thresholds, ece=ece,
        ece_p_value=m.read_opt(C["overall.ece_p_value"]), ece_noise_floor=m.read_opt(C["overall.ece_noise_floor"]),
        overconfidence=overconfidence, mean_confidence=m.read(C["overall.mean_confidence"]),
        accuracy=m.read(C["overall.accuracy"]), confidence_auroc=m.read_opt(C["overall.confidence_auroc"]),
        brier=m.read_opt(C["overall.brier"]), confident=confident, by_class=by_class, by_slice=by_slice,
        recal_status=status, recal_reason=humanize(reason) if reason else "", recal_best=best,
        recal_ece_before=m.read(C["recalibration.none.ece"]) if best else None,
        recal_ece_after=m.read(C["recalibration.<method>.ece"], method=best).value if best else None,
        interval_method=_interval_methods(ece, overconfidence, confident.rate),
        direction=m.read_opt(C["miscalibration_direction"]) or "unmeasured",
        recal_advice=_recal_advice(m, band) if status == "ok" else None)


@dataclass(frozen=True)
class Judge:
    backend: str
    model: str
    prompt_version: str
    n_candidates: int
    n_random: int
    n_targeted: int
    judged: int
    coverage: float
    failures: dict  # kind -> count, with "total"
    reason: str  # the judge's own note on why it could not measure (empty when none)
    kappa_gold: Estimate  # on the random sample
    agreement_gold: Estimate  # on the random sample
    n_agreement: int
    kappa_model: Estimate
    sarcasm: int
    mixed: int
    technical: int
    gold_wrong: int
    gold_wrong_random: int
    gold_wrong_random_n: int
    gold_wrong_random_rate: Estimate
    ci_n: int
    ci_with_gold: int
    ci_with_model: int
    ci_with_neither: int
    cl_available: bool
    cl_suspected: Optional[int]
    cl_rate: Optional[Estimate]
    cl_flag_kappa: Optional[Estimate]
    injection_suspected: int
    interval_method: str


def parse_judge(m: Src) -> Judge:
    J = JUDGE
    rnd = {"subset": "random_sample"}
    kappa_gold = m.read(J["agreement.<subset>.gold.kappa"], **rnd)
    agreement_gold = m.read(J["agreement.<subset>.gold.agreement_rate"], **rnd)
    cl = bool(m.read(J["label_issues.available"]))  # 0 without class probabilities: no cross-check
    return Judge(
        backend=m.read(J["backend"]), model=m.read(J["model"]), prompt_version=m.read(J["prompt_version"]),
        n_candidates=m.read(J["candidates.n"]), n_random=m.read(J["candidates.random_sample"]),
        n_targeted=m.read(J["candidates.targeted"]), judged=m.read(J["judged"]), coverage=m.read(J["coverage"]),
        failures={k: m.read(J["failures.<kind>"], kind=k) for k in m.sub("failures").data},
        reason=humanize(m.read(J["status.reason"])),
        kappa_gold=kappa_gold, agreement_gold=agreement_gold, n_agreement=m.read(J["agreement.<subset>.gold.n"], **rnd),
        kappa_model=m.read(J["agreement.<subset>.model.kappa"], **rnd),
        sarcasm=m.read(J["verdicts.sarcasm"]), mixed=m.read(J["verdicts.mixed_sentiment"]),
        technical=m.read(J["verdicts.technical_register"]), gold_wrong=m.read(J["verdicts.gold_label_wrong"]),
        gold_wrong_random=m.read(J["verdicts.gold_label_wrong_random_sample.count"]),
        gold_wrong_random_n=m.read(J["verdicts.gold_label_wrong_random_sample.n"]),
        gold_wrong_random_rate=m.read(J["verdicts.gold_label_wrong_random_sample.rate"]),
        ci_n=m.read(J["confidently_incorrect_sides.n"]),
        ci_with_gold=m.read(J["confidently_incorrect_sides.with_gold"]),
        ci_with_model=m.read(J["confidently_incorrect_sides.with_model"]),
        ci_with_neither=m.read(J["confidently_incorrect_sides.with_neither"]), cl_available=cl,
        cl_suspected=m.read(J["label_issues.confident_learning.suspected"]) if cl else None,
        cl_rate=m.read(J["label_issues.confident_learning.rate"]) if cl else None,
        cl_flag_kappa=m.read(J["label_issues.judged.flag_agreement.kappa"]) if cl else None,
        injection_suspected=m.read(J["injection_suspected"]),
        interval_method=f"kappa: {kappa_gold.method}; rates: {agreement_gold.method}")


@dataclass(frozen=True)
class JudgeRead:
    """The judge's reading of one review (``data/interim/judgments.jsonl``)."""

    sentiment: Optional[str]
    gold_label_wrong: bool
    sarcasm: bool
    mixed: bool
    status: str


def parse_judgment(row: Src) -> JudgeRead:
    v = row.opt("verdict")
    if v is None:
        return JudgeRead(sentiment=None, gold_label_wrong=False, sarcasm=False, mixed=False,
                         status=row.text("status", ""))
    return JudgeRead(sentiment=v.text("sentiment", "") or None, gold_label_wrong=v.flag("gold_label_wrong", False),
                     sarcasm=v.flag("sarcasm", False), mixed=v.flag("mixed_sentiment", False),
                     status=row.text("status", ""))


@dataclass(frozen=True)
class Example:
    """One confidently-incorrect review (``data/interim/confident_errors.jsonl``)."""

    rank: int
    id: str
    text: str
    label: str
    prediction: str
    confidence: float
    probability_of_label: Optional[float]
    slices: tuple


def parse_example(row: Src) -> Example:
    slices = row.raw("slices")
    slices = [] if slices is None else slices
    if not isinstance(slices, list):
        row._fail("slices", "is not a list", "a list of slice keys", repr(slices)[:80])
    return Example(rank=row.count("rank"), id=row.text("id"), text=row.text("text", ""), label=row.text("label"),
                   prediction=row.text("prediction"), confidence=row.num("confidence"),
                   probability_of_label=row.opt_num("probability_of_label"), slices=tuple(str(x) for x in slices))


@dataclass(frozen=True)
class Delta:
    """One paired comparison of ``metrics/compare.json``."""

    metric: str
    baseline: Optional[float]
    current: Optional[float]
    delta: Optional[Estimate]
    n: int
    test: str
    tested: bool
    reason: str
    p_value: Optional[float]
    q_value: Optional[float]
    higher_is_better: Optional[bool]
    changed: bool
    direction: str
    baseline_only: Optional[int]
    current_only: Optional[int]


def _compare_read(m: Src, path: str, **parts):
    """:meth:`Src.read_opt` of the key ``path`` of ``metrics/compare.json`` (:data:`COMPARE_KEYS`).

    Most of its keys are optional: an untested entry has no delta, a file that compares nothing no pairing.
    """
    return m.read_opt(COMPARE_KEYS[path], **parts)


def parse_delta(m: Src, at: str, **parts) -> Delta:
    """The paired comparison at the declared entry path ``at`` (``global.<metric>``, ...), ``<name>``s in ``parts``."""
    def get(name):
        return _compare_read(m, f"{at}.{name}", **parts)

    entry = m
    for seg in COMPARE_KEYS[f"{at}.n"].at(**parts)[:-1]:
        entry = entry.sub(seg)
    hib = entry.raw("higher_is_better")  # null or absent: None, and the brief uses the metric's own direction
    hib = hib if isinstance(hib, bool) else None
    return Delta(metric=parts["metric"], baseline=get("baseline"), current=get("current"), delta=get("delta"),
                 n=m.read(COMPARE_KEYS[f"{at}.n"], **parts), test=get("test") or "",
                 tested=m.read(COMPARE_KEYS[f"{at}.tested"], **parts), reason=humanize(get("reason") or ""),
                 p_value=get("p_value"), q_value=get("q_value"), higher_is_better=hib,
                 changed=bool(get("changed")), direction=get("direction") or "unchanged",
                 baseline_only=get("baseline_only"), current_only=get("current_only"))


@dataclass(frozen=True)
class Comparison:
    status: str  # compared | no_baseline | not_compared | ... (any other status is "not compared")
    reason: str
    current_name: str
    baseline_name: str
    baseline_path: Optional[str]
    baseline_is_current: bool
    n_current: int
    n_baseline: int
    n_paired: int
    label_mismatch: int
    n_tests: int
    n_changed: int
    n_improved: int
    n_worsened: int
    fdr_alpha: float
    ci_level: float
    confident_threshold: float
    test: str
    global_deltas: tuple  # of Delta (accuracy first)
    class_deltas: dict  # class -> tuple of Delta (recall, precision, f1)
    slice_deltas: dict  # watchlist key -> (n, tuple of Delta)
    prior_shift: Optional["PriorShift"] = None  # the prior_shift block (None in files written before it)
    baseline_source: str = "configured"  # configured | previous_audit | none
    baseline_commit: str = ""  # previous_audit: the recorded audit's commit, its date and subject
    baseline_committed: str = ""
    baseline_subject: str = ""


@dataclass(frozen=True)
class PriorRate:
    """A rate before and after the cross-fitted prior correction (``prior_shift.what_if``)."""

    n: int
    before: Estimate
    after: Estimate
    delta: Estimate
    p_value: Optional[float]


@dataclass(frozen=True)
class PriorShift:
    """``metrics/compare.json`` ``prior_shift``: class-mix test, EM prior estimate, correction what-if."""

    measured: bool
    reason: str
    shifted: bool = False
    p_value: Optional[float] = None
    shares_baseline: dict = field(default_factory=dict)  # class -> share of the baseline's gold labels
    shares_current: dict = field(default_factory=dict)
    em_measured: bool = False
    em_reason: str = ""
    estimated_prior: dict = field(default_factory=dict)  # class -> label-free estimate
    estimate_tv: Optional[float] = None  # total-variation distance of the estimate to the current gold shares
    converged: bool = True  # EM reached its tolerance (on all rows) within its iteration cap
    n_splits: int = 0
    n_changed: int = 0
    accuracy: Optional[PriorRate] = None
    recall: dict = field(default_factory=dict)  # class -> PriorRate


def _prior_rate(m: Src, at: str, **parts) -> PriorRate:
    """The before/after rate at the declared path ``at`` of ``prior_shift.what_if``."""
    def get(name):
        return m.read(COMPARE_KEYS[f"{at}.{name}"], **parts)

    return PriorRate(n=get("n"), before=get("before"), after=get("after"), delta=get("delta"),
                     p_value=_compare_read(m, f"{at}.p_value", **parts))


def _compare_map(m: Src, path: str) -> dict:
    """A declared map of numbers (class -> share) of ``metrics/compare.json``; a null share is Unmeasured."""
    node = m
    for seg in COMPARE_KEYS[path].at():
        node = node.sub(seg)
    return {str(name): node.num(name) for name in node.data}


def _is_on(value, default: bool) -> bool:
    """A 0/1 count read as true or false (absent or null: ``default``)."""
    return bool(value) if measured(value) else default


def parse_prior_shift(m: Src) -> Optional[PriorShift]:
    """``prior_shift`` of ``metrics/compare.json``, or None when the file predates it."""
    if m.opt("prior_shift") is None:
        return None
    reason = _compare_read(m, "prior_shift.reason") or ""
    if not _is_on(_compare_read(m, "prior_shift.measured"), False):
        return PriorShift(measured=False, reason=reason)
    shares = {name: _compare_map(m, f"prior_shift.label_shift.{name}") for name in ("shares_baseline",
                                                                                   "shares_current")}
    out = dict(measured=True, reason=reason, shifted=bool(_compare_read(m, "prior_shift.label_shift.shifted")),
               p_value=_compare_read(m, "prior_shift.label_shift.p_value"), **shares)
    if not _is_on(_compare_read(m, "prior_shift.em.measured"), False):
        return PriorShift(**out, em_reason=_compare_read(m, "prior_shift.em.reason") or "")
    rate = "prior_shift.what_if.per_class.<class>.recall"
    return PriorShift(**out, em_measured=True, estimated_prior=_compare_map(m, "prior_shift.em.estimated_prior"),
                      estimate_tv=_compare_read(m, "prior_shift.em.total_variation_to_current_labels"),
                      n_splits=m.read(COMPARE_KEYS["prior_shift.what_if.n_splits"]),
                      converged=_is_on(_compare_read(m, "prior_shift.em.converged"), True),
                      n_changed=m.read(COMPARE_KEYS["prior_shift.what_if.n_changed"]),
                      accuracy=_prior_rate(m, "prior_shift.what_if.accuracy"),
                      recall={c: _prior_rate(m, rate, **{"class": c})
                              for c, _ in m.sub("prior_shift").sub("what_if").objects("per_class")})


GLOBAL_ORDER = ("accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "mcc", "cohen_kappa",
                "confidently_incorrect_rate", "brier", "brier_top_label", "log_loss")


def parse_compare(m: Src) -> Comparison:
    """``metrics/compare.json``; only a ``compared`` file must hold the comparison itself."""
    status = m.read(COMPARE_KEYS["status"])
    glob = m.sub("global") if status == "compared" else (m.opt("global") or Src(m.file, {}))
    rest = sorted(k for k in glob.data if k not in GLOBAL_ORDER and k != "per_class")
    order = [k for k in GLOBAL_ORDER if k in glob.data] + rest
    per_class = {c: tuple(parse_delta(m, "global.per_class.<class>.<metric>", **{"class": c, "metric": k})
                          for k in ("recall", "precision", "f1") if e.has(k))
                 for c, e in (glob.objects("per_class") if glob.has("per_class") else [])}
    slices = {}
    for key, e in (m.objects("watchlist") if m.opt("watchlist") is not None else []):
        names = [k for k in e.data if k != "n" and isinstance(e.data[k], dict)]
        names = [k for k in GLOBAL_ORDER if k in names] + sorted(k for k in names if k not in GLOBAL_ORDER)
        slices[key] = (m.read(COMPARE_KEYS["watchlist.<slice>.n"], slice=key),
                       tuple(parse_delta(m, "watchlist.<slice>.<metric>", slice=key, metric=k) for k in names))

    def get(path, default=None):
        value = _compare_read(m, path)
        return default if value is None else value

    def setting(name):  # a file that compares nothing has no settings
        return get(f"settings.{name}", Unmeasured("not compared"))

    return Comparison(
        status=status, reason=humanize(get("reason", "")), current_name=get("current.name", ""),
        baseline_name=get("baseline.name", ""), baseline_path=get("baseline.path") or None,
        baseline_is_current=_is_on(get("baseline_is_current"), False), n_current=get("pairing.n_current") or 0,
        n_baseline=get("pairing.n_baseline") or 0, n_paired=get("pairing.n_paired") or 0,
        label_mismatch=get("pairing.label_mismatch") or 0, n_tests=get("family.n_tests") or 0,
        n_changed=get("family.n_changed") or 0, n_improved=get("family.n_improved") or 0,
        n_worsened=get("family.n_worsened") or 0, fdr_alpha=setting("fdr_alpha"), ci_level=setting("ci_level"),
        confident_threshold=setting("confident_threshold"), test=get("settings.test", ""),
        global_deltas=tuple(parse_delta(m, "global.<metric>", metric=k) for k in order), class_deltas=per_class,
        slice_deltas=slices, prior_shift=parse_prior_shift(m), baseline_source=get("baseline.source", "configured"),
        baseline_commit=get("baseline.commit", ""), baseline_committed=get("baseline.committed", ""),
        baseline_subject=get("baseline.subject", ""))


# --------------------------------------------------------------------------- lifecycle and gate


@dataclass(frozen=True)
class Lifecycle:
    """``reports/lifecycle.json``: each blind spot against the previous audited version."""

    status: str  # tracked | no_baseline | not_tracked
    reason: str
    previous: Optional[dict]  # name, rev, commit, committed, subject
    counts: dict  # open, new, reopened, persisting, persisting_<trend>, closed
    entries: tuple  # of dict: key, metric, kind, label, status, trend, value, previous_value, q_value, first_seen
    closed_earlier: tuple  # of dict: key, metric, kind, label, closed_in


def parse_lifecycle(m: Src) -> Lifecycle:
    prev = m.opt("previous")
    return Lifecycle(status=m.text("status"), reason=m.text("reason", ""),
                     previous=None if prev is None else dict(prev.data), counts=dict(m.sub("counts").data),
                     entries=tuple(m.data.get("blind_spots") or ()), closed_earlier=tuple(m.data.get("closed_earlier") or ()))


@dataclass(frozen=True)
class GateRead:
    """``metrics/gate.json``: whether the release gate passed, and each rule's line."""

    passed: bool
    baseline: str
    rules: dict  # rule -> {"passed", "summary", "failures"}


def parse_gate(m: Src) -> GateRead:
    return GateRead(passed=m.data.get("passed") == 1, baseline=m.text("baseline", ""),
                    rules=dict(m.sub("rules").data))


# --------------------------------------------------------------------------- loading


@dataclass
class Inputs:
    """Everything the brief renders; ``None`` where a file is absent (its stage did not run)."""

    profile: Profile
    slices: Optional[Slices] = None
    calibration: Optional[Calibration] = None
    judge: Optional[Judge] = None
    comparison: Optional[Comparison] = None
    examples: list = field(default_factory=list)  # of Example, by rank
    judgments: dict = field(default_factory=dict)  # id -> JudgeRead
    figures: dict = field(default_factory=dict)  # name -> repository-relative POSIX path (existing files only)
    lifecycle: Optional["Lifecycle"] = None
    gate: Optional["GateRead"] = None
    text_slices: Optional["TextSlices"] = None  # reports/text_slices.json (absent before issue 16)
    problems: list = field(default_factory=list)  # "file: what is wrong" (non-fatal notes)
    missing: list = field(default_factory=list)  # files that do not exist


def _read_json(path: Path, rel) -> Any:
    """A JSON file; a file that is not JSON stops the report, naming the file and line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(str(rel), f"cannot be read for the brief: not UTF-8 text ({exc.reason}).") from None
    except json.JSONDecodeError as exc:
        raise InputError(str(rel), f"cannot be read for the brief: not valid JSON ({exc.msg}).",
                         where=f"line {exc.lineno}, column {exc.colno}",
                         hint="re-run the stage that writes it (`dvc repro`).") from None


def _read_jsonl(path: Path, rel) -> list:
    """(line number, Src) of each non-empty line of a JSON Lines file."""
    out = []
    with path.open(encoding="utf-8", errors="strict") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(str(rel), f"cannot be read for the brief: a line is not valid JSON ({exc.msg}).",
                                 where=f"line {number}", hint="re-run the stage that writes it (`dvc repro`)."
                                 ) from None
            out.append(Src(str(rel), row, (f"line {number}",)))
    return out


def load_inputs(root: str | Path = ".", *, confident_threshold: float = 0.8) -> Inputs:
    """Read every file the brief uses, relative to ``root``.

    Complete or failed: a file that is absent leaves its view ``None`` (the brief says
    the stage did not run); a file that is present is read whole, nulls and NaN as
    :class:`Unmeasured` values with their reasons. A present file that lacks a key the
    brief needs, or holds a value of the wrong type, stops the report.

    Raises
    ------
    InputError
        When ``metrics/profile.json`` is absent, or any present file cannot be read
        (the message names the file and the key).
    """
    root = Path(root)
    ppath = root / paths.PROFILE_METRICS
    if not ppath.is_file():
        raise InputError(str(paths.PROFILE_METRICS), "not found: the brief starts from the profile stage's metrics.",
                         hint="run `python -m blindspot.stages.profile` (or `dvc repro`) first.")
    profile = parse_profile(Src(str(paths.PROFILE_METRICS), _read_json(ppath, paths.PROFILE_METRICS)))
    inputs = Inputs(profile=profile)

    def present(rel: Path) -> Optional[Path]:
        p = root / rel
        if p.is_file():
            return p
        inputs.missing.append(str(rel))
        return None

    def doc(p: Path, rel) -> Src:
        return Src(str(rel), _read_json(p, rel))

    sp, fp = present(paths.SLICE_METRICS), present(paths.FINDINGS)
    if sp and fp:
        inputs.slices = parse_slices(doc(sp, paths.SLICE_METRICS), _read_json(fp, paths.FINDINGS))
    tp = present(TEXT_SLICES_FILE)
    if tp:
        inputs.text_slices = parse_text_slices(doc(tp, TEXT_SLICES_FILE))
    cp = present(paths.CALIBRATION_METRICS)
    if cp:
        inputs.calibration = parse_calibration(doc(cp, paths.CALIBRATION_METRICS), confident_threshold)
    jp = present(paths.JUDGE_METRICS)
    if jp:
        inputs.judge = parse_judge(doc(jp, paths.JUDGE_METRICS))
    jr = present(paths.JUDGMENTS)
    if jr:
        inputs.judgments = {r.text("id"): parse_judgment(r) for r in _read_jsonl(jr, paths.JUDGMENTS)}
    ep = present(paths.CONFIDENT_ERRORS)
    if ep:
        rows = [parse_example(r) for r in _read_jsonl(ep, paths.CONFIDENT_ERRORS)]
        inputs.examples = sorted(rows, key=lambda e: (e.rank if measured(e.rank) else math.inf, e.id))
    mp = present(COMPARE)
    if mp:
        inputs.comparison = parse_compare(doc(mp, COMPARE))
    for name, rel in FIGURES.items():
        if (root / rel).is_file():
            inputs.figures[name] = rel.as_posix()
        else:
            inputs.missing.append(rel.as_posix())
    lp = present(paths.LIFECYCLE)
    if lp:
        inputs.lifecycle = parse_lifecycle(doc(lp, paths.LIFECYCLE))
    gp = present(paths.GATE_METRICS)
    if gp:
        inputs.gate = parse_gate(doc(gp, paths.GATE_METRICS))
    return inputs
