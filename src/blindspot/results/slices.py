"""``metrics/slices.json`` and ``reports/findings.json``: where the model is worse than on the rest (slice stage,
:mod:`blindspot.slices.audit`).

One block repeats: a *metric test*, a metric on a set of rows compared with the same metric on
the other rows (a class's recall, a slice's error rate or recall of one class). The test object
is itself the metric's estimate, ``{value, ci_low, ci_high, method}`` (a Wilson interval), with
the test's fields beside those four, so that ``dvc metrics diff`` keeps one key per metric,
``watchlist.<slice>.error_rate.value``; its gap to the rest is an estimate of its own (``gap``, a
Newcombe hybrid-score interval). It is declared once (:func:`metric_keys`) and placed under every
path it occurs at. A finding (``reports/findings.json``) holds the same test flat, with the metric's
estimate under ``estimate``.

``<metric>`` is ``error_rate`` or ``recall_<class>``; ``<slice>`` a slice key
(:mod:`blindspot.slices.keys`).
"""

from __future__ import annotations

from blindspot.results.keys import HIGHER, LOWER, NEITHER, SCHEMA_VERSION, Key, ResultsFile

_DIRECTION = "error_rate: lower is better; a recall: higher is better"


def metric_keys(at: str, what: str, direction: str, *, within_classes: bool) -> tuple:
    """A metric test under ``at`` (the metric's own object): ``what`` says which metric, ``direction`` its
    direction and its gap's. ``within_classes`` adds the test within the true classes and the class-mix
    expectation, which a slice's metrics have and a class's recall has not."""
    keys = (
        Key(at, "estimate", f"{what}, with a Wilson interval.", direction),
        Key(f"{at}.n", "count", "Rows behind the metric: the slice's rows for error_rate, the rows of the class "
                                "for a recall."),
        Key(f"{at}.rest_value", "number", "The same metric on the other rows (the rest of the table).", NEITHER),
        Key(f"{at}.gap", "estimate", "The metric minus the rest's, with a Newcombe hybrid-score interval.",
            direction),
        Key(f"{at}.excess", "number", "Errors (or missed rows of the class) beyond what the overall rate predicts.",
            NEITHER),
        Key(f"{at}.tested", "flag", "Whether the rows were tested against the rest."),
        Key(f"{at}.reason", "text", "Why not tested: no_rows, below_min_support, below_min_class_support or "
                                    "no_variation (also why the value is null, when it is)."),
        Key(f"{at}.p_value", "number", "One-sided Fisher exact p value that the rows are worse than the rest.",
            NEITHER),
        Key(f"{at}.q_value", "number", "Benjamini-Hochberg q value in the stage's one family of tests.", NEITHER),
        Key(f"{at}.score", "number", "Evidence of the test: -log10 of its p value.", NEITHER),
        Key(f"{at}.significant", "flag", "Whether q <= fdr_alpha (a slice's: against the rest or within classes)."),
    )
    if not within_classes:
        return keys
    return keys + (
        Key(f"{at}.evidence", "text", "within_class (worse within its true classes: a blind spot of its own), "
                                      "class_mix (worse only through its mix of classes) or null."),
        Key(f"{at}.conditional_p_value", "number",
            "p value of the rows' error rate against the rest's within the true classes (exact stratified test); "
            "a recall's is its own test's.", NEITHER),
        Key(f"{at}.conditional_q_value", "number", "Its q value in the one family.", NEITHER),
        Key(f"{at}.conditional_reason", "text", "Why that test was not made (no_variation_within_classes or the "
                                                "reason above)."),
        Key(f"{at}.excess_given_class_mix", "number",
            "error_rate only: errors beyond what the slice's mix of true classes predicts.", NEITHER),
        Key(f"{at}.expected_given_class_mix", "number",
            "error_rate only: errors expected if each true class erred at its overall rate.", NEITHER),
    )


def part_keys(at: str) -> tuple:
    """One predicate of a slice key (:attr:`blindspot.slices.features.Predicate.part`), the items of ``at``."""
    return (
        Key(f"{at}[]", "object", "One predicate."),
        Key(f"{at}[].key", "text", "The predicate's own key (the slice key split on __and__)."),
        Key(f"{at}[].source", "text", "metadata or text."),
        Key(f"{at}[].column", "text", "The raw metadata column name, or the text feature."),
        Key(f"{at}[].value", "value", "The raw value; null for missing; {not_in: [...]} for pooled rare values; "
                                      "a range for bins; true for a detector."),
    )


