"""Data profile: class balance, lengths, duplicates, the baseline sentence."""

import numpy as np
import pandas as pd
import pytest

from blindspot import profiling


def test_class_distribution_and_imbalance():
    dist = profiling.class_distribution([0, 2, 2, 2], ["a", "b", "c"])
    assert dist == {"a": {"n": 1, "share": 0.25}, "b": {"n": 0, "share": 0.0}, "c": {"n": 3, "share": 0.75}}
    assert profiling.imbalance_ratio([0, 2, 2, 2, 1], 3) == 3.0
    assert profiling.imbalance_ratio([0, 2], 3) == float("inf")
    # The same from the rows of each class (a row or column sum of the confusion matrix).
    assert profiling.class_distribution_of_counts(np.array([1, 0, 3]), ["a", "b", "c"]) == dist
    assert profiling.imbalance_ratio_of_counts([1, 1, 3]) == 3.0
    assert profiling.imbalance_ratio_of_counts([1, 0]) == float("inf")
    assert profiling.class_counts([0, 2, 2, 2], 3).tolist() == [1, 0, 3]
    nan_share = profiling.class_distribution_of_counts([0, 0], ["a", "b"])["a"]
    assert nan_share["n"] == 0 and np.isnan(nan_share["share"])


def test_length_profile_counts_words_and_chars():
    prof = profiling.length_profile(pd.Series(["a b c", "hello", "é é"], dtype="str"), [0.5])
    assert prof["words"] == {"mean": 2.0, "min": 1.0, "max": 3.0, "q50": 2.0}
    assert prof["chars"]["max"] == 5.0 and prof["chars"]["min"] == 3.0


def test_duplicates_and_conflicting_labels():
    got = profiling.duplicate_profile(["x", "y", "x", "x", "z", "z"], ["p", "n", "p", "p", "p", "n"])
    assert got == {"distinct_texts": 3, "duplicate_rows": 3, "duplicated_texts": 2, "conflicting_label_texts": 1}


def test_profile_predictions_on_a_tiny_table():
    frame = pd.DataFrame({
        "text": pd.Series(["good", "bad one", "ok", "good"], dtype="str"),
        "label": ["pos", "neg", "neu", "pos"],
        "y_true": np.array([2, 0, 1, 2], dtype=np.int8),
        "y_pred": np.array([2, 2, 2, 2], dtype=np.int8),
    })
    prof = profiling.profile_predictions(frame, ["neg", "neu", "pos"], n_boot=100, level=0.9,
                                         rng=np.random.default_rng(3), length_quantiles=[0.5])
    assert prof["n_rows"] == 4 and prof["accuracy"]["value"] == 0.5
    assert prof["majority_baseline_accuracy"] == 0.5 and prof["prediction_distribution"]["pos"]["n"] == 4
    assert prof["duplicates"]["duplicate_rows"] == 1
    assert prof["baseline_verdict"] == "indistinguishable"
    assert "always predicting 'pos'" in profiling.baseline_statement(prof)


def test_baseline_statement_verdicts():
    base = {"accuracy": {"value": 0.7, "ci_low": 0.6, "ci_high": 0.8}, "ci_level": 0.95,
            "majority_baseline_accuracy": 0.65, "majority_class": "pos",
            "balanced_accuracy": {"value": 0.4}, "f1_macro": {"value": 0.4}}
    above = dict(base, accuracy_over_baseline={"value": 0.05, "ci_low": 0.01, "ci_high": 0.09})
    same = dict(base, accuracy_over_baseline={"value": 0.05, "ci_low": -0.01, "ci_high": 0.09})
    below = dict(base, accuracy_over_baseline={"value": -0.05, "ci_low": -0.09, "ci_high": -0.01})
    assert "clearly above that baseline" in profiling.baseline_statement(above)
    assert "not distinguishable from that baseline" in profiling.baseline_statement(same)
    assert "below that baseline" in profiling.baseline_statement(below)


def test_confusion_display_counts_and_row_shares():
    from blindspot.plots.confusion import ConfusionDisplay, row_normalise

    d = ConfusionDisplay.from_predictions([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ["a", "b", "c"]).plot()
    assert d.counts.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 0]]
    np.testing.assert_allclose(d.normalised[:2], [[0.5, 0.5, 0], [1 / 3, 2 / 3, 0]])
    assert np.isnan(row_normalise(d.counts)[2]).all()  # an empty row has no shares
    assert len(d.figure_.axes) == 2


