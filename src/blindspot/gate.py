"""The release gate: which rules of ``conf/gate/`` the current audit breaks, with the numbers.

Pure functions over the results files as loaded JSON (``reports/findings.json``,
``metrics/profile.json``, ``metrics/compare.json``) and the baseline audit's findings; the
command line (:mod:`blindspot.cli`, ``blindspot gate``) reads them, writes the Markdown
summary and the JUnit XML report, and exits 1 when a rule fails. The rules:

- ``new_blind_spot``: a blind spot of its own, identified by slice key and metric, that the
  baseline audit did not have (the identity the brief and ``dvc metrics diff`` use);
- ``new_weak_class``: a class whose recall is significantly below the other classes' that was
  not weak in the baseline audit;
- ``worse_than_baseline``: a metric the compare stage's paired tests find significantly worse
  than the baseline's after false-discovery control (global, per class, watchlist slices);
- ``floors``: a headline number below its configured floor.

Without a baseline audit the two "new" rules cannot be judged: they pass and say so, so the
first audit of a project never fails for having findings (the floors still apply).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional
from xml.etree import ElementTree as ET

from blindspot.lifecycle import lifecycle

PROFILE_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "mcc", "cohen_kappa")


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
    baseline: str  # what the "new" rules compared against, in words
    lifecycle: dict = field(default_factory=dict)  # (key, metric) -> status (blindspot.lifecycle), with a baseline


def own_blind_spots(findings: list) -> dict:
    """(slice key, metric) -> finding, for every ranked blind spot of its own (significant within its classes)."""
    return {(f["key"], f["metric"]): f for f in findings
            if f.get("source") != "class" and f.get("significant") and f.get("rank") is not None}


def weak_classes(findings: list) -> dict:
    """class name -> finding, for every class whose recall is significantly below the other classes'."""
    return {(f.get("slice") or {}).get("label", f["key"]): f for f in findings
            if f.get("source") == "class" and f.get("significant")}


def _num(x, fmt: str = ".3f") -> str:
    """A number as text; "n/a" for a null (the files write NaN as null)."""
    return format(x, fmt) if isinstance(x, (int, float)) and not isinstance(x, bool) else "n/a"


def _estimate(f: Mapping) -> str:
    return f"{_num((f.get('estimate') or {}).get('value'))} against {_num(f.get('rest_value'))} elsewhere"


def _new(rule: str, current: dict, baseline: Optional[dict], what: str, describe) -> Check:
    if baseline is None:
        return Check(rule, True, f"not judged: no baseline audit to compare with ({len(current)} {what} now)")
    new = sorted(set(current) - set(baseline), key=str)
    closed = len(set(baseline) - set(current))
    summary = f"{len(new)} new ({len(current)} {what} now, {len(baseline)} in the baseline, {closed} closed)"
    return Check(rule, not new, summary, tuple(describe(k, current[k]) for k in new))


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


def evaluate(cfg, *, findings: list, profile: Mapping, compare: Optional[Mapping],
             baseline_findings: Optional[list], baseline: str) -> GateResult:
    """Check every rule ``cfg`` (:class:`blindspot.config.GateConfig`) turns on.

    Parameters
    ----------
    findings, profile, compare
        The current audit's ``reports/findings.json`` (a list), ``metrics/profile.json`` and
        ``metrics/compare.json`` (None when absent).
    baseline_findings : list or None
        The baseline audit's ``reports/findings.json``; None when there is none.
    baseline : str
        What the baseline is, in words (shown in the summary).
    """
    checks = []
    if cfg.new_blind_spot:
        checks.append(_new("new_blind_spot", own_blind_spots(findings),
                           None if baseline_findings is None else own_blind_spots(baseline_findings),
                           "blind spots of their own",
                           lambda k, f: f"{k[0]} {k[1]} (n = {f.get('slice_n')}): {_estimate(f)}, q within classes "
                                        f"= {_num(f.get('conditional_q_value', f.get('q_value')), '.3g')}"))
    if cfg.new_weak_class:
        checks.append(_new("new_weak_class", weak_classes(findings),
                           None if baseline_findings is None else weak_classes(baseline_findings),
                           "weak classes",
                           lambda k, f: f"'{k}' recall {_estimate(f)}, q = {_num(f.get('q_value'), '.3g')}"))
    if cfg.worse_than_baseline:
        checks.append(_worse_check(compare))
    checks += _floor_checks(dict(cfg.floors or {}), profile)
    statuses = lifecycle(own_blind_spots(findings),
                         None if baseline_findings is None else own_blind_spots(baseline_findings), compare)
    return GateResult(all(c.passed for c in checks), tuple(checks), baseline, statuses)


def markdown(result: GateResult) -> str:
    """The summary a CI system shows: the verdict, then each rule with its numbers and what broke it."""
    lines = [f"# blindspot gate: {'PASSED' if result.passed else 'FAILED'}", "",
             f"Baseline audit: {result.baseline}.", "", "| rule | result | numbers |", "| --- | --- | --- |"]
    lines += [f"| `{c.rule}` | {'pass' if c.passed else '**FAIL**'} | {c.summary} |" for c in result.checks]
    for c in result.checks:
        if c.failures:
            lines += ["", f"## `{c.rule}` failed", ""] + [f"- {item}" for item in c.failures]
    if result.lifecycle:
        lines += ["", "## Blind spots against the baseline", "", "| slice | metric | status | baseline | now |",
                  "| --- | --- | --- | ---: | ---: |"]
        for (key, metric), e in result.lifecycle.items():
            status = e["status"] + (f" ({e['trend']})" if e["status"] == "persisting" else "")
            lines.append(f"| `{key}` | {metric} | {status} | {_num(e['previous_value'])} | {_num(e['value'])} |")
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
