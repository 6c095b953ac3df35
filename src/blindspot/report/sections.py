"""The brief's sections, built from the loaded metrics (:mod:`blindspot.report.load`).

Rules every function here follows:

- every number is a value read from a metrics file, formatted, never computed anew
  (the only arithmetic is presentation: a share as a percentage, ``1 - recall`` as the
  share of a class that is missed, an accuracy difference in points);
- a sentence about a finding appears only when the finding is in the data;
- all text is handed to the document model as text: the renderers escape it.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from blindspot import paths
from blindspot.direction import direction_of, higher_is_better
from blindspot.keys import threshold_key
from blindspot.report.complete import SECTION_TITLES, STATS_TITLE
from blindspot.report.document import (Break, BulletList, Callout, Code, Document, Em, Figure, Heading, Paragraph,
                                       Quote, Run, Strong, Table, plain, run, truncate)
from blindspot.report.load import (GENERIC_REASON, Comparison, Delta, Estimate, Inputs, Unmeasured, headlines,
                                   humanize, measured)
from blindspot.report.reasoning import (INCOMPLETE, NOT_READY, class_finding, class_mix_entries, collapsed_classes,
                                        distinct_blind_spots, leakage_suspected, own_entries, status, weak_classes)

# --------------------------------------------------------------------------- number formatting


def _ok(x) -> bool:
    return measured(x)


def not_measurable(x) -> str:
    """What the brief shows for a value the metrics file does not give: "not measurable: <reason>"."""
    if x is None:
        return "n/a"
    return f"not measurable: {getattr(x, 'reason', None) or GENERIC_REASON}"


def f3(x) -> str:
    return f"{x:.3f}" if _ok(x) else not_measurable(x)


def f2(x) -> str:
    return f"{x:.2f}" if _ok(x) else not_measurable(x)


def g(x) -> str:
    """A setting (a threshold, an FDR level) as written."""
    return f"{x:g}" if _ok(x) else not_measurable(x)


def cnt(x) -> str:
    """A count with thousands separators."""
    return f"{int(x):,}" if _ok(x) else not_measurable(x)


def level(x) -> str:
    """A confidence level as a percentage (0.95 -> "95%")."""
    return f"{x:.0%}" if _ok(x) else not_measurable(x)


def share(part, whole) -> float:
    """``part / whole``, NaN when either is unmeasured or the whole is 0 (presentation only)."""
    return part / whole if _ok(part) and _ok(whole) and whole else math.nan


def pct(x, digits: int = 0) -> str:
    return f"{100 * x:.{digits}f}%" if _ok(x) else not_measurable(x)


def f1(x) -> str:
    return f"{x:.1f}" if _ok(x) else not_measurable(x)


def pct1(x) -> str:
    return pct(x, 1)


def signed(x, digits: int = 3) -> str:
    return f"{x:+.{digits}f}" if _ok(x) else not_measurable(x)


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
    return f"{100 * x:.1f}" if _ok(x) else not_measurable(x)


def qtext(q, name: str = "q") -> str:
    if not _ok(q):
        return "not tested" if q is None else f"{name} {not_measurable(q)}"
    return f"{name} < 0.001" if q < 0.001 else f"{name} = {q:.3f}"


def qcell(q) -> str:
    """A q value in a table whose column is headed "q"."""
    if not _ok(q):
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
    if not _ok(k):
        return "undefined"
    for bound, word in ((0.0, "poor"), (0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if k < bound:
            return word
    return "almost perfect"


def _sentence_join(parts: Sequence[str]) -> str:
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


# --------------------------------------------------------------------------- sections


def slice_name(description: str, key: str) -> Run:
    """A slice in plain words with its key beneath (a table cell)."""
    return run(description, Break(), Code(key)) if description and description != key else run(Code(key))


def _status_line(st) -> Callout:
    """The brief's first line: "NOT READY: 2 weak classes, 1 blind spot of its own; also 49 confidently wrong"."""
    kind = {NOT_READY: "warning", INCOMPLETE: "note"}.get(st.label, "ok")
    names = {"weak class": st.weak, "weak classes": st.weak,
             "blind spot of its own": [e.lead.description for e in st.own],
             "blind spots of their own": [e.lead.description for e in st.own]}

    def phrase(n, words):
        named = names.get(words) or ()
        quoted = ("'{}'" if words.startswith("weak") else "\u201c{}\u201d").format
        shown = f" ({', '.join(quoted(x) for x in named)})" if 0 < len(named) <= 3 else ""
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
        lead = (f"1 blind spot of its own" if len(own) == 1 else f"{cnt(len(own))} blind spots of their own, led by")
        out.append(f"{lead}: “{top.description}” ({cnt(top.slice_n)} reviews): {metric_label(top.metric)} "
                   f"{f2(top.value.value)} against {f2(top.rest_value)} elsewhere.")
    else:
        out.append(f"No slice is worse than the rest within its true classes ({cnt(sl.n_tests)} tests).")
    if mix:
        out.append(f"{cnt(len(mix))} slice{'s make' if len(mix) != 1 else ' makes'} more errors only because "
                   f"{'they hold' if len(mix) != 1 else 'it holds'} more of the weak classes.")
    return out


def _calibration_bullets(cal) -> list:
    if cal is None:
        return []
    if not _ok(cal.confident.count):
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
                     f"{pct1(d.accuracy_unique.value)} on once-only texts): suspect train/test leakage.")
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


def accuracy_lied(inputs: Inputs, *, classes_figure: Optional[str]) -> list:
    p = inputs.profile
    maj = p.cls(p.majority_class)
    predicted = [c for c in p.classes if _ok(c.predicted)]
    top_pred = max(predicted, key=lambda c: c.predicted) if predicted else None
    out = [Heading(2, SECTION_TITLES[1])]
    text = [f"'{p.majority_class}' is {pct(maj.share if maj else math.nan, 1)} of the reviews (the largest class is "
            f"{f1(p.imbalance_ratio)} times the smallest)"
            + (f", and the model answers '{top_pred.name}' for {pct(top_pred.predicted_share, 1)} of them."
               if top_pred else ".")]
    if not _ok(p.imbalance_ratio):
        text[0] = (f"'{p.majority_class}' is {pct(maj.share if maj else math.nan, 1)} of the reviews; the ratio of the "
                   f"largest class to the smallest is {not_measurable(p.imbalance_ratio)}"
                   + (f"; the model answers '{top_pred.name}' for {pct(top_pred.predicted_share, 1)} of them."
                      if top_pred else "."))
    text.append(f"Accuracy counts every review once, so the majority class dominates it: always answering "
                f"'{p.majority_class}' already scores {f3(p.majority_baseline)}.")
    gap = p.accuracy.value - p.balanced_accuracy.value
    if not _ok(gap):
        text.append(f"Balanced accuracy, the mean of the per-class recalls, is {est(p.balanced_accuracy)} and accuracy "
                    f"{est(p.accuracy)}; macro F1 is {est(p.f1_macro)}.")
    elif gap > 0:
        text.append(f"Balanced accuracy, the mean of the per-class recalls, weighs every class equally: "
                    f"{est(p.balanced_accuracy)}, {points(gap)} points below accuracy; macro F1 is {est(p.f1_macro)}.")
    else:
        text.append(f"Balanced accuracy, the mean of the per-class recalls, is {est(p.balanced_accuracy)}, not below "
                    f"accuracy: the class balance is not hiding a weak class here.")
    out.append(Paragraph(" ".join(text)))
    rows = []
    for c in p.classes:
        f = class_finding(inputs, c.name)
        if f is None or f.q_value is None:
            test = "not tested"
        elif f.significant:
            test = run(f"worse than the other classes, {qtext(f.q_value)} (", Code(f.key), ")")
        else:
            test = qtext(f.q_value)
        rows.append([run(Strong(c.name)), f"{cnt(c.support)}", pct(c.share, 1), f"{cnt(c.predicted)}",
                     pct(c.predicted_share, 1), est(c.recall, f2), est(c.precision, f2), f2(c.f1.value), test])
    lvl = level(p.ci_level)
    out.append(Table(["class", "reviews", "share", "predicted", "predicted share", "recall", "precision", "F1",
                      "recall against the other classes"], rows, align=("l", "r", "r", "r", "r", "r", "r", "r", "l"),
                     caption=f"Recall and precision with {lvl} Wilson intervals; last column: the class's recall "
                             f"tested against the other classes'."))
    if classes_figure:
        out.append(Figure(classes_figure, f"How often each class is the true label and the prediction (model "
                                          f"{p.model}, {cnt(p.n_rows)} reviews)."))
    return out


