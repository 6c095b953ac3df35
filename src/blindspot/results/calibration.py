"""``metrics/calibration.json``: how far confidence can be trusted (calibrate stage, :mod:`blindspot.calibration`).

Three blocks repeat: the calibration summary of a set of rows (all rows, the rows predicted
as a class, a slice; :func:`blindspot.calibration.summary.calibration_summary`), the
confidently incorrect rows at each threshold (:func:`blindspot.calibration.confident.confident_error_rates`)
and the what-if after a recalibration method (:mod:`blindspot.calibration.recalibration`).
Each is declared once below and placed under every path it occurs at.
"""

from __future__ import annotations

from blindspot.results.keys import HIGHER, LOWER, NEITHER, SCHEMA_VERSION, Key, ResultsFile


def summary_keys(at: str) -> tuple:
    """The calibration summary of a set of rows, under ``at`` (a path prefix)."""
    return (
        Key(f"{at}.n", "count", "Rows in the set."),
        Key(f"{at}.accuracy", "number", "Share of the rows predicted right."),
        Key(f"{at}.mean_confidence", "number", "Mean confidence (probability of the predicted class).", NEITHER),
        Key(f"{at}.overconfidence", "estimate", "Mean confidence minus accuracy: above 0 the model is overconfident.",
            NEITHER),
        Key(f"{at}.ece", "estimate", "Expected calibration error over equal-width confidence bins."),
        Key(f"{at}.ece_debiased", "number", "ECE minus its bootstrap bias estimate, clipped at 0."),
        Key(f"{at}.ece_noise_floor", "number",
            "ECE a perfectly calibrated model with these confidences would show by chance (mean of the null).", NEITHER),
        Key(f"{at}.ece_p_value", "number",
            "p value of the consistency-resampling test of perfect calibration (equal-width bins).", NEITHER),
        Key(f"{at}.ece_equal_mass", "estimate", "Expected calibration error over equal-mass confidence bins."),
        Key(f"{at}.ece_equal_mass_debiased", "number", "Equal-mass ECE minus its bootstrap bias estimate, clipped at 0."),
        Key(f"{at}.ece_equal_mass_noise_floor", "number", "Noise floor of the equal-mass ECE.", NEITHER),
        Key(f"{at}.ece_equal_mass_p_value", "number",
            "p value of the consistency-resampling test of perfect calibration (equal-mass bins).", NEITHER),
        Key(f"{at}.mce", "number", "Largest gap between confidence and accuracy in one equal-width bin."),
        Key(f"{at}.mce_equal_mass", "number", "Largest gap between confidence and accuracy in one equal-mass bin."),
        Key(f"{at}.brier_top_label", "estimate", "Mean squared gap between confidence and being right."),
        Key(f"{at}.brier", "estimate", "Multiclass Brier loss (needs class probabilities)."),
        Key(f"{at}.log_loss", "estimate", "Mean negative log probability of the gold class (needs class probabilities)."),
        Key(f"{at}.classwise_ece", "number", "Mean over classes of the ECE of p(class) against being of the class.",
            LOWER),
        Key(f"{at}.confidence_auroc", "number",
            "Area under the ROC curve of confidence as a score for being right (discrimination, not calibration).",
            HIGHER),
    )


def too_small_keys(at: str) -> tuple:
    """Whether a set of rows was evaluated, and why not, under ``at``."""
    return (
        Key(f"{at}.status", "text", "ok, or too_small when the set has fewer than min_n rows."),
        Key(f"{at}.reason", "text", "Why the set was not evaluated."),
    )


def confident_keys(at: str) -> tuple:
    """Confidently incorrect rows at each threshold, under ``at`` ("" for the top level; ``<band>`` is
    ``conf_ge_<percent>``, :func:`blindspot.keys.threshold_key`)."""
    band = f"{at}.confidently_incorrect.<band>".lstrip(".")
    return (
        Key(f"{band}.threshold", "number", "The confidence threshold.", NEITHER),
        Key(f"{band}.count", "count", "Wrong predictions with confidence at or above the threshold."),
        Key(f"{band}.rate", "estimate", "That count over all rows of the set.", LOWER),
        Key(f"{band}.n_confident", "count", "Predictions with confidence at or above the threshold."),
        Key(f"{band}.error_rate_among_confident", "estimate", "That count over the predictions at or above it."),
        Key(f"{band}.share_of_errors", "number", "That count over all wrong predictions of the set.", NEITHER),
        Key(f"{band}.share_of_errors_reason", "text", "Why that share is not measurable (no errors, or no rows)."),
    )


