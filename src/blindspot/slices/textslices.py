"""Text blind spots nobody named: learned topics and cross-fitted error terms, ready for the audit.

:func:`fit_text` reads the fitting sample and fits the models every batch's text pass runs
with (:mod:`blindspot.slices.textpass`); :func:`text_slices` turns what the pass returns (the
topics' examples, the terms' count tables) into :class:`TextSlices`: the topics as predicates
(feature ``"topic"``, tested alone by discovery) and the error terms' cross-fitted tests. The
flags and topic membership of each row stay with its batch (:mod:`blindspot.slices.batch`). The audit
(:mod:`blindspot.slices.audit`) puts the topics in its predicate table and the terms' p
values in its one family; this module also writes what only text slices have:
``reports/text_slices.json`` (:func:`report`) and the ``text_slices`` block of
``metrics/slices.json`` (:func:`metrics_block`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from blindspot.slices.evaluate import Counts, slice_tests
from blindspot.slices.features import Predicate
from blindspot.slices.terms import COMBINE_METHOD, TermTests, fit_candidates, terms_from_counts
from blindspot.slices.textpass import TextModels, TextSource
from blindspot.slices.tokens import as_tokens
from blindspot.slices.topics import TOO_FEW_ROWS, TopicSettings, fit_sample, fit_topics

TOPIC_FEATURE = "topic"
TOPIC_METHOD = "tfidf_nmf"
OFF = "off"  # slices.topics_max or slices.terms_top_k is 0


@dataclass
class TextSlices:
    """What the audit learned from the texts.

    Attributes
    ----------
    topic_keys, topic_names : list of str, length T
    top_terms : list of list of str, length T
    examples : list of list of (float, int, str, str), length T
        Each topic's strongest members: weight, row, id, example text.
    n_fit : int
        Rows the topics were fitted on.
    topic_reason : str
        Why there are no topics ("" when there are).
    topic_settings : dict
    terms : TermTests
    """

    topic_keys: list = field(default_factory=list)
    topic_names: list = field(default_factory=list)
    top_terms: list = field(default_factory=list)
    examples: list = field(default_factory=list)
    n_fit: int = 0
    topic_reason: str = ""
    topic_settings: dict = field(default_factory=dict)
    terms: TermTests = None

    @property
    def k(self) -> int:
        return len(self.topic_keys)

    def predicates(self) -> list:
        """The topics as text predicates (feature ``"topic"``), in topic order."""
        return [Predicate(key, TOPIC_FEATURE, {TOPIC_FEATURE: name}, f'reviews about "{name}" (learned topic)')
                for key, name in zip(self.topic_keys, self.topic_names)]


@dataclass
class FittedText:
    """The fits on the fitting sample, before the text pass.

    Attributes
    ----------
    models : TextModels
        What every batch's text pass runs with.
    record : dict
        The topics' settings as ``reports/text_slices.json`` records them.
    topic_reason : str
    n_fit : int
    want_terms : bool
        The error terms are tested (on, and enough rows).
    terms_reason : str
        Why not, when not.
    """

    models: TextModels
    record: dict
    topic_reason: str
    n_fit: int
    want_terms: bool
    terms_reason: str = ""


def topic_settings(settings) -> TopicSettings:
    """The topics' settings from the audit's (:class:`blindspot.slices.audit.SliceSettings`)."""
    return TopicSettings(max_topics=max(2, int(settings.topics_max)), weight_floor=float(settings.topic_weight_floor),
                         sample_rows=int(settings.text_sample_rows), batch_rows=int(settings.text_sample_rows))


def _empty_terms(reason: str, settings) -> TermTests:
    from blindspot.slices.terms import _frame, _settings

    return TermTests(_frame([], {}), reason=reason, settings=_settings(settings.seed, settings.terms_min_support,
                                                                       settings.terms_max_df, settings.terms_top_k),
                     counts=Counts.concat([], 0))


def fit_text(source: TextSource, n: int, k: int, settings) -> FittedText:
    """The fitting sample, read once, and the topics and terms' candidates fitted on it.

    Parameters
    ----------
    source : TextSource
        Where the texts come from.
    n : int
        Rows.
    k : int
        Classes.
    settings : SliceSettings
    """
    ts = topic_settings(settings)
    record = {"max_topics": int(settings.topics_max), "weight_floor": ts.weight_floor, "sample_rows": ts.sample_rows,
              "min_df": ts.min_df, "max_df": ts.max_df, "max_features": ts.max_features,
              "rows_per_topic": ts.rows_per_topic, "min_rows": ts.min_rows, "seed": int(settings.seed)}
    topics_on, terms_on = settings.topics_max > 0, settings.terms_top_k > 0
    want_topics = topics_on and n >= ts.min_rows
    want_terms = terms_on and n >= 2 * settings.terms_min_support
    sample = fit_sample(source.id_batches(), ts.sample_rows, settings.seed)
    texts = as_tokens(source.sample(sample) if (want_topics or want_terms) else [])  # tokenised once for both fits
    model, topic_reason = None, (OFF if not topics_on else TOO_FEW_ROWS if not want_topics else "")
    if want_topics:
        fitted = fit_topics(texts, n=n, seed=settings.seed, settings=ts)
        model, topic_reason = (None, fitted) if isinstance(fitted, str) else (fitted, "")
    vocabulary = fit_candidates(texts, n, min_support=settings.terms_min_support) if want_terms else None
    del texts  # the sample's texts are not needed past the fits
    models = TextModels(tuple(settings.text_detectors), settings.jargon_high_density, settings.caps_high_share,
                        model, vocabulary, k, int(settings.seed))
    n_fit = model.n_fit if model is not None else (len(sample) if want_topics else 0)
    return FittedText(models, record, topic_reason, n_fit, want_terms,
                      "" if want_terms else (OFF if not terms_on else TOO_FEW_ROWS))


def text_slices(fitted: FittedText, examples: list, counts, settings) -> TextSlices:
    """The topics and the error terms' tests, from the text pass's merged results.

    Parameters
    ----------
    fitted : FittedText
    examples : list of list of (float, int, str, str), length T
        Each topic's strongest members over every batch (:func:`blindspot.slices.textpass.merge_examples`).
    counts : ndarray of int64, shape (2, V + 1, 2K), or None
        The terms' count tables, added over every batch.
    settings : SliceSettings
    """
    models = fitted.models
    if fitted.want_terms:
        terms = terms_from_counts(counts, models.vocabulary, models.k, seed=settings.seed,
                                  min_support=settings.terms_min_support, max_df=settings.terms_max_df,
                                  top_k=settings.terms_top_k)
    else:
        terms = _empty_terms(fitted.terms_reason, settings)
    out = TextSlices(examples=examples, n_fit=fitted.n_fit, topic_reason=fitted.topic_reason,
                     topic_settings=fitted.record, terms=terms)
    if models.topics is not None:
        out.topic_keys, out.topic_names, out.top_terms = models.topics.labels()
    return out


def term_tests(text: TextSlices, totals: Counts, classes, ci_level: float) -> pd.DataFrame:
    """The tested terms as rows shaped like the audit's error_rate tests (one per term).

    Estimate, rest, gap, excess and the class-mix expectation are those of all rows
    (:func:`blindspot.slices.evaluate.slice_tests`, for reading); the p value, marginal and
    within classes alike, is the combined cross-fitted one (:mod:`blindspot.slices.terms`).

    Returns
    -------
    DataFrame, one row per tested term, in the order of ``text.terms.tests``
        :func:`slice_tests`' columns, ``term``, ``key`` and the terms' own columns.
    """
    terms = text.terms
    if not len(terms.tests):
        return pd.DataFrame({c: [] for c in ("slice", "metric", "p_value", "cond_p_value", "key", "term",
                                             "tested", "cond_tested", "score", "cond_score", "excess")})
    rows = slice_tests(terms.counts, totals, classes, min_support=1, min_class_support=1, level=ci_level)
    out = rows[rows["metric"] == "error_rate"].reset_index(drop=True)
    p = terms.tests["p_value"].to_numpy(float)
    score = -np.log10(np.maximum(p, 1e-300))
    out = out.assign(p_value=p, cond_p_value=p, score=score, cond_score=score, tested=True, cond_tested=True,
                     reason="", cond_reason="")
    for column in ("term", "key", "n_a", "n_b", "selected_on", "p_a_to_b", "p_b_to_a"):
        out[column] = terms.tests[column].to_numpy()
    return out


def term_finding(row, ranked: int | None) -> dict:
    """One significant term's finding (``reports/findings.json``, source ``"term"``): the audit's
    finding record of its :func:`term_tests` row, with its rank and the cross-fitted test's fields."""
    from blindspot.slices.audit import _finding

    term, key = str(row["term"]), str(row["key"])
    nan_none = (lambda v: None if not np.isfinite(v) else float(v))
    f = _finding(row, source="term", key=key, spec={"term": term}, slice_n=row["n"],
                 description=f'reviews containing "{term}" (error-associated term, cross-fitted)',
                 parts=[{"key": key, "source": "text", "column": "term", "value": term}])
    f.update(rank=ranked, method=COMBINE_METHOD, selected_on=str(row["selected_on"]),
             p_a_to_b=nan_none(row["p_a_to_b"]), p_b_to_a=nan_none(row["p_b_to_a"]))
    return f


