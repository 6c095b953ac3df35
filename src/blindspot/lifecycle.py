"""The life of each blind spot across versions: new, persisting (better, worse, unchanged), closed, reopened.

A blind spot's identity is its slice key and metric (``condition__birth_control`` /
``recall_positive``), the same in ``reports/findings.json``, ``metrics/slices.json`` and
``dvc metrics diff``. Against the previous audited version, a blind spot of its own is

- **new**: not a blind spot in the previous version, and never one before (as far as the
  previous version's own lifecycle records);
- **reopened**: not one in the previous version, but closed earlier (the previous lifecycle
  lists it as closed);
- **persisting**: one in both; **better** or **worse** when the compare stage's paired test on
  that slice and metric changed after false-discovery control, **unchanged** otherwise (also
  when the slice is not paired: only watchlist slices are);
- **closed**: one in the previous version, not any more.

Pure functions over loaded JSON; :mod:`blindspot.gate` and the command line use them.
"""

from __future__ import annotations

from typing import Mapping, Optional

STATUSES = ("new", "reopened", "persisting", "closed")


def _paired(compare: Optional[Mapping], key: str, metric: str) -> Optional[Mapping]:
    """The compare stage's paired entry for a slice and metric, when it tested one (watchlist slices)."""
    if not compare or compare.get("status") != "compared":
        return None
    # compare.json names a slice's error rate by its complement, accuracy (one direction for all its metrics)
    name = "accuracy" if metric == "error_rate" else metric
    entry = ((compare.get("watchlist") or {}).get(key) or {}).get(name)
    return entry if isinstance(entry, Mapping) and entry.get("tested") else None


def _trend(entry: Optional[Mapping]) -> str:
    if entry is None or not entry.get("changed"):
        return "unchanged"
    return {"improved": "better", "worsened": "worse"}.get(entry.get("direction"), "unchanged")


def lifecycle(current: Mapping, previous: Optional[Mapping], compare: Optional[Mapping] = None,
              previous_closed: frozenset = frozenset()) -> dict:
    """The status of every blind spot of the current or the previous version.

    Parameters
    ----------
    current, previous : mapping of (slice key, metric) -> finding
        The blind spots of their own (:func:`blindspot.gate.own_blind_spots`) of this version
        and of the previous one; ``previous`` None when there is no previous audit.
    compare : mapping, optional
        ``metrics/compare.json`` of this version (its paired tests give better and worse).
    previous_closed : frozenset of (slice key, metric)
        What the previous version's lifecycle recorded as closed (a return makes "reopened").

    Returns
    -------
    dict
        (slice key, metric) -> {"status", "trend" (persisting only), "value", "previous_value"},
        in key order. Empty when there is no previous audit: nothing can be told apart then.
    """
    if previous is None:
        return {}
    out = {}
    for ident in sorted(set(current) | set(previous)):
        now, before = current.get(ident), previous.get(ident)
        entry = {"value": _value(now), "previous_value": _value(before)}
        if now is not None and before is not None:
            entry.update(status="persisting", trend=_trend(_paired(compare, *ident)))
        elif now is not None:
            entry["status"] = "reopened" if ident in previous_closed else "new"
        else:
            entry["status"] = "closed"
        out[ident] = entry
    return out


def _value(finding: Optional[Mapping]) -> Optional[float]:
    return None if finding is None else (finding.get("estimate") or {}).get("value")


def counts(statuses: Mapping) -> dict:
    """How many blind spots have each status (and each persisting trend)."""
    out = {s: 0 for s in STATUSES}
    out.update({f"persisting_{t}": 0 for t in ("better", "worse", "unchanged")})
    for entry in statuses.values():
        out[entry["status"]] += 1
        if entry["status"] == "persisting":
            out[f"persisting_{entry['trend']}"] += 1
    return out
