"""The life of each blind spot across versions: new, persisting (better, worse, unchanged), closed, reopened.

A blind spot's identity is its key and metric, the same in ``reports/findings.json``,
``metrics/slices.json`` and the brief. Two kinds are tracked: a slice that is a blind spot
of its own (significant within its true classes: ``condition__birth_control`` /
``recall_positive``) and a weak class (its recall significantly below the other classes':
``class__negative`` / ``recall``). Against the previous audited version (recorded by
``blindspot baseline``, :mod:`blindspot.baseline`) each is

- **new**: not one in the previous version, and not closed earlier;
- **reopened**: not one in the previous version, but closed at an earlier one (the previous
  version's lifecycle carries every blind spot closed so far, so a return after several
  versions is still a reopening);
- **persisting**: one in both; **better** or **worse** when the compare stage's paired test
  on that slice (or class recall) changed after false-discovery control, **unchanged**
  otherwise (also when no paired test exists: only watchlist slices and classes are paired);
- **closed**: one in the previous version, not any more;
- **open**: no previous audit is recorded, so nothing can be told apart.

The lifecycle stage writes :func:`track`'s document to ``reports/lifecycle.json``; the gate,
the brief and ``blindspot history`` read it. Pure functions over loaded JSON.
"""

from __future__ import annotations

from typing import Mapping, Optional

STATUSES = ("new", "reopened", "persisting", "closed")
TRENDS = ("better", "worse", "unchanged")
TRACKED, NO_BASELINE, NOT_TRACKED = "tracked", "no_baseline", "not_tracked"
SLICE, CLASS = "slice", "class"


def own_blind_spots(findings: list) -> dict:
    """(slice key, metric) -> finding, for every ranked blind spot of its own (significant within its classes)."""
    return {(f["key"], f["metric"]): f for f in findings
            if f.get("source") != "class" and f.get("significant") and f.get("rank") is not None}


def weak_classes(findings: list) -> dict:
    """(class key, "recall") -> finding, for every class whose recall is significantly below the other classes'."""
    return {(f["key"], f["metric"]): f for f in findings if f.get("source") == "class" and f.get("significant")}


def blind_spots(findings: list) -> dict:
    """Every tracked identity of one audit: the blind spots of their own and the weak classes."""
    return {**own_blind_spots(findings), **weak_classes(findings)}


def kind_of(finding: Mapping) -> str:
    return CLASS if finding.get("source") == "class" else SLICE


def label_of(finding: Mapping) -> str:
    """How a person names it: the class, or the slice's plain description."""
    if kind_of(finding) == CLASS:
        return str((finding.get("slice") or {}).get("label") or finding["key"])
    return str(finding.get("description") or finding["key"])


def display_name(entry: Mapping) -> str:
    """A lifecycle entry's name for people: the slice in words, or "class '<c>'" for a weak class."""
    return f"class '{entry['label']}'" if entry.get("kind") == CLASS else str(entry["label"])


def _paired(compare: Optional[Mapping], finding: Mapping) -> Optional[Mapping]:
    """The compare stage's paired entry for a blind spot, when it made one (watchlist slices, classes)."""
    if not compare or compare.get("status") != "compared":
        return None
    if kind_of(finding) == CLASS:
        cls = (finding.get("slice") or {}).get("label")
        entry = (((compare.get("global") or {}).get("per_class") or {}).get(cls) or {}).get("recall")
    else:
        # compare.json names a slice's error rate by its complement, accuracy (one direction for all its metrics)
        name = "accuracy" if finding["metric"] == "error_rate" else finding["metric"]
        entry = ((compare.get("watchlist") or {}).get(finding["key"]) or {}).get(name)
    return entry if isinstance(entry, Mapping) and entry.get("tested") else None


def _trend(entry: Optional[Mapping]) -> str:
    if entry is None or not entry.get("changed"):
        return "unchanged"
    return {"improved": "better", "worsened": "worse"}.get(entry.get("direction"), "unchanged")


def _value(finding: Optional[Mapping]) -> Optional[float]:
    return None if finding is None else (finding.get("estimate") or {}).get("value")


