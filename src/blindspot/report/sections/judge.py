""""What the judge found, and how far to trust it"."""

from __future__ import annotations

from blindspot import paths
from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import BulletList, Callout, Code, Heading, Paragraph
from blindspot.report.fmt import cnt, est, f2, interval, kappa_strength, not_measurable, pct, pct1
from blindspot.report.load import Inputs


def _trust(j) -> str:
    """How far to trust the judge: its agreement with the gold labels on the random sample."""
    if not j.kappa_gold.ok:
        rate = ("" if not j.agreement_gold.ok and getattr(j.agreement_gold.value, "reason", None)
                == getattr(j.kappa_gold.value, "reason", None) else f" (agreement rate {est(j.agreement_gold, pct)})")
        return (f"Its agreement with the gold labels on the random sample of {cnt(j.n_agreement)} reviews is "
                f"{not_measurable(j.kappa_gold.value)}{rate}. Without a measured agreement, treat its verdicts as "
                f"leads for a human annotator, not as evidence.")
    trust = (f"On the random sample it agrees with the gold label on {pct(j.agreement_gold.value)} "
             f"{interval(j.agreement_gold, pct)} of {cnt(j.n_agreement)} reviews, Cohen's kappa "
             f"{est(j.kappa_gold, f2)} ({kappa_strength(j.kappa_gold.value)} agreement")
    if j.kappa_gold.has_interval:
        trust += (f"; the interval reaches from {kappa_strength(j.kappa_gold.ci_low)} to "
                  f"{kappa_strength(j.kappa_gold.ci_high)}")
    if j.kappa_gold.has_interval and j.kappa_gold.ci_low >= 0.6:
        return trust + "). That is strong enough to use its verdicts for triage, with spot checks."
    return trust + ("). That is too weak to overrule a gold label: treat its verdicts as leads for a human "
                    "annotator, not as evidence.")


def _findings(j) -> list:
    """What the judge found: sides taken on confident errors, gold labels it calls wrong, failures, injections."""
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
    return items


def judge(inputs: Inputs) -> list:
    out = [Heading(2, SECTION_TITLES[6])]
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
    out.append(Paragraph(_trust(j)))
    if j.backend == "offline":
        out.append(Callout("note", "The offline backend is a deterministic rule-based reader, the default so that "
                                   "every run works without a network. For a stronger reading point the judge at a "
                                   "language model: ", Code("dvc exp run -S judge=openai"), "."))
    items = _findings(j)
    if items:
        out.append(BulletList(items))
    return out
