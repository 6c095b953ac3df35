"""``reports/text_slices.json``: the text slices nobody named in advance (slice stage, issue 16).

Two families, both tested in the slice stage's one Benjamini-Hochberg family:

- ``topics``: themes learned from the review text alone (TF-IDF + NMF,
  :mod:`blindspot.slices.topics`); each topic with enough rows is an ordinary slice of the
  audit, and its verdict (``evidence``) is the one its findings carry;
- ``terms``: words and phrases whose reviews the model gets wrong within the true classes,
  selected on one half of the rows and tested on the other, in both directions
  (:mod:`blindspot.slices.terms`); every selected term is listed with its cross-fitted p
  and its q, significant or not.

Not a metrics file (its lists are not for ``dvc metrics diff``; the compact counts are in
``metrics/slices.json`` ``text_slices``). Review text in it (``examples[].text``) is
untrusted: the brief escapes it. Floats are written at six significant digits.
"""

from __future__ import annotations

from blindspot.results.keys import NEITHER, SCHEMA_VERSION, Key, ResultsFile

TEXT_SLICES = ResultsFile(
    path="reports/text_slices.json",
    title="Text slices",
    about=("The learned topics and the cross-fitted error-associated terms, each with its test; read by the brief's "
           "section on text slices."),
    keys=(
        SCHEMA_VERSION,
        Key("topics", "object", "The learned topics (TF-IDF + NMF on the review text alone)."),
        Key("topics.k", "count", "Topics learned (0 when none were: see reason)."),
        Key("topics.n_fit", "count", "Rows the vocabulary and the topics were fitted on (a seeded sample)."),
        Key("topics.reason", "text", "Why no topic was learned (too_few_rows, too_few_terms, ...); null otherwise."),
        Key("topics.settings.<setting>", "value", "The settings the topics were learned with."),
        Key("topics.topics", "list", "One object per topic, in topic order."),
        Key("topics.topics[].key", "text", "The topic's slice key, topic_<t1>_<t2>_<t3>."),
        Key("topics.topics[].name", "text", "Its three top terms, \"<t1> / <t2> / <t3>\"."),
        Key("topics.topics[].top_terms", "list", "Its top terms, strongest first."),
        Key("topics.topics[].top_terms[]", "text", "One term."),
        Key("topics.topics[].n", "count", "Rows in the topic (weight at least the floor)."),
        Key("topics.topics[].tested", "flag", "Whether the topic was tested (enough rows, and not nearly all)."),
        Key("topics.topics[].evidence", "text", "within_class (a blind spot of its own), class_mix (worse only "
                                                "through its class mix) or null (not significantly worse)."),
        Key("topics.topics[].rank", "count", "Its rank among the blind spots of their own; null otherwise."),
        Key("topics.topics[].error_rate", "number", "Error rate of the topic's rows.", NEITHER),
        Key("topics.topics[].rest_error_rate", "number", "Error rate of the other rows.", NEITHER),
        Key("topics.topics[].q_value", "number", "q value of its error rate against the rest's.", NEITHER),
        Key("topics.topics[].conditional_q_value", "number", "q value of its error rate within the true classes.",
            NEITHER),
        Key("topics.topics[].examples", "list", "The two reviews with the largest weight in the topic."),
        Key("topics.topics[].examples[].id", "text", "The review's id."),
        Key("topics.topics[].examples[].text", "text", "Its first 300 characters (\"...\" appended when cut)."),
        Key("terms", "object", "The cross-fitted error-associated terms."),
        Key("terms.n_candidates", "count", "Words and adjacent pairs that met the support rule."),
        Key("terms.n_a", "count", "Rows in half A."),
        Key("terms.n_b", "count", "Rows in half B."),
        Key("terms.reason", "text", "Why no term was tested (too_few_rows, no_candidate_terms, ...); null otherwise."),
        Key("terms.settings.<setting>", "value", "The settings of the search (min_support, max_df, top_k, seed, "
                                                 "methods)."),
        Key("terms.tested", "list", "One object per term selected in either direction, by p value then term."),
        Key("terms.tested[].term", "text", "The word or phrase."),
        Key("terms.tested[].key", "text", "Its slice key, term_<slug>."),
        Key("terms.tested[].n", "count", "Rows containing it (both halves)."),
        Key("terms.tested[].errors", "count", "Of them, wrong predictions."),
        Key("terms.tested[].error_rate", "number", "Their error rate (all rows, for reading).", NEITHER),
        Key("terms.tested[].rest_error_rate", "number", "Error rate of the other rows.", NEITHER),
        Key("terms.tested[].expected_given_class_mix", "number", "Errors expected if each true class among its rows "
                                                                 "erred at its overall rate.", NEITHER),
        Key("terms.tested[].n_a", "count", "Its rows in half A."),
        Key("terms.tested[].n_b", "count", "Its rows in half B."),
        Key("terms.tested[].selected_on", "text", "The half it was selected on: a, b or both."),
        Key("terms.tested[].p_a_to_b", "number", "Selected on A, tested on B: p value within the true classes; null "
                                                 "when A did not select it.", NEITHER),
        Key("terms.tested[].p_b_to_a", "number", "Selected on B, tested on A; null when B did not select it.",
            NEITHER),
        Key("terms.tested[].p_value", "number", "The combined p value, min(1, 2 min(p_a_to_b, p_b_to_a)).", NEITHER),
        Key("terms.tested[].q_value", "number", "Its q value in the slice stage's one family.", NEITHER),
        Key("terms.tested[].significant", "flag", "Whether q <= fdr_alpha (then it is a finding of source term)."),
        Key("terms.tested[].rank", "count", "Its rank among the blind spots of their own; null otherwise."),
    ),
)