def _topic_entries(text: TextSlices, topic_tests: dict, counts: Counts, n: int, totals: Counts) -> list:
    """One record per topic, in topic order (see ``reports/text_slices.json``)."""
    out = []
    for j, key in enumerate(text.topic_keys):
        size, errors = int(counts.n[j]), int(counts.errors[j])
        rest_n = n - size
        t = topic_tests.get(key, {})
        out.append({"key": key, "name": text.topic_names[j], "top_terms": list(text.top_terms[j]), "n": size,
                    "tested": bool(t.get("tested", False)), "evidence": t.get("evidence") or None,
                    "rank": t.get("rank"), "error_rate": errors / size if size else None,
                    "rest_error_rate": (int(totals.errors[0]) - errors) / rest_n if rest_n else None,
                    "q_value": t.get("q_value"), "conditional_q_value": t.get("conditional_q_value"),
                    "examples": [{"id": i, "text": s} for _, _, i, s in text.examples[j]]})
    return out


def report(text: TextSlices, topic_tests: dict, topic_counts: Counts, n: int, totals: Counts,
           terms: pd.DataFrame) -> dict:
    """``reports/text_slices.json``, before rounding (its keys: :data:`blindspot.results.slices.TEXT_SLICES`).

    Parameters
    ----------
    topic_tests : dict
        Topic key -> ``tested``, ``evidence``, ``rank``, ``q_value``, ``conditional_q_value``.
    topic_counts : Counts, T slices
    terms : DataFrame
        :func:`term_tests` with the family's ``q_value``, ``significant`` and ``rank``.
    """
    tt = text.terms
    tested = []
    for _, row in terms.iterrows():  # over tested terms (at most 2 * top_k), not rows of data
        tested.append({"term": row["term"], "key": row["key"], "n": int(row["n"]),
                       "errors": int(round(row["value"] * row["n"])), "error_rate": row["value"],
                       "rest_error_rate": row["rest_value"], "expected_given_class_mix": row["expected_given_class_mix"],
                       "n_a": int(row["n_a"]), "n_b": int(row["n_b"]), "selected_on": row["selected_on"],
                       "p_a_to_b": None if not np.isfinite(row["p_a_to_b"]) else row["p_a_to_b"],
                       "p_b_to_a": None if not np.isfinite(row["p_b_to_a"]) else row["p_b_to_a"],
                       "p_value": row["p_value"], "q_value": row["q_value"], "significant": bool(row["significant"]),
                       "rank": None if not np.isfinite(row["rank"]) else int(row["rank"])})
    return {
        "topics": {"k": text.k, "n_fit": text.n_fit, "reason": text.topic_reason or None,
                   "settings": text.topic_settings,
                   "topics": _topic_entries(text, topic_tests, topic_counts, n, totals)},
        "terms": {"n_candidates": tt.n_candidates, "n_a": tt.n_a, "n_b": tt.n_b, "reason": tt.reason or None,
                  "settings": tt.settings, "tested": tested},
    }


def metrics_block(text: TextSlices, topic_summary: dict, terms: pd.DataFrame) -> dict:
    """The ``text_slices`` block of ``metrics/slices.json``."""
    tt = text.terms
    return {
        "topics": {"method": TOPIC_METHOD, "k": text.k, "n_fit": text.n_fit,
                   "weight_floor": text.topic_settings["weight_floor"], "reason": text.topic_reason or None,
                   **topic_summary},
        "terms": {"method": COMBINE_METHOD, "n_candidates": tt.n_candidates, "n_a": tt.n_a, "n_b": tt.n_b,
                  "n_selected": int(len(terms)), "n_significant": int(terms["significant"].sum()) if len(terms) else 0,
                  "reason": tt.reason or None},
    }


__all__ = ["TextSlices", "TextSource", "fit_text", "text_slices", "term_tests", "term_finding", "report", "metrics_block"]