def lifecycle(current: Mapping, previous: Optional[Mapping], compare: Optional[Mapping] = None,
              previous_closed: frozenset = frozenset()) -> dict:
    """The status of every blind spot of the current or the previous version.

    Parameters
    ----------
    current, previous : mapping of (key, metric) -> finding
        The tracked blind spots (:func:`blind_spots`) of this version and of the previous
        one; ``previous`` None when there is no previous audit.
    compare : mapping, optional
        ``metrics/compare.json`` of this version (its paired tests give better and worse).
    previous_closed : frozenset of (key, metric)
        Every blind spot closed at an earlier version and not back since (a return makes "reopened").

    Returns
    -------
    dict
        (key, metric) -> {"status", "trend" (persisting only), "value", "previous_value"}, in key
        order. Empty when there is no previous audit: nothing can be told apart then.
    """
    if previous is None:
        return {}
    out = {}
    for ident in sorted(set(current) | set(previous)):
        now, before = current.get(ident), previous.get(ident)
        entry = {"value": _value(now), "previous_value": _value(before)}
        if now is not None and before is not None:
            entry.update(status="persisting", trend=_trend(_paired(compare, now)))
        elif now is not None:
            entry["status"] = "reopened" if ident in previous_closed else "new"
        else:
            entry["status"] = "closed"
        out[ident] = entry
    return out


def counts(statuses: Mapping) -> dict:
    """How many blind spots have each status (and each persisting trend)."""
    out = {s: 0 for s in STATUSES}
    out.update({f"persisting_{t}": 0 for t in TRENDS})
    for entry in statuses.values():
        out[entry["status"]] += 1
        if entry["status"] == "persisting":
            out[f"persisting_{entry['trend']}"] += 1
    return out


def _closed_so_far(previous_doc: Optional[Mapping]) -> dict:
    """(key, metric) -> record of every blind spot closed by the previous version and not back in it."""
    doc = previous_doc or {}
    out = {(e["key"], e["metric"]): dict(e) for e in doc.get("closed_earlier") or []}
    for e in doc.get("blind_spots") or []:
        if e.get("status") == "closed":
            out[(e["key"], e["metric"])] = {k: e.get(k) for k in ("key", "metric", "kind", "label")}
            out[(e["key"], e["metric"])]["closed_in"] = doc.get("current")
        else:
            out.pop((e["key"], e["metric"]), None)
    return out


def track(findings: list, *, current_name: str, compare: Optional[Mapping] = None,
          previous_findings: Optional[list] = None, previous_doc: Optional[Mapping] = None,
          previous: Optional[Mapping] = None, reason: str = "") -> dict:
    """The lifecycle document of one audited version (``reports/lifecycle.json`` without ``schema_version``).

    Parameters
    ----------
    findings : list
        This version's ``reports/findings.json``.
    current_name : str
        This version's model name (``model.name``).
    compare : mapping, optional
        This version's ``metrics/compare.json``.
    previous_findings : list, optional
        The previous audited version's findings (``baseline/findings.json``); None when no
        previous audit is recorded or it cannot be used (``reason`` says why).
    previous_doc : mapping, optional
        The previous version's own lifecycle document (``baseline/lifecycle.json``), for the
        blind spots closed before it and when each was first seen.
    previous : mapping, optional
        Which version the previous one is (name, rev, commit, committed, subject).
    reason : str
        Why nothing is tracked, when ``previous_findings`` is None.

    Returns
    -------
    dict
        ``status`` (tracked, no_baseline, not_tracked), ``reason``, ``current``, ``previous``,
        ``counts`` (open and every status), ``blind_spots`` (one entry per identity, key order)
        and ``closed_earlier`` (closed before and still closed).
    """
    current = blind_spots(findings)
    prev = None if previous_findings is None else blind_spots(previous_findings)
    closed_so_far = _closed_so_far(previous_doc) if prev is not None else {}
    statuses = lifecycle(current, prev, compare, frozenset(set(closed_so_far) - set(prev or {})))
    first_seen = {(e["key"], e["metric"]): e.get("first_seen") for e in (previous_doc or {}).get("blind_spots") or []}
    entries = []
    for ident in sorted(set(current) | set(prev or {})):
        finding = current.get(ident) or prev[ident]
        st = statuses.get(ident, {"status": "open", "value": _value(finding), "previous_value": None})
        seen = current_name if st["status"] in ("new", "reopened", "open") else (
            first_seen.get(ident) or (previous or {}).get("name"))
        entries.append({"key": ident[0], "metric": ident[1], "kind": kind_of(finding), "label": label_of(finding),
                        "status": st["status"], "trend": st.get("trend"), "value": st["value"],
                        "previous_value": st["previous_value"], "q_value": (current.get(ident) or {}).get("q_value"),
                        "first_seen": seen})
    n = counts(statuses)
    n["open"] = len(current)
    status = TRACKED if prev is not None else (NOT_TRACKED if previous else NO_BASELINE)
    still_closed = [closed_so_far[i] for i in sorted(closed_so_far) if i not in current]
    return {"status": status, "reason": "" if prev is not None else reason, "current": current_name,
            "previous": dict(previous) if previous else None, "counts": n, "blind_spots": entries,
            "closed_earlier": still_closed}
