""""Why accuracy misleads": the class imbalance, the per-class table and repeated texts."""

from __future__ import annotations

from typing import Optional
import math

from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import Code, Figure, Heading, Paragraph, Strong, Table, run
from blindspot.report.fmt import cnt, est, f1, f2, f3, g, level, not_measurable, pct, pct1, points, qtext
from blindspot.report.load import Estimate, Inputs, measured
from blindspot.report.reasoning import class_finding


def accuracy_lied(inputs: Inputs, *, classes_figure: Optional[str]) -> list:
    p = inputs.profile
    maj = p.cls(p.majority_class)
    predicted = [c for c in p.classes if measured(c.predicted)]
    top_pred = max(predicted, key=lambda c: c.predicted) if predicted else None
    out = [Heading(2, SECTION_TITLES[1])]
    text = [f"'{p.majority_class}' is {pct(maj.share if maj else math.nan, 1)} of the reviews (the largest class is "
            f"{f1(p.imbalance_ratio)} times the smallest)"
            + (f", and the model answers '{top_pred.name}' for {pct(top_pred.predicted_share, 1)} of them."
               if top_pred else ".")]
    if not measured(p.imbalance_ratio):
        text[0] = (f"'{p.majority_class}' is {pct(maj.share if maj else math.nan, 1)} of the reviews; the ratio of the "
                   f"largest class to the smallest is {not_measurable(p.imbalance_ratio)}"
                   + (f"; the model answers '{top_pred.name}' for {pct(top_pred.predicted_share, 1)} of them."
                      if top_pred else "."))
    text.append(f"Accuracy counts every review once, so the majority class dominates it: always answering "
                f"'{p.majority_class}' already scores {f3(p.majority_baseline)}.")
    gap = p.accuracy.value - p.balanced_accuracy.value
    if not measured(gap):
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
    if d is None or not measured(d.groups):
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
    if measured(d.easier_p_value) and d.easier_p_value < alpha:
        text = [f"Reviews whose text repeats are easier for the model, which usually means leakage. {counts} "
                f"({test}, below {g(alpha)}; a single test fixed in advance, so no correction for multiple tests).",
                f"The usual reason is that the same texts were in the model's training data (train/test leakage): "
                f"the model recalls them rather than reads them, so accuracy on this set overstates accuracy on "
                f"new text: the {pct1(d.accuracy_unique.value)} on once-only reviews is the closer guide (the "
                f"headline accuracy is {pct1(inputs.profile.accuracy.value)}). Short stock phrases that recur are "
                f"also easier on their own: check where the repeats come from."]
    elif measured(d.easier_p_value):
        text = [f"{counts}, not significantly more often ({test}): no evidence of leakage from repeated texts."]
    else:
        text = [f"{counts}; whether repeated texts are easier cannot be tested ({test})."]
    if not measured(d.conflicting_groups):
        text.append(f"Conflicting gold labels among repeated texts: {not_measurable(d.conflicting_groups)}.")
    elif d.conflicting_groups > 0:
        text.append(f"{cnt(d.conflicting_groups)} of the repeated texts carry different gold labels on different "
                    f"rows ({cnt(d.rows_in_conflicting_groups)} reviews): the same text labelled two ways is label "
                    f"noise, and no model can be right on every copy.")
    out.append(Paragraph(" ".join(text)))
    return out