def _share_ci(e: Estimate, lvl: str = "") -> str:
    """"88.9% (95% CI 85.0% to 91.9%)" for an accuracy (``lvl`` names the level), or "not measurable: <reason>"."""
    if not e.ok:
        return not_measurable(e.value)
    if not e.has_interval:
        return pct1(e.value)
    return f"{pct1(e.value)} ({lvl + ' CI ' if lvl else ''}{pct1(e.ci_low)} to {pct1(e.ci_high)})"


def repeated_texts(inputs: Inputs, *, alpha: float) -> list:
    """Repeated texts: accuracy on them against once-only texts, and what a significant gap usually means.

    Reads the profile's ``duplicates`` block (:mod:`blindspot.duplicates`). The test is one
    pre-specified comparison, so its p value is compared with ``alpha`` uncorrected.
    """
    d = inputs.profile.duplicates
    out = [Heading(3, "Repeated texts")]
    if d is None or not _ok(d.groups):
        out.append(Paragraph(f"Repeated texts and leakage: {not_measurable(d.groups if d else None)}."))
        return out
    if d.groups == 0:
        out.append(Paragraph("No review text occurs more than once (ignoring case and spacing), so repeated texts "
                             "cannot inflate accuracy."))
        return out
    lvl = level(inputs.profile.ci_level)
    texts = "1 text occurs" if d.groups == 1 else f"{cnt(d.groups)} texts occur"
    counts = (f"{texts} more than once (ignoring case and spacing; {cnt(d.rows_duplicated)} reviews in all): the "
              f"model is right on {_share_ci(d.accuracy_duplicated, lvl)} of them and on "
              f"{_share_ci(d.accuracy_unique)} of the {cnt(d.rows_unique)} reviews whose text occurs once")
    test = f"one-sided Fisher exact test, each repeated text counted once, {qtext(d.easier_p_value, 'p')}"
    if _ok(d.easier_p_value) and d.easier_p_value < alpha:
        text = [f"Reviews whose text repeats are easier for the model, which usually means leakage. {counts} "
                f"({test}, below {g(alpha)}; a single test fixed in advance, so no correction for multiple tests).",
                f"The usual reason is that the same texts were in the model's training data (train/test leakage): "
                f"the model recalls them rather than reads them, so accuracy on this set overstates accuracy on "
                f"new text: the {pct1(d.accuracy_unique.value)} on once-only reviews is the closer guide (the "
                f"headline accuracy is {pct1(inputs.profile.accuracy.value)}). Short stock phrases that recur are "
                f"also easier on their own: check where the repeats come from."]
    elif _ok(d.easier_p_value):
        text = [f"{counts}, not significantly more often ({test}): no evidence of leakage from repeated texts."]
    else:
        text = [f"{counts}; whether repeated texts are easier cannot be tested ({test})."]
    if not _ok(d.conflicting_groups):
        text.append(f"Conflicting gold labels among repeated texts: {not_measurable(d.conflicting_groups)}.")
    elif d.conflicting_groups > 0:
        text.append(f"{cnt(d.conflicting_groups)} of the repeated texts carry different gold labels on different "
                    f"rows ({cnt(d.rows_in_conflicting_groups)} reviews): the same text labelled two ways is label "
                    f"noise, and no model can be right on every copy.")
    out.append(Paragraph(" ".join(text)))
    return out


def _also(entry) -> str:
    """The slice's other significant metrics: "error rate 0.41 vs 0.26 (q = 0.003, through its class mix)"."""
    parts = []
    for o in entry.others:
        why = ", through its class mix" if o.evidence == "class_mix" else ""
        q = o.conditional_q_value if o.evidence == "within_class" and o.conditional_q_value is not None else o.q_value
        parts.append(f"{metric_label(o.metric)} {f2(o.value.value)} vs {f2(o.rest_value)} ({qtext(q)}{why})")
    return "; ".join(parts)


def _failures(f, *, broken: bool = False) -> Run:
    """"7 of 86 'positive' reviews": the failures behind the rate over the reviews it is computed on
    (presentation only); ``broken`` puts what was counted on a line of its own (a narrow table cell)."""
    rate = f.value.value if f.metric == "error_rate" else 1 - f.value.value
    if not _ok(rate):
        return run(not_measurable(rate))
    of = f"'{f.metric[len('recall_'):]}' reviews" if f.metric.startswith("recall_") else "reviews"
    return run(f"{cnt(round(rate * f.n))} of {cnt(f.n)}", Break() if broken else " ", of)


def _own_table(inputs: Inputs, entries: list, *, max_rows: int) -> list:
    sl, cal = inputs.slices, inputs.calibration
    thr = f"≥ {g(cal.threshold)}" if cal else ""

    def conf_cell(f):
        ci_rate = cal.by_slice.get(f.key) if cal else None
        return f"{pct(ci_rate.rate.value, 1)} ({cnt(ci_rate.count)})" if ci_rate else "n/a"

    rows = []
    for e in entries[:max_rows]:
        f = e.lead
        q_own = f.conditional_q_value if f.conditional_q_value is not None else f.q_value
        # An error rate's errors beside what the slice's class mix predicts (a recall is within one class).
        expected = (run(Break(), f"class mix predicts {f1(f.expected_given_class_mix)}")
                    if f.metric == "error_rate" and f.expected_given_class_mix is not None else ())
        also = run(Break(), Em("also worse: " + _also(e))) if e.others else ()
        rows.append([cnt(f.rank), run(slice_name(f.description, f.key), also),
                     f"{cnt(f.slice_n)} ({pct(share(f.slice_n, sl.n_rows), 1)})", metric_label(f.metric),
                     run(f"{est(f.value, f2)} vs {f2(f.rest_value)}", Break(),
                         f"gap {signed(f.gap.value, 2)} {interval(f.gap, lambda x: signed(x, 2))}"),
                     qcell(q_own), run(_failures(f, broken=True), expected), conf_cell(f)])
    return [Table(["#", "slice", "reviews (share)", "metric", "slice vs rest", "q within classes", "errors",
                   f"confidently incorrect {thr}"], rows, align=("r", "l", "r", "l", "r", "r", "r", "r"), wide=1,
                  caption="One row per slice, ranked by the evidence within its true classes; \u201calso worse\u201d "
                          "names the slice's other significant metrics.")]


def _mix_table(inputs: Inputs, entries: list, *, max_rows: int) -> list:
    sl = inputs.slices
    rows = []
    for e in entries[:max_rows]:
        f = e.lead
        rows.append([slice_name(f.description, f.key), f"{cnt(f.slice_n)} ({pct(share(f.slice_n, sl.n_rows), 1)})",
                     est(f.value, f2), f2(f.rest_value), qcell(f.q_value), qcell(f.conditional_q_value),
                     _failures(f), f1(f.expected_given_class_mix) if f.expected_given_class_mix is not None else "n/a"])
    return [Table(["slice", "reviews (share)", "error rate", "rest", "q against the rest", "q within classes",
                   "errors", "class mix predicts"], rows, align=("l", "r", "r", "r", "r", "r", "r", "r"), wide=0,
                  caption="More errors than the rest, but no worse inside each true class: these slices hold more "
                          "reviews of the classes the model misses everywhere, so fixing those classes closes them.")]


def _more(entries: list, label_q) -> Paragraph:
    return Paragraph(f"{len(entries)} more slice{'s' if len(entries) != 1 else ''} of this kind, in full in ",
                     Code(str(paths.FINDINGS)), ": ",
                     *[x for i, e in enumerate(entries)
                       for x in ((", " if i else ""), Code(e.lead.key),
                                 f" ({metric_label(e.lead.metric)}, {label_q(e.lead)})")], ".")


