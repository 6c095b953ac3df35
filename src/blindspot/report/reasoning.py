"""What the brief concludes from the loaded findings, before any sentence is written.

Every function here reads the views of :mod:`blindspot.report.load` and returns
findings or counts, never text: which classes are weak, which slices are blind spots
of their own, one entry per slice with all its significant metrics, and the brief's
status line. The prose modules phrase these; the status rule lives here once, so the
verdict, the risk table and any tool that reads the brief's status agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from blindspot.report.load import Finding, Inputs, measured

# The status words, most severe first. NOT READY: a class or a slice is significantly worse than the rest
# (after false-discovery control), or the model got worse than its baseline.
NOT_READY, INCOMPLETE, NO_BLIND_SPOT = "NOT READY", "INCOMPLETE", "NO BLIND SPOT FOUND"


def collapsed_classes(inputs: Inputs) -> list:
    """Classes the model never predicts, or never gets right (recall 0)."""
    return [c for c in inputs.profile.classes if c.support > 0 and (c.predicted == 0 or c.recall.value == 0)]


def class_finding(inputs: Inputs, name: str) -> Optional[Finding]:
    """The slice stage's test of class ``name``'s recall against the other classes, if it ran."""
    if not inputs.slices:
        return None
    return next((f for f in inputs.slices.class_findings if f.label == name), None)


def weak_classes(inputs: Inputs) -> list:
    """Classes whose recall is significantly below the other classes' (slice stage), not collapsed.

    Returns
    -------
    list of (ClassRow, Finding)
    """
    collapsed = {c.name for c in collapsed_classes(inputs)}
    out = []
    for c in inputs.profile.classes:
        f = class_finding(inputs, c.name)
        if f is not None and f.significant and c.name not in collapsed:
            out.append((c, f))
    return out


def significant_weak_classes(inputs: Inputs) -> list:
    """Names of the classes a reader should call weak: collapsed or below the rest, and significantly so."""
    return [c.name for c in inputs.profile.classes
            if (f := class_finding(inputs, c.name)) is not None and f.significant]


def distinct_blind_spots(inputs: Inputs) -> list:
    """The strongest finding of each ranked slice, by rank."""
    seen, out = set(), []
    for f in inputs.slices.blind_spots if inputs.slices else []:
        if f.key not in seen:
            seen.add(f.key)
            out.append(f)
    return out


@dataclass(frozen=True)
class SliceEntry:
    """One slice as one entry of the ranked list: its leading finding and every other significant one.

    ``lead`` is the finding that places the slice (its best rank); ``others`` the slice's
    other significant metrics in the file's order, each worse than the rest after
    false-discovery control (a recall within its class, an error rate possibly only
    through the class mix: ``Finding.evidence`` says which).
    """

    lead: Finding
    others: tuple


def slice_entries(findings: list, all_findings) -> list:
    """One :class:`SliceEntry` per slice key, in the order of ``findings`` (already ranked).

    Parameters
    ----------
    findings : list of Finding
        Ranked findings, possibly several per slice.
    all_findings : iterable of Finding
        Every finding of the slice stage (the significant ones of a slice join its entry).
    """
    out, seen = [], set()
    for f in findings:
        if f.key in seen:
            continue
        seen.add(f.key)
        others = tuple(o for o in all_findings if o.key == f.key and o.significant and o.metric != f.metric
                       and o.source != "class")
        out.append(SliceEntry(f, others))
    return out


def own_entries(inputs: Inputs) -> list:
    """Slices worse than the rest within their true classes, one entry each, by rank."""
    sl = inputs.slices
    return slice_entries(sl.blind_spots, sl.findings) if sl else []


def class_mix_entries(inputs: Inputs) -> list:
    """Slices worse only through their mix of true classes and not blind spots of their own, one entry each."""
    sl = inputs.slices
    if not sl:
        return []
    own = {e.lead.key for e in own_entries(inputs)}
    return [e for e in slice_entries(sl.class_mix, sl.findings) if e.lead.key not in own]


def leakage_suspected(inputs: Inputs, alpha: float) -> bool:
    """Repeated texts are significantly easier than once-only texts (one pre-specified test at ``alpha``)."""
    d = inputs.profile.duplicates
    return d is not None and measured(d.easier_p_value) and d.easier_p_value < alpha


@dataclass(frozen=True)
class Status:
    """The brief's first line: a word, what makes it so, and what else a reader should know.

    ``label`` is :data:`NOT_READY`, :data:`INCOMPLETE` or :data:`NO_BLIND_SPOT`;
    ``blockers`` and ``notes`` are (count, phrase) pairs such as (2, "weak classes").
    """

    label: str
    blockers: tuple
    notes: tuple
    weak: tuple = ()  # names of the weak classes
    own: tuple = ()  # SliceEntry of the blind spots of their own


def status(inputs: Inputs, *, alpha: float) -> Status:
    """The status of the audited model, from the findings alone.

    NOT READY when a class's recall or a slice is significantly worse than the rest
    after false-discovery control (a slice only when it is worse within its true
    classes), or when a paired test against the baseline found a metric worse. INCOMPLETE when nothing blocks but
    the slice stage's results are absent, so no slice was looked at. Otherwise NO BLIND
    SPOT FOUND, which is the absence of evidence at this false-discovery level, not a
    proof of quality. Confidently wrong predictions, class-mix slices, miscalibration and
    repeated texts that are easier (leakage, or stock phrases: the data cannot tell) are
    noted, never blocking.
    """
    weak = tuple(significant_weak_classes(inputs)) if inputs.slices else ()
    own = tuple(own_entries(inputs))
    blockers = []
    if weak:
        blockers.append((len(weak), "weak class" if len(weak) == 1 else "weak classes"))
    if own:
        blockers.append((len(own), "blind spot of its own" if len(own) == 1 else "blind spots of their own"))
    c = inputs.comparison
    if c and c.status == "compared" and not c.baseline_is_current and c.n_worsened:
        blockers.append((c.n_worsened, f"metric{'s' if c.n_worsened != 1 else ''} worse than {c.baseline_name}"))
    notes = []
    mix = class_mix_entries(inputs)
    if mix:
        notes.append((len(mix), "slice worse only through its class mix" if len(mix) == 1
                      else "slices worse only through their class mix"))
    if leakage_suspected(inputs, alpha):  # a question to check, not proof: stock phrases recur and are easy
        notes.append((None, "repeated texts easier than once-only ones (check for leakage)"))
    cal = inputs.calibration
    if cal and measured(cal.confident.count) and cal.confident.count > 0:
        notes.append((cal.confident.count, f"confidently wrong (confidence \u2265 {cal.threshold:g})"))
    if cal and cal.direction in ("overconfident", "underconfident"):
        notes.append((None, cal.direction))
    if blockers:
        label = NOT_READY
    elif inputs.slices is None:
        label = INCOMPLETE
        blockers.append((None, "the slice stage's results are absent, so no slice was tested"))
    else:
        label = NO_BLIND_SPOT
    return Status(label, tuple(blockers), tuple(notes), weak, own)
