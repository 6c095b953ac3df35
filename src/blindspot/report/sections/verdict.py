"""The verdict: the status line (:func:`blindspot.report.reasoning.status`) and short sentences."""

from __future__ import annotations

from blindspot.report.complete import SECTION_TITLES, STATS_TITLE
from blindspot.report.document import BulletList, Callout, Code, Em, Heading, Paragraph, run
from blindspot.report.fmt import cnt, est, f2, f3, g, interval, level, metric_label, not_measurable, pct, pct1, points
from blindspot.report.load import Inputs, measured
from blindspot.report.reasoning import (INCOMPLETE, NOT_READY, class_mix_entries, collapsed_classes, leakage_suspected,
                                        own_entries, status, weak_classes)


def _status_line(st) -> Callout:
    """The brief's first line: "NOT READY: 2 weak classes, 1 blind spot of its own; also 49 confidently wrong"."""
    kind = {NOT_READY: "warning", INCOMPLETE: "note"}.get(st.label, "ok")
    names = {"weak class": st.weak, "weak classes": st.weak,
             "blind spot of its own": [e.lead.description for e in st.own],
             "blind spots of their own": [e.lead.description for e in st.own]}

    def phrase(n, words):
        named = names.get(words) or ()
        quoted = ("'{}'" if words.startswith("weak") else "\u201c{}\u201d").format
        # Named only while the names stay short: the status is one line read in seconds.
        listed = ", ".join(quoted(x) for x in named)
        shown = f" ({listed})" if 0 < len(named) <= 3 and len(listed) <= 80 else ""
        return (words if n is None else f"{cnt(n)} {words}") + shown
    lead = (", ".join(phrase(n, w) for n, w in st.blockers) if st.blockers
            else "no class and no slice is significantly worse than the rest")
    also = f"; also {', '.join(phrase(n, w) for n, w in st.notes)}" if st.notes else ""
    return Callout(kind, f"{lead}{also}.", label=st.label)

def _class_bullets(inputs: Inputs, *, max_classes: int = 4) -> list:
    """One short sentence per weak class: collapsed classes first, then the significantly weak ones."""
    out = []
    for c in collapsed_classes(inputs):
        if c.predicted == 0:
            out.append(f"'{c.name}' is never predicted (recall {est(c.recall, f2)}, {cnt(c.support)} reviews).")
        else:
            out.append(f"'{c.name}' is never right (recall {est(c.recall, f2)}), though predicted "
                       f"{cnt(c.predicted)} times.")
    for c, _ in weak_classes(inputs):
        out.append(f"'{c.name}': {pct(1 - c.recall.value)} of its {cnt(c.support)} reviews are missed (recall "
                   f"{est(c.recall, f2)}).")
    if len(out) > max_classes:
        out = out[:max_classes] + [f"{cnt(len(out) - max_classes)} more weak classes: see the class table."]
    return out

def _slice_bullets(inputs: Inputs) -> list:
    sl = inputs.slices
    if sl is None:
        return ["No slice was tested: the slice stage's results are absent."]
    own, mix = own_entries(inputs), class_mix_entries(inputs)
    out = []
    if own:
        top = own[0].lead
        lead = ("1 blind spot of its own:" if len(own) == 1 else f"{cnt(len(own))} blind spots of their own, led by")
        within = (f", {cnt(top.n)} of them '{top.metric[len('recall_'):]}'" if top.metric.startswith("recall_")
                  else "")
        out.append(f"{lead} \u201c{top.description}\u201d ({cnt(top.slice_n)} reviews{within}): "
                   f"{metric_label(top.metric)} {f2(top.value.value)} against {f2(top.rest_value)} elsewhere.")
    else:
        out.append(f"No slice is worse than the rest within its true classes ({cnt(sl.n_tests)} tests).")
    if mix:
        out.append(f"{cnt(len(mix))} slice{'s make' if len(mix) != 1 else ' makes'} more errors only because "
                   f"{'they hold' if len(mix) != 1 else 'it holds'} more of the weak classes.")
    return out

def _calibration_bullets(cal) -> list:
    if cal is None:
        return []
    if not measured(cal.confident.count):
        return [f"Reviews wrong with confidence ≥ {g(cal.threshold)}: {not_measurable(cal.confident.count)}."]
    out = []
    if cal.confident.count > 0:
        out.append(f"{cnt(cal.confident.count)} reviews ({pct(cal.confident.rate.value, 1)}) are wrong with "
                   f"confidence ≥ {g(cal.threshold)}.")
    o = cal.overconfidence
    if o.has_interval and o.ci_low > 0:
        out.append(f"The model is overconfident: confidence exceeds accuracy by {points(o.value)} points "
                   f"{interval(o, points)}.")
    elif o.has_interval and o.ci_high < 0:
        out.append(f"The model is underconfident: accuracy exceeds confidence by {points(-o.value)} points "
                   f"[{points(-o.ci_high)}, {points(-o.ci_low)}].")
    return out

def verdict(inputs: Inputs, *, alpha: float) -> list:
    """The status line and the verdict in short sentences; the statistics behind them are in the footnote."""
    p = inputs.profile
    acc, lift = p.accuracy, p.lift
    first = f"Accuracy {est(acc)} on {cnt(p.n_rows)} reviews"
    base = f"always answering '{p.majority_class}' ({f3(p.majority_baseline)})"
    if not lift.ok:
        first += f"; its gap to {base} is {not_measurable(lift.value)}."
    elif lift.has_interval and lift.ci_low > 0:
        first += f": {points(lift.value)} points [{points(lift.ci_low)}, {points(lift.ci_high)}] above {base}."
    elif lift.has_interval and lift.ci_high < 0:
        first += f": {points(-lift.value)} points below {base}."
    else:
        first += f": no better than {base} (difference {points(lift.value)} points {interval(lift, points)})."
    items = [first, f"Balanced accuracy (every class weighed equally) {est(p.balanced_accuracy)}."]
    items += _class_bullets(inputs) + _slice_bullets(inputs) + _calibration_bullets(inputs.calibration)
    if leakage_suspected(inputs, alpha):
        d = p.duplicates
        items.append(f"Repeated texts are easier ({pct1(d.accuracy_duplicated.value)} right against "
                     f"{pct1(d.accuracy_unique.value)} on once-only texts): check for train/test leakage.")
    cmp_ = inputs.comparison
    if cmp_ and cmp_.status == "compared" and not cmp_.baseline_is_current:
        items.append(f"Against {cmp_.baseline_name} on the same {cnt(cmp_.n_paired)} reviews: {cmp_.n_improved} "
                     f"metric{'s' if cmp_.n_improved != 1 else ''} better, {cmp_.n_worsened} worse, of "
                     f"{cmp_.n_tests} paired tests.")
    blocks = [Heading(2, SECTION_TITLES[0]), _status_line(status(inputs, alpha=alpha)), BulletList(items)]
    if inputs.slices:
        blocks.append(Paragraph(Em(f"Worse means significantly worse after Benjamini-Hochberg control at FDR "
                                   f"{g(inputs.slices.fdr_alpha)} over {cnt(inputs.slices.n_tests)} tests; "
                                   f"intervals are {level(p.ci_level)}. How each number is tested: “"
                                   f"{STATS_TITLE}” at the end.")))
    if inputs.problems or inputs.missing:
        items = [run(x) for x in inputs.problems] + [run(Code(m), " is absent") for m in inputs.missing]
        blocks += [Callout("warning", "Some inputs were missing or unreadable; the sections that need them say so."),
                   BulletList(items)]
    return blocks
