""""Comparison with the previous version": which version, paired deltas, prior shift, blind-spot lifecycle, gate."""

from __future__ import annotations

from blindspot import paths
from blindspot.direction import higher_is_better
from blindspot.lifecycle import display_name
from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import BulletList, Callout, Code, Em, Heading, Paragraph, Strong, Table, run
from blindspot.report.fmt import cnt, f3, g, interval, level, metric_label, pct, qcell, qtext, signed
from blindspot.report.load import Comparison, Delta, Inputs, measured


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

def _not_compared(inputs: Inputs) -> list:
    """The callout when there is no paired comparison to show (absent, no baseline, refused, same model)."""
    c = inputs.comparison
    if c is None:
        return [Callout("note", "Not run: no paired comparison (", Code(str(paths.COMPARE_METRICS)),
                        " is absent): run the compare stage.")]
    if c.status == "no_baseline":
        return [Callout("note", "No baseline: no previous audit is recorded and ", Code("compare.baseline.path"),
                        " is null, so nothing is compared. After committing this audit, ", Code("blindspot baseline"),
                        " records it as the baseline of the next version (or set ", Code("compare.baseline.path"),
                        " to an earlier version's predictions, scored on the same reviews).")]
    if c.status != "compared":
        names = (f" ({c.current_name} against {c.baseline_name})" if c.current_name and c.baseline_name else "")
        return [Callout("warning", f"Not compared{names}: {c.reason.rstrip('.') if c.reason else c.status}.")]
    return [Callout("note", f"The baseline ({c.baseline_name}, ", Code(str(c.baseline_path)), ") is the "
                            f"current model: all {c.n_tests} paired tests show a delta of 0 and nothing is "
                            "flagged. To compare a new version, run ", Code("dvc exp run -S model=v2"),
                            " (or your own model config); ", Code("dvc metrics diff"), " then shows the same "
                            "deltas.")]


def _intro(c: Comparison) -> Paragraph:
    intro = (f"{c.current_name} against {c.baseline_name}, scored on the same reviews: {cnt(c.n_paired)} reviews "
             f"are in both files with the same gold label")
    if c.n_paired < c.n_current or c.label_mismatch:
        intro += (f" ({cnt(c.n_current)} in {c.current_name}, {cnt(c.n_baseline)} in {c.baseline_name}, "
                  f"{cnt(c.label_mismatch)} with different gold labels, not compared)")
    return Paragraph(intro + (
        f". Two models on the same reviews are one paired experiment: accuracy, per-class recall and the "
        f"confidently-incorrect rate are tested with exact McNemar tests on the reviews where the two "
        f"disagree (in brackets: reviews only {c.baseline_name} / only {c.current_name} gets right, or for "
        f"the confidently-incorrect rate, gets confidently wrong), every other metric with a paired "
        f"bootstrap; one Benjamini-Hochberg family over all {c.n_tests} tests at FDR {g(c.fdr_alpha)}. "
        f"{c.n_changed} changed: {c.n_improved} improved, {c.n_worsened} worsened."))


def _changes(c: Comparison) -> list:
    """The changed metrics by scope, and the global ones significant alone but not after the FDR control."""
    out, groups = [], {}
    for scope, d in _all_deltas(c):
        if d.changed:
            groups.setdefault(scope, []).append(
                f"{metric_label(d.metric)} {d.direction} {f3(d.baseline)} \u2192 {f3(d.current)} "
                f"({signed(d.delta.value)} {interval(d.delta, signed)}, {qtext(d.q_value)})")
    if groups:
        out.append(BulletList([run(Strong(scope), ": ", "; ".join(items)) for scope, items in groups.items()]))
    for d in c.global_deltas:
        if d.tested and not d.changed and measured(d.p_value) and d.p_value < c.fdr_alpha:
            out.append(Paragraph(f"{metric_label(d.metric).capitalize()} moves {signed(d.delta.value)} "
                                 f"{interval(d.delta, signed)} (p = {d.p_value:.3f} alone), but not beyond chance once "
                                 f"all {c.n_tests} tests are accounted for ({qtext(d.q_value)})."))
    return out


def _delta_tables(c: Comparison) -> list:
    lvl = level(c.ci_level)
    header = ["metric", c.baseline_name, c.current_name, f"delta [{lvl} CI]", "n", "test", "q", "verdict"]
    align = ("l", "r", "r", "r", "r", "l", "r", "l")
    rows = [_delta_row(metric_label(d.metric), d) for d in c.global_deltas]
    for cls, ds in c.class_deltas.items():
        rows += [_delta_row(f"{metric_label(d.metric)} of '{cls}'", d) for d in ds]
    out = [Heading(3, "Global and per-class metrics"),
           Table(header, rows, align=align,
                 caption=f"delta: {c.current_name} minus {c.baseline_name}, percentile bootstrap interval "
                         f"of the paired count table (unadjusted {lvl}); q: Benjamini-Hochberg.")]
    if c.slice_deltas:
        rows = [_delta_row(run(Code(key), " ", metric_label(d.metric)), d, show_direction=False)
                for key, (n, ds) in c.slice_deltas.items() for d in ds]
        untested = sum(not d.tested for _, ds in c.slice_deltas.values() for d in ds)
        caption = f"{untested} comparisons on too few reviews are listed untested, with the reason." if untested else ()
        out += [Heading(3, "Watchlist slices"), Table(header, rows, align=align, caption=caption)]
    return out