# Why a watchlist metric was not tested, short enough for a table cell (the full words: load.REASONS).
_SHORT_REASONS = {"below_min_class_support": "too few", "no_variation": "no variation"}


def _watch_cell(f, untested_reason: str = "") -> Run:
    """One metric of a watchlist slice: "0.92 vs 0.99", beneath it "q = 0.010 (86)"; bold when significant."""
    if f is None:
        why = _SHORT_REASONS.get(untested_reason) or humanize(untested_reason)
        return run("not tested", Break(), why) if why else run("not tested")
    if not _ok(f.value.value):
        return run(not_measurable(f.value.value))
    q = f.conditional_q_value if f.evidence == "within_class" and f.conditional_q_value is not None else f.q_value
    head, tail = f"{f2(f.value.value)} vs {f2(f.rest_value)}", f"{qtext(q)} ({cnt(f.n)})"
    return run(Strong(head), Break(), Strong(tail)) if f.significant else run(head, Break(), tail)


def _watch_status(w, tested: list) -> str:
    sig = [f for f in tested if f.significant]
    if not w.tested and not tested:
        return f"not tested: {w.reason}" if w.reason else "not tested"
    own = [f for f in sig if f.evidence == "within_class" or (f.metric != "error_rate" and f.rank is not None)]
    if own:
        return "blind spot of its own" + "".join(f" (#{cnt(f.rank)})" for f in own[:1] if f.rank is not None)
    if sig:
        return "worse only through its class mix"
    return "no significant gap"


def watchlist(inputs: Inputs, *, max_class_columns: int = 4) -> list:
    """Every metric tested on each watchlist slice with its q: the same findings the ranked list ranks."""
    sl = inputs.slices
    if not sl.watchlist:
        return []
    classes = [c.name for c in inputs.profile.classes]
    per_class = len(classes) <= max_class_columns
    metrics = ["error_rate"] + ([f"recall_{c}" for c in classes] if per_class else [])
    rows = []
    for w in sl.watchlist:
        tested = [f for f in sl.findings if f.key == w.key and f.source != "class"]
        by_metric = {f.metric: f for f in tested}
        desc = next((f.description for f in tested), "")
        if not tested:  # nothing measured on this data: the status says why, once
            rows.append([slice_name(desc, w.key), cnt(w.n), *["\u2014"] * (len(metrics) + (not per_class)),
                         _watch_status(w, tested)])
            continue
        cells = [_watch_cell(by_metric.get(m), w.untested.get(m, "")) for m in metrics]
        if not per_class:
            recalls = [f for f in tested if f.metric.startswith("recall_")]
            worse = [f for f in recalls if f.significant]
            cells.append(run(f"{cnt(len(recalls))} tested; " + ("; ".join(
                f"{metric_label(f.metric)} {f2(f.value.value)} vs {f2(f.rest_value)}" for f in worse)
                if worse else "none significantly worse")))
        rows.append([slice_name(desc, w.key), cnt(w.n), *cells, _watch_status(w, tested)])
    header = (["slice", "reviews", "error rate"] + [f"recall of '{c}'" for c in classes if per_class]
              + ([] if per_class else ["recall of each class"]) + ["status"])
    return [Heading(3, "Watchlist"),
            Paragraph("Named slices followed on every model version (", Code("slices.watchlist"),
                      "), whether or not they are blind spots today, with every metric tested on them:"),
            Table(header, rows, align=("l", "r") + ("r",) * (len(header) - 3) + ("l",),
                  caption="Each cell: the slice against the rest, the q value and (in brackets) the reviews the "
                          "metric is computed on; bold: significantly worse. Not tested: too few reviews of the "
                          "class in the slice (slices.min_class_support), or no variation (the metric is the same "
                          "everywhere, e.g. a class never predicted).")]


def blind_spots(inputs: Inputs, *, max_rows: int) -> list:
    out = [Heading(2, SECTION_TITLES[2])]
    sl = inputs.slices
    if sl is None:
        return out + [Callout("warning", "Not run: the slice stage's results (", Code(str(paths.SLICE_METRICS)),
                              " and ", Code(str(paths.FINDINGS)), ") are absent, so no slice was tested. Run ",
                              Code("python -m stages.slice"), " (or ", Code("dvc repro"), ").")]
    own, mix = own_entries(inputs), class_mix_entries(inputs)
    n_sig = sum(1 for f in sl.findings if f.source != "class" and f.significant)
    folded = [f for f in sl.findings if f.source != "class" and f.significant and f.rank is None
              and f.class_mix_rank is None]
    out.append(Paragraph(
        f"{cnt(sl.n_tests)} tests on {cnt(sl.n_slices_tested)} slices; {cnt(n_sig)} slice test"
        f"{'s are' if n_sig != 1 else ' is'} significant after false-discovery control. They make "
        f"{cnt(len(own))} blind spot{'s' if len(own) != 1 else ''} of {'their' if len(own) != 1 else 'its'} own "
        f"(worse inside the true classes) and {cnt(len(mix))} slice{'s' if len(mix) != 1 else ''} worse only "
        f"through {'their' if len(mix) != 1 else 'its'} class mix (the class weakness restated)"
        + (f"; {cnt(len(folded))} significant test{'s' if len(folded) != 1 else ''} on combinations "
           f"{'are' if len(folded) != 1 else 'is'} not listed, being no worse than one of {'their' if len(folded) != 1 else 'its'} "
           f"parts alone (listed below)" if folded else "") + "."))

    out.append(Heading(3, "Worse within its classes: blind spots of their own"))
    if own:
        out += _own_table(inputs, own, max_rows=max_rows)
        if len(own) > max_rows:
            out.append(_more(own[max_rows:], lambda f: qtext(f.conditional_q_value if f.conditional_q_value
                                                             is not None else f.q_value)))
    else:
        out.append(Paragraph("None: no slice is worse than the rest once its mix of true classes is accounted for."))

    out.append(Heading(3, "Worse because it holds more of the weak classes: restates the class weakness"))
    if mix:
        out += _mix_table(inputs, mix, max_rows=max_rows)
        if len(mix) > max_rows:
            out.append(_more(mix[max_rows:], lambda f: qtext(f.q_value)))
    else:
        out.append(Paragraph("None: no slice is worse only through its mix of true classes."))

    if folded:
        out.append(Paragraph(
            "Combinations folded into their parts (significant, but not worse than the rest of one of their "
            "parts inside that part, so the part alone tells the story): ",
            *[x for i, f in enumerate(folded) for x in ((", " if i else ""), Code(f.key),
                                                         f" ({metric_label(f.metric)}, {qtext(f.q_value)})")], "."))
    return out + watchlist(inputs)


# Text features in the words of the coverage table (the others are detector names, shown as keys).
_TEXT_FEATURE_WORDS = {"jargon": "medical jargon", "caps": "words in capitals", "length": "word count"}


def _coverage_what(c) -> list:
    """The first cell of a coverage row: the column or feature and how it was cut."""
    if c.source == "metadata":
        cut = {"categorical": "values", "numeric": "quantile bins", "date": "date quantile bins"}.get(c.kind, "slices")
        detail = (f"{cnt(c.n_values)} value{'s' if c.n_values != 1 else ''}"
                  if c.kind == "categorical" and c.n_values is not None else f"{cnt(c.n_predicates)} {cut}")
        if c.n_pooled:
            detail += f", {cnt(c.n_pooled)} too rare to test alone pooled as \u201cother\u201d"
        return [Code(c.name), f" (metadata, {detail})"]
    words = _TEXT_FEATURE_WORDS.get(c.name)
    if c.name == "length" and c.edges:
        return ["word count (", Code("length_q*"), f": quantile edges {', '.join(str(e) for e in c.edges)} words; "
                f"{cnt(c.n_predicates)} length slices in all)"]
    return [f"{words} (", Code(c.name), ")"] if words else [Code(c.name), " (text detector)"]


