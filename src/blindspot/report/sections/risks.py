""""Risk and mitigation": one row per finding, advice only where a measured what-if supports it."""

from __future__ import annotations

from blindspot import paths
from blindspot.keys import threshold_key
from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import Code, Heading, Paragraph, Run, Table, plain, run
from blindspot.report.fmt import cnt, est, f2, f3, failures, g, metric_label, pct, pct1, qtext, sentence_join, share
from blindspot.report.load import TEXT_SLICES_FILE, Inputs, measured
from blindspot.report.reasoning import collapsed_classes, distinct_blind_spots, weak_classes


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

def _class_metric(inputs: Inputs, name: str) -> Run:
    """The DVC keys that will show a class's recall move."""
    cells = [_dvc_key(paths.PROFILE_METRICS, f"per_class.{name}.recall.value")]
    if inputs.comparison is not None and inputs.comparison.status == "compared":
        cells += [" and ", Code(f"{paths.COMPARE_METRICS}: global.per_class.{name}.recall.delta.value")]
    return run(*cells)


def _confused_with(inputs: Inputs, name: str) -> str:
    """The class most of ``name``'s misses go to ("" when it has none)."""
    row = {k: v for k, v in inputs.profile.confusion.get(name, {}).items() if k != name}
    return max(sorted(row), key=lambda k: row[k]) if row and max(row.values()) > 0 else ""


def _class_rows(inputs: Inputs, class_risk: dict) -> list:
    """One row per collapsed class, then one per significantly weak class."""
    rows = []
    for c in collapsed_classes(inputs):
        risk = class_risk.get(c.name) or f"every '{c.name}' review is routed as another class"
        other = _confused_with(inputs, c.name)
        rows.append([
            f"Class '{c.name}' is never {'predicted' if c.predicted == 0 else 'predicted correctly'} "
            f"(recall {est(c.recall, f2)} on {cnt(c.support)} reviews)",
            risk[:1].upper() + risk[1:] + ".",
            f"Candidates to test (no what-if measures them here): class weights or resampling in training, more "
            f"labelled '{c.name}' reviews"
            + (f", and what separates it from '{other}', where most of them go" if other else "")
            + f". Keep a change only if the next version's '{c.name}' recall rises; gate releases on it.",
            _class_metric(inputs, c.name)])
    for c, f in weak_classes(inputs):
        risk = class_risk.get(c.name) or f"'{c.name}' reviews are routed as another class"
        other = _confused_with(inputs, c.name)
        rows.append([
            f"'{c.name}' recall {est(c.recall, f2)}: {pct(1 - c.recall.value)} of {cnt(c.support)} reviews missed "
            f"({qtext(f.q_value)})",
            risk[:1].upper() + risk[1:] + ".",
            f"Candidates to test (no what-if measures them here): class-weighted training or a lower decision "
            f"threshold for '{c.name}'" + (f" (its misses go to '{other}')" if other else "")
            + f". Keep a change only if the next version's '{c.name}' recall rises without other classes' falling; "
              f"gate releases on it.",
            _class_metric(inputs, c.name)])
    return rows


def _follow_up(f, watched: bool) -> str:
    """How to follow a blind spot on the next versions: the watchlist for a named or metadata slice; a learned
    topic or an error-associated term is found afresh on every run, so the next brief's text-slice section."""
    if f.text_kind == "term":
        return ("; the terms are selected afresh on every run, so the next audit's error-associated terms (and "
                f"{TEXT_SLICES_FILE}) show whether it persists")
    if f.text_kind == "topic":
        return ("; the topics are learned afresh on every run and their names can change with the data, so look "
                "for the theme among the next audit's learned topics")
    return "" if watched else f"; follow it on every version by adding {f.key} to slices.watchlist"


