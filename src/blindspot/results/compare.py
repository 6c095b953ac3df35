"""``metrics/compare.json``: the current model paired with a baseline version on the same reviews (compare
stage, :mod:`blindspot.compare` and :mod:`blindspot.prior_shift`)."""

from __future__ import annotations

from blindspot.results.keys import HIGHER, NEITHER, SCHEMA_VERSION, Key, ResultsFile


def _paired_keys(at: str, rows: str) -> tuple:
    """The keys of one paired comparison entry at ``at`` (the same at every scope).

    An untested entry holds ``n``, ``tested``, ``reason`` and ``higher_is_better`` only.
    """
    return (
        Key(f"{at}.baseline", "number", f"The metric of the baseline version on {rows}.", NEITHER),
        Key(f"{at}.current", "number", f"The metric of the current version on {rows}.", NEITHER),
        Key(f"{at}.delta", "estimate",
            "Current minus baseline, with its interval: a percentile bootstrap of the joint (true, baseline, "
            "current) count table, or a paired t interval for the losses; higher_is_better says which sign is "
            "good.", NEITHER),
        Key(f"{at}.n", "count", "Paired rows the metric is computed on (a class's rows, for its recall)."),
        Key(f"{at}.test", "text", "The paired test: mcnemar_exact, paired_bootstrap or paired_t."),
        Key(f"{at}.baseline_only", "count", "McNemar: rows where the event (e.g. correct) holds for the baseline "
                                              "only."),
        Key(f"{at}.current_only", "count", "McNemar: rows where the event holds for the current version only."),
        Key(f"{at}.p_value", "number", "Two-sided p value of the paired test.", NEITHER),
        Key(f"{at}.q_value", "number", "Benjamini-Hochberg q value over the whole family of tests.", NEITHER),
        Key(f"{at}.tested", "flag", "Whether the metric was tested (false: too few rows, or undefined)."),
        Key(f"{at}.reason", "text", "Why the metric is not tested."),
        Key(f"{at}.higher_is_better", "flag", "The metric's direction (blindspot.direction)."),
        Key(f"{at}.changed", "flag", "Whether the q value is at most the FDR level."),
        Key(f"{at}.direction", "text", "improved, worsened or unchanged, from the change and the direction."),
    )


def _rate_keys(at: str, rate: str) -> tuple:
    """The keys of one before/after rate of the prior-correction what-if at ``at``."""
    return (
        Key(f"{at}.n", "count", f"Rows the {rate} is computed on."),
        Key(f"{at}.before", "estimate", f"The {rate} of the file's own predictions (Wilson interval).", HIGHER),
        Key(f"{at}.after", "estimate", f"The {rate} after the cross-fitted prior correction (Wilson interval).",
            HIGHER),
        Key(f"{at}.delta", "estimate",
            "After minus before, with a percentile bootstrap interval of the joint (true, before, after) count "
            "table.", HIGHER),
        Key(f"{at}.lost", "count", "Rows right before the correction and wrong after."),
        Key(f"{at}.gained", "count", "Rows wrong before the correction and right after."),
        Key(f"{at}.p_value", "number", "Exact McNemar p value of the change (lost against gained).", NEITHER),
    )