def slice_keys(at: str) -> tuple:
    """One slice of the watchlist or of discovery, under ``at``."""
    return (
        Key(f"{at}.n", "count", "Rows in the slice (0 for a watchlist key not present in the data)."),
        Key(f"{at}.share", "number", "Its share of all rows.", NEITHER),
        Key(f"{at}.depth", "count", "Predicates in the slice key (2 for a conjunction)."),
        Key(f"{at}.parts", "list", "The slice key's predicates, in the key's order."),
        *part_keys(f"{at}.parts"),
        Key(f"{at}.tested", "flag", "Whether its error rate was tested."),
        Key(f"{at}.reason", "text", "Why not: not_present (watchlist key absent from the data), no_rows, "
                                    "below_min_support, ..."),
        Key(f"{at}.accuracy", "estimate", "Accuracy on the slice, with a Wilson interval."),
        *metric_keys(f"{at}.<metric>", f"The metric on the slice ({_DIRECTION})", NEITHER, within_classes=True),
    )


def coverage_keys(at: str) -> tuple:
    """What was tested on one metadata column or text feature (:mod:`blindspot.slices.coverage`), under ``at``."""
    return (
        Key(f"{at}.n_predicates", "count", "Predicates (slices of one feature) made from it."),
        Key(f"{at}.n_slices_tested", "count", "Its own slices that were tested."),
        Key(f"{at}.n_tests", "count", "Tests made on them."),
        Key(f"{at}.n_significant", "count", "Of them, significant."),
        Key(f"{at}.significant", "map:count", "Each of its own slices with a significant test: how many."),
        Key(f"{at}.conjunctions.n_slices_tested", "count", "Tested conjunctions that include one of its predicates."),
        Key(f"{at}.conjunctions.n_tests", "count", "Tests made on them."),
        Key(f"{at}.conjunctions.n_significant", "count", "Of them, significant."),
        Key(f"{at}.conjunctions.n_reported", "count",
            "Of them, findings of their own (not explained by a parent)."),
    )


