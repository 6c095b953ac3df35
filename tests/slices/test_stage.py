"""The slice stage on the bundled v1 predictions in a scratch directory, and its plots."""

import json

import pandas as pd
import pytest

from _paths import ROOT
from blindspot import paths
from blindspot.config import IngestConfig, ModelConfig
from blindspot.ingest import ingest_file
from blindspot.io.writers import write_parquet
from blindspot.plots.slices import GapForestDisplay
from blindspot.results import undeclared
from blindspot.results.slices import FINDINGS, SLICES, TEXT_SLICES


@pytest.fixture
def v1_workspace(params_for):
    work = params_for()
    clean = ingest_file(ModelConfig(path=str(ROOT / "data/raw/predictions/v1.json")), IngestConfig()).clean
    write_parquet(work / paths.PREDICTIONS, clean)
    return work


def test_slice_stage_outputs(v1_workspace):
    from blindspot.stages import slice as stage

    work = v1_workspace
    line = stage.main(None)
    assert "class finding(s)" in line
    metrics = json.loads((work / paths.SLICE_METRICS).read_text())
    findings = json.loads((work / paths.FINDINGS).read_text())
    membership = pd.read_parquet(work / paths.SLICES)
    params_watch = ["jargon_high", "negated_term", "sarcasm_cue", "mixed_sentiment", "length_q4", "words_le_10",
                    "condition__birth_control", "condition__depression", "condition__pain",
                    "negated_term__and__jargon_high"]
    assert list(metrics["watchlist"]) == sorted(params_watch)  # the writer sorts keys
    assert [c for c in membership.columns if c.startswith("watch__")] == [f"watch__{k}" for k in params_watch]
    assert metrics["classes"]["neutral"]["recall"]["significant"] is True
    # Every metadata column accounted for; each slice reads back to its raw column and value.
    assert {k: c["kind"] for k, c in metrics["columns_tested"].items()} == {
        "condition": "categorical", "date": "date", "drug": "categorical", "useful_count": "numeric"}
    assert metrics["columns_skipped"] == {}
    assert metrics["watchlist"]["condition__birth_control"]["parts"] == [
        {"key": "condition__birth_control", "source": "metadata", "column": "condition", "value": "Birth Control"}]
    assert [p["key"] for p in metrics["watchlist"]["negated_term__and__jargon_high"]["parts"]] == ["negated_term",
                                                                                            "jargon_high"]
    assert findings[0]["source"] == "class"
    # Every key the stage writes is declared (blindspot.results.slices), each of its declared kind.
    assert undeclared(metrics, SLICES) == [] and undeclared(findings, FINDINGS) == []
    # The texts' own slices: topics learned on the 979 reviews, error terms cross-fitted (reports/text_slices.json).
    text = json.loads((work / paths.TEXT_SLICES).read_text())
    assert undeclared(text, TEXT_SLICES) == []
    assert text["topics"]["k"] == metrics["text_slices"]["topics"]["k"] == len(metrics["text_features"]["topic"]["slices"])
    assert text["topics"]["n_fit"] == metrics["n_rows"] and text["terms"]["n_a"] + text["terms"]["n_b"] == metrics["n_rows"]
    assert metrics["family"]["n_term_tests"] == len(text["terms"]["tested"]) > 0
    significant = [t["key"] for t in text["terms"]["tested"] if t["significant"]]
    assert [f["key"] for f in findings if f["source"] == "term"] == significant
    assert [c for c in membership.columns if c.startswith("found__term_")] == [f"found__{k}" for k in significant]
    assert metrics["watchlist"]["condition__birth_control"]["error_rate"]["method"] == "wilson"
    gaps = json.loads((work / stage.GAPS_JSON).read_text())
    assert gaps and {"slice", "gap", "gap_ci_low", "gap_ci_high", "worse_by", "n", "significant"} <= set(gaps[0])
    for png in (stage.FOREST_PNG, stage.CONFUSION_PNG):
        assert (work / png).stat().st_size > 0
    # Byte-for-byte determinism: tests/slices/test_audit.py and the dvc repro test in test_pipeline.py.


def test_forest_orders_significant_first_and_caps_rows():
    findings = [
        {"key": f"s{i}", "source": "watchlist", "metric": "error_rate", "higher_is_better": False,
         "gap": {"value": 0.01 * i, "ci_low": 0.0, "ci_high": 0.1}, "significant": i == 3, "rank": 1 if i == 3 else None,
         "slice": {}} for i in range(6)
    ]
    d = GapForestDisplay.from_findings(findings, max_rows=4)
    assert d.table["label"].tolist() == ["s3", "s0", "s1", "s2"]
    d.plot(metric_order=["error_rate"])
    assert d.figure_ is not None