def tested_clean(inputs: Inputs) -> list:
    """"What was tested": every metadata column and text feature, its slices and tests, and which
    (if any) survived false-discovery control; a level-3 part of "Ranked blind spots"."""
    sl = inputs.slices
    if sl is None:
        return []
    out = [Heading(3, "What was tested, column by column")]
    if not sl.coverage:
        return out + [Paragraph("Not recorded: ", Code(str(paths.SLICE_METRICS)), " was written before the slice "
                                "stage counted its tests per column; re-run it (", Code("dvc repro"), ").")]
    rows, clean = [], []
    for c in sl.coverage:
        if not c.n_tests and not c.conj_tests:
            result = ("not tested: no value holds enough rows to compare" if c.n_values and c.n_pooled == c.n_values
                      else "not tested: no slice had enough rows (or it held nearly every row)")
        elif c.n_significant:
            result = run(f"{cnt(c.n_significant)} significant test{'s' if c.n_significant != 1 else ''}: ",
                         *[x for i, k in enumerate(c.significant) for x in ((", " if i else ""), Code(k))])
        elif c.conj_reported:
            result = (f"no significant gap alone; {cnt(c.conj_reported)} significant test"
                      f"{'s' if c.conj_reported != 1 else ''} combined with another feature, worse than "
                      f"that feature alone")
        else:
            result = "no significant gap"
            if c.conj_significant:  # e.g. "weak site and sex = F": the site's gap, not one of sex
                result += (f" (combined with another feature, {cnt(c.conj_significant)} significant test"
                           f"{'s' if c.conj_significant != 1 else ''} explained by that feature alone)")
            clean.append(c)
        combined = f"{cnt(c.conj_tests)} ({cnt(c.conj_slices_tested)} slice{'s' if c.conj_slices_tested != 1 else ''})"
        rows.append([run(*_coverage_what(c)), cnt(c.n_slices_tested), cnt(c.n_tests), combined, result])
    names = [x for i, c in enumerate(clean) for x in ((", " if i else ""), Code(c.name))]
    out.append(Paragraph(
        f"Every metadata column and text feature the slice stage cut into slices, with the tests made on them "
        f"(error rate and each class's recall, all in the one Benjamini-Hochberg family at FDR {g(sl.fdr_alpha)}). ",
        *((f"{len(clean)} came out clean, with no significant gap alone or combined: ", *names, ". ") if clean
          else ("None came out clean. ",)),
        "Clean means no evidence of a gap at this false-discovery level, not proof that there is none: the "
        "counts say how much was looked at."))
    out.append(Table(["column or feature", "slices", "tests", "tests combined", "result"], rows,
                     align=("l", "r", "r", "r", "l"), wide=0,
                     caption=run("slices and tests: the feature's own slices (each value, bin or detector) with "
                                 "enough rows to test; tests combined: tests of two-feature combinations that include "
                                 "one of its slices; significant: q at most ", g(sl.fdr_alpha), ".")))
    if sl.skipped_columns:
        out.append(Paragraph("Not sliced: ", *[x for i, (name, why) in enumerate(sl.skipped_columns)
                                               for x in (("; " if i else ""), Code(name), f" ({why})")], "."))
    return out


def evidence(inputs: Inputs) -> list:
    p, cal, fig = inputs.profile, inputs.calibration, inputs.figures
    out = [Heading(2, SECTION_TITLES[3])]
    added = 0
    if "confusion" in fig:
        out.append(Figure(fig["confusion"], f"Confusion matrix of model {p.model} on all {cnt(p.n_rows)} reviews: "
                                            f"counts "
                                            f"(left) and the share of each true class (right), whose diagonal is each "
                                            f"class's recall."))
        added += 1
    if "slice_confusion" in fig and inputs.slices and inputs.slices.blind_spots:
        out.append(Figure(fig["slice_confusion"], "Row-normalised confusion matrices of the top-ranked blind spots: "
                                                  "where inside each slice the errors go."))
        added += 1
    if "forest" in fig:
        lvl = f"{level(inputs.slices.ci_level)} " if inputs.slices else ""
        out.append(Figure(fig["forest"], f"Per-slice forest plot: each tested slice's gap to the rest of the data "
                                         f"with its {lvl}interval, one panel per metric; red marks a finding that "
                                         f"survives false-discovery control."))
        added += 1
    if "reliability" in fig and cal:
        text = f"Reliability diagrams (top label): ECE {est(cal.ece)} with equal-width bins"
        if _ok(cal.ece_noise_floor):
            text += f", against {f3(cal.ece_noise_floor)} expected from sampling noise alone for a calibrated model"
        text += (f"; mean confidence {f3(cal.mean_confidence)} against accuracy {f3(cal.accuracy)} "
                 f"(overconfidence {est(cal.overconfidence)}).")
        out.append(Figure(fig["reliability"], text))
        added += 1
    if "reliability_slices" in fig and cal and cal.by_slice:
        out.append(Figure(fig["reliability_slices"], "Reliability of the slices whose calibration is most credibly off "
                                                     "(highest lower bound of their ECE)."))
        added += 1
    if "confidence_histogram" in fig and cal:
        text = "Confidence of correct and incorrect predictions"
        if _ok(cal.confidence_auroc):
            text += (f": confidence separates right from wrong answers with AUROC {f2(cal.confidence_auroc)} "
                     f"(0.5 is no better than chance, 1 is perfect)")
        out.append(Figure(fig["confidence_histogram"], text + "."))
        added += 1
    if "recalibration" in fig and cal and cal.recal_best:
        out.append(Figure(fig["recalibration"], f"What recalibration would change (cross-fitted): "
                                                f"{cal.recal_best.replace('_', ' ')} takes ECE from "
                                                f"{f3(cal.recal_ece_before)} to {f3(cal.recal_ece_after)}."))
        added += 1
    if cal and not cal.recal_best:
        out.append(Paragraph("Recalibration was not evaluated"
                             + (f": {cal.recal_reason}." if cal.recal_reason else
                                f" (status {cal.recal_status or 'not recorded'}).")))
    if not added:
        out.append(Callout("warning", "No figure was found under ", Code("plots/"), ": run the profile, slice and "
                                      "calibrate stages."))
    return out


def examples(inputs: Inputs, *, n_examples: int, max_chars: int) -> list:
    out = [Heading(2, SECTION_TITLES[4])]
    cal = inputs.calibration
    if cal is None:
        return out + [Callout("warning", "Not run: the calibrate stage's results (",
                              Code(str(paths.CALIBRATION_METRICS)),
                              ") are absent. Run ", Code("python -m stages.calibrate"), " (or ", Code("dvc repro"),
                              ").")]
    rows = [e for e in inputs.examples if e.confidence >= cal.threshold][:n_examples]
    c = cal.confident
    if not _ok(c.count):
        out.append(Paragraph(f"The number of reviews wrong with confidence \u2265 {g(cal.threshold)} is "
                             f"{not_measurable(c.count)}."))
    elif c.count == 0:
        out.append(Paragraph(f"No review is wrong with confidence \u2265 {g(cal.threshold)}."))
    else:
        out.append(Paragraph(
            f"{cnt(c.count)} reviews are wrong with confidence \u2265 {g(cal.threshold)} ({est(c.rate, pct1)} of "
            f"all reviews, {pct(c.share_of_errors)} of the errors). The {len(rows)} most confident, as written "
            f"(escaped, cut at {max_chars} characters):"))
    by_class = [f"'{name}' {pct(r.rate.value, 1)} ({cnt(r.count)})" for name, r in cal.by_class.items()
                if _ok(r.count) and r.count > 0 and r.rate.ok]
    unmeasured = [f"'{name}' {not_measurable(r.rate.value if not r.rate.ok else r.count)}"
                  for name, r in cal.by_class.items() if not (_ok(r.count) and r.rate.ok)]
    if by_class or unmeasured:
        parts = []
        if by_class:
            parts.append(f"By true class, the share wrong with confidence \u2265 {g(cal.threshold)}: "
                         + ", ".join(by_class) + ".")
        if unmeasured:
            parts.append("By true class, " + "; ".join(unmeasured) + ".")
        out.append(Paragraph(" ".join(parts)))
    for e in rows:
        meta = [f"#{cnt(e.rank)} \u00b7 ", Code(e.id), " \u00b7 gold ", Strong(e.label), " \u00b7 predicted ",
                Strong(e.prediction), f" at confidence {f3(e.confidence)}"]
        if _ok(e.probability_of_label):
            meta.append(f" (probability of the gold label {f3(e.probability_of_label)})")
        j = inputs.judgments.get(e.id)
        if j and j.sentiment:
            meta += [" \u00b7 the judge reads ", Strong(j.sentiment)]
            if j.gold_label_wrong:
                meta.append(" and calls the gold label wrong")
        if e.slices:
            meta.append(" \u00b7 slices: " + ", ".join(e.slices))
        out.append(Quote(truncate(e.text, max_chars), run(*meta)))
    if not rows and _ok(c.count) and c.count > 0:
        out.append(Callout("warning", "The ranked rows are missing from ", Code(str(paths.CONFIDENT_ERRORS)), "."))
    return out