SLICES = ResultsFile(
    path="metrics/slices.json",
    title="Slices",
    about=("Every class's recall and every watched or discovered slice tested against the rest, in one "
           "Benjamini-Hochberg family; what was tested column by column. A metric test is the metric's estimate "
           "(`value`, `ci_low`, `ci_high`, `method`) with the test beside it, so `dvc metrics diff` follows "
           "`watchlist.<slice>.<metric>.value`. `<metric>` is `error_rate` or `recall_<class>`."),
    keys=(
        SCHEMA_VERSION,
        Key("model", "text", "Name of the audited model version (model.name)."),
        Key("n_rows", "count", "Rows audited."),
        Key("settings.min_support", "count", "Fewest rows a slice needs to be tested (slices.min_support)."),
        Key("settings.min_class_support", "count", "Fewest rows of a class a recall needs to be tested."),
        Key("settings.max_depth", "count", "Most predicates in a discovered slice."),
        Key("settings.fdr_alpha", "number", "Level of the one Benjamini-Hochberg family.", NEITHER),
        Key("settings.ci_level", "number", "Confidence level of every interval in the file."),
        Key("settings.test", "text", "The test of a set of rows against the rest."),
        Key("settings.conditional_test", "text", "The test of a slice's error rate within the true classes."),
        Key("settings.fdr_method", "text", "The false-discovery-rate procedure and its family."),
        Key("settings.conjunction_rule", "text", "When a significant conjunction is reported (against its parents)."),
        Key("family.n_predicates", "count", "Predicates built (slices of one feature)."),
        Key("family.n_slices_tested", "count", "Slices with a test."),
        Key("family.n_tests", "count", "Tests in the one family: classes, slice metrics, within-class tests."),
        Key("family.n_conditional_tests", "count", "Of them, slice error rates tested within the true classes."),
        Key("family.n_term_tests", "count", "Of them, error-associated terms (one cross-fitted p value each)."),
        Key("family.n_significant_tests", "count", "Of them, significant."),
        Key("family.n_blind_spots", "count", "Slices and error terms with a ranked finding of their own (within "
                                             "their classes).", LOWER),
        Key("family.n_class_mix_slices", "count", "Slices worse only through their class mix.", LOWER),
        Key("family.n_class_findings", "count", "Classes whose recall is significantly below the others'.", LOWER),
        Key("classes.<class>.n", "count", "Gold rows of the class."),
        *metric_keys("classes.<class>.recall", "The class's recall (share of its rows predicted as it)", HIGHER,
                     within_classes=False),
        Key("columns_tested.<column>.column", "text", "The raw column name."),
        Key("columns_tested.<column>.kind", "text", "categorical, numeric or date."),
        Key("columns_tested.<column>.n_values", "count", "Distinct values of the column."),
        Key("columns_tested.<column>.n_own", "count", "Categorical: values with a slice of their own."),
        Key("columns_tested.<column>.n_pooled", "count", "Categorical: values pooled as other (rarer than "
                                                         "min_support)."),
        *coverage_keys("columns_tested.<column>"),
        Key("columns_skipped.<column>.column", "text", "The raw name of a metadata column not sliced on."),
        Key("columns_skipped.<column>.reason", "text", "Why, as a code (excluded, all_missing, ...)."),
        Key("columns_skipped.<column>.detail", "text", "Why, in a sentence."),
        Key("text_features.<feature>.slices.<slice>", "value", "What the text feature's slice selects (a range, "
                                                                "or true for a detector)."),
        Key("text_features.<feature>.n_words_quantiles.levels", "list", "length: the quantile levels of its bins."),
        Key("text_features.<feature>.n_words_quantiles.levels[]", "number", "One level.", NEITHER),
        Key("text_features.<feature>.n_words_quantiles.edges", "list", "length: the whole-word edges of its bins."),
        Key("text_features.<feature>.n_words_quantiles.edges[]", "count", "One edge (words)."),
        *coverage_keys("text_features.<feature>"),
        Key("watchlist.<slice>.detail", "text", "A watchlist key not present in the data: what is missing."),
        *slice_keys("watchlist.<slice>"),
        Key("discovered.<slice>.rank", "count", "Rank among blind spots of their own (1 = strongest); null if none."),
        Key("discovered.<slice>.class_mix_rank", "count", "Rank among class-mix findings; null if none."),
        Key("discovered.<slice>.on_watchlist", "flag", "Whether the slice is on the watchlist too (keyed as there)."),
        *slice_keys("discovered.<slice>"),
        Key("text_slices.topics.method", "text", "How topics are learned from the texts alone (tfidf_nmf)."),
        Key("text_slices.topics.k", "count", "Topics learned (0: none, see reason)."),
        Key("text_slices.topics.n_fit", "count", "Rows of the seeded fitting sample."),
        Key("text_slices.topics.weight_floor", "number", "Smallest topic weight that makes a review a member.",
            NEITHER),
        Key("text_slices.topics.reason", "text", "Why no topics: off, too_few_rows, too_few_terms, no_texts; null "
                                                 "otherwise."),
        Key("text_slices.topics.n_tested", "count", "Topics whose slice was tested (text feature topic)."),
        Key("text_slices.topics.n_blind_spots", "count", "Topics with a ranked finding of their own.", LOWER),
        Key("text_slices.topics.n_class_mix", "count", "Topics worse only through their class mix.", LOWER),
        Key("text_slices.terms.method", "text", "How each term's p value is made (cross-fitted, Bonferroni over the "
                                                "two directions)."),
        Key("text_slices.terms.n_candidates", "count", "Words and bigrams that met the support rule."),
        Key("text_slices.terms.n_a", "count", "Rows in half A of the split."),
        Key("text_slices.terms.n_b", "count", "Rows in half B of the split."),
        Key("text_slices.terms.n_selected", "count", "Terms selected in either direction and tested (in the family)."),
        Key("text_slices.terms.n_significant", "count", "Of them, q <= fdr_alpha: findings of their own.", LOWER),
        Key("text_slices.terms.reason", "text", "Why no term was tested: off, too_few_rows, no_candidate_terms, "
                                                "no_texts; null otherwise."),
    ),
)

