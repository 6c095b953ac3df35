""""Ranked blind spots": blind spots of their own, class-mix slices, the watchlist and what was tested."""

from __future__ import annotations

from blindspot import paths
from blindspot.report.complete import SECTION_TITLES, TEXT_TITLE
from blindspot.report.document import Break, Callout, Code, Em, Heading, Paragraph, Run, Strong, Table, run
from blindspot.report.fmt import (cnt, est, f1, f2, failures, g, interval, metric_label, not_measurable, pct, qcell,
                                  qtext, share, signed, slice_name)
from blindspot.report.load import Inputs, humanize, measured
from blindspot.report.reasoning import class_mix_entries, own_entries


def _also(entry) -> str:
    """The slice's other significant metrics: "error rate 0.41 vs 0.26 (q = 0.003, through its class mix)"."""
    parts = []
    for o in entry.others:
        why = ", through its class mix" if o.evidence == "class_mix" else ""
        q = o.conditional_q_value if o.evidence == "within_class" and o.conditional_q_value is not None else o.q_value
        parts.append(f"{metric_label(o.metric)} {f2(o.value.value)} vs {f2(o.rest_value)} ({qtext(q)}{why})")
    return "; ".join(parts)

def _text_evidence(f) -> Run:
    """Beneath a learned topic or an error-associated term in the ranked list: where it came from and, for a
    term, its cross-fitted test (the q in the row is that test's)."""
    if f.text_kind == "topic":
        return run(Break(), Em(f"learned topic: see \u201c{TEXT_TITLE}\u201d"))
    if f.text_kind != "term":
        return ()
    halves = {"a": "found on half A, tested on B", "b": "found on half B, tested on A",
              "both": "found on both halves, each tested on the other"}
    ps = [f"A\u2192B {qtext(f.p_a_to_b, 'p')[2:]}" if f.p_a_to_b is not None else "",
          f"B\u2192A {qtext(f.p_b_to_a, 'p')[2:]}" if f.p_b_to_a is not None else ""]
    detail = ", ".join(p for p in ps if p)
    return run(Break(), Em(f"cross-fitted test: {halves.get(f.selected_on, 'found on one half, tested on the other')}"
                           + (f" (p {detail})" if detail else "")))


def _own_table(inputs: Inputs, entries: list, *, max_rows: int) -> list:
    sl, cal = inputs.slices, inputs.calibration
    thr = f"≥ {g(cal.threshold)}" if cal else ""

    def conf_cell(f):
        ci_rate = cal.by_slice.get(f.key) if cal else None
        return f"{pct(ci_rate.rate.value, 1)} ({cnt(ci_rate.count)})" if ci_rate else "n/a"

    rows = []
    for number, e in enumerate(entries[:max_rows], start=1):
        f = e.lead
        q_own = f.conditional_q_value if f.conditional_q_value is not None else f.q_value
        # An error rate's errors beside what the slice's class mix predicts (a recall is within one class).
        expected = (run(Break(), f"class mix predicts {f1(f.expected_given_class_mix)}")
                    if f.metric == "error_rate" and f.expected_given_class_mix is not None else ())
        also = run(Break(), Em("also worse: " + _also(e))) if e.others else ()
        rows.append([cnt(number), run(slice_name(f.description, f.key), _text_evidence(f), also),
                     f"{cnt(f.slice_n)} ({pct(share(f.slice_n, sl.n_rows), 1)})", metric_label(f.metric),
                     run(f"{est(f.value, f2)} vs {f2(f.rest_value)}", Break(),
                         f"gap {signed(f.gap.value, 2)} {interval(f.gap, lambda x: signed(x, 2))}"),
                     qcell(q_own), run(failures(f, broken=True), expected), conf_cell(f)])
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
                     failures(f), f1(f.expected_given_class_mix) if f.expected_given_class_mix is not None else "n/a"])
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
    if not measured(f.value.value):
        return run(not_measurable(f.value.value))
    q = f.conditional_q_value if f.evidence == "within_class" and f.conditional_q_value is not None else f.q_value
    head, tail = f"{f2(f.value.value)} vs {f2(f.rest_value)}", f"{qtext(q)} ({cnt(f.n)})"
    return run(Strong(head), Break(), Strong(tail)) if f.significant else run(head, Break(), tail)

def _watch_status(w, tested: list, numbers: dict) -> str:
    """The slice's place in the ranked list (``numbers``: key -> its row number there), in words."""
    if not w.tested and not tested:
        return f"not tested: {w.reason}" if w.reason else "not tested"
    if w.key in numbers:
        return f"blind spot of its own (#{cnt(numbers[w.key])})"
    if any(f.significant for f in tested):
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
    numbers = {e.lead.key: i for i, e in enumerate(own_entries(inputs), start=1)}
    rows = []
    for w in sl.watchlist:
        tested = [f for f in sl.findings if f.key == w.key and f.source != "class"]
        by_metric = {f.metric: f for f in tested}
        desc = next((f.description for f in tested), "")
        if not tested:  # nothing measured on this data: the status says why, once
            rows.append([slice_name(desc, w.key), cnt(w.n), *["\u2014"] * (len(metrics) + (not per_class)),
                         _watch_status(w, tested, numbers)])
            continue
        cells = [_watch_cell(by_metric.get(m), w.untested.get(m, "")) for m in metrics]
        if not per_class:
            recalls = [f for f in tested if f.metric.startswith("recall_")]
            worse = [f for f in recalls if f.significant]
            cells.append(run(f"{cnt(len(recalls))} tested; " + ("; ".join(
                f"{metric_label(f.metric)} {f2(f.value.value)} vs {f2(f.rest_value)}" for f in worse)
                if worse else "none significantly worse")))
        rows.append([slice_name(desc, w.key), cnt(w.n), *cells, _watch_status(w, tested, numbers)])
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
                              Code("python -m blindspot.stages.slice"), " (or ", Code("dvc repro"), ").")]
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
           f"{'are' if len(folded) != 1 else 'is'} not listed, being no worse than one of "
           f"{'their' if len(folded) != 1 else 'its'} "
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
_TEXT_FEATURE_WORDS = {"jargon": "medical jargon", "caps": "words in capitals", "length": "word count",
                       "topic": "learned topics"}

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