def judge(inputs: Inputs, *, alpha: float) -> list:
    out = [Heading(2, SECTION_TITLES[5])]
    j = inputs.judge
    if j is None:
        return out + [Callout("note", "Not run: the judge did not run (", Code(str(paths.JUDGE_METRICS)), " is "
                                      "absent): this brief rests on the deterministic metrics alone.")]
    who = f"the {j.backend} judge ({j.model}, prompt {j.prompt_version})"
    out.append(Paragraph(
        f"A second reader looks where nuance matters: {who} read {cnt(j.judged)} of {cnt(j.n_candidates)} selected "
        f"reviews "
        f"({cnt(j.n_random)} drawn at random from all reviews, {cnt(j.n_targeted)} targeted: confidently incorrect, "
        f"sarcasm or mixed-feeling cues{'; some are both' if j.n_random + j.n_targeted > j.n_candidates else ''}). "
        f"It reads {cnt(j.sarcasm)} as sarcastic, {cnt(j.mixed)} as mixed sentiment and "
        f"{cnt(j.technical)} as written in a technical register."))
    if j.reason:
        out.append(Callout("warning", f"The judge could not measure everything: {j.reason}."))
    trust = (f"On the random sample it agrees with the gold label on {pct(j.agreement_gold.value)} "
             f"{interval(j.agreement_gold, pct)} of {cnt(j.n_agreement)} reviews, Cohen's kappa "
             f"{est(j.kappa_gold, f2)} "
             f"({kappa_strength(j.kappa_gold.value)} agreement")
    if j.kappa_gold.has_interval:
        trust += (f"; the interval reaches from {kappa_strength(j.kappa_gold.ci_low)} to "
                  f"{kappa_strength(j.kappa_gold.ci_high)}")
    trust += ")."
    if not j.kappa_gold.ok:
        rate = ("" if not j.agreement_gold.ok and getattr(j.agreement_gold.value, "reason", None)
                == getattr(j.kappa_gold.value, "reason", None) else f" (agreement rate {est(j.agreement_gold, pct)})")
        trust = (f"Its agreement with the gold labels on the random sample of {cnt(j.n_agreement)} reviews is "
                 f"{not_measurable(j.kappa_gold.value)}{rate}. Without a measured agreement, treat its verdicts as "
                 f"leads for a human annotator, not as evidence.")
    elif j.kappa_gold.has_interval and j.kappa_gold.ci_low >= 0.6:
        trust += " That is strong enough to use its verdicts for triage, with spot checks."
    else:
        trust += (" That is too weak to overrule a gold label: treat its verdicts as leads for a human annotator, "
                  "not as evidence.")
    out.append(Paragraph(trust))
    if j.backend == "offline":
        out.append(Callout("note", "The offline backend is a deterministic rule-based reader, the default so that "
                                   "every run works without a network. For a stronger reading point the judge at a "
                                   "language model: ", Code("dvc exp run -S judge=openai"), "."))
    items = []
    if j.ci_n:
        items.append(f"On the {cnt(j.ci_n)} confidently incorrect reviews it judged, it sides with the gold label "
                     f"{cnt(j.ci_with_gold)} times, with the model {cnt(j.ci_with_model)} times and with neither "
                     f"{cnt(j.ci_with_neither)} times.")
    if j.gold_wrong:
        items.append(f"It calls {cnt(j.gold_wrong)} gold labels wrong: {cnt(j.gold_wrong_random)} of the "
                     f"{cnt(j.gold_wrong_random_n)} in the random sample ({est(j.gold_wrong_random_rate, pct1)}).")
    if j.cl_available and j.cl_suspected:
        line = (f"Confident learning on the model's own probabilities suspects {cnt(j.cl_suspected)} labels "
                f"({est(j.cl_rate, pct1)} of the reviews)")
        if j.cl_flag_kappa is not None:
            line += (f"; it and the judge agree on which reviews to flag with kappa {f2(j.cl_flag_kappa.value)} "
                     f"({kappa_strength(j.cl_flag_kappa.value)})")
        items.append(line + ".")
    if j.failures.get("total"):
        kinds = ", ".join(f"{k.replace('_', ' ')} {cnt(v)}" for k, v in j.failures.items() if v and k != "total")
        items.append(f"{cnt(j.failures['total'])} judge calls failed ({kinds}); each is recorded with its raw response "
                     f"in {paths.JUDGMENTS}.")
    if j.injection_suspected:
        n = j.injection_suspected
        items.append(f"{cnt(n)} {'review looks' if n == 1 else 'reviews look'} like an attempt to instruct the judge "
                     f"(the detector's signals are in {paths.JUDGMENTS}: injection_signals); "
                     f"{'it was' if n == 1 else 'they were'} judged as text like any other. The detector flags no "
                     f"ordinary review in the project's test sets but misses unfamiliar phrasings, so a count of 0 "
                     f"does not prove there were none.")
    if items:
        out.append(BulletList(items))
    return out


# --------------------------------------------------------------------------- risk and mitigation


def _dvc_key(file, key: str) -> tuple:
    return run(Code(f"{file}: {key}"))


_METHOD_NAMES = {"temperature_scaling": "temperature scaling", "isotonic": "isotonic regression"}


