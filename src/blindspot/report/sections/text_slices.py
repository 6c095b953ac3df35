""""Text slices nobody named": learned topics and cross-fitted error-associated terms (issue 16).

Both families come from the review text alone, not from a column or a detector someone
chose, and both are tested in the slice stage's one Benjamini-Hochberg family, so the
section says how many were looked at and what they did *not* find as plainly as what
they found. Every sentence is built from ``reports/text_slices.json``
(:class:`~blindspot.report.load.TextSlices`); it holds for any number of topics, terms and
classes, and says nothing about what the data are about. Example reviews are untrusted
text: they go into :class:`~blindspot.report.document.Quote` blocks, which both renderers
escape.
"""

from __future__ import annotations

from blindspot import paths
from blindspot.report.complete import TEXT_TITLE
from blindspot.report.document import Break, Callout, Code, Em, Heading, Paragraph, Quote, Run, Table, run, truncate
from blindspot.report.fmt import cnt, f1, f2, g, metric_label, qcell, qtext
from blindspot.report.load import TEXT_SLICES_FILE, Inputs, humanize
from blindspot.report.reasoning import class_mix_entries, own_entries

# The stages' reason codes for a family that learned or tested nothing, in words (others: load.humanize).
_REASONS = {
    "too_few_rows": "too few reviews for it",
    "too_few_terms": "too few distinct words in the reviews to learn topics from",
    "no_candidate_terms": "no word or pair of words occurs in enough reviews (and in few enough) to test",
    "off": "switched off in the configuration",
    "no_texts": "the reviews hold no text",
}


def _reason(code: str) -> str:
    return _REASONS.get(code.strip()) or humanize(code) or "no reason recorded"


def _s(n, one: str, many: str) -> str:
    """``one`` or ``many`` by the count (a count that is not a number reads as many)."""
    return one if n == 1 else many


def _topic_verdict(t, numbers: dict, leads: dict) -> Run:
    """The verdict cell of a topic: blind spot of its own, worse through its class mix, not worse, not tested.

    ``numbers``: slice key -> its row number in the ranked list (one row per slice); ``leads``: slice key ->
    the finding that places it there. A topic's verdict is its slice's over every metric (a recall can make
    it a blind spot of its own while its error rate is not worse), so the q shown is that finding's.
    """
    if not t.tested:
        return run("not tested (too few reviews, or nearly all of them)")
    lead = leads.get(t.key)
    if t.evidence == "within_class":
        rank = f" (#{cnt(numbers[t.key])} in the ranked list)" if t.key in numbers else ""
        if lead is not None and lead.metric != "error_rate":
            q = lead.conditional_q_value if lead.conditional_q_value is not None else lead.q_value
            return run(f"blind spot of its own{rank}", Break(), f"{metric_label(lead.metric)}: {qtext(q)}")
        return run(f"blind spot of its own{rank}", Break(), qtext(t.conditional_q_value, "q within classes"))
    if t.evidence == "class_mix":
        if lead is not None and lead.metric != "error_rate":
            return run("worse only through its class mix", Break(), f"{metric_label(lead.metric)}: "
                                                                    f"{qtext(lead.q_value)}")
        return run("worse only through its class mix", Break(), qtext(t.q_value), "; ",
                   qtext(t.conditional_q_value, "q within classes"))
    return run("not worse", Break(), qtext(t.conditional_q_value, "q within classes"))


def _not_run(reason: str, absent: bool, setting: str) -> list:
    """The paragraph of a family that did not run (switched off by ``setting`` = 0, or absent), else []."""
    if reason.strip() == "off":
        return [Paragraph("Not run: switched off in the configuration (", Code(setting), " is 0).")]
    if absent:
        return [Paragraph(f"Not run: {_reason(reason)}.")]
    return []


