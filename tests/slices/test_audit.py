"""The slice audit end to end: oracle per slice, one FDR family, null stays quiet, planted is found."""

import json
from dataclasses import asdict

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from blindspot import synth
from blindspot.config import IngestConfig, ModelConfig, SlicesConfig, StatsConfig
from blindspot.ingest import ingest_file
from blindspot.io.writers import dumps_metrics
from blindspot.results import undeclared
from blindspot.results.slices import FINDINGS, SLICES
from blindspot.slices import SliceSettings, audit_slices
from blindspot.stats import bh_qvalues

from _paths import ROOT
from _slice_synth import generate

CLASSES = ["negative", "neutral", "positive"]
SETTINGS = dict(min_support=30, min_class_support=10, max_depth=2,
                text_detectors=["negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"],
                jargon_high_density=0.05, caps_high_share=0.05,
                length_bands={"short": [0, 40], "medium": [40, 130], "long": [130, None]},
                max_levels=10, n_quantiles=4, fdr_alpha=0.05, ci_level=0.95)
FINDING_FIELDS = {"slice", "n", "metric", "estimate", "rest_value", "gap", "p_value", "q_value", "significant"}


@pytest.fixture(scope="module")
def null_run():
    frame, _ = generate(2000, seed=11)
    return frame, audit_slices(frame, CLASSES, watchlist=["jargon_high", "negated_term__and__platform__ios"],
                               **SETTINGS)


@pytest.fixture(scope="module")
def v1():
    result = ingest_file(ModelConfig(path=str(ROOT / "data/raw/predictions/v1.json")), IngestConfig())
    return result.clean


def _table(frame):
    """The audit's predicates, built apart: the topics learned on the whole texts (one batch, as the audit's)."""
    from blindspot.slices.audit import DEFAULT_SEED
    from blindspot.slices.features import Predicate, build_predicates
    from blindspot.slices.topics import TopicSettings, learn_topics

    topics = learn_topics(frame["text"].tolist(), seed=DEFAULT_SEED, settings=TopicSettings(batch_rows=1 << 16))
    learned = ([Predicate(key, "topic", {"topic": name}, "") for key, name in zip(topics.keys, topics.names)],
               [topics.membership[:, j] for j in range(topics.k)])
    return build_predicates(frame, learned=learned, **{k: SETTINGS[k] for k in (
        "text_detectors", "jargon_high_density", "caps_high_share", "length_bands", "max_levels", "n_quantiles")})


def test_every_slice_metric_equals_the_metric_on_its_subset(null_run):
    frame, audit = null_run
    y_true, y_pred = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    rng = np.random.default_rng(0)
    sample = rng.choice(len(audit.slices), size=40, replace=False)
    table = _table(frame)
    for s in sample:
        members = audit.slices.at[s, "members"]
        if members is None:
            continue
        mask = np.logical_and.reduce(np.asarray(table.matrix)[:, list(members)], axis=1)
        rows = audit.tests[audit.tests["slice"] == s].set_index("metric")
        assert audit.slices.at[s, "n"] == mask.sum()
        assert rows.loc["error_rate", "value"] == pytest.approx(1 - accuracy_score(y_true[mask], y_pred[mask]))
        assert rows.loc["error_rate", "rest_value"] == pytest.approx(
            1 - accuracy_score(y_true[~mask], y_pred[~mask]))
        for c, name in enumerate(CLASSES):
            in_class = mask & (y_true == c)
            if in_class.any():
                assert rows.loc[f"recall_{name}", "value"] == pytest.approx((y_pred[in_class] == c).mean())


