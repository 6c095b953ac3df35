"""The headline: the few numbers a person compares across model versions, picked from the results files.

``dvc metrics diff`` and ``dvc exp show`` show every key of every file declared as a DVC
metric. The detailed results files hold thousands of keys (every slice, bin and test), so
only ``metrics/headline.json`` is declared a metric and it holds a copy of the numbers
worth a column: the global metrics with their intervals, per-class recall, ECE, the
confidently-incorrect rate at the brief's band, the blind spots the brief counts, and the
comparison's summary. Every number is copied from the file that computed it, never
recomputed; its keys are declared in :mod:`blindspot.results.headline`.

The file stays small whatever the data: beyond :data:`MAX_CLASSES` classes only the
:data:`N_WORST_CLASSES` lowest recalls are kept, with a count of the others, so the file
holds at most :data:`MAX_KEYS` keys (DVC's flattened, dotted paths) with room left for
the gate's result.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from blindspot.keys import nearest_threshold, threshold_key
from blindspot.results.estimate import Estimate, measured

MAX_KEYS = 60  # flattened keys, as `dvc metrics show` lists them
MAX_CLASSES = 6  # up to this many classes every recall is kept (4 keys each) ...
N_WORST_CLASSES = 4  # ... beyond it only the lowest recalls, and recall_classes_omitted says how many are left out
GLOBAL_METRICS = ("accuracy", "balanced_accuracy", "f1_macro")


def _estimate(node: Optional[Mapping]) -> dict:
    """An estimate copied through :class:`Estimate` (a null value stays null, with its reason)."""
    return Estimate.decode(node if isinstance(node, Mapping) else {}).encode()


def worst_recalls(per_class: Mapping[str, Mapping], order: list) -> tuple[list, int]:
    """The classes whose recall the headline keeps, and how many it leaves out.

    Parameters
    ----------
    per_class : mapping
        ``metrics/profile.json`` ``per_class``: class name -> its block (``recall`` an estimate).
    order : list of str
        The configured classes, in order (ties keep this order).

    Returns
    -------
    (list of str, int)
        Every class when there are at most :data:`MAX_CLASSES`; otherwise the
        :data:`N_WORST_CLASSES` lowest measured recalls (an unmeasured recall, a class
        with no row, comes after every measured one), and the number left out.
    """
    names = [c for c in order if c in per_class] + [c for c in per_class if c not in order]
    if len(names) <= MAX_CLASSES:
        return names, 0

    def rank(name):
        value = (per_class[name].get("recall") or {}).get("value")
        return (not measured(value), value if measured(value) else 0.0, names.index(name))

    kept = sorted(names, key=rank)[:N_WORST_CLASSES]
    return [c for c in names if c in kept], len(names) - len(kept)


def headline(profile: Mapping, *, slices: Optional[Mapping] = None, calibration: Optional[Mapping] = None,
             compare: Optional[Mapping] = None, lifecycle: Optional[Mapping] = None, gate: Optional[Mapping] = None,
             confident_threshold: float = 0.8) -> dict:
    """The headline metrics of one audited version, from the loaded results files.

    Parameters
    ----------
    profile : mapping
        ``metrics/profile.json``.
    slices : mapping, optional
        ``metrics/slices.json``; its ``family`` counts the blind spots as the brief does
        (:func:`blindspot.report.reasoning.own_entries`, ``class_mix_entries``,
        ``significant_weak_classes``: slices with a ranked finding of their own, slices
        worse only through their class mix, classes significantly below the others).
    calibration : mapping, optional
        ``metrics/calibration.json``.
    compare : mapping, optional
        ``metrics/compare.json``.
    lifecycle : mapping, optional
        ``reports/lifecycle.json``: the blind spots by status, when tracked against a previous version.
    gate : mapping, optional
        ``metrics/gate.json``: whether the release gate passed, and how many rules failed.
    confident_threshold : float
        ``report.confident_threshold``: the band of the confidently-incorrect rate.

    Returns
    -------
    dict
        The body of ``metrics/headline.json`` (without ``schema_version``, which the
        writer adds); a section whose file is not given is left out.
    """
    out: dict[str, Any] = {name: _estimate(profile.get(name)) for name in GLOBAL_METRICS}
    per_class = profile.get("per_class") or {}
    kept, omitted = worst_recalls(per_class, list(profile.get("classes") or []))
    out["recall"] = {c: _estimate(per_class[c].get("recall")) for c in kept}
    out["recall_classes_omitted"] = omitted
    if calibration is not None:
        out["ece"] = _estimate((calibration.get("overall") or {}).get("ece"))
        thresholds = calibration.get("confident_thresholds") or []
        if thresholds:
            band = nearest_threshold(thresholds, confident_threshold)
            rate = ((calibration.get("confidently_incorrect") or {}).get(threshold_key(band)) or {}).get("rate")
            out["confidently_incorrect"] = {"threshold": band, "rate": _estimate(rate)}
    if slices is not None:
        family = slices.get("family") or {}
        out["blind_spots"] = {"own": family.get("n_blind_spots"), "class_mix": family.get("n_class_mix_slices"),
                              "weak_classes": family.get("n_class_findings")}
    if lifecycle is not None and lifecycle.get("status") == "tracked":
        n = lifecycle.get("counts") or {}
        out.setdefault("blind_spots", {}).update({s: n.get(s) for s in ("new", "reopened", "persisting", "closed")})
    if gate is not None:
        out["gate"] = {"passed": gate.get("passed"), "n_failed": gate.get("n_failed")}
    if compare is not None:
        out["comparison"] = {"status": compare.get("status")}
        if compare.get("status") == "compared":
            family = compare.get("family") or {}
            out["comparison"].update(n_improved=family.get("n_improved"), n_worsened=family.get("n_worsened"))
    return out


def n_keys(doc: Any) -> int:
    """The flattened keys of a metrics document, as DVC lists them (one per leaf; lists count as one)."""
    if isinstance(doc, Mapping):
        return sum(n_keys(v) for v in doc.values())
    return 1
