"""Number and word formatting for the brief: every value is shown through these, and a value that was
not measured reads "not measurable: <reason>" (:class:`blindspot.report.load.Unmeasured`).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from blindspot.report.document import Break, Code, Run, run
from blindspot.report.load import GENERIC_REASON, Estimate, measured


def not_measurable(x) -> str:
    """What the brief shows for a value the metrics file does not give: "not measurable: <reason>"."""
    if x is None:
        return "n/a"
    return f"not measurable: {getattr(x, 'reason', None) or GENERIC_REASON}"

def f3(x) -> str:
    return f"{x:.3f}" if measured(x) else not_measurable(x)

def f2(x) -> str:
    return f"{x:.2f}" if measured(x) else not_measurable(x)

def g(x) -> str:
    """A setting (a threshold, an FDR level) as written."""
    return f"{x:g}" if measured(x) else not_measurable(x)

def cnt(x) -> str:
    """A count with thousands separators."""
    return f"{int(x):,}" if measured(x) else not_measurable(x)

def level(x) -> str:
    """A confidence level as a percentage (0.95 -> "95%")."""
    return f"{x:.0%}" if measured(x) else not_measurable(x)

def share(part, whole) -> float:
    """``part / whole``, NaN when either is unmeasured or the whole is 0 (presentation only)."""
    return part / whole if measured(part) and measured(whole) and whole else math.nan

def pct(x, digits: int = 0) -> str:
    return f"{100 * x:.{digits}f}%" if measured(x) else not_measurable(x)

def f1(x) -> str:
    return f"{x:.1f}" if measured(x) else not_measurable(x)

def pct1(x) -> str:
    return pct(x, 1)

def signed(x, digits: int = 3) -> str:
    return f"{x:+.{digits}f}" if measured(x) else not_measurable(x)

def interval(e: Optional[Estimate], fmt=f3) -> str:
    """``[low, high]``, or "" when the estimate carries no interval."""
    if e is None or not e.has_interval or not e.ok:
        return ""
    return f"[{fmt(e.ci_low)}, {fmt(e.ci_high)}]"

def est(e: Optional[Estimate], fmt=f3) -> str:
    """``value [low, high]``, or "not measurable: <reason>"."""
    if e is None:
        return "n/a"
    ci = interval(e, fmt)
    return f"{fmt(e.value)} {ci}" if ci else fmt(e.value)

def points(x) -> str:
    return f"{100 * x:.1f}" if measured(x) else not_measurable(x)

def qtext(q, name: str = "q") -> str:
    if not measured(q):
        return "not tested" if q is None else f"{name} {not_measurable(q)}"
    return f"{name} < 0.001" if q < 0.001 else f"{name} = {q:.3f}"

def qcell(q) -> str:
    """A q value in a table whose column is headed "q"."""
    if not measured(q):
        return "not tested" if q is None else not_measurable(q)
    return "<\u00a00.001" if q < 0.001 else f"{q:.3f}"  # no break inside a narrow column

def metric_label(metric: str) -> str:
    if metric.startswith("recall_"):
        return f"recall of '{metric[len('recall_'):]}'"
    if metric.startswith("precision_"):
        return f"precision of '{metric[len('precision_'):]}'"
    return {"error_rate": "error rate", "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
            "f1_macro": "macro F1", "f1_weighted": "weighted F1", "mcc": "MCC", "cohen_kappa": "Cohen's kappa",
            "confidently_incorrect_rate": "confidently incorrect rate", "recall": "recall", "precision": "precision",
            "f1": "F1"}.get(metric, metric.replace("_", " "))

def kappa_strength(k) -> str:
    """Landis and Koch's (1977) words for a kappa value."""
    if not measured(k):
        return "undefined"
    for bound, word in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if k < bound:
            return word
    return "almost perfect"

def sentence_join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]

def slice_name(description: str, key: str) -> Run:
    """A slice in plain words with its key beneath (a table cell)."""
    return run(description, Break(), Code(key)) if description and description != key else run(Code(key))


def failures(f, *, broken: bool = False) -> Run:
    """"7 of 86 'positive' reviews": the failures behind the rate over the reviews it is computed on
    (presentation only); ``broken`` puts what was counted on a line of its own (a narrow table cell)."""
    rate = f.value.value if f.metric == "error_rate" else 1 - f.value.value
    if not measured(rate):
        return run(not_measurable(rate))
    of = f"'{f.metric[len('recall_'):]}' reviews" if f.metric.startswith("recall_") else "reviews"
    return run(f"{cnt(round(rate * f.n))} of {cnt(f.n)}", Break() if broken else " ", of)