def confident_mitigation(cal) -> str:
    """The mitigation cell of the confidently-wrong row: only what the calibrate stage measured.

    Recalibration is advised only when ``recalibration.advice.<band>`` says
    ``supported`` (the rule is :mod:`blindspot.calibration.advice`); otherwise the
    cell says why not. The rest is true on any data: how to set a threshold from the
    observed error rate, and what a confidence floor would and would not catch.
    """
    t, ci, a = g(cal.threshold), cal.confident, cal.recal_advice
    parts = []
    name = _METHOD_NAMES.get(a.considered, a.considered.replace("_", " ")) if a else ""
    if a and a.reason == "supported":
        parts.append(
            f"Recalibrate with {name}: in the cross-fitted what-if, ECE goes from {f3(a.ece_before)} to "
            f"{est(a.ece_after)} (an improvement of {est(a.ece_reduction)}) and the wrong answers at confidence "
            f"\u2265 {t} from {cnt(a.count_before)} to {cnt(a.count_after)} ({est(a.rate_after, pct1)} of all "
            f"reviews), while {cnt(a.correct_falling_below)} right answers ({pct(a.correct_falling_below_share)} of "
            f"those at \u2265 {t}) fall below {t}.")
    elif a and a.reason == "raises_confidently_incorrect":
        parts.append(
            f"Recalibration is not advised: in the cross-fitted what-if, {name} takes ECE from {f3(a.ece_before)} to "
            f"{est(a.ece_after)} but raises the wrong answers at confidence \u2265 {t} from {cnt(a.count_before)} "
            f"to {cnt(a.count_after)}"
            + (f" (it would also lift {cnt(a.correct_rising_above)} right answers above {t})"
               if a.correct_rising_above else "") + ".")
    elif a and a.reason == "ece_not_lower":
        parts.append(
            f"Recalibration is not advised: in the cross-fitted what-if, the ECE reduction with {name} is "
            f"{est(a.ece_reduction)}, an interval that includes 0 (ECE {f3(a.ece_before)} before, "
            f"{f3(a.ece_after.value)} after), so no improvement is shown.")
    elif a and a.reason == "not_miscalibrated":
        parts.append(f"Recalibration is not advised: the ECE ({f3(cal.ece.value)}) does not differ from that of a "
                     f"calibrated model beyond chance ({qtext(cal.ece_p_value, 'p')}).")
    else:
        why = cal.recal_reason or "its what-if was not measured in this audit"
        parts.append(f"No recalibration advice: {why[:1].lower() + why[1:]}.")
    among = ci.error_rate_among_confident
    observed = (f"{est(among, pct1)} of the {cnt(ci.n_confident)} predictions at \u2265 {t} were wrong"
                if among is not None else f"{cnt(ci.count)} of the {cnt(ci.n_confident)} predictions at \u2265 {t} "
                                          f"were wrong")
    if cal.direction == "underconfident":
        parts.append(f"The model is underconfident (mean confidence {f3(cal.mean_confidence)} against accuracy "
                     f"{f3(cal.accuracy)}): its confidence understates how often it is right, so set any "
                     f"automation threshold from the observed error rate, not from the confidence read as a "
                     f"probability: {observed}.")
    elif cal.direction == "overconfident":
        parts.append(f"The model is overconfident (mean confidence {f3(cal.mean_confidence)} against accuracy "
                     f"{f3(cal.accuracy)}): set any automation threshold from the observed error rate, not from the "
                     f"confidence read as a probability: {observed}.")
    else:
        parts.append(f"Set any automation threshold from the observed error rate: {observed}.")
    if measured(ci.share_of_errors) and cal.n:
        parts.append(f"A human check of every prediction below {t} would review "
                     f"{pct(1 - share(ci.n_confident, cal.n))} of all predictions and catch "
                     f"{pct(1 - ci.share_of_errors)} of all errors, but none of these {cnt(ci.count)}: they sit "
                     f"above the floor.")
    return " ".join(parts)


def risk_rows(inputs: Inputs, class_risk: dict, *, max_slices: int = 3) -> list:
    """(finding, risk, mitigation, metric) runs, one per finding present in the data."""
    p, sl, cal, j, cmp_ = inputs.profile, inputs.slices, inputs.calibration, inputs.judge, inputs.comparison
    compared = cmp_ is not None and cmp_.status == "compared"
    rows = []

    def class_metric(name):
        cells = [_dvc_key(paths.PROFILE_METRICS, f"per_class.{name}.recall.value")]
        if compared:
            cells += [" and ", Code(f"{paths.COMPARE_METRICS}: global.per_class.{name}.recall.delta")]
        return run(*cells)

    def confused_with(name) -> str:
        row = {k: v for k, v in p.confusion.get(name, {}).items() if k != name}
        return max(sorted(row), key=lambda k: row[k]) if row and max(row.values()) > 0 else ""

    for c in collapsed_classes(inputs):
        risk = class_risk.get(c.name) or f"every '{c.name}' review is routed as another class"
        other = confused_with(c.name)
        rows.append([
            f"Class '{c.name}' is never {'predicted' if c.predicted == 0 else 'predicted correctly'} "
            f"(recall {est(c.recall, f2)} on {cnt(c.support)} reviews)",
            risk[:1].upper() + risk[1:] + ".",
            f"Candidates to test (no what-if measures them here): class weights or resampling in training, more "
            f"labelled '{c.name}' reviews"
            + (f", and what separates it from '{other}', where most of them go" if other else "")
            + f". Keep a change only if the next version's '{c.name}' recall rises; gate releases on it.",
            class_metric(c.name)])
    for c, f in weak_classes(inputs):
        risk = class_risk.get(c.name) or f"'{c.name}' reviews are routed as another class"
        other = confused_with(c.name)
        rows.append([
            f"'{c.name}' recall {est(c.recall, f2)}: {pct(1 - c.recall.value)} of {cnt(c.support)} reviews missed "
            f"({qtext(f.q_value)})",
            risk[:1].upper() + risk[1:] + ".",
            f"Candidates to test (no what-if measures them here): class-weighted training or a lower decision "
            f"threshold for '{c.name}'" + (f" (its misses go to '{other}')" if other else "")
            + f". Keep a change only if the next version's '{c.name}' recall rises without other classes' falling; "
              f"gate releases on it.",
            class_metric(c.name)])
    for f in distinct_blind_spots(inputs)[:max_slices]:
        watched = sl.on_watchlist(f.key)
        section = "watchlist" if watched else "discovered"
        metric = run(_dvc_key(paths.SLICE_METRICS, f"{section}.{f.key}.{f.metric}.value"))
        if compared and watched:
            m = "accuracy" if f.metric == "error_rate" else f.metric
            metric = run(metric, " and ", Code(f"{paths.COMPARE_METRICS}: watchlist.{f.key}.{m}.delta"))
        mix = (f.metric == "error_rate" and f.excess_given_class_mix is not None and f.excess_given_class_mix <= 0)
        mitigation = ("Its class mix accounts for its excess errors (measured), so expect it to move with the "
                      "weak-class recalls above; re-check it when they change"
                      if mix else "Candidate to test (no what-if measures it here): collect and label more reviews "
                                  "like these and check what the model relies on in them")
        mitigation += ("" if watched else f"; follow it on every version by adding {f.key} to slices.watchlist") + "."
        q_own = f.conditional_q_value if f.conditional_q_value is not None else f.q_value
        more = (f", about {cnt(round(f.excess))} more than the rest's rate predicts" if _ok(f.excess) and f.excess >= 1
                else "")
        rows.append([
            f"\u201c{f.description}\u201d ({cnt(f.slice_n)} reviews): {metric_label(f.metric)} {f2(f.value.value)} "
            f"against {f2(f.rest_value)} elsewhere ({qtext(q_own)}); {plain(_failures(f))} "
            f"{'wrong' if f.metric == 'error_rate' else 'missed'}{more}",
            "People writing reviews like these get worse readings than the headline accuracy promises, and the "
            "global metric does not show it.",
            mitigation, metric])
    if cal and cal.confident and cal.confident.count > 0:
        band = threshold_key(cal.threshold)
        metric = run(_dvc_key(paths.CALIBRATION_METRICS, f"confidently_incorrect.{band}.count"), " and ",
                     Code(f"{paths.CALIBRATION_METRICS}: overall.ece"))
        if compared:
            metric = run(metric, " and ", Code(f"{paths.COMPARE_METRICS}: global.confidently_incorrect_rate.delta"))
        rows.append([
            f"{cnt(cal.confident.count)} reviews ({pct(cal.confident.rate.value, 1)}) wrong with confidence "
            f"\u2265 {g(cal.threshold)}",
            "Any automation that trusts confident predictions (auto-routing, skipping human review) passes these "
            "errors through unseen.",
            confident_mitigation(cal),
            metric])
    if j and (j.gold_wrong_random or (j.cl_available and j.cl_suspected)):
        evidence_ = []
        if j.gold_wrong_random:
            evidence_.append(f"the judge calls {j.gold_wrong_random} of {j.gold_wrong_random_n} randomly sampled gold "
                             f"labels wrong ({est(j.gold_wrong_random_rate, pct1)})")
        if j.cl_available and j.cl_suspected:
            evidence_.append(f"confident learning suspects {cnt(j.cl_suspected)} labels")
        rows.append([
            "Suspected label noise: " + _sentence_join(evidence_),
            "Part of the measured error may be wrong gold labels: the metrics blame the model for them, and "
            "retraining on them teaches the error.",
            f"Re-annotate the flagged reviews ({paths.JUDGMENTS}: gold_label_wrong, cl_suspect) with two annotators "
            f"before retraining; report metrics with and without them.",
            _dvc_key(paths.JUDGE_METRICS, "verdicts.gold_label_wrong_random_sample.rate")])
    return rows