COMPARE = ResultsFile(
    path="metrics/compare.json",
    title="Comparison",
    about=("The current model against a baseline version scored on the same reviews, paired by review id: every "
           "global, per-class and watchlist-slice metric with its paired test and one Benjamini-Hochberg family, "
           "and the prior (class-mix) shift between the two files. Without a usable baseline only the versions, "
           "status, reason and the prior_shift reason are written."),
    keys=(
        SCHEMA_VERSION,
        Key("status", "text", "compared, no_baseline (none configured or recorded) or not_compared (see reason)."),
        Key("reason", "text", "Why nothing is compared (empty when compared)."),
        Key("current.name", "text", "Name of the current model version (model.name)."),
        Key("current.path", "text", "Its predictions file."),
        Key("baseline.name", "text", "Name of the baseline version (compare.baseline.name)."),
        Key("baseline.path", "text", "Its predictions file (null: no baseline)."),
        Key("baseline.source", "text", "configured (compare.baseline.path), previous_audit (the audit recorded in "
                                       "baseline/ by `blindspot baseline`) or none."),
        Key("baseline.rev", "text", "previous_audit: the git revision `blindspot baseline` was given."),
        Key("baseline.commit", "text", "previous_audit: the commit of that audit."),
        Key("baseline.committed", "text", "previous_audit: the commit's date (ISO 8601)."),
        Key("baseline.subject", "text", "previous_audit: the commit's subject line."),
        Key("baseline.rows_in", "count", "Records in the baseline file."),
        Key("baseline.rows_rejected", "count", "Baseline records that fail validation, as at ingest."),
        Key("baseline.rows_clean", "count", "Valid baseline records (0 when it cannot be compared)."),
        Key("baseline_is_current", "count",
            "1 when both versions predict identically on every paired row and every row pairs."),
        Key("pairing.n_current", "count", "Rows of the current predictions."),
        Key("pairing.n_baseline", "count", "Valid rows of the baseline."),
        Key("pairing.shared_ids", "count", "Review ids in both files."),
        Key("pairing.label_mismatch", "count", "Shared ids whose gold labels differ (counted, never compared)."),
        Key("pairing.n_paired", "count", "Rows paired: same id and same gold label."),
        Key("pairing.coverage_current", "number", "Share of the current rows that are paired.", HIGHER),
        Key("settings.confident_threshold", "number", "Confidence from which a wrong prediction counts as confident."),
        Key("settings.min_rows", "count", "Fewest paired rows (of a class, for its recall) a test needs."),
        Key("settings.n_boot", "count", "Bootstrap replicates behind the bootstrap tests and intervals."),
        Key("settings.ci_level", "number", "Confidence level of every interval in the comparison."),
        Key("settings.fdr_alpha", "number", "False-discovery level at which a metric counts as changed."),
        Key("settings.test", "text", "Which paired test each metric gets."),
        Key("settings.fdr_method", "text", "The false-discovery procedure and the tests in its one family."),
        Key("family.n_tests", "count", "Tests made (global, per class, every watchlist slice)."),
        Key("family.n_changed", "count", "Of them, changed at the FDR level."),
        Key("family.n_improved", "count", "Changed for the better."),
        Key("family.n_worsened", "count", "Changed for the worse."),
        *_paired_keys("global.per_class.<class>.<metric>", "all paired rows (recall: the class's rows)"),
        *_paired_keys("global.<metric>", "all paired rows"),
        Key("watchlist.<slice>.n", "count", "Paired rows in the watchlist slice."),
        *_paired_keys("watchlist.<slice>.<metric>", "the slice's paired rows (recall_<class>: its rows of the class)"),
        # --- prior (label) shift, blindspot.prior_shift
        Key("prior_shift.measured", "count", "1 when the class-mix test ran (a baseline was read), else 0."),
        Key("prior_shift.reason", "text", "Why the prior shift is not measured."),
        Key("prior_shift.classes", "list", "The configured classes, in order."),
        Key("prior_shift.classes[]", "text", "A class name."),
        Key("prior_shift.label_shift.n_baseline", "count", "Gold-labelled rows of the baseline file."),
        Key("prior_shift.label_shift.n_current", "count", "Gold-labelled rows of the current file."),
        Key("prior_shift.label_shift.counts_baseline", "map:count", "Baseline rows of each gold class."),
        Key("prior_shift.label_shift.counts_current", "map:count", "Current rows of each gold class."),
        Key("prior_shift.label_shift.shares_baseline", "map:number", "Share of each gold class in the baseline."),
        Key("prior_shift.label_shift.shares_current", "map:number", "Share of each gold class in the current file."),
        Key("prior_shift.label_shift.test", "text", "The homogeneity test (chi-square, or Monte Carlo exact)."),
        Key("prior_shift.label_shift.alpha", "number", "Level at which the class mix is called shifted."),
        Key("prior_shift.label_shift.total_variation", "number",
            "Half the L1 distance between the two files' class shares.", NEITHER),
        Key("prior_shift.label_shift.statistic", "number", "Pearson chi-square statistic.", NEITHER),
        Key("prior_shift.label_shift.dof", "count", "Its degrees of freedom (classes present, minus 1)."),
        Key("prior_shift.label_shift.p_value", "number", "p value of the test.", NEITHER),
        Key("prior_shift.label_shift.min_expected", "number",
            "Smallest expected cell count (below 5 the Monte Carlo test is used).", NEITHER),
        Key("prior_shift.label_shift.shifted", "flag", "Whether the p value is below alpha."),
        Key("prior_shift.em.measured", "count", "1 when the label-free EM prior estimate ran, else 0."),
        Key("prior_shift.em.reason", "text", "Why it did not run (no probabilities, a class absent, too few rows)."),
        Key("prior_shift.em.method", "text", "The EM procedure (Saerens, Latinne and Decaestecker 2002)."),
        Key("prior_shift.em.training_prior_source", "text", "Where the training class prior comes from."),
        Key("prior_shift.em.training_prior", "map:number", "Training class prior: the baseline's gold shares."),
        Key("prior_shift.em.estimated_prior", "map:number", "EM estimate of the current class prior, without labels."),
        Key("prior_shift.em.current_label_shares", "map:number", "The current file's actual gold shares."),
        Key("prior_shift.em.mean_predicted_probability", "map:number", "Mean current predicted probability per class."),
        Key("prior_shift.em.total_variation_to_current_labels", "number",
            "Distance of the EM estimate to the actual gold shares (half the L1 distance).", NEITHER),
        Key("prior_shift.em.n_iter", "count", "EM iterations run."),
        Key("prior_shift.em.converged", "count", "1 when EM reached its tolerance within its iteration cap."),
        Key("prior_shift.em.tol", "text", "EM tolerance on the largest change of a class share."),
        Key("prior_shift.what_if.measured", "count", "1 when the prior-correction what-if ran, else 0."),
        Key("prior_shift.what_if.reason", "text", "Why it did not run."),
        Key("prior_shift.what_if.method", "text", "The cross-fitted correction and the test of its change."),
        Key("prior_shift.what_if.n_splits", "count", "Cross-fitting folds."),
        Key("prior_shift.what_if.n_boot", "count", "Bootstrap replicates behind the change's interval."),
        Key("prior_shift.what_if.ci_level", "number", "Confidence level of the what-if's intervals."),
        Key("prior_shift.what_if.n", "count", "Current rows corrected."),
        Key("prior_shift.what_if.n_changed", "count", "Rows whose prediction the correction changes."),
        Key("prior_shift.what_if.converged", "count", "1 when EM converged on every fold."),
        Key("prior_shift.what_if.fold_priors", "list", "The prior applied to each fold (estimated on the others)."),
        Key("prior_shift.what_if.fold_priors[]", "map:number", "One fold's class prior."),
        *_rate_keys("prior_shift.what_if.accuracy", "accuracy"),
        *_rate_keys("prior_shift.what_if.per_class.<class>.recall", "class's recall"),
    ),
)