FINDINGS = ResultsFile(
    path="reports/findings.json",
    title="Findings",
    about=("A list of (slice, metric) tests, ordered: class findings, significant slice findings by rank, "
           "class-mix ones, then the watchlist's other tested comparisons."),
    keys=(
        Key("[].id", "text", "Unique, stable id: <source>__<key>__<metric> (class__<class>__recall for a class)."),
        Key("[].source", "text", "class, watchlist, discovered, or term (an error-associated term)."),
        Key("[].key", "text", "The slice key (class__<class> for a class)."),
        Key("[].description", "text", "The slice in words."),
        Key("[].slice.<feature>", "value", "What the slice selects per feature (label: the class, for a class)."),
        Key("[].slice_n", "count", "Rows in the slice (of the class, for a class)."),
        Key("[].n", "count", "Rows behind the metric: slice rows for error_rate, rows of the class for a recall."),
        Key("[].metric", "text", "error_rate, recall_<class>, or recall (a class finding)."),
        Key("[].higher_is_better", "flag", "The metric's direction."),
        Key("[].estimate", "estimate", f"The metric on the rows, with a Wilson interval ({_DIRECTION}).", NEITHER),
        Key("[].rest_value", "number", "The same metric on the other rows.", NEITHER),
        Key("[].gap", "estimate", "The metric minus the rest's, with a Newcombe hybrid-score interval.", NEITHER),
        Key("[].p_value", "number", "One-sided Fisher exact p value that the rows are worse than the rest.", NEITHER),
        Key("[].q_value", "number", "Benjamini-Hochberg q value in the stage's one family.", NEITHER),
        Key("[].significant", "flag", "A blind spot of its own, a class-mix finding, or a significant class."),
        Key("[].excess", "number", "Errors (or misses) beyond the overall rate.", NEITHER),
        Key("[].excess_given_class_mix", "number", "error_rate only: errors beyond the slice's class mix.", NEITHER),
        Key("[].expected_given_class_mix", "number", "error_rate only: errors the slice's class mix predicts.",
            NEITHER),
        Key("[].score", "number", "-log10 of the p value.", NEITHER),
        Key("[].rank", "count", "1 = strongest blind spot of its own; null otherwise."),
        Key("[].explained_by_parent", "flag", "A conjunction not worse than the rest of some parent, within it."),
        Key("[].conditional_p_value", "number", "Slice findings: p value of the test within the true classes.",
            NEITHER),
        Key("[].conditional_q_value", "number", "Its q value in the one family.", NEITHER),
        Key("[].conditional_score", "number", "-log10 of that p value.", NEITHER),
        Key("[].evidence", "text", "within_class, class_mix or null."),
        Key("[].class_mix_rank", "count", "Rank among class-mix findings; null otherwise."),
        Key("[].discovered", "flag", "Watchlist findings: whether discovery reports it too."),
        Key("[].parts", "list", "Slice findings: the slice key's predicates, in the key's order."),
        *part_keys("[].parts"),
        Key("[].within_parents", "list", "A reported conjunction: its test against the rest of each parent."),
        Key("[].within_parents[].key", "text", "The parent's key."),
        Key("[].within_parents[].p_value", "number", "p value of the conjunction against the rest of the parent.",
            NEITHER),
        Key("[].within_parents[].q_value", "number", "Its q value (Benjamini-Hochberg over these tests).", NEITHER),
        Key("[].method", "text", "Term findings: how the p value is made (cross_fit_bonferroni_min_of_two)."),
        Key("[].selected_on", "text", "Term findings: the half that selected it, a, b or both."),
        Key("[].p_a_to_b", "number", "Term findings: p value on half B when selected on A; null otherwise.",
            NEITHER),
        Key("[].p_b_to_a", "number", "Term findings: p value on half A when selected on B; null otherwise.",
            NEITHER),
    ),
)