def method_keys() -> tuple:
    """The recalibration what-if: the data as given (``none``), then each method (``<method>``)."""
    none = "recalibration.none"
    method = "recalibration.<method>"
    given = tuple(Key(f"{none}.{name}", "number", f"{what} of the data as given (its interval is under overall).")
                  for name, what in (("ece", "ECE"), ("ece_equal_mass", "Equal-mass ECE"), ("mce", "MCE"),
                                     ("brier_top_label", "Top-label Brier loss"), ("overconfidence", "Overconfidence"),
                                     ("brier", "Multiclass Brier loss"), ("log_loss", "Log loss")))
    after = (
        Key(f"{method}.ece", "estimate", "ECE after the method, on its out-of-fold confidences (interval: paired "
                                         "cell bootstrap, with n_boot > 0)."),
        Key(f"{method}.ece_p_value", "number", "p value of the test of perfect calibration after the method.", NEITHER),
        Key(f"{method}.ece_noise_floor", "number", "Noise floor of the ECE after the method.", NEITHER),
        Key(f"{method}.ece_reduction", "estimate", "ECE before minus after, with its paired interval.", HIGHER),
        Key(f"{method}.ece_equal_mass", "number", "Equal-mass ECE after the method."),
        Key(f"{method}.mce", "number", "MCE after the method."),
        Key(f"{method}.brier_top_label", "number", "Top-label Brier loss after the method."),
        Key(f"{method}.overconfidence", "number", "Overconfidence after the method.", NEITHER),
        Key(f"{method}.brier", "number", "Multiclass Brier loss after the method (temperature scaling only)."),
        Key(f"{method}.log_loss", "number", "Log loss after the method (temperature scaling only)."),
    )
    band = f"{method}.confidently_incorrect.<band>"
    crossing = (
        Key(f"{band}.threshold", "number", "The confidence threshold.", NEITHER),
        Key(f"{band}.count", "count", "Wrong predictions at or above the threshold after the method."),
        Key(f"{band}.count_before", "count", "The same before it."),
        Key(f"{band}.count_change", "count", "count minus count_before.", LOWER),
        Key(f"{band}.rate", "estimate", "count over all rows.", LOWER),
        Key(f"{band}.n_confident", "count", "Predictions at or above the threshold after the method."),
        Key(f"{band}.correct_falling_below", "count", "Right predictions that fall below the threshold."),
        Key(f"{band}.correct_falling_below_share", "number",
            "That count over the right predictions at or above the threshold before.", NEITHER),
        Key(f"{band}.correct_rising_above", "count", "Right predictions that rise to the threshold or above."),
        Key(f"{band}.incorrect_falling_below", "count", "Wrong predictions that fall below the threshold."),
    )
    return given + after + crossing