def risks(inputs: Inputs, class_risk: dict) -> list:
    out = [Heading(2, SECTION_TITLES[6])]
    rows = risk_rows(inputs, class_risk)
    if not rows:
        return out + [Paragraph("No finding in this audit calls for a mitigation.")]
    out.append(Paragraph("One row per finding present in this audit; the last column names the metric (file: "
                         "key, as ", Code("dvc metrics diff"), " shows it) that will show the fix on the next "
                         "version."))
    out.append(Table(["finding", "risk to users", "mitigation", "metric that will show it fixed"], rows,
                     wide=3))
    return out


# --------------------------------------------------------------------------- comparison


def _delta_row(label, d: Delta, *, show_direction: bool = True) -> list:
    if d.delta is None:
        return [label, "n/a", "n/a", "n/a", f"{cnt(d.n)}", "", "", d.reason or "not tested"]
    hib = d.higher_is_better if d.higher_is_better is not None else higher_is_better(d.metric)
    arrow = {True: "higher is better", False: "lower is better", None: ""}[hib] if show_direction else ""
    delta = f"{signed(d.delta.value)} {interval(d.delta, signed)}"
    test = {"mcnemar_exact": "McNemar", "paired_bootstrap": "paired bootstrap"}.get(d.test, d.test)
    if d.test == "mcnemar_exact" and d.baseline_only is not None:
        test += f" ({d.baseline_only}/{d.current_only})"
    if not d.tested:
        verdict_ = d.reason or "not tested"
    else:
        verdict_ = {"improved": "improved", "worsened": "worsened"}.get(d.direction, "no significant change")
    label = run(label, (" ", Em(f"({arrow})")) if arrow else "")
    return [label, f3(d.baseline), f3(d.current), delta, f"{cnt(d.n)}", test, qcell(d.q_value),
            run(Strong(verdict_) if d.changed else verdict_)]


def comparison(inputs: Inputs) -> list:
    out = [Heading(2, SECTION_TITLES[7])]
    c = inputs.comparison
    if c is None:
        out.append(Callout("note", "Not run: no paired comparison (", Code(str(paths.COMPARE_METRICS)),
                           " is absent): run the compare stage."))
    elif c.status == "no_baseline":
        said = c.reason.rstrip(".") if c.reason.lower().rstrip(".") != "no baseline configured" else ""
        out.append(Callout("note", "No baseline configured (", Code("compare.baseline.path"), " is null)",
                           f": {said}." if said else ": nothing to compare against. Set it to the predictions file of "
                           "an earlier model version, scored on the same reviews, to get paired tests."))
    elif c.status != "compared":
        names = (f" ({c.current_name} against {c.baseline_name})" if c.current_name and c.baseline_name else "")
        out.append(Callout("warning", f"Not compared{names}: {c.reason.rstrip('.') if c.reason else c.status}."))
    elif c.baseline_is_current:
        out.append(Callout("note", f"The baseline ({c.baseline_name}, ", Code(str(c.baseline_path)), ") is the "
                                   f"current model: all {c.n_tests} paired tests show a delta of 0 and nothing is "
                                   "flagged. To compare a new version, run ", Code("dvc exp run -S model=v2"),
                                   " (or your own model config); ", Code("dvc metrics diff"), " then shows the same "
                                   "deltas."))
    else:
        lvl = level(c.ci_level)
        intro = (f"{c.current_name} against {c.baseline_name}, scored on the same reviews: {cnt(c.n_paired)} reviews "
                 f"are "
                 f"in both files with the same gold label")
        if c.n_paired < c.n_current or c.label_mismatch:
            intro += (f" ({cnt(c.n_current)} in {c.current_name}, {cnt(c.n_baseline)} in {c.baseline_name}, "
                      f"{cnt(c.label_mismatch)} with different gold labels, not compared)")
        intro += (f". Two models on the same reviews are one paired experiment: accuracy, per-class recall and the "
                  f"confidently-incorrect rate are tested with exact McNemar tests on the reviews where the two "
                  f"disagree (in brackets: reviews only {c.baseline_name} / only {c.current_name} gets right, or for "
                  f"the confidently-incorrect rate, gets confidently wrong), every other metric with a paired "
                  f"bootstrap; one Benjamini-Hochberg family over all {c.n_tests} tests at FDR {g(c.fdr_alpha)}. "
                  f"{c.n_changed} changed: {c.n_improved} improved, {c.n_worsened} worsened.")
        out.append(Paragraph(intro))
        groups: dict = {}
        for scope, d in _all_deltas(c):
            if d.changed:
                groups.setdefault(scope, []).append(
                    f"{metric_label(d.metric)} {d.direction} {f3(d.baseline)} \u2192 {f3(d.current)} "
                    f"({signed(d.delta.value)} {interval(d.delta, signed)}, {qtext(d.q_value)})")
        if groups:
            out.append(BulletList([run(Strong(scope), ": ", "; ".join(items)) for scope, items in groups.items()]))
        notable = [d for d in c.global_deltas
                   if d.tested and not d.changed and _ok(d.p_value) and d.p_value < c.fdr_alpha]
        for d in notable:
            out.append(Paragraph(f"{metric_label(d.metric).capitalize()} moves {signed(d.delta.value)} "
                                 f"{interval(d.delta, signed)} (p = {d.p_value:.3f} alone), but not beyond chance once "
                                 f"all {c.n_tests} tests are accounted for ({qtext(d.q_value)})."))
        header = ["metric", c.baseline_name, c.current_name, f"delta [{lvl} CI]", "n", "test", "q", "verdict"]
        align = ("l", "r", "r", "r", "r", "l", "r", "l")
        out.append(Heading(3, "Global and per-class metrics"))
        rows = [_delta_row(metric_label(d.metric), d) for d in c.global_deltas]
        for cls, ds in c.class_deltas.items():
            rows += [_delta_row(f"{metric_label(d.metric)} of '{cls}'", d) for d in ds]
        out.append(Table(header, rows, align=align,
                         caption=f"delta: {c.current_name} minus {c.baseline_name}, percentile bootstrap interval "
                                 f"of the paired count table (unadjusted {lvl}); q: Benjamini-Hochberg."))
        if c.slice_deltas:
            out.append(Heading(3, "Watchlist slices"))
            rows = []
            for key, (n, ds) in c.slice_deltas.items():
                rows += [_delta_row(run(Code(key), " ", metric_label(d.metric)), d, show_direction=False) for d in ds]
            untested = sum(not d.tested for _, ds in c.slice_deltas.values() for d in ds)
            caption = (f"{untested} comparisons on too few reviews are listed untested, with the reason."
                       if untested else ())
            out.append(Table(header, rows, align=align, caption=caption))
    if c is not None and c.prior_shift is not None and c.prior_shift.measured:
        out.append(Paragraph(_prior_shift_text(c)))
    if inputs.rev:
        out += _rev_section(inputs)
    return out


def _p_text(p) -> str:
    return "p < 0.001" if _ok(p) and p < 0.001 else f"p = {p:.3f}" if _ok(p) else "p not measurable"


def _mix(shares: dict) -> str:
    return ", ".join(f"{cls} {pct(v)}" for cls, v in shares.items())