def baseline_words(c: Comparison) -> list:
    """Which version the baseline is and where that was declared, as inline runs."""
    if c.baseline_source == "previous_audit":
        return [f"{c.baseline_name}, the previous audited version: the audit committed at ",
                Code(c.baseline_commit[:12]), f" ({c.baseline_committed[:10]}, “{c.baseline_subject}”), "
                "recorded in ", Code("baseline/baseline.json"), " by ", Code("blindspot baseline"),
                "; its predictions ", Code(str(c.baseline_path)), "."]
    return [f"{c.baseline_name}: the predictions file ", Code(str(c.baseline_path)), ", set in ",
            Code("compare.baseline.path"), "."]


def comparison(inputs: Inputs) -> list:
    out = [Heading(2, SECTION_TITLES[8])]
    c = inputs.comparison
    if c is not None and c.baseline_path:
        out.append(Paragraph(Strong("Baseline: "), *baseline_words(c)))
    if c is None or c.status != "compared" or c.baseline_is_current:
        out += _not_compared(inputs)
    else:
        out += [_intro(c), *_changes(c), *_delta_tables(c)]
    if c is not None and c.prior_shift is not None and c.prior_shift.measured:
        out.append(Paragraph(_prior_shift_text(c)))
    return out + lifecycle_section(inputs)


STATUS_WORDS = {"new": "new", "reopened": "reopened (closed before, back)", "closed": "closed",
                "open": "open (not tracked)"}


def _status_cell(e: dict):
    if e["status"] == "persisting":
        return f"persisting, {e.get('trend') or 'unchanged'}"
    word = STATUS_WORDS.get(e["status"], e["status"])
    return Strong(word) if e["status"] in ("new", "reopened") else word


def lifecycle_section(inputs: Inputs) -> list:
    """Each blind spot against the previous audited version, and the release gate's result."""
    lc, out = inputs.lifecycle, [Heading(3, "Blind spots across versions")]
    if lc is None:
        return out + [Callout("note", "Not run: ", Code(str(paths.LIFECYCLE)), " is absent; run the lifecycle stage.")]
    if lc.status != "tracked":
        out.append(Callout("note", f"Not tracked: {lc.reason.rstrip('.')}. Every blind spot of this version is "
                                   f"listed as open ({cnt(lc.counts.get('open', 0))})."))
    else:
        n, prev = lc.counts, lc.previous or {}
        out.append(Paragraph(
            f"Against {prev.get('name')} (the audit committed at ", Code(str(prev.get("commit", ""))[:12]), "): ",
            f"{cnt(n.get('new', 0))} new, {cnt(n.get('reopened', 0))} reopened, {cnt(n.get('persisting', 0))} "
            f"persisting ({cnt(n.get('persisting_better', 0))} better, {cnt(n.get('persisting_worse', 0))} worse by "
            f"the paired tests), {cnt(n.get('closed', 0))} closed. A blind spot is a slice worse within its true "
            f"classes, or a class whose recall is below the others'; it is the same one across versions when its key "
            f"and metric are."))
    if lc.entries:
        rows = [[display_name(e), run(Code(e["key"]), " ", metric_label(e["metric"])), _status_cell(e),
                 f3(e.get("previous_value")), f3(e.get("value")), str(e.get("first_seen") or "")] for e in lc.entries]
        out.append(Table(["blind spot", "key and metric", "status", "before", "now", "first seen"], rows,
                         align=("l", "l", "l", "r", "r", "l")))
    if lc.closed_earlier:
        out.append(Paragraph("Closed at an earlier version and still closed: " + "; ".join(
            f"{display_name(e)} ({metric_label(e['metric'])}, closed in {e.get('closed_in')})" for e in lc.closed_earlier) + "."))
    return out + _gate(inputs)


def _gate(inputs: Inputs) -> list:
    g = inputs.gate
    if g is None:
        return []
    failed = [r for r, e in g.rules.items() if not e.get("passed")]
    lines = [run(Code(r), f": {'pass' if e.get('passed') else 'FAIL'}, {e.get('summary')}") for r, e in g.rules.items()]
    head = (f"Release gate: FAILED ({', '.join(failed)})." if failed else "Release gate: passed.")
    return [Callout("warning" if failed else "note", Strong(head), " ", Code("blindspot gate"),
                    f" exits {1 if failed else 0}; the rules are in ", Code("conf/gate/"), "."), BulletList(lines)]


def _p_text(p) -> str:
    return "p < 0.001" if measured(p) and p < 0.001 else f"p = {p:.3f}" if measured(p) else "p not measurable"

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
    verdict = ("would help" if measured(acc.delta.ci_low) and acc.delta.ci_low > 0 else
               "would hurt" if measured(acc.delta.ci_high) and acc.delta.ci_high < 0 else "would change nothing clear")
    moved = sorted(((cls, r) for cls, r in ps.recall.items()
                    if r.delta.has_interval and (r.delta.ci_low > 0 or r.delta.ci_high < 0)),
                   key=lambda item: -abs(item[1].delta.value))[:3]
    recalls = "".join(f"; recall of '{cls}' {f3(r.before.value)} \u2192 {f3(r.after.value)} "
                      f"({signed(r.delta.value)} {interval(r.delta, signed)})" for cls, r in moved)
    text += (f" A label-free prior correction {verdict}: estimated from {cur}'s probabilities alone (EM of Saerens et "
             f"al. 2002, with {base}'s label shares as the training mix, cross-fitted over {ps.n_splits} folds), it "
             f"reads the mix as {_mix(ps.estimated_prior)}")
    notes = ["the estimate did not settle: EM stopped at its iteration cap"] if not ps.converged else []
    if measured(ps.estimate_tv) and ps.estimate_tv >= 0.05:  # the audit's gold labels show how far off it is
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