def test_one_family_holds_every_test_made(null_run):
    _, audit = null_run
    err = (audit.tests["metric"] == "error_rate").to_numpy()
    cond = np.where(err, audit.tests["cond_p_value"], np.nan)  # the error rate within classes
    terms = audit.term_tests  # the error terms' combined cross-fitted p values are in it too
    p = np.concatenate([audit.classes_tests["p_value"], audit.tests["p_value"], cond, terms["p_value"]])
    tested = np.concatenate([audit.classes_tests["tested"], audit.tests["tested"], err & audit.tests["cond_tested"],
                             np.ones(len(terms), bool)])
    assert np.isfinite(p).sum() == tested.sum() == audit.metrics["family"]["n_tests"]
    assert audit.metrics["family"]["n_conditional_tests"] == (err & audit.tests["cond_tested"]).sum() > 100
    assert audit.metrics["family"]["n_term_tests"] == len(terms) > 0
    q = np.concatenate([audit.classes_tests["q_value"], audit.tests["q_value"],
                        np.where(err, audit.tests["cond_q_value"], np.nan), terms["q_value"]])
    np.testing.assert_allclose(q[tested], bh_qvalues(p[tested]))


def test_null_data_reports_no_blind_spot(null_run):
    _, audit = null_run
    assert not [f for f in audit.findings if f["significant"]]
    assert audit.metrics["family"]["n_tests"] > 500  # a real family was tested, not an empty one
    assert [c for c in audit.membership.columns if c.startswith("found__")] == []


def test_planted_slice_is_found_and_ranked_first():
    plant = synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.2, share=0.1)
    frame, data = generate(2000, seed=5, planted=[plant])
    audit = audit_slices(frame, CLASSES, **SETTINGS)
    ranked = [f for f in audit.findings if f["rank"] is not None]
    assert ranked[0]["key"] == "specialty__dermatology" and ranked[0]["metric"] == "error_rate"
    assert ranked[0]["slice"] == {"specialty": "dermatology"}
    truth = data.truth["planted"][0]
    assert ranked[0]["n"] == truth["n_rows"]
    assert ranked[0]["gap"]["value"] == pytest.approx(truth["realised_gap"])
    assert ranked[0]["gap"]["ci_low"] > 0.1 and ranked[0]["gap"]["method"] == "newcombe_hybrid_score"
    assert "found__specialty__dermatology" in audit.membership.columns


def test_findings_schema_and_membership_layout(null_run):
    frame, audit = null_run
    for f in audit.findings:
        assert FINDING_FIELDS <= set(f)
        assert isinstance(f["slice"], dict)
    assert list(audit.membership.columns[:1]) == ["id"]
    assert audit.membership["id"].tolist() == frame["id"].tolist()
    assert {"watch__jargon_high", "watch__negated_term__and__platform__ios"} <= set(audit.membership.columns)
    assert all(audit.membership[c].dtype == bool for c in audit.membership.columns[1:])


def test_membership_is_what_the_calibrate_stage_reads(null_run):
    from blindspot.calibration.audit import slice_table

    frame, audit = null_run
    table = slice_table(frame["id"], audit.membership)
    assert "jargon_high" in table.keys


def test_output_is_deterministic(null_run):
    frame, audit = null_run
    again = audit_slices(frame, CLASSES, watchlist=["jargon_high", "negated_term__and__platform__ios"], **SETTINGS)
    assert dumps_metrics(again.metrics) == dumps_metrics(audit.metrics)
    assert json.dumps(again.findings, default=str) == json.dumps(audit.findings, default=str)


def test_settings_object_and_keywords_give_one_audit(null_run):
    frame, audit = null_run
    settings = SliceSettings(watchlist=["jargon_high", "negated_term__and__platform__ios"], **SETTINGS)
    again = audit_slices(frame, CLASSES, settings)
    assert dumps_metrics(again.metrics) == dumps_metrics(audit.metrics)
    assert json.dumps(again.findings, default=str) == json.dumps(audit.findings, default=str)
    with pytest.raises(TypeError, match="not both"):
        audit_slices(frame, CLASSES, settings, max_depth=1)


def test_settings_from_config_carry_every_slices_field():
    slices, stats = SlicesConfig(), StatsConfig()
    settings = SliceSettings.from_config(slices, stats)
    assert {f: getattr(settings, f) for f in asdict(slices)} == asdict(slices)
    assert (settings.fdr_alpha, settings.ci_level) == (stats.fdr_alpha, stats.ci_level)


