""""Confidently incorrect examples": the most confident wrong predictions, quoted as text."""

from __future__ import annotations

from blindspot import paths
from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import Callout, Code, Heading, Paragraph, Quote, Strong, run, truncate
from blindspot.report.fmt import cnt, est, f3, g, not_measurable, pct, pct1
from blindspot.report.load import Inputs, measured


def examples(inputs: Inputs, *, n_examples: int, max_chars: int) -> list:
    out = [Heading(2, SECTION_TITLES[5])]
    cal = inputs.calibration
    if cal is None:
        return out + [Callout("warning", "Not run: the calibrate stage's results (",
                              Code(str(paths.CALIBRATION_METRICS)),
                              ") are absent. Run ", Code("python -m blindspot.stages.calibrate"), " (or ", Code("dvc repro"),
                              ").")]
    rows = [e for e in inputs.examples if e.confidence >= cal.threshold][:n_examples]
    c = cal.confident
    if not measured(c.count):
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
                if measured(r.count) and r.count > 0 and r.rate.ok]
    unmeasured = [f"'{name}' {not_measurable(r.rate.value if not r.rate.ok else r.count)}"
                  for name, r in cal.by_class.items() if not (measured(r.count) and r.rate.ok)]
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
        if measured(e.probability_of_label):
            meta.append(f" (probability of the gold label {f3(e.probability_of_label)})")
        j = inputs.judgments.get(e.id)
        if j and j.sentiment:
            meta += [" \u00b7 the judge reads ", Strong(j.sentiment)]
            if j.gold_label_wrong:
                meta.append(" and calls the gold label wrong")
        if e.slices:
            meta.append(" \u00b7 slices: " + ", ".join(e.slices))
        out.append(Quote(truncate(e.text, max_chars), run(*meta)))
    if not rows and measured(c.count) and c.count > 0:
        out.append(Callout("warning", "The ranked rows are missing from ", Code(str(paths.CONFIDENT_ERRORS)), "."))
    return out