TEXT_SLICES = ResultsFile(
    path="reports/text_slices.json",
    title="Text slices",
    about=("What the slice stage learned from the review texts alone: topics (each a slice tested in the one "
           "family, at depth 1) and cross-fitted error-associated terms (each tested terms' p value in the one "
           "family). Floats at 6 significant digits. Review text in it is untrusted input."),
    keys=(
        Key("topics.k", "count", "Topics learned (0: none, see reason)."),
        Key("topics.n_fit", "count", "Rows of the fitting sample."),
        Key("topics.reason", "text", "Why no topics (off, too_few_rows, too_few_terms, no_texts); null otherwise."),
        Key("topics.settings", "object", "The topic settings (vocabulary, sample, floor, seed)."),
        Key("topics.settings.<setting>", "value", "One setting."),
        Key("topics.topics", "list", "One record per topic, in topic order."),
        Key("topics.topics[]", "object", "A topic."),
        Key("topics.topics[].key", "text", "Its slice key (topic_<term>_<term>_<term>)."),
        Key("topics.topics[].name", "text", "Its three top terms, joined by ' / '."),
        Key("topics.topics[].top_terms", "list", "Its strongest terms, strongest first."),
        Key("topics.topics[].top_terms[]", "text", "A term."),
        Key("topics.topics[].n", "count", "Member reviews."),
        Key("topics.topics[].tested", "flag", "Whether its slice was tested."),
        Key("topics.topics[].evidence", "text", "within_class, class_mix or null."),
        Key("topics.topics[].rank", "count", "Rank among the blind spots of their own; null if none."),
        Key("topics.topics[].error_rate", "number", "Error rate of its members.", LOWER),
        Key("topics.topics[].rest_error_rate", "number", "Error rate of the other reviews.", NEITHER),
        Key("topics.topics[].q_value", "number", "q value of its error rate against the rest (null: untested).",
            NEITHER),
        Key("topics.topics[].conditional_q_value", "number", "q value of its error rate within the true classes.",
            NEITHER),
        Key("topics.topics[].examples", "list", "Its two most typical members."),
        Key("topics.topics[].examples[]", "object", "An example review."),
        Key("topics.topics[].examples[].id", "text", "The review's id."),
        Key("topics.topics[].examples[].text", "text", "Its first 300 characters ('...' appended when cut)."),
        Key("terms.n_candidates", "count", "Words and bigrams that met the support rule."),
        Key("terms.n_a", "count", "Rows in half A."),
        Key("terms.n_b", "count", "Rows in half B."),
        Key("terms.reason", "text", "Why no term was tested; null otherwise."),
        Key("terms.settings", "object", "The term settings and methods."),
        Key("terms.settings.<setting>", "value", "One setting."),
        Key("terms.tested", "list", "Every tested term, by p value then term."),
        Key("terms.tested[]", "object", "A tested term."),
        Key("terms.tested[].term", "text", "The word or bigram, lower-cased."),
        Key("terms.tested[].key", "text", "term_<slug>."),
        Key("terms.tested[].n", "count", "Reviews containing it."),
        Key("terms.tested[].errors", "count", "Of them, misread."),
        Key("terms.tested[].error_rate", "number", "Their error rate (all rows, for reading).", LOWER),
        Key("terms.tested[].rest_error_rate", "number", "The other reviews' error rate.", NEITHER),
        Key("terms.tested[].expected_given_class_mix", "number", "Errors expected from its mix of true classes.",
            NEITHER),
        Key("terms.tested[].n_a", "count", "Its reviews in half A."),
        Key("terms.tested[].n_b", "count", "Its reviews in half B."),
        Key("terms.tested[].selected_on", "text", "a, b or both."),
        Key("terms.tested[].p_a_to_b", "number", "Selected on A, tested on B (null: not selected on A).", NEITHER),
        Key("terms.tested[].p_b_to_a", "number", "Selected on B, tested on A (null: not selected on B).", NEITHER),
        Key("terms.tested[].p_value", "number", "min(1, 2 min(p_a_to_b, p_b_to_a)).", NEITHER),
        Key("terms.tested[].q_value", "number", "Its q value in the stage's one family.", NEITHER),
        Key("terms.tested[].significant", "flag", "q <= fdr_alpha: a finding of its own."),
        Key("terms.tested[].rank", "count", "Rank among the blind spots of their own; null if not significant."),
    ),
)
