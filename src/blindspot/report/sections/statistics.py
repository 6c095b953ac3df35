""""How to read the statistics": every test and interval the brief quotes, explained once."""

from __future__ import annotations

from blindspot.report.complete import STATS_TITLE
from blindspot.report.document import BulletList, Code, Heading, Run, run
from blindspot.report.fmt import cnt, g, level, pct
from blindspot.report.load import Inputs


# How an interval method is named in words (any other name is shown as its key).
_METHOD_WORDS = {"wilson": "Wilson score interval",
                 "bootstrap_percentile_of_counts": "percentile bootstrap of the confusion-matrix counts"}


def _method(name: str) -> Run:
    if not name:
        return run("method not recorded")
    return run(_METHOD_WORDS[name], " (", Code(name), ")") if name in _METHOD_WORDS else run(Code(name))


def statistics(inputs: Inputs) -> list:
    """"How to read the statistics": every test and interval the brief quotes, explained once.

    The method names are read from the metrics files, so the note describes what ran.
    """
    p, sl, cal = inputs.profile, inputs.slices, inputs.calibration
    lvl = level(p.ci_level)
    recall = next((c.recall for c in p.classes if c.recall.method), None)
    items = [run(f"Intervals in square brackets are {lvl} intervals. Accuracy, balanced accuracy and F1: ",
                 _method(p.accuracy.method), "; a class's recall and precision",
                 " and a slice's error rate or recall" if sl is not None else "", ": ",
                 _method(recall.method if recall else ""), " (the method of each interval is named beside it in ",
                 Code("metrics/"), ").")]
    if sl is not None:
        items += [
            run("Each slice is compared with the rest of the reviews twice: its error rate against the rest's (",
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
    ts = inputs.text_slices
    if sl is not None and ts is not None and (ts.topics or ts.terms):
        items.append(run(
            "Learned topics are slices like any other (tested against the rest and within the true classes, in "
            "the same family); they are learned from the text alone, so testing them on the same reviews is fair. "
            "An error-associated term is chosen for its errors, so it is chosen on one half of the reviews and "
            "tested on the other, both ways round; its p value is min(1, 2 \u00d7 the smaller of the two) "
            "(Bonferroni), one test per term in the family."))
    if cal is not None:
        items.append(run(f"Confidently incorrect: wrong with confidence (the probability given to the predicted "
                         f"class) ≥ {g(cal.threshold)}. ECE, the expected calibration error, is the average gap "
                         f"between confidence and accuracy over confidence bins; its interval and the other "
                         f"calibration intervals: {cal.interval_method}."))
    return [Heading(2, STATS_TITLE), BulletList(items)]
