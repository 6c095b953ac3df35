"""``metrics/headline.json``: the numbers compared across versions, copied from the other files (headline
stage, :mod:`blindspot.headline`). The only file ``dvc.yaml`` declares as a DVC metric."""

from __future__ import annotations

from blindspot.results.keys import HIGHER, LOWER, NEITHER, SCHEMA_VERSION, Key, ResultsFile

HEADLINE = ResultsFile(
    path="metrics/headline.json",
    title="Headline",
    about=("What a person compares across model versions, in at most 60 keys: the one file dvc.yaml declares as a "
           "metric, so `dvc metrics diff` and `dvc exp show` fit a screen. Every number is copied from the file named "
           "beside it; the detailed files stay committed outputs that the brief and tools read. A section whose file "
           "is absent is left out."),
    keys=(
        SCHEMA_VERSION,
        Key("accuracy", "estimate", "Accuracy with its interval (metrics/profile.json accuracy)."),
        Key("balanced_accuracy", "estimate",
            "Mean per-class recall with its interval (metrics/profile.json balanced_accuracy)."),
        Key("f1_macro", "estimate", "Unweighted mean of the per-class F1 with its interval (metrics/profile.json)."),
        Key("recall.<class>", "estimate",
            "A class's recall with its interval (metrics/profile.json per_class.<class>.recall): every class up to 6 "
            "classes, beyond that the 4 lowest."),
        Key("recall_classes_omitted", "count", "Classes whose recall is left out of recall (0 up to 6 classes)."),
        Key("ece", "estimate", "Top-label expected calibration error, equal-width bins (metrics/calibration.json "
                               "overall.ece)."),
        Key("confidently_incorrect.threshold", "number",
            "The confidence band of the rate: report.confident_threshold, or the closest band calibration reports.",
            NEITHER),
        Key("confidently_incorrect.rate", "estimate",
            "Share of all rows that are wrong with at least that confidence (metrics/calibration.json "
            "confidently_incorrect.<band>.rate).", LOWER),
        Key("blind_spots.own", "count",
            "Slices worse than the rest within their true classes, as the brief counts them (metrics/slices.json "
            "family.n_blind_spots).", LOWER),
        Key("blind_spots.class_mix", "count",
            "Slices worse only through their mix of true classes (family.n_class_mix_slices).", LOWER),
        Key("blind_spots.weak_classes", "count",
            "Classes whose recall is significantly below the others' (family.n_class_findings).", LOWER),
        *(Key(f"blind_spots.{s}", "count", f"Blind spots (of their own, and weak classes) {s} against the previous "
                                            f"audited version (reports/lifecycle.json counts.{s}; only when tracked).",
              d) for s, d in (("new", LOWER), ("reopened", LOWER), ("persisting", NEITHER), ("closed", HIGHER))),
        Key("gate.passed", "count", "1 when every rule of the release gate passed, else 0 (metrics/gate.json).",
            HIGHER),
        Key("gate.n_failed", "count", "Rules of the release gate that failed (metrics/gate.json).", LOWER),
        Key("comparison.status", "text", "compared, no_baseline or not_compared (metrics/compare.json status)."),
        Key("comparison.n_improved", "count", "Paired tests changed for the better (family.n_improved; only when "
                                              "compared).", HIGHER),
        Key("comparison.n_worsened", "count", "Paired tests changed for the worse (family.n_worsened; only when "
                                              "compared).", LOWER),
    ),
)