def _topics(inputs: Inputs, *, max_chars: int) -> list:
    ts, sl = inputs.text_slices, inputs.slices
    out = [Heading(3, "Learned topics")]
    not_run = _not_run(ts.topics_reason, ts.topics is None, "slices.topics_max")
    if not_run:
        return out + not_run
    if not ts.topics:
        fitted = f" from the {cnt(ts.topics_n_fit)} reviews" if ts.topics_n_fit else ""
        return out + [Paragraph(f"No topic was learned{fitted}: {_reason(ts.topics_reason)}.")]
    tested = [t for t in ts.topics if t.tested]
    own = [t for t in tested if t.evidence == "within_class"]
    mix = [t for t in tested if t.evidence == "class_mix"]
    k = len(ts.topics)
    own_list = own_entries(inputs)
    numbers = {e.lead.key: i for i, e in enumerate(own_list, start=1)}
    leads = {e.lead.key: e.lead for e in class_mix_entries(inputs) + own_list}  # own last: it wins
    fdr = f" at FDR {g(sl.fdr_alpha)}" if sl is not None else ""
    out.append(Paragraph(
        f"{cnt(k)} {_s(k, 'topic was', 'topics were')} learned from the words of {cnt(ts.topics_n_fit)} reviews "
        f"(TF-IDF and non-negative matrix factorisation on the text alone: no label, prediction or error was used), "
        f"each named by its three strongest terms. A review belongs to every topic it leans on enough, so topics "
        f"overlap and some reviews are in none. {cnt(len(tested))} {_s(len(tested), 'was', 'were')} tested like "
        f"any other slice, in the same family{fdr}: {cnt(len(own))} {_s(len(own), 'is a blind spot', 'are blind spots')}"
        f" of {_s(len(own), 'its', 'their')} own, {cnt(len(mix))} {_s(len(mix), 'is', 'are')} worse only through "
        f"{_s(len(mix), 'its', 'their')} class mix."))
    rows = [[run(t.name, Break(), Code(t.key)), ", ".join(t.top_terms), cnt(t.n),
             f"{f2(t.error_rate)} vs {f2(t.rest_error_rate)}", _topic_verdict(t, numbers, leads)] for t in ts.topics]
    out.append(Table(["topic", "top terms", "reviews", "error rate vs rest", "verdict"], rows,
                     align=("l", "l", "r", "r", "l"), wide=1,
                     caption="In the order the topics were learned. Verdict: a blind spot of its own is worse than "
                             "the rest within the true classes; worse only through its class mix holds more "
                             "reviews of the classes the model misses everywhere."))
    out.append(Paragraph(_topics_not_found(tested, own, k)))
    return out + [b for t in own + mix for b in _topic_examples(t, max_chars)]


def _topic_examples(t, max_chars: int) -> list:
    """A significant topic's example reviews, quoted as text (the renderers escape it)."""
    if not t.examples:
        return []
    why = "a blind spot of its own" if t.evidence == "within_class" else "worse only through its class mix"
    n = len(t.examples)
    return [Paragraph(f"The {_s(n, 'review', cnt(n) + ' reviews')} most about \u201c{t.name}\u201d ({why}), as the "
                      f"slice stage kept {_s(n, 'it', 'them')} (the start of the text, escaped, at most "
                      f"{cnt(max_chars)} characters):")] + [
        Quote(truncate(text, max_chars), run(Code(rid), f" \u00b7 topic \u201c{t.name}\u201d"))
        for rid, text in t.examples]


def _topics_not_found(tested: list, own: list, k: int) -> str:
    """What the topics did not find, in words."""
    untested = k - len(tested)
    tail = (f" {cnt(untested)} {_s(untested, 'topic was', 'topics were')} not tested (too few reviews, or nearly "
            f"all of them)." if untested else "")
    if not tested:
        return f"No topic could be tested, so the topics say nothing either way.{tail}"
    clean = len(tested) - len(own)
    if not clean:
        return f"Every tested topic is worse within its true classes.{tail}"
    if len(tested) == 1:
        return f"The one tested topic is not worse within its true classes.{tail}"
    if not own:
        return f"None of the {cnt(len(tested))} tested topics is worse within its true classes.{tail}"
    return (f"{cnt(clean)} of the {cnt(len(tested))} tested topics {_s(clean, 'is', 'are')} not worse within "
            f"{_s(clean, 'its', 'their')} true classes.{tail}")


def _terms_intro(ts, tested: list) -> Paragraph:
    on_a = sum(1 for t in tested if t.selected_on in ("a", "both"))
    on_b = sum(1 for t in tested if t.selected_on in ("b", "both"))
    both = sum(1 for t in tested if t.selected_on == "both")
    top = f"the {cnt(ts.terms_top_k)} most error-associated" if ts.terms_top_k else "the most error-associated"
    return Paragraph(
        f"Every word but stop words, and every pair of adjacent words but pairs of stop words, in enough "
        f"reviews ({cnt(ts.terms_n_candidates)} "
        f"{_s(ts.terms_n_candidates, 'candidate', 'candidates')}) was scored on one half of the reviews for how much "
        f"more often the model errs on the reviews holding it within their true classes; {top} were tested on the "
        f"other half, and then the halves swapped (half A {cnt(ts.terms_n_a)} reviews, half B {cnt(ts.terms_n_b)}). "
        f"{cnt(on_a)} {_s(on_a, 'term was', 'terms were')} selected on A, {cnt(on_b)} on B, {cnt(both)} by both. ",
        Em("Why the other half: a term picked because its reviews held the most errors would look worse on those "
           "same reviews by chance alone; tested on reviews the search never saw, its p value is as honest as "
           "that of a slice named in advance."),
        " A term's two p values are combined as min(1, 2 \u00d7 the smaller) (Bonferroni; a half that did not "
        "select it counts as 1), and that one p value joins the slice stage's one Benjamini-Hochberg family.")


