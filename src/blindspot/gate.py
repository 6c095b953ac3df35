"""The release gate: which rules of ``conf/gate/`` the current audit breaks, with the numbers.

Pure functions over the results files as loaded JSON (``reports/lifecycle.json``,
``metrics/profile.json``, ``metrics/compare.json``); the gate stage writes the result to
``metrics/gate.json``, a Markdown summary and a JUnit XML report, and ``blindspot gate``
(:mod:`blindspot.cli`) exits 1 when a rule failed. The rules:

- ``new_blind_spot``: a blind spot of its own, identified by slice key and metric, that is
  new or reopened against the previous audited version (:mod:`blindspot.lifecycle`);
- ``new_weak_class``: a class whose recall is significantly below the other classes' that is
  new or reopened the same way;
- ``worse_than_baseline``: a metric the compare stage's paired tests find significantly worse
  than the baseline's after false-discovery control (global, per class, watchlist slices);
- ``floors``: a headline number below its configured floor.

Without a previous audit the two "new" rules cannot be judged: they pass and say so, so the
first audit of a project never fails for having findings (the floors still apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional
from xml.etree import ElementTree as ET

from blindspot.lifecycle import CLASS, SLICE, TRACKED, display_name

PROFILE_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "mcc", "cohen_kappa")
NEW = ("new", "reopened")


@dataclass(frozen=True)
class Check:
    """One rule checked: whether it passed, one line with its numbers, and each item that broke it."""

    rule: str
    passed: bool
    summary: str
    failures: tuple = ()


@dataclass(frozen=True)
class GateResult:
    passed: bool
    checks: tuple
    baseline: str  # what the rules compared against, in words
    lifecycle: tuple = ()  # reports/lifecycle.json blind_spots entries, when tracked


def _num(x, fmt: str = ".3f") -> str:
    """A number as text; "n/a" for a null (the files write NaN as null)."""
    return format(x, fmt) if isinstance(x, (int, float)) and not isinstance(x, bool) else "n/a"


def _new(rule: str, doc: Mapping, kind: str, what: str) -> Check:
    """Whether any blind spot of ``kind`` is new or reopened in the lifecycle document ``doc``."""
    entries = [e for e in doc.get("blind_spots") or [] if e.get("kind") == kind]
    now = sum(e["status"] not in ("closed",) for e in entries)
    if doc.get("status") != TRACKED:
        return Check(rule, True, f"not judged: {doc.get('reason') or 'no previous audit recorded'} ({now} {what} now)")
    new = [e for e in entries if e["status"] in NEW]
    before = sum(e["status"] in ("persisting", "closed") for e in entries)
    closed = sum(e["status"] == "closed" for e in entries)
    name = (doc.get("previous") or {}).get("name") or "the previous version"
    summary = f"{len(new)} new or reopened ({now} {what} now, {before} in {name}, {closed} closed)"
    return Check(rule, not new, summary, tuple(
        f"{display_name(e)} (`{e['key']}` {e['metric']}, {e['status']}): {_num(e.get('value'))}, q = "
        f"{_num(e.get('q_value'), '.3g')}" for e in new))


def _worsened(compare: Mapping) -> list:
    """Every paired entry of ``metrics/compare.json`` changed for the worse, as (path, entry)."""
    out = []

    def walk(node, path):
        if isinstance(node, Mapping):
            if node.get("changed") and node.get("direction") == "worsened":
                out.append((path, node))
            for k, v in node.items():
                if isinstance(v, Mapping):
                    walk(v, f"{path}.{k}" if path else k)
    for scope in ("global", "watchlist"):
        walk(compare.get(scope) or {}, scope)
    return out


def _worse_check(compare: Optional[Mapping]) -> Check:
    rule = "worse_than_baseline"
    if not compare or compare.get("status") != "compared" or compare.get("baseline_is_current"):
        why = (compare or {}).get("reason") or "no paired comparison in metrics/compare.json"
        return Check(rule, True, f"not judged: {why}")
    worse = _worsened(compare)
    fam = compare.get("family") or {}
    items = tuple(f"{path}: {_num(e.get('baseline'))} -> {_num(e.get('current'))} "
                  f"(delta {_num((e.get('delta') or {}).get('value'), '+.3f')}, q = {_num(e.get('q_value'), '.3g')})"
                  for path, e in worse)
    return Check(rule, not worse, f"{len(worse)} of {fam.get('n_tests', '?')} paired tests significantly worse "
                                  f"than {((compare.get('baseline') or {}).get('name')) or 'the baseline'} "
                                  f"(FDR {(compare.get('settings') or {}).get('fdr_alpha', '?')})", items)


def _headline(profile: Mapping, name: str) -> Optional[float]:
    if name in PROFILE_METRICS:
        return (profile.get(name) or {}).get("value")
    if name.startswith("recall_"):
        return (((profile.get("per_class") or {}).get(name[len("recall_"):]) or {}).get("recall") or {}).get("value")
    return None


def _floor_checks(floors: Mapping, profile: Mapping) -> list:
    out = []
    for name, floor in sorted(floors.items()):
        if floor is None:
            continue
        value = _headline(profile, name)
        if value is None:
            out.append(Check(f"floor:{name}", False, f"{name}: no such number in metrics/profile.json (floor "
                                                     f"{floor:g}); names: {', '.join(PROFILE_METRICS)}, "
                                                     f"recall_<class>"))
        else:
            out.append(Check(f"floor:{name}", value >= floor, f"{name} {value:.3f} against a floor of {floor:g}"))
    return out


def evaluate(cfg, *, lifecycle: Mapping, profile: Mapping, compare: Optional[Mapping]) -> GateResult:
    """Check every rule ``cfg`` (:class:`blindspot.config.GateConfig`) turns on.

    Parameters
    ----------
    lifecycle, profile, compare
        The current audit's ``reports/lifecycle.json``, ``metrics/profile.json`` and
        ``metrics/compare.json`` (None when absent).
    """
    checks = []
    if cfg.new_blind_spot:
        checks.append(_new("new_blind_spot", lifecycle, SLICE, "blind spots of their own"))
    if cfg.new_weak_class:
        checks.append(_new("new_weak_class", lifecycle, CLASS, "weak classes"))
    if cfg.worse_than_baseline:
        checks.append(_worse_check(compare))
    checks += _floor_checks(dict(cfg.floors or {}), profile)
    tracked = lifecycle.get("status") == TRACKED
    return GateResult(all(c.passed for c in checks), tuple(checks), baseline_words(lifecycle, compare),
                      tuple(lifecycle.get("blind_spots") or []) if tracked else ())


def baseline_words(lifecycle: Mapping, compare: Optional[Mapping]) -> str:
    """What the gate compared against: the previous audited version, else the compare stage's baseline, in words."""
    prev = lifecycle.get("previous")
    if prev:
        return (f"{prev.get('name')}, the audit committed at {str(prev.get('commit'))[:12]} "
                f"({str(prev.get('committed'))[:10]}, '{prev.get('subject')}')")
    base = (compare or {}).get("baseline") or {}
    if base.get("path"):
        return f"{base.get('name')} ({base.get('path')}, set in compare.baseline.path); no previous audit recorded"
    return "none: no previous audit recorded (`blindspot baseline`) and no compare.baseline.path"