def test_profile_stage_writes_metrics_plots_and_dvc_plot_rows(params_for):
    import json

    from _paths import ROOT
    from blindspot import paths
    from blindspot.config import IngestConfig, ModelConfig
    from blindspot.ingest import ingest_file
    from blindspot.io.writers import write_parquet
    from blindspot.stages import profile as stage

    work = params_for({"stats.n_boot": 200})
    clean = ingest_file(ModelConfig(path=str(ROOT / "data/raw/predictions/v1.json")), IngestConfig()).clean
    write_parquet(work / paths.PREDICTIONS, clean)
    line = stage.main(None)
    assert "always predicting 'positive'" in line
    first = (work / paths.PROFILE_METRICS).read_bytes()
    prof = json.loads(first)
    assert prof["n_rows"] == 979 and prof["per_class"]["neutral"]["recall"]["value"] == 0
    assert prof["majority_baseline_accuracy"] == pytest.approx(633 / 979, abs=1e-6)
    dups = prof["duplicates"]  # one review posted twice, both right: no evidence of leakage
    assert (dups["groups"], dups["rows_duplicated"], dups["accuracy_duplicated"]["correct"]) == (1, 2, 2)
    assert dups["accuracy_unique"]["correct"] == 697 and dups["easier_p_value"] == pytest.approx(0.713701, abs=1e-6)
    rows = pd.read_csv(work / stage.CONFUSION_DATA)
    # one row per (true, predicted) cell, zeros included, adding up to the reviews and equal to the matrix
    assert list(rows.columns) == ["actual", "predicted", "count"] and len(rows) == 9 and rows["count"].sum() == 979
    assert all(prof["confusion_matrix"][r.actual][r.predicted] == r.count for r in rows.itertuples())
    assert rows.query("predicted == 'neutral'")["count"].sum() == 0  # never predicted, still a column
    assert (work / stage.CONFUSION_PNG).stat().st_size > 0
    stage.main(None)
    assert (work / paths.PROFILE_METRICS).read_bytes() == first  # byte-for-byte deterministic


def test_a_configured_class_without_rows_gets_null_metrics_with_a_reason():
    from blindspot.io.writers import dumps_metrics

    frame = pd.DataFrame({
        "text": pd.Series(["good", "bad", "ok", "fine"], dtype="str"),
        "label": ["pos", "neg", "pos", "pos"],
        "y_true": np.array([2, 0, 2, 2], dtype=np.int8),  # no row of 'neu' (index 1)
        "y_pred": np.array([2, 0, 2, 0], dtype=np.int8),  # and never predicted
    })
    prof = profiling.profile_predictions(frame, ["neg", "neu", "pos"], n_boot=50, level=0.9,
                                         rng=np.random.default_rng(3), length_quantiles=[0.5])
    written = __import__("json").loads(dumps_metrics(prof))
    neu = written["per_class"]["neu"]
    assert neu["support"] == 0 and written["label_distribution"]["neu"]["n"] == 0
    for metric in ("recall", "precision", "f1"):
        assert neu[metric]["value"] is None and neu[metric]["reason"] == "no row of class 'neu' in the data"
    assert written["imbalance_ratio"] is None and written["imbalance_ratio_reason"] == "class 'neu' has no rows"
    assert written["per_class"]["neg"]["recall"]["value"] == 1.0 and "reason" not in written["per_class"]["neg"]["recall"]


def test_a_class_predicted_but_without_rows_keeps_its_precision():
    frame = pd.DataFrame({"text": pd.Series(["a", "b"], dtype="str"), "label": ["pos", "pos"],
                          "y_true": np.array([1, 1], dtype=np.int8), "y_pred": np.array([0, 1], dtype=np.int8)})
    prof = profiling.profile_predictions(frame, ["neg", "pos"], n_boot=20, level=0.9, rng=np.random.default_rng(0),
                                         length_quantiles=[0.5])
    neg = prof["per_class"]["neg"]
    assert neg["precision"]["value"] == 0.0  # one prediction, wrong: measurable
    assert np.isnan(neg["recall"]["value"]) and neg["recall"]["reason"] == "no row of class 'neg' in the data"