def _slice_row(inputs: Inputs, f) -> list:
    """The row of one blind spot of its own."""
    cmp_ = inputs.comparison
    watched = inputs.slices.on_watchlist(f.key)
    section = "watchlist" if watched else "discovered"
    metric = run(_dvc_key(paths.SLICE_METRICS, f"{section}.{f.key}.{f.metric}.value"))
    if f.text_kind == "term":  # not a slice of metrics/slices.json: its count there, its line in the text file
        metric = run(_dvc_key(paths.SLICE_METRICS, "text_slices.terms.n_significant"), " and its line in ",
                     Code(str(TEXT_SLICES_FILE)))
    if cmp_ is not None and cmp_.status == "compared" and watched:
        m = "accuracy" if f.metric == "error_rate" else f.metric
        metric = run(metric, " and ", Code(f"{paths.COMPARE_METRICS}: watchlist.{f.key}.{m}.delta.value"))
    mix = (f.metric == "error_rate" and f.excess_given_class_mix is not None and f.excess_given_class_mix <= 0)
    mitigation = ("Its class mix accounts for its excess errors (measured), so expect it to move with the "
                  "weak-class recalls above; re-check it when they change"
                  if mix else "Candidate to test (no what-if measures it here): collect and label more reviews "
                              "like these and check what the model relies on in them")
    mitigation += _follow_up(f, watched) + "."
    q_own = f.conditional_q_value if f.conditional_q_value is not None else f.q_value
    more = (f", about {cnt(round(f.excess))} more than the rest's rate predicts"
            if measured(f.excess) and f.excess >= 1 else "")
    return [f"\u201c{f.description}\u201d ({cnt(f.slice_n)} reviews): {metric_label(f.metric)} {f2(f.value.value)} "
            f"against {f2(f.rest_value)} elsewhere ({qtext(q_own)}); {plain(failures(f))} "
            f"{'wrong' if f.metric == 'error_rate' else 'missed'}{more}",
            "People writing reviews like these get worse readings than the headline accuracy promises, and the "
            "global metric does not show it.",
            mitigation, metric]


def _confident_row(inputs: Inputs) -> list:
    """The row of the confidently incorrect predictions."""
    cal, cmp_ = inputs.calibration, inputs.comparison
    band = threshold_key(cal.threshold)
    metric = run(_dvc_key(paths.CALIBRATION_METRICS, f"confidently_incorrect.{band}.count"), " and ",
                 Code(f"{paths.CALIBRATION_METRICS}: overall.ece.value"))
    if cmp_ is not None and cmp_.status == "compared":
        metric = run(metric, " and ", Code(f"{paths.COMPARE_METRICS}: global.confidently_incorrect_rate.delta.value"))
    return [f"{cnt(cal.confident.count)} reviews ({pct(cal.confident.rate.value, 1)}) wrong with confidence "
            f"\u2265 {g(cal.threshold)}",
            "Any automation that trusts confident predictions (auto-routing, skipping human review) passes these "
            "errors through unseen.",
            confident_mitigation(cal), metric]


def _label_noise_row(j) -> list:
    """The row of suspected label noise, from the judge's random sample and confident learning."""
    evidence_ = []
    if j.gold_wrong_random:
        evidence_.append(f"the judge calls {j.gold_wrong_random} of {j.gold_wrong_random_n} randomly sampled gold "
                         f"labels wrong ({est(j.gold_wrong_random_rate, pct1)})")
    if j.cl_available and j.cl_suspected:
        evidence_.append(f"confident learning suspects {cnt(j.cl_suspected)} labels")
    return ["Suspected label noise: " + sentence_join(evidence_),
            "Part of the measured error may be wrong gold labels: the metrics blame the model for them, and "
            "retraining on them teaches the error.",
            f"Re-annotate the flagged reviews ({paths.JUDGMENTS}: gold_label_wrong, cl_suspect) with two annotators "
            f"before retraining; report metrics with and without them.",
            _dvc_key(paths.JUDGE_METRICS, "verdicts.gold_label_wrong_random_sample.rate.value")]


def risk_rows(inputs: Inputs, class_risk: dict, *, max_slices: int = 3) -> list:
    """(finding, risk, mitigation, metric) runs, one per finding present in the data."""
    cal, j = inputs.calibration, inputs.judge
    rows = _class_rows(inputs, class_risk)
    rows += [_slice_row(inputs, f) for f in distinct_blind_spots(inputs)[:max_slices]]
    if cal and cal.confident and cal.confident.count > 0:
        rows.append(_confident_row(inputs))
    if j and (j.gold_wrong_random or (j.cl_available and j.cl_suspected)):
        rows.append(_label_noise_row(j))
    return rows


def risks(inputs: Inputs, class_risk: dict) -> list:
    out = [Heading(2, SECTION_TITLES[7])]
    rows = risk_rows(inputs, class_risk)
    if not rows:
        return out + [Paragraph("No finding in this audit calls for a mitigation.")]
    out.append(Paragraph("One row per finding present in this audit; the last column names the metric (file: "
                         "key, as ", Code("dvc metrics diff"), " shows it) that will show the fix on the next "
                         "version."))
    out.append(Table(["finding", "risk to users", "mitigation", "metric that will show it fixed"], rows,
                     wide=3))
    return out