CALIBRATION = ResultsFile(
    path="metrics/calibration.json",
    title="Calibration",
    about="Reliability of the confidences: the ECE family, Brier and log loss with intervals for all rows, each "
          "predicted class and each slice; confidently incorrect predictions at each threshold; a cross-fitted "
          "recalibration what-if and its advice.",
    keys=(
        SCHEMA_VERSION,
        Key("n", "count", "Rows audited."),
        Key("classes", "list", "Class names in config order."),
        Key("classes[]", "text", "A class name."),
        Key("probabilities", "text", "given, reconstructed_from_confidence (two classes) or none."),
        Key("n_bins", "count", "Confidence bins of every reliability curve and ECE."),
        Key("n_boot", "count", "Bootstrap replicates behind the intervals and the consistency tests."),
        Key("ci_level", "number", "Confidence level of every interval in the file."),
        Key("min_n", "count", "Fewest rows a class or slice needs to be evaluated."),
        Key("confident_thresholds", "list", "The confidence thresholds of the confidently incorrect counts."),
        Key("confident_thresholds[]", "number", "A threshold.", NEITHER),
        *summary_keys("overall"),
        Key("miscalibration_direction", "text",
            "overconfident, underconfident, well_calibrated, mixed or unmeasured (blindspot.calibration.advice)."),
        *confident_keys(""),
        Key("underconfident_correct.status", "text", "ok, or unavailable without class probabilities."),
        Key("underconfident_correct.reason", "text", "Why it is unavailable."),
        Key("underconfident_correct.margin_below", "number",
            "A right prediction is underconfident when its top-two probability margin is below this.", NEITHER),
        Key("underconfident_correct.count", "count", "Right predictions with that small a margin."),
        Key("underconfident_correct.rate", "estimate", "That count over all rows.", NEITHER),
        Key("by_class.<class>.n_true", "count", "Rows whose gold label is the class."),
        Key("by_class.<class>.n_predicted", "count", "Rows predicted as the class."),
        Key("by_class.<class>.classwise_ece", "number", "ECE of p(class) against being of the class, all rows.",
            LOWER),
        Key("by_class.<class>.classwise_mce", "number", "MCE of the same reliability curve.", LOWER),
        *confident_keys("by_class.<class>"),
        *too_small_keys("by_class.<class>.when_predicted"),
        *summary_keys("by_class.<class>.when_predicted"),
        Key("slices.<slice>.source", "text", "watch, found or watch+found: where the slice comes from."),
        *too_small_keys("slices.<slice>"),
        *summary_keys("slices.<slice>"),
        Key("slices.<slice>.ece_q_value", "number",
            "Benjamini-Hochberg q value of the slice's ECE test over every evaluated slice.", NEITHER),
        *confident_keys("slices.<slice>"),
        Key("slice_counts.total", "count", "Slices in the slice table."),
        Key("slice_counts.evaluated", "count", "Slices with at least min_n rows."),
        Key("slice_counts.too_small", "count", "Slices with fewer."),
        Key("worst_slices", "list", "The evaluated slices drawn in reliability_slices.png, most credibly "
                                    "miscalibrated first (highest ECE lower bound)."),
        Key("worst_slices[]", "text", "A slice key."),
        Key("recalibration.status", "text", "ok, or unavailable when too few rows to cross-fit."),
        Key("recalibration.reason", "text", "Why the what-if could not run."),
        *method_keys(),
        Key("recalibration.temperature", "number", "Temperature fitted on every row (descriptive only).", NEITHER),
        Key("recalibration.temperature_scope", "text", "multiclass (with probabilities) or top_label."),
        Key("recalibration.temperature_folds_min", "number", "Smallest temperature fitted in a fold.", NEITHER),
        Key("recalibration.temperature_folds_max", "number", "Largest temperature fitted in a fold.", NEITHER),
        Key("recalibration.n_splits", "count", "Cross-fitting folds."),
        Key("recalibration.best_method", "text", "The method with the lowest top-label Brier loss after it."),
        Key("recalibration.ece_reduction", "estimate", "ECE before minus after the best method.", HIGHER),
        Key("recalibration.brier_top_label_reduction", "number",
            "Top-label Brier loss before minus after the best method.", HIGHER),
        Key("recalibration.brier_top_label_reduction_share", "number", "That reduction over the loss before.", HIGHER),
        Key("recalibration.advice.<band>.method", "text", "The method advised at the threshold, or none."),
        Key("recalibration.advice.<band>.reason", "text",
            "supported, not_miscalibrated, raises_confidently_incorrect, ece_not_lower or unmeasured."),
        Key("recalibration.advice.<band>.considered", "text", "The method the reason is about, or none."),
        Key("listed_rows.confident_errors", "count", "Rows in data/interim/confident_errors.jsonl."),
        Key("listed_rows.confident_errors_total", "count",
            "Confidently incorrect rows at the lowest threshold, listed or not."),
        Key("listed_rows.underconfident_correct", "count", "Rows in data/interim/underconfident_correct.jsonl."),
        Key("listed_rows.max_listed_rows", "count", "The cap on listed rows (null: no cap)."),
        Key("unavailable", "map:text", "Each metric that could not be computed, and why."),
    ),
)