def _p_halves(t) -> Run:
    """"A\u2192B 0.001" above "B\u2192A \u2014": the two directions of a term's test (a dash: not selected there)."""
    return run(f"A\u2192B {qcell(t.p_a_to_b) if t.p_a_to_b is not None else chr(0x2014)}", Break(),
               f"B\u2192A {qcell(t.p_b_to_a) if t.p_b_to_a is not None else chr(0x2014)}")


def _terms(inputs: Inputs) -> list:
    ts, sl = inputs.text_slices, inputs.slices
    out = [Heading(3, "Error-associated terms")]
    not_run = _not_run(ts.terms_reason, ts.terms is None, "slices.terms_top_k")
    if not_run:
        return out + not_run
    if ts.terms_reason and not ts.terms:
        return out + [Paragraph(f"No term was tested: {_reason(ts.terms_reason)} "
                                f"({cnt(ts.terms_n_candidates)} candidates; halves of {cnt(ts.terms_n_a)} and "
                                f"{cnt(ts.terms_n_b)} reviews).")]
    tested = list(ts.terms)
    out.append(_terms_intro(ts, tested))
    found = [t for t in tested if t.significant]
    fdr = f" at FDR {g(sl.fdr_alpha)}" if sl is not None else ""
    if found:
        rows = [[run(f"\u201c{t.term}\u201d", Break(), Code(t.key)), f"{cnt(t.errors)} of {cnt(t.n)}",
                 f"{f2(t.error_rate)} vs {f2(t.rest_error_rate)}",
                 f1(t.expected_given_class_mix) if t.expected_given_class_mix is not None else "n/a",
                 _p_halves(t), qcell(t.p_value), qcell(t.q_value)] for t in found]
        out.append(Table(["term", "errors in its reviews", "error rate vs rest", "class mix predicts",
                          "p per direction", "cross-fitted p", "q"], rows,
                         align=("l", "r", "r", "r", "l", "r", "r"), wide=0,
                         caption="Error rates and counts on all reviews, for reading; the decision rests on the "
                                 "cross-fitted p value. \u201cClass mix predicts\u201d: the errors expected if each "
                                 "true class among the term's reviews erred at its overall rate."))
    if not tested:
        out.append(Paragraph("No term was selected in either direction, so none was tested."))
    elif not found:
        best = min(tested, key=lambda t: (t.q_value if t.q_value is not None else 2.0, t.term))
        out.append(Paragraph(
            f"None of the {cnt(len(tested))} selected {_s(len(tested), 'term', 'terms')} is worse within the true "
            f"classes after false-discovery control{fdr} (the closest: ", Code(best.term), f", {qtext(best.q_value)})."))
    else:
        rest = len(tested) - len(found)
        out.append(Paragraph(
            f"{cnt(len(found))} of the {cnt(len(tested))} selected {_s(len(tested), 'term', 'terms')} "
            f"{_s(len(found), 'is', 'are')} worse within the true classes after false-discovery control{fdr}"
            + (f"; the other {cnt(rest)} {_s(rest, 'is', 'are')} not" if rest else "")
            + ". Each found term is a blind spot of its own in the ranked list above; every selected term, "
              "significant or not, is in ", Code(str(TEXT_SLICES_FILE)), "."))
    return out


def text_slices(inputs: Inputs, *, max_chars: int) -> list:
    """The section: learned topics, then error-associated terms, or why neither was looked for."""
    out = [Heading(2, TEXT_TITLE)]
    if inputs.text_slices is None:
        return out + [Callout(
            "note", "Not run: ", Code(str(TEXT_SLICES_FILE)), " is absent (an audit from before learned topics "
            "and error-associated terms, or the slice stage's results are missing), so no slice was looked for in "
            "the text beyond the named detectors. Re-run the slice stage (", Code("dvc repro"), ").")]
    out.append(Paragraph(
        "Slices nobody named in advance, found in the review text itself: topics learned from the words, and "
        "words or phrases whose reviews the model gets wrong. Both are tested against the rest within the true "
        "classes, in the same false-discovery family as every slice in ",
        Code(str(paths.FINDINGS)), "."))
    return out + _topics(inputs, max_chars=max_chars) + _terms(inputs)
