""""Visual evidence": the figures the stages drew, with captions that carry their numbers."""

from __future__ import annotations

from blindspot.report.complete import SECTION_TITLES
from blindspot.report.document import Callout, Code, Figure, Heading, Paragraph
from blindspot.report.fmt import cnt, est, f2, f3, level
from blindspot.report.load import Inputs, measured


def evidence(inputs: Inputs) -> list:
    p, cal, fig = inputs.profile, inputs.calibration, inputs.figures
    out = [Heading(2, SECTION_TITLES[4])]
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
        if measured(cal.ece_noise_floor):
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
        if measured(cal.confidence_auroc):
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