def to_json(result: GateResult) -> dict:
    """The body of ``metrics/gate.json``."""
    return {"passed": int(result.passed), "n_rules": len(result.checks),
            "n_failed": sum(not c.passed for c in result.checks), "baseline": result.baseline,
            "rules": {c.rule: {"passed": int(c.passed), "summary": c.summary, "failures": list(c.failures)}
                      for c in result.checks}}


def markdown(result: GateResult) -> str:
    """The summary a CI system shows: the verdict, then each rule with its numbers and what broke it."""
    lines = [f"# blindspot gate: {'PASSED' if result.passed else 'FAILED'}", "",
             f"Baseline audit: {result.baseline}.", "", "| rule | result | numbers |", "| --- | --- | --- |"]
    lines += [f"| `{c.rule}` | {'pass' if c.passed else '**FAIL**'} | {c.summary} |" for c in result.checks]
    for c in result.checks:
        if c.failures:
            lines += ["", f"## `{c.rule}` failed", ""] + [f"- {item}" for item in c.failures]
    if result.lifecycle:
        lines += ["", "## Blind spots against the baseline", "", "| blind spot | key | metric | status | before | now |",
                  "| --- | --- | --- | --- | ---: | ---: |"]
        for e in result.lifecycle:
            status = e["status"] + (f" ({e['trend']})" if e["status"] == "persisting" else "")
            lines.append(f"| {display_name(e)} | `{e['key']}` | {e['metric']} | {status} | {_num(e['previous_value'])} "
                         f"| {_num(e['value'])} |")
    return "\n".join(lines) + "\n"


def junit_xml(result: GateResult) -> str:
    """A JUnit XML report: one test case per rule, a failure element naming what broke it."""
    suite = ET.Element("testsuite", name="blindspot gate", tests=str(len(result.checks)),
                       failures=str(sum(not c.passed for c in result.checks)), errors="0")
    for c in result.checks:
        case = ET.SubElement(suite, "testcase", classname="blindspot.gate", name=c.rule)
        if not c.passed:
            failure = ET.SubElement(case, "failure", message=c.summary)
            failure.text = "\n".join(c.failures) or c.summary
        else:
            ET.SubElement(case, "system-out").text = c.summary
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