def _prior_shift_text(c: Comparison) -> str:
    """Whether the class mix moved, and what a label-free prior correction would do (measured only).

    The correction's verdict follows the interval of its accuracy change (cross-fitted): it
    helps when the whole interval is above 0, hurts when below, else it changes nothing clear.
    """
    ps = c.prior_shift
    cur, base = c.current_name or "the current file", c.baseline_name or "the baseline"
    if ps.shifted:
        text = (f"The class mix shifted: {cur}'s reviews are {_mix(ps.shares_current)} against {base}'s "
                f"{_mix(ps.shares_baseline)} (chi-square {_p_text(ps.p_value)}).")
    elif ps.shares_current == ps.shares_baseline:
        text = (f"The class mix did not shift: {cur} and {base} hold the classes in the same shares "
                f"({_mix(ps.shares_current)}; chi-square {_p_text(ps.p_value)}).")
    else:
        text = (f"The class mix did not shift beyond chance: {cur}'s reviews are {_mix(ps.shares_current)} against "
                f"{base}'s {_mix(ps.shares_baseline)} (chi-square {_p_text(ps.p_value)}).")
    if not ps.em_measured:
        return text + f" A label-free prior correction was {ps.em_reason.rstrip('.')}."
    acc = ps.accuracy
    verdict = ("would help" if _ok(acc.delta.ci_low) and acc.delta.ci_low > 0 else
               "would hurt" if _ok(acc.delta.ci_high) and acc.delta.ci_high < 0 else "would change nothing clear")
    moved = sorted(((cls, r) for cls, r in ps.recall.items()
                    if r.delta.has_interval and (r.delta.ci_low > 0 or r.delta.ci_high < 0)),
                   key=lambda item: -abs(item[1].delta.value))[:3]
    recalls = "".join(f"; recall of '{cls}' {f3(r.before.value)} \u2192 {f3(r.after.value)} "
                      f"({signed(r.delta.value)} {interval(r.delta, signed)})" for cls, r in moved)
    text += (f" A label-free prior correction {verdict}: estimated from {cur}'s probabilities alone (EM of Saerens et "
             f"al. 2002, with {base}'s label shares as the training mix, cross-fitted over {ps.n_splits} folds), it "
             f"reads the mix as {_mix(ps.estimated_prior)}")
    notes = ["the estimate did not settle: EM stopped at its iteration cap"] if not ps.converged else []
    if _ok(ps.estimate_tv) and ps.estimate_tv >= 0.05:  # the audit's gold labels show how far off it is
        notes.append(f"the gold labels say {_mix(ps.shares_current)}")
    if notes:
        text += f" ({'; '.join(notes)})"
    text += (f" and, changing {cnt(ps.n_changed)} predictions, would take accuracy from {f3(acc.before.value)} to "
             f"{f3(acc.after.value)} ({signed(acc.delta.value)} {interval(acc.delta, signed)}){recalls}")
    return text + ("; do not apply it." if verdict == "would hurt" else ".")


def _all_deltas(c: Comparison):
    """(scope, delta) over every comparison: "all reviews", "class '<c>'", then each watchlist slice."""
    for d in c.global_deltas:
        yield "all reviews", d
    for cls, ds in c.class_deltas.items():
        for d in ds:
            yield f"class '{cls}'", d
    for key, (n, ds) in c.slice_deltas.items():
        for d in ds:
            yield f"{key} (n = {cnt(n)})", d


def _rev_section(inputs: Inputs) -> list:
    out = [Heading(3, f"Against the metrics committed at {inputs.rev}")]
    if inputs.rev_headlines is None:
        return out + [Callout("warning", f"The metrics of revision {inputs.rev} are unavailable: "
                                         f"{inputs.rev_problem.rstrip('.')}.")]
    now = {(h.file, h.key): h for h in headlines(inputs.profile, inputs.slices, inputs.calibration)}
    rows = []
    for old in inputs.rev_headlines:
        cur = now.get((old.file, old.key))
        if cur is None:
            continue
        delta = cur.value - old.value
        hib = higher_is_better(cur.direction)
        better = direction_of(delta, delta != 0, hib)
        word = {"improved": "better", "worsened": "worse"}.get(better, "same") if _ok(delta) else "not comparable"
        rows.append([cur.label, f3(old.value), f3(cur.value), signed(delta) if _ok(delta) else "n/a", word,
                     Code(f"{cur.file}: {cur.key}")])
    out.append(Paragraph(f"Unpaired deltas against the metrics files committed at {inputs.rev} (",
                         Code("report.baseline_rev"), "), key for key what ", Code(f"dvc metrics diff {inputs.rev}"),
                         " shows. No test: these are two summaries, not paired rows, so a small delta here may be "
                         "noise. The paired tests above are the ones to trust."))
    out.append(Table(["metric", inputs.rev, "now", "delta", "direction", "key"], rows,
                     align=("l", "r", "r", "r", "l", "l")))
    return out


# --------------------------------------------------------------------------- the whole brief


def statistics(inputs: Inputs) -> list:
    """"How to read the statistics": every test and interval the brief quotes, explained once.

    The method names are read from the metrics files, so the note describes what ran.
    """
    p, sl, cal = inputs.profile, inputs.slices, inputs.calibration
    lvl = level(p.ci_level)
    items = [run(f"Intervals in square brackets are {lvl} intervals: Wilson score for a share of reviews (accuracy, "
                 f"a recall or precision, an error rate), a percentile bootstrap over the counts for balanced "
                 f"accuracy and F1 (", Code(p.interval_method), ").")]
    if sl is not None:
        items += [
            run(f"Each slice is compared with the rest of the reviews twice: its error rate against the rest's (",
                Code(sl.test), "), and inside each true class (an exact test stratified on the true class), so that "
                "a slice holding more reviews of a weak class is not blamed for that class. A recall is already "
                "inside one class. The gap of a slice to the rest has a ", Code(sl.gap_interval_method),
                " interval."),
            run(f"q is a p value adjusted by Benjamini-Hochberg over all {cnt(sl.n_tests)} tests of the slice stage "
                f"in one family (every slice, every metric, both comparisons, the classes); a test is significant, "
                f"and a slice worse, when q ≤ {g(sl.fdr_alpha)}: at most {pct(sl.fdr_alpha)} of the findings "
                f"called significant are false, on average."),
            run("A blind spot of its own is a slice worse than the rest within its true classes. A slice worse only "
                "through its class mix makes more errors than the rest but no more inside each true class; "
                "“class mix predicts” is the errors expected if each true class in the slice erred at its "
                "rate over all reviews."),
            run("A combination of two features is listed only when it is also worse than the rest of each of its "
                "parts, tested inside that part; otherwise one part alone tells the story."),
        ]
    if cal is not None:
        items.append(run(f"Confidently incorrect: wrong with confidence (the probability given to the predicted "
                         f"class) ≥ {g(cal.threshold)}. ECE, the expected calibration error, is the average gap "
                         f"between confidence and accuracy over confidence bins; its interval and the other "
                         f"calibration intervals: {cal.interval_method}."))
    return [Heading(2, STATS_TITLE), BulletList(items)]


def brief_title(prefix: str, source: Optional[str], model: str) -> str:
    """"Blind Spot Brief: data/raw/mine.csv (model mine)": the audited file first, then the model's name."""
    if source:
        return f"{prefix}: {source}" + (f" (model {model})" if model else "")
    return f"{prefix}: model {model}" if model else prefix


def build_brief(inputs: Inputs, cfg, *, alpha: float, footer_blocks: Sequence = (),
                source: Optional[str] = None) -> Document:
    """The Blind Spot Brief as a :class:`Document`.

    Parameters
    ----------
    inputs : Inputs
    cfg : ReportConfig
    alpha : float
        ``stats.fdr_alpha``.
    footer_blocks : sequence of blocks
        The reproducibility footer (:func:`blindspot.report.footer.footer`).
    source : str, optional
        The audited predictions file (``model.path``), named in the title.
    """
    p = inputs.profile
    doc = Document(brief_title(cfg.title, source, p.model),
                   subtitle=run(f"Model {p.model} \u00b7 {cnt(p.n_rows)} reviews \u00b7 every number below "
                                f"is read from ", Code("metrics/"), ", ", Code(str(paths.FINDINGS)), ", ",
                                Code("plots/"), " and ", Code("data/interim/"), "."))
    doc.add(*verdict(inputs, alpha=alpha))
    doc.add(*accuracy_lied(inputs, classes_figure=inputs.figures.get("class_distribution")))
    doc.add(*repeated_texts(inputs, alpha=alpha))
    doc.add(*blind_spots(inputs, max_rows=cfg.max_blind_spots))
    doc.add(*tested_clean(inputs))  # a level-3 part of "Ranked blind spots"
    doc.add(*evidence(inputs))
    doc.add(*examples(inputs, n_examples=cfg.n_examples, max_chars=cfg.max_quote_chars))
    doc.add(*judge(inputs, alpha=alpha))
    doc.add(*risks(inputs, dict(cfg.class_risk)))
    doc.add(*comparison(inputs))
    doc.add(*statistics(inputs))
    doc.add(*footer_blocks)
    return doc