def test_watchlist_keys_are_stable_across_model_versions(null_run):
    frame, audit = null_run
    other = frame.copy()
    other["y_pred"] = other["y_true"]  # a perfect "next version"
    other.loc[::7, "y_pred"] = (other.loc[::7, "y_true"] + 1) % 3
    again = audit_slices(other, CLASSES,
                         watchlist=["jargon_high", "negated_term__and__platform__ios", "condition__pain"], **SETTINGS)
    assert list(again.metrics["watchlist"]) == ["jargon_high", "negated_term__and__platform__ios", "condition__pain"]
    assert again.metrics["watchlist"]["condition__pain"] == {
        "n": 0, "tested": False, "reason": "not_present",
        "detail": "condition__pain: this data has no metadata column with key 'condition'"}
    keys = set(json.loads(dumps_metrics(again.metrics))["watchlist"]["jargon_high"])
    assert {"n", "share", "accuracy", "error_rate", "recall_negative", "recall_neutral", "recall_positive"} <= keys


def test_every_key_written_is_declared(null_run):
    """The audit's output, as the stage writes it, holds only keys of blindspot.results.slices: here with an
    absent watchlist key, a conjunction, slices too small to test and findings of both groups."""
    frame, _ = null_run
    plant = synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.2, share=0.1)
    planted, _ = generate(1500, seed=5, planted=[plant])
    for data in (frame, planted, planted.iloc[:200]):
        audit = audit_slices(data, CLASSES, watchlist=["jargon_high", "negated_term__and__platform__ios",
                                                       "condition__pain"], **SETTINGS)
        metrics = json.loads(dumps_metrics(audit.metrics))
        findings = json.loads(dumps_metrics({"findings": audit.findings}))["findings"]
        assert undeclared(metrics, SLICES) == [] and undeclared(findings, FINDINGS) == []
        entry = metrics["watchlist"]["jargon_high"]["error_rate"]
        assert entry["method"] == "wilson" and entry["gap"]["method"] == "newcombe_hybrid_score"
        assert "interval_method" not in metrics["settings"] and "gap_interval_method" not in metrics["settings"]


def test_bundled_v1_class_collapse_is_a_finding_and_jargon_is_reported(v1):
    audit = audit_slices(v1, CLASSES, watchlist=["jargon_high"], **SETTINGS)
    by_key = {f["key"]: f for f in audit.findings if f["source"] == "class"}
    neutral, negative = by_key["class__neutral"], by_key["class__negative"]
    assert neutral["slice"] == {"label": "neutral"} and neutral["estimate"]["value"] == 0 and neutral["significant"]
    assert neutral["estimate"]["ci_high"] > 0 and neutral["q_value"] < 1e-10
    assert negative["estimate"] == {"value": pytest.approx(77 / 256), "ci_low": pytest.approx(0.2479, abs=1e-4),
                                    "ci_high": pytest.approx(0.3596, abs=1e-4), "method": "wilson"}
    assert negative["significant"]
    jargon = [f for f in audit.findings if f["key"] == "jargon_high" and f["metric"] == "recall_negative"]
    assert len(jargon) == 1 and jargon[0]["n"] > 0 and np.isfinite(jargon[0]["q_value"])


def test_texts_read_in_small_batches_give_the_same_audit(null_run):
    """The stage passes the texts a batch at a time from the file and a frame without them: same files."""
    frame, audit = null_run
    batches = (frame["text"].iloc[lo:lo + 37].reset_index(drop=True) for lo in range(0, len(frame), 37))
    again = audit_slices(frame.drop(columns=["text"]), CLASSES, texts=batches,
                         watchlist=["jargon_high", "negated_term__and__platform__ios"], **SETTINGS)
    assert dumps_metrics(again.metrics) == dumps_metrics(audit.metrics)
    assert dumps_metrics({"f": again.findings}) == dumps_metrics({"f": audit.findings})
    assert again.membership.equals(audit.membership)
