"""Paired comparison of two model versions (blindspot.compare, src/blindspot/stages/compare.py)."""

from __future__ import annotations

import json
import zlib
import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from sklearn import metrics as skm

from blindspot import paths
from blindspot.compare import (
    INTERVAL_METHOD,
    T_INTERVAL_METHOD,
    apply_fdr,
    baseline_model_config,
    bootstrap_p_value,
    compare_predictions,
    compare_table,
    joint_counts,
    mcnemar_exact,
    pair_rows,
    paired_loss_entry,
    read_baseline,
    row_losses,
)
from blindspot.config import IngestConfig, load_params
from blindspot.errors import ConfigError
from blindspot.results import undeclared
from blindspot.results.compare import COMPARE

from _bundled import bundled_params_file
from _paths import ROOT

CLASSES = ["negative", "neutral", "positive"]


def _frame(ids, y_true, y_pred, confidence=None):
    n = len(ids)
    conf = np.full(n, 0.9) if confidence is None else np.asarray(confidence, float)
    return pd.DataFrame({"id": pd.array([str(i) for i in ids], dtype="string"),
                         "y_true": np.asarray(y_true, np.int8), "y_pred": np.asarray(y_pred, np.int8),
                         "confidence": conf})


def _run(current, baseline, masks=None, **kw):
    opts = dict(confident_threshold=0.8, n_boot=300, level=0.95, fdr_alpha=0.05, seed=7, min_rows=10)
    opts.update(kw)
    return compare_predictions(current, baseline, CLASSES, masks, **opts)


def _entries(tree):
    for key, value in tree.items():
        if isinstance(value, dict) and "tested" in value:
            yield key, value
        elif isinstance(value, dict):
            yield from _entries(value)


# --------------------------------------------------------------------------- primitives


def test_mcnemar_exact_matches_hand_computation():
    # 10 reviews only the baseline gets right, 2 only the current: two-sided exact binomial,
    # 2 * P(X <= 2) for X ~ Bin(12, 1/2) = 2 * (1 + 12 + 66) / 4096.
    assert mcnemar_exact(10, 2) == pytest.approx(2 * 79 / 4096)
    assert mcnemar_exact(2, 10) == pytest.approx(2 * 79 / 4096)
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 5) == pytest.approx(st.binomtest(5, 10).pvalue)


def test_mcnemar_exact_matches_scipy_binomtest_everywhere():
    # Every discordant split up to 60 pairs, plus large unbalanced ones where a tail is tiny.
    cases = [(b, c) for n in range(1, 61) for b in range(n + 1) for c in [n - b]] + [(3, 4000), (2500, 2300)]
    for b, c in cases:
        ref = st.binomtest(c, b + c, 0.5, alternative="two-sided").pvalue
        assert mcnemar_exact(b, c) == pytest.approx(ref, rel=1e-9, abs=1e-300), (b, c)


@pytest.mark.parametrize("seed", range(3))
def test_paired_loss_entry_matches_scipy_ttest_rel(seed):
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 0.1, 300)
    cur = base - 0.01 + rng.normal(0, 0.05, 300)
    e = paired_loss_entry("brier", base, cur, level=0.9)
    ref = st.ttest_rel(cur, base)
    ci = ref.confidence_interval(confidence_level=0.9)
    assert e["test"] == "paired_t" and e["tested"] and e["n"] == 300
    assert e["delta"]["value"] == pytest.approx(cur.mean() - base.mean())
    assert e["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert (e["delta"]["ci_low"], e["delta"]["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert e["delta"]["method"] == T_INTERVAL_METHOD
    assert e["higher_is_better"] is False


def test_paired_loss_entry_degenerate_cases():
    same = paired_loss_entry("log_loss", [0.2, 0.3, 0.4], [0.2, 0.3, 0.4], level=0.95)
    assert same["tested"] and same["p_value"] == 1.0 and same["delta"]["value"] == 0
    shifted = paired_loss_entry("log_loss", [0.5, 0.75, 1.0], [0.25, 0.5, 0.75], level=0.95)  # exact in binary
    assert shifted["p_value"] == 0.0 and shifted["delta"]["ci_low"] == shifted["delta"]["ci_high"] == -0.25
    one = paired_loss_entry("brier", [0.2], [0.1], level=0.95)
    assert not one["tested"] and "fewer than 2" in one["reason"]


def test_row_losses_with_and_without_probabilities():
    frame = _frame(["a", "b"], [0, 2], [0, 1], [0.7, 0.6])
    assert set(row_losses(frame, CLASSES)) == {"brier_top_label"}
    np.testing.assert_allclose(row_losses(frame, CLASSES)["brier_top_label"], [0.09, 0.36])
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])
    for j, c in enumerate(CLASSES):
        frame[f"proba__{c}"] = proba[:, j]
    losses = row_losses(frame, CLASSES)
    np.testing.assert_allclose(losses["brier"], [0.09 + 0.04 + 0.01, 0.01 + 0.36 + 0.49])
    np.testing.assert_allclose(losses["log_loss"], -np.log([0.7, 0.3]))


def test_bootstrap_p_value():
    rng = np.random.default_rng(0)
    assert bootstrap_p_value(0.0, rng.normal(0, 1, 500)) == 1.0  # no difference: nothing to explain
    far = bootstrap_p_value(5.0, rng.normal(5.0, 1.0, 999))  # 5 sd from 0: no replicate that extreme
    assert far == pytest.approx(1 / 1000)
    near = bootstrap_p_value(0.5, rng.normal(0.5, 1.0, 999))
    assert 0.5 < near < 0.7  # |N(0,1)| >= 0.5 has probability 0.62
    assert np.isnan(bootstrap_p_value(np.nan, [1.0, 2.0]))
    assert np.isnan(bootstrap_p_value(0.1, [np.nan, np.nan]))


def test_joint_counts_marginals_are_each_models_confusion_matrix():
    rng = np.random.default_rng(1)
    t, b, c = (rng.integers(0, 3, 400) for _ in range(3))
    fb, fc = rng.random(400) < 0.2, rng.random(400) < 0.3
    sparse = joint_counts(t, b, c, fb, fc, 3)
    assert sparse.n == 400 and np.all(sparse.counts > 0) and np.all(np.diff(sparse.codes) > 0)
    joint = sparse.to_dense()
    assert joint.shape == (3, 3, 3, 2, 2) and joint.sum() == 400
    tbc = joint.sum(axis=(3, 4))
    np.testing.assert_array_equal(tbc.sum(axis=2), skm.confusion_matrix(t, b, labels=[0, 1, 2]))
    np.testing.assert_array_equal(tbc.sum(axis=1), skm.confusion_matrix(t, c, labels=[0, 1, 2]))
    assert joint[..., 1, :].sum() == fb.sum() and joint[..., :, 1].sum() == fc.sum()


# --------------------------------------------------------------------------- pairing


def test_pair_rows_by_id_in_current_order_and_drops_label_mismatches():
    current = _frame(["a", "b", "c", "d"], [0, 1, 2, 0], [0, 1, 1, 2])
    baseline = _frame(["d", "c", "a", "x"], [0, 1, 0, 2], [0, 0, 0, 2])  # c: other label; b, x: unpaired
    paired, pairing = pair_rows(current, baseline)
    assert paired["id"].tolist() == ["a", "d"]
    assert paired["pred_baseline"].tolist() == [0, 0] and paired["pred_current"].tolist() == [0, 2]
    assert pairing == {"n_current": 4, "n_baseline": 4, "shared_ids": 3, "label_mismatch": 1, "n_paired": 2,
                       "coverage_current": 0.5}


def test_no_shared_id_is_reported_not_raised():
    out = _run(_frame(["a", "b"], [0, 1], [0, 1]), _frame(["x", "y"], [0, 1], [0, 1]))
    assert out["status"] == "not_compared" and out["pairing"]["n_paired"] == 0
    assert out["reason"] == "0 paired rows, fewer than compare.min_rows=10"


# --------------------------------------------------------------------------- the comparison


def _two_models(n=1500, seed=3, fix_share=0.0, noise_share=0.0):
    """A baseline missing class 0 often; the current fixes ``fix_share`` of those misses and
    re-draws ``noise_share`` of all predictions at random (same error rate either way)."""
    rng = np.random.default_rng(seed)
    t = rng.choice(3, n, p=[0.3, 0.1, 0.6])
    base = np.where(rng.random(n) < 0.8, t, rng.integers(0, 3, n))
    base = np.where((t == 0) & (rng.random(n) < 0.4), 2, base)
    cur = base.copy()
    fix = (t == 0) & (base != 0) & (rng.random(n) < fix_share)
    cur[fix] = 0
    noise = rng.random(n) < noise_share
    cur[noise] = rng.permutation(base[noise])
    ids = [f"r{i}" for i in range(n)]
    conf_b, conf_c = rng.uniform(0.4, 1.0, n), rng.uniform(0.4, 1.0, n)
    return _frame(ids, t, cur, conf_c), _frame(ids, t, base, conf_b)


def test_losses_without_probabilities_are_reported_untested_with_reason():
    current, baseline = _two_models()
    g = _run(current, baseline)["global"]
    assert g["brier_top_label"]["tested"] and g["brier_top_label"]["test"] == "paired_t"
    assert not g["brier"]["tested"] and "probabilities" in g["brier"]["reason"]
    assert not g["log_loss"]["tested"]


def test_identical_models_change_nothing():
    current, _ = _two_models()
    out = _run(current, current.copy(), {"half": np.arange(len(current)) % 2 == 0})
    assert out["status"] == "compared" and out["baseline_is_current"] == 1
    entries = list(_entries({"g": out["global"], "w": out["watchlist"]}))
    tested = [e for _, e in entries if e["tested"]]
    assert tested and all(e["delta"]["value"] == 0 and e["p_value"] == 1 and not e["changed"] for e in tested)
    assert out["family"]["n_changed"] == 0


def test_point_values_equal_sklearn_on_each_model():
    current, baseline = _two_models(fix_share=0.5)
    mask = np.arange(len(current)) % 3 == 0
    out = _run(current, baseline, {"third": mask})
    t, b, c = (f.to_numpy() for f in (current["y_true"], baseline["y_pred"], current["y_pred"]))
    g = out["global"]
    for name, fn in (("accuracy", skm.accuracy_score), ("balanced_accuracy", skm.balanced_accuracy_score),
                     ("mcc", skm.matthews_corrcoef), ("cohen_kappa", skm.cohen_kappa_score)):
        assert g[name]["baseline"] == pytest.approx(fn(t, b)), name
        assert g[name]["current"] == pytest.approx(fn(t, c)), name
        assert g[name]["delta"]["value"] == pytest.approx(fn(t, c) - fn(t, b)), name
    assert g["f1_macro"]["current"] == pytest.approx(skm.f1_score(t, c, average="macro"))
    recall_b = skm.recall_score(t, b, average=None, labels=[0, 1, 2])
    precision_c = skm.precision_score(t, c, average=None, labels=[0, 1, 2])
    for j, cls in enumerate(CLASSES):
        assert g["per_class"][cls]["recall"]["baseline"] == pytest.approx(recall_b[j])
        assert g["per_class"][cls]["precision"]["current"] == pytest.approx(precision_c[j])
    # A watchlist slice is compared on its own rows.
    w = out["watchlist"]["third"]
    assert w["n"] == mask.sum()
    assert w["accuracy"]["current"] == pytest.approx(skm.accuracy_score(t[mask], c[mask]))
    assert w["recall_negative"]["baseline"] == pytest.approx(skm.recall_score(t[mask] == 0, b[mask] == 0))
    # McNemar's discordant counts are the rows where exactly one model is right.
    assert g["accuracy"]["baseline_only"] == int(((b == t) & (c != t)).sum())
    assert g["accuracy"]["current_only"] == int(((b != t) & (c == t)).sum())
    wrong_b = (b != t) & (baseline["confidence"].to_numpy() >= 0.8)
    assert g["confidently_incorrect_rate"]["baseline"] == pytest.approx(wrong_b.mean())


def test_a_real_improvement_is_flagged_in_the_right_direction():
    current, baseline = _two_models(fix_share=0.6)
    out = _run(current, baseline)
    recall = out["global"]["per_class"]["negative"]["recall"]
    assert recall["delta"]["value"] > 0.1 and recall["changed"] and recall["direction"] == "improved"
    assert recall["test"] == "mcnemar_exact" and recall["baseline_only"] == 0
    assert recall["delta"]["ci_low"] > 0 and recall["delta"]["method"] == INTERVAL_METHOD
    assert out["global"]["accuracy"]["direction"] == "improved"
    assert out["global"]["balanced_accuracy"]["test"] == "paired_bootstrap"


def test_lower_is_better_metric_improves_when_it_falls():
    current, baseline = _two_models(fix_share=0.6)
    # the current model is confidently wrong far less often
    current = current.assign(confidence=np.where(current["y_pred"] != current["y_true"], 0.5, 0.95))
    baseline = baseline.assign(confidence=0.95)
    e = _run(current, baseline)["global"]["confidently_incorrect_rate"]
    assert e["delta"]["value"] < 0 and e["higher_is_better"] is False and e["direction"] == "improved"


def _null_models(n, seed):
    """Two models drawn independently from the same process: different rows wrong, same expected metrics."""
    rng = np.random.default_rng(seed)
    t = rng.choice(3, n, p=[0.3, 0.1, 0.6])

    def model():
        wrong = rng.random(n) < np.array([0.5, 0.8, 0.1])[t]
        return np.where(wrong, (t + rng.integers(1, 3, n)) % 3, t)

    ids = [f"r{i}" for i in range(n)]
    return (_frame(ids, t, model(), rng.uniform(0.4, 1, n)), _frame(ids, t, model(), rng.uniform(0.4, 1, n)))


def test_no_change_is_flagged_between_equivalent_models():
    # Under the null (same process, independent errors) the family-wise chance of any flag at
    # FDR 0.05 is about 5%: over 20 seeds, two or more runs with a flag would be a broken test.
    flagged = 0
    for seed in range(20):
        current, baseline = _null_models(800, seed)
        out = _run(current, baseline, n_boot=200)
        flagged += out["family"]["n_changed"] > 0
    assert flagged <= 2, flagged


def test_every_test_is_in_one_bh_family():
    current, baseline = _two_models(fix_share=0.3)
    out = _run(current, baseline, {"a": np.arange(len(current)) < 500, "b": np.arange(len(current)) >= 700})
    tested = [e for _, e in _entries({"g": out["global"], "w": out["watchlist"]}) if e["tested"]]
    p = np.array([e["p_value"] for e in tested])
    q = np.array([e["q_value"] for e in tested])
    np.testing.assert_allclose(np.sort(q), np.sort(st.false_discovery_control(p)), rtol=1e-12)
    assert out["family"]["n_tests"] == len(tested)
    assert out["family"]["n_changed"] == sum(e["q_value"] <= 0.05 for e in tested)


def test_small_slices_and_classes_are_reported_untested_with_reason():
    current, baseline = _two_models()
    tiny = np.zeros(len(current), bool)
    tiny[:5] = True
    out = _run(current, baseline, {"tiny": tiny}, min_rows=10)
    w = out["watchlist"]["tiny"]
    assert w["n"] == 5
    assert not w["accuracy"]["tested"] and "fewer than compare.min_rows=10" in w["accuracy"]["reason"]
    assert "q_value" not in w["accuracy"]


def test_deterministic_and_slices_do_not_move_global_intervals():
    current, baseline = _two_models(fix_share=0.3)
    one = _run(current, baseline)
    two = _run(current, baseline, {"extra": np.arange(len(current)) < 400})
    assert one["global"]["mcc"]["delta"] == two["global"]["mcc"]["delta"]
    assert _run(current, baseline) == one


def test_compare_table_untested_entries_keep_shape():
    joint = joint_counts([0, 1], [0, 1], [0, 1], [False, False], [False, False], 3)
    out = compare_table(joint, CLASSES, n_boot=10, level=0.95, rng=np.random.default_rng(0), min_rows=10)
    assert set(out["per_class"]) == set(CLASSES) and not out["accuracy"]["tested"]
    assert apply_fdr({"g": out}, 0.05)["n_tests"] == 0


# --------------------------------------------------------------------------- bundled data and the stage


@pytest.fixture(scope="module")
def bundled():
    from blindspot.ingest import ingest_file

    cfg = load_params(bundled_params_file())
    v1 = ingest_file(replace(cfg.model, path=str(ROOT / "data/raw/predictions/v1.json")), cfg.ingest).clean
    v2 = ingest_file(replace(cfg.model, path=str(ROOT / "data/raw/predictions/v2.json")), cfg.ingest).clean
    return cfg, v1, v2


def test_bundled_v2_against_v1_agrees_with_the_profile_metrics(bundled):
    """The brief's comparison and `dvc metrics diff` on profile.json must agree: same numbers."""
    from blindspot.metrics import classification_report

    cfg, v1, v2 = bundled
    out = compare_predictions(v2, v1, cfg.ingest.classes, confident_threshold=0.8, n_boot=200, level=0.95,
                              fdr_alpha=0.05, seed=cfg.seed, min_rows=10)
    assert out["pairing"]["n_paired"] == 979 and out["baseline_is_current"] == 0
    rng = np.random.default_rng(0)
    reports = {name: classification_report(f["y_true"], f["y_pred"], cfg.ingest.classes, n_boot=10, level=0.95,
                                            rng=rng) for name, f in (("v1", v1), ("v2", v2))}
    g = out["global"]
    for metric in ("accuracy", "balanced_accuracy", "f1_macro", "mcc", "cohen_kappa"):
        assert g[metric]["baseline"] == pytest.approx(reports["v1"][metric]["value"])
        assert g[metric]["current"] == pytest.approx(reports["v2"][metric]["value"])
    for cls in cfg.ingest.classes:
        assert g["per_class"][cls]["recall"]["delta"]["value"] == pytest.approx(
            reports["v2"]["per_class"][cls]["recall"]["value"] - reports["v1"]["per_class"][cls]["recall"]["value"])
    # What the brief reports on the bundled data: v2 finds many more negative reviews and loses
    # some positive ones; its 2-point accuracy gain rests on 58 against 36 discordant reviews.
    assert g["per_class"]["negative"]["recall"]["direction"] == "improved"
    assert g["per_class"]["positive"]["recall"]["direction"] == "worsened"
    assert (g["accuracy"]["baseline_only"], g["accuracy"]["current_only"]) == (36, 58)
    assert g["accuracy"]["p_value"] == pytest.approx(st.binomtest(58, 94).pvalue)
    # The losses are paired per review, and their baseline and current values are the calibrate
    # stage's numbers for each model.
    from blindspot.calibration.metrics import multiclass_brier_loss
    from blindspot.io.schema import probability_matrix

    for name, frame, side in (("v1", v1, "baseline"), ("v2", v2, "current")):
        proba = probability_matrix(frame, cfg.ingest.classes)
        assert g["brier"][side] == pytest.approx(multiclass_brier_loss(frame["y_true"], proba))
    assert all(g[m]["test"] == "paired_t" and g[m]["tested"] for m in ("brier", "brier_top_label", "log_loss"))


def test_bundled_pair_has_no_prior_shift_and_the_correction_is_judged_by_its_what_if(bundled):
    """v1 and v2 score the same reviews: the class-mix test must say no shift (p = 1). v2's probabilities are
    underconfident (class-balanced weights), so the label-free EM misreads the mix and the cross-fitted
    what-if shows the correction would hurt: the brief must then advise against it."""
    from blindspot.io.schema import probability_matrix
    from blindspot.prior_shift import prior_shift

    cfg, v1, v2 = bundled
    out = prior_shift(v1["y_true"].to_numpy(), v2["y_true"].to_numpy(), v2["y_pred"].to_numpy(),
                      probability_matrix(v2, cfg.ingest.classes), cfg.ingest.classes, baseline_name="v1", alpha=0.05,
                      n_boot=200, level=0.95, seed=cfg.seed)
    test = out["label_shift"]
    assert test["statistic"] == 0 and test["p_value"] == pytest.approx(1.0) and not test["shifted"]
    assert test["counts_current"] == test["counts_baseline"] == {"negative": 256, "neutral": 90, "positive": 633}
    acc = out["what_if"]["accuracy"]
    assert acc["before"]["value"] == pytest.approx(np.mean(v2["y_pred"] == v2["y_true"]))
    assert acc["delta"]["ci_high"] < 0


def test_bundled_v2_against_v1_writes_only_declared_keys(bundled, tmp_path, monkeypatch):
    """The writers' whole output on real data (every block measured, watchlist slices, losses) conforms to
    blindspot.results.compare, written as the stage writes it (rounded, NaN as null)."""
    from blindspot.io.schema import probability_matrix
    from blindspot.io.writers import write_metrics
    from blindspot.prior_shift import CHANGE_INTERVAL_METHOD, prior_shift

    cfg, v1, v2 = bundled
    third = np.arange(len(v2)) % 3 == 0
    out = compare_predictions(v2, v1, cfg.ingest.classes, {"third": third, "tiny": np.arange(len(v2)) < 5},
                              confident_threshold=0.8, n_boot=50, level=0.95, fdr_alpha=0.05, seed=cfg.seed,
                              min_rows=10)
    out["prior_shift"] = prior_shift(v1["y_true"].to_numpy(), v2["y_true"].to_numpy(), v2["y_pred"].to_numpy(),
                                     probability_matrix(v2, cfg.ingest.classes), cfg.ingest.classes,
                                     baseline_name="v1", alpha=0.05, n_boot=50, level=0.95, seed=cfg.seed)
    assert undeclared(out, COMPARE) == []
    monkeypatch.chdir(tmp_path)
    write_metrics(paths.COMPARE_METRICS, out)
    written = json.loads(paths.COMPARE_METRICS.read_text())
    assert undeclared(written, COMPARE) == []
    # Every delta names its interval's method; no file-level interval method is left.
    assert "interval_method" not in written["settings"]
    assert written["global"]["mcc"]["delta"]["method"] == INTERVAL_METHOD
    assert written["global"]["log_loss"]["delta"]["method"] == T_INTERVAL_METHOD
    assert written["watchlist"]["third"]["recall_negative"]["delta"]["method"] == INTERVAL_METHOD
    what_if = written["prior_shift"]["what_if"]["accuracy"]
    assert what_if["before"]["method"] == what_if["after"]["method"] == "wilson"
    assert what_if["delta"]["method"] == CHANGE_INTERVAL_METHOD == INTERVAL_METHOD


def test_baseline_model_config_reuses_the_current_mapping_unless_given():
    cfg = load_params(bundled_params_file())
    model = replace(cfg.model, probability_prefix="p_")
    same = baseline_model_config(cfg.compare, model)
    assert same.path == cfg.compare.baseline.path and same.columns == model.columns
    assert same.probability_prefix == "p_" and same.metadata == []
    own = replace(cfg.compare, baseline=replace(cfg.compare.baseline, columns=replace(model.columns, text="body"),
                                                probability_prefix=None))
    other = baseline_model_config(own, model)
    assert other.columns.text == "body" and other.probability_prefix is None


def _stage_dir(params_for, tmp_path, baseline_path):
    from blindspot.io.writers import write_parquet

    work = params_for({"compare.baseline.path": baseline_path, "compare.min_rows": 1, "stats.n_boot": 50})
    current = _frame(["a", "b", "c", "d"], [0, 1, 2, 2], [0, 2, 2, 2], [0.9, 0.85, 0.7, 0.99])
    current = current.assign(text="x", label=[CLASSES[i] for i in current["y_true"]],
                             prediction=[CLASSES[i] for i in current["y_pred"]])
    write_parquet(work / paths.PREDICTIONS, current)
    write_parquet(work / paths.SLICES, pd.DataFrame({"id": pd.array(["a", "b", "c", "d"], dtype="string"),
                                                     "watch__odd": [True, False, True, False],
                                                     "found__x": [True, True, True, True]}))
    return work


def test_stage_writes_compare_metrics(params_for, tmp_path):
    from blindspot.stages.compare import main

    raw = tmp_path / "data/raw/base.json"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps([{"id": i, "text": "t", "label": lab, "prediction": pred, "confidence": 0.9}
                               for i, lab, pred in (("a", "negative", "positive"), ("b", "neutral", "neutral"),
                                                    ("c", "positive", "positive"), ("d", "positive", "negative"))]))
    work = _stage_dir(params_for, tmp_path, "data/raw/base.json")
    line = main(logging.getLogger("test"))
    out = json.loads((work / paths.COMPARE_METRICS).read_text())
    assert out["status"] == "compared" and out["pairing"]["n_paired"] == 4
    assert set(out["watchlist"]) == {"odd"}  # only watchlist slices, never discovered ones
    assert out["baseline"]["rows_clean"] == 4 and out["current"]["name"] == "v1"
    assert "4 paired rows" in line
    shift = out["prior_shift"]  # class mix tested; too few rows (4) for the 5-fold EM what-if, said so
    assert shift["measured"] == 1 and shift["label_shift"]["counts_baseline"] == {"negative": 1, "neutral": 1,
                                                                                 "positive": 2}
    assert shift["em"]["measured"] == 0 and shift["em"]["reason"]
    assert "4 paired rows (class mix unchanged, chi-square p 1)" in line
    assert undeclared(out, COMPARE) == []


def test_stage_without_baseline(params_for, tmp_path):
    from blindspot.stages.compare import main

    work = _stage_dir(params_for, tmp_path, None)
    assert "no baseline" in main(logging.getLogger("test"))
    out = json.loads((work / paths.COMPARE_METRICS).read_text())
    assert out["status"] == "no_baseline"
    # No training prior is invented: the label-free EM needs the baseline's class shares.
    assert out["prior_shift"] == {"measured": 0, "reason": "not measurable: no baseline to give the training class prior"}
    assert undeclared(out, COMPARE) == []


def test_stage_missing_baseline_file_names_it(params_for, tmp_path):
    from blindspot.stages.compare import main

    _stage_dir(params_for, tmp_path, "data/raw/nowhere.json")
    with pytest.raises(ConfigError, match="nowhere.json does not exist"):
        main(logging.getLogger("test"))
    assert not (tmp_path / paths.COMPARE_METRICS).exists()


def test_ingest_config_is_shared(bundled):
    cfg, v1, _ = bundled
    assert isinstance(cfg.ingest, IngestConfig) and len(v1) == 979


# --------------------------------------------------------------------------- sparse bootstrap


def _random_table(rng, k):
    n = int(rng.integers(1, 400))
    t = rng.integers(0, k, n)
    # mostly on the diagonal, like real models: few occupied cells of the K^3 x 4
    b = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n))
    c = np.where(rng.random(n) < 0.7, b, rng.integers(0, k, n))
    return joint_counts(t, b, c, rng.random(n) < 0.2, rng.random(n) < 0.3, k)


@pytest.mark.parametrize("seed", range(40))
def test_bootstrap_joint_draws_exactly_the_dense_bootstrap(seed):
    """Drawn over the occupied cells, in chunks, the replicates are the dense table's, draw for draw."""
    from blindspot.compare import bootstrap_joint
    from blindspot.metrics import metrics_from_confusion
    from blindspot.stats import resample_counts

    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    joint = _random_table(rng, k)
    if seed % 3 == 0:  # the dense table's last cell occupied: it is drawn like any other
        joint = joint_counts(*(np.r_[a, [k - 1]] for a in decode_all(joint)), k)
    dense = resample_counts(joint.to_dense(), 57, np.random.default_rng(seed + 100))
    tbc = dense.sum(axis=(-2, -1))
    ref_b, ref_c = metrics_from_confusion(tbc.sum(axis=-1)), metrics_from_confusion(tbc.sum(axis=-2))
    flags = dense.sum(axis=(1, 2, 3))
    for chunk in (1 << 20, 7, 1):
        boot_b, boot_c, fl_b, fl_c = bootstrap_joint(joint, 57, np.random.default_rng(seed + 100), chunk_cells=chunk)
        for m in ref_b:
            np.testing.assert_array_equal(boot_b[m], ref_b[m], err_msg=m)
            np.testing.assert_array_equal(boot_c[m], ref_c[m], err_msg=m)
        np.testing.assert_array_equal(fl_b, flags[:, 1, :].sum(axis=-1) / joint.n)
        np.testing.assert_array_equal(fl_c, flags[:, :, 1].sum(axis=-1) / joint.n)


def decode_all(joint):
    """Per-row arrays (true, baseline, current, flag_b, flag_c) of a JointCounts."""
    from blindspot.compare import decode_cells

    return tuple(np.repeat(a, joint.counts) for a in decode_cells(joint.codes, joint.n_classes))


def test_bootstrap_joint_without_replicates_keeps_shapes():
    from blindspot.compare import bootstrap_joint

    boot_b, _, fl_b, _ = bootstrap_joint(_random_table(np.random.default_rng(0), 3), 0, np.random.default_rng(0))
    assert boot_b["accuracy"].shape == (0,) and boot_b["recall"].shape == (0, 3) and fl_b.shape == (0,)


# --------------------------------------------------------------------------- too few paired rows


@pytest.mark.parametrize("n_shared", [0, 1, 2, 9, 10])
def test_too_few_paired_rows_is_not_compared_with_reason(n_shared):
    current, baseline = _two_models(n=40)
    baseline = baseline.assign(id=pd.array([f"r{i}" if i < n_shared else f"x{i}" for i in range(40)],
                                           dtype="string"))
    masks = {"half": np.arange(40) % 2 == 0}
    out = _run(current, baseline, masks)
    assert out["pairing"]["n_paired"] == n_shared
    if n_shared < 10:
        assert out["status"] == "not_compared"
        assert out["reason"] == f"{n_shared} paired rows, fewer than compare.min_rows=10"
        assert "global" not in out and "watchlist" not in out
    else:
        assert out["status"] == "compared" and out["reason"] == ""
        assert out["global"]["accuracy"]["tested"] and not out["watchlist"]["half"]["accuracy"]["tested"]


def test_single_class_and_all_labels_differing_do_not_crash():
    ids = [f"r{i}" for i in range(30)]
    rng = np.random.default_rng(5)
    one_class = _run(_frame(ids, [2] * 30, rng.integers(0, 3, 30)), _frame(ids, [2] * 30, rng.integers(0, 3, 30)))
    assert one_class["status"] == "compared"
    assert one_class["global"]["per_class"]["negative"]["recall"]["tested"] is False
    json.dumps(one_class)  # plain values only (NaN where a metric is undefined)
    differ = _run(_frame(ids, [0] * 30, [0] * 30), _frame(ids, [1] * 30, [1] * 30))
    assert differ["status"] == "not_compared" and differ["pairing"]["label_mismatch"] == 30
    assert differ["reason"] == "0 paired rows, fewer than compare.min_rows=10"


def _write_baseline(tmp_path, rows, name="base.json"):
    raw = tmp_path / "data/raw" / name
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(rows))
    return f"data/raw/{name}"


def _stage_rows(n, shared):
    """A current table of n rows (via the params_for workspace) and a baseline sharing ``shared`` ids."""
    labels = [CLASSES[i % 3] for i in range(n)]
    current = _frame([f"r{i}" for i in range(n)], [i % 3 for i in range(n)], [(i + (i % 4 == 0)) % 3 for i in range(n)])
    current = current.assign(text="x", label=labels, prediction=[CLASSES[i] for i in current["y_pred"]])
    base = [{"id": f"r{i}" if i < shared else f"x{i}", "text": "t", "label": labels[i],
             "prediction": labels[(i + 1) % n] if i % 5 == 0 else labels[i], "confidence": 0.9} for i in range(n)]
    return current, base


@pytest.mark.parametrize("shared", [0, 1, 2, 9, 10])
def test_stage_with_few_paired_rows_writes_not_compared(params_for, tmp_path, shared):
    """1 to 9 paired rows stopped the stage with KeyError: 'baseline'."""
    from blindspot.io.writers import write_parquet
    from blindspot.stages.compare import main

    current, base = _stage_rows(30, shared)
    path = _write_baseline(tmp_path, base)
    work = params_for({"compare.baseline.path": path, "stats.n_boot": 50})
    write_parquet(work / paths.PREDICTIONS, current)
    line = main(logging.getLogger("test"))
    out = json.loads((work / paths.COMPARE_METRICS).read_text())
    assert out["pairing"]["n_paired"] == shared
    # The class-mix test needs only the baseline's labels, not paired ids: measured even with none shared.
    assert out["prior_shift"]["label_shift"]["n_baseline"] == len(base)
    assert undeclared(out, COMPARE) == []
    if shared < 10:
        assert (out["status"], out["reason"]) == ("not_compared", f"{shared} paired rows, fewer than compare.min_rows=10")
        assert f"not compared: {shared} paired rows" in line
    else:
        assert out["status"] == "compared" and "accuracy" in line


# --------------------------------------------------------------------------- the baseline: default, config, fit


def _compose(overrides=()):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        return OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)), resolve=True)


def test_no_baseline_by_default_and_v2_pairs_with_v1():
    """A user's own file gets no comparison; `dvc exp run -S model=v2` still pairs v2 with v1."""
    assert load_params(bundled_params_file()).compare.baseline.path is None
    assert _compose()["compare"]["baseline"]["path"] is None
    v2 = _compose(["model=v2"])
    assert v2["model"]["name"] == "v2" and v2["compare"]["baseline"] == {**_compose()["compare"]["baseline"],
                                                                          "name": "v1",
                                                                          "path": "data/raw/predictions/v1.json"}
    assert _compose(["model=v2", "compare.baseline.path=null"])["compare"]["baseline"]["path"] is None
    assert _compose(["model=v1"])["compare"]["baseline"]["path"] is None
    own = _compose(["model.path=data/raw/mine.csv", "model.name=mine"])
    assert own["compare"]["baseline"]["path"] is None


def test_stage_without_baseline_says_no_baseline_configured(params_for, tmp_path):
    from blindspot.stages.compare import main

    work = params_for({})  # the committed params: the default composition
    line = main(logging.getLogger("test"))
    out = json.loads((work / paths.COMPARE_METRICS).read_text())
    assert (out["status"], out["reason"]) == ("no_baseline", "no baseline: none configured and no previous audit "
                                                             "recorded")
    assert out["baseline"]["source"] == "none"
    assert line.startswith("no baseline: none configured")


def test_check_config_refuses_missing_and_outside_baselines(tmp_path, monkeypatch):
    from blindspot.compare import check_config
    from blindspot.config import CompareConfig

    cfg = load_params(bundled_params_file())
    monkeypatch.chdir(tmp_path)

    def check(path, **kw):
        compare = replace(CompareConfig(), **kw)
        compare = replace(compare, baseline=replace(compare.baseline, path=path))
        check_config(compare, cfg.model, cfg.ingest)

    check(None)  # nothing configured: nothing to check
    (tmp_path / "data/raw").mkdir(parents=True)
    (tmp_path / "data/raw/old.csv").write_text("id\n")
    check("data/raw/old.csv")
    with pytest.raises(ConfigError, match=r"data/raw/gone.csv does not exist.*compare.baseline.path=data/raw/"):
        check("data/raw/gone.csv")
    with pytest.raises(ConfigError, match="is a directory"):
        check("data/raw")
    outside = tmp_path.parent / f"{tmp_path.name}_outside.csv"
    outside.write_text("id\n")
    with pytest.raises(ConfigError, match="outside the workspace.*put the file under data/raw/"):
        check(str(outside))
    with pytest.raises(ConfigError, match="outside the workspace"):
        check(f"../{outside.name}")
    (tmp_path / "data/raw/link.csv").symlink_to(outside)
    with pytest.raises(ConfigError, match=r"data/raw/link.csv is outside the workspace \(a symlink"):
        check("data/raw/link.csv")
    (tmp_path / "elsewhere.csv").write_text("id\n")
    with pytest.raises(ConfigError, match="outside data/raw/, so DVC would not re-run"):
        check("elsewhere.csv")
    with pytest.raises(ConfigError, match="compare.min_rows must be at least 1"):
        check(None, min_rows=0)
    with pytest.raises(ConfigError, match="compare.confident_threshold"):
        check(None, confident_threshold=1.5)


def _incompatible(params_for, tmp_path, overrides, rows=None, raw_bytes=None):
    from blindspot.io.writers import write_parquet
    from blindspot.stages.compare import main

    current, base = _stage_rows(30, 30)
    path = _write_baseline(tmp_path, rows if rows is not None else base)
    if raw_bytes is not None:
        (tmp_path / path).write_bytes(raw_bytes)
    work = params_for({"compare.baseline.path": path, "stats.n_boot": 50, **overrides})
    write_parquet(work / paths.PREDICTIONS, current)
    line = main(logging.getLogger("test"))
    out = json.loads((work / paths.COMPARE_METRICS).read_text())
    assert out["status"] == "not_compared" and "global" not in out
    assert "not compared: " + out["reason"] in line
    assert "\n" not in out["reason"]
    assert undeclared(out, COMPARE) == []
    return out


def test_baseline_of_other_classes_is_not_compared(params_for, tmp_path):
    # The bundled 3-class baseline against a binary model (classes negative, positive).
    _, base = _stage_rows(30, 30)
    out = _incompatible(params_for, tmp_path, {"ingest.classes": ["negative", "positive"]}, rows=base)
    assert out["reason"] == ("the baseline data/raw/base.json uses the class(es) 'neutral' in 12 of its 30 records, "
                             "not among the configured classes ['negative', 'positive']: it is a model of other classes")
    assert out["baseline"]["rows_rejected"] > 0


def test_baseline_of_other_labels_is_not_compared(params_for, tmp_path):
    # The README's case: a user's own classes ("0", "1") and the bundled sentiment baseline.
    _, base = _stage_rows(30, 30)
    out = _incompatible(params_for, tmp_path, {"ingest.classes": ["0", "1"]}, rows=base)
    assert out["reason"].startswith("the baseline data/raw/base.json")
    assert all(name in out["reason"] for name in ("negative", "neutral", "positive", "['0', '1']"))


def test_baseline_with_no_valid_record_is_not_compared(params_for, tmp_path):
    _, base = _stage_rows(30, 30)
    out = _incompatible(params_for, tmp_path, {}, rows=[{**r, "confidence": 1.5} for r in base])
    assert out["reason"] == ("none of the 30 records of the baseline data/raw/base.json passes validation "
                             "(30 confidence_out_of_range); record 1: expected a number in [0, 1], found 1.5")


def test_baseline_with_other_columns_is_not_compared(params_for, tmp_path):
    _, base = _stage_rows(30, 30)
    renamed = [{("review" if k == "text" else k): v for k, v in r.items()} for r in base]
    out = _incompatible(params_for, tmp_path, {}, rows=renamed)
    assert "required column(s) missing" in out["reason"] and "'text'" in out["reason"]
    assert "found columns 'id', 'review', 'label'" in out["reason"]


def test_baseline_without_id_is_not_compared(params_for, tmp_path):
    out = _incompatible(params_for, tmp_path, {"model.columns.id": None})
    assert "no id column (model.columns.id is null)" in out["reason"]


def test_unreadable_baseline_is_not_compared(params_for, tmp_path):
    out = _incompatible(params_for, tmp_path, {}, raw_bytes=b"\x00\x01 not json at all")
    assert out["reason"].startswith("the baseline data/raw/base.json")


# --------------------------------------------------------------------------- memory


MEMORY_SCRIPT = r"""
import logging, resource, sys
sys.path.insert(0, sys.argv[1])
from blindspot.stages.compare import main
line = main(logging.getLogger("compare"))
print(line)
print("peak_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_hundred_classes_run_in_under_1_gb(params_for, tmp_path):
    """The dense K x K x K x 2 x 2 bootstrap needed n_boot * 4 K^3 integers: 32 GB at 100 classes."""
    import resource
    import subprocess
    import sys

    from blindspot.io.writers import write_parquet

    k, n = 100, 3000
    classes = [f"c{j:02d}" for j in range(k)]
    rng = np.random.default_rng(11)
    t = rng.integers(0, k, n)
    pred_c = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n))
    pred_b = np.where(rng.random(n) < 0.7, t, rng.integers(0, k, n))
    ids = [f"r{i}" for i in range(n)]
    current = _frame(ids, t, pred_c, rng.uniform(0.2, 1, n))
    current = current.assign(text="x", label=[classes[i] for i in t], prediction=[classes[i] for i in pred_c])
    path = _write_baseline(tmp_path, [{"id": ids[i], "text": "t", "label": classes[t[i]],
                                       "prediction": classes[pred_b[i]], "confidence": 0.5} for i in range(n)])
    work = params_for({"compare.baseline.path": path, "ingest.classes": classes})  # n_boot as committed (1000)
    write_parquet(work / paths.PREDICTIONS, current)
    write_parquet(work / paths.SLICES, pd.DataFrame({"id": pd.array(ids, dtype="string"),
                                                     "watch__a": np.arange(n) % 2 == 0,
                                                     "watch__b": np.arange(n) % 3 == 0}))

    def limit():  # the old code asked for 32 GB: fail fast instead of swapping the machine
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(ROOT)], cwd=work, capture_output=True,
                          text=True, preexec_fn=limit, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak_mb = int(proc.stdout.split("peak_kb")[1]) / 1024
    assert peak_mb < 1024, f"peak RSS {peak_mb:.0f} MB"
    out = json.loads((work / paths.COMPARE_METRICS).read_text())
    assert out["status"] == "compared" and out["pairing"]["n_paired"] == n
    assert len(out["global"]["per_class"]) == k and set(out["watchlist"]) == {"a", "b"}


# --------------------------------------------------------------------------- progress


def test_progress_names_each_bootstrap_block():
    import io

    from blindspot.progress import Progress

    current, baseline = _two_models(n=300)
    stream = io.StringIO()
    progress = Progress("compare: paired tests", total=300, min_rows=0, every_s=0.0, stream=stream)
    out = _run(current, baseline, {"b": np.arange(300) < 100, "a": np.arange(300) >= 150}, n_boot=40,
               progress=progress)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("compare: paired tests: global: ") and "of 40 bootstrap replicates (step 1 of 3" in lines[0]
    assert any("watchlist slice a: 40 of 40 bootstrap replicates (step 2 of 3" in line for line in lines)
    assert any("watchlist slice b: 40 of 40 bootstrap replicates (step 3 of 3" in line for line in lines)
    assert out == _run(current, baseline, {"b": np.arange(300) < 100, "a": np.arange(300) >= 150}, n_boot=40)


def test_stage_on_small_data_prints_no_progress(params_for, tmp_path, capsys):
    from blindspot.io.writers import write_parquet
    from blindspot.stages.compare import main

    current, base = _stage_rows(30, 30)
    work = params_for({"compare.baseline.path": _write_baseline(tmp_path, base), "stats.n_boot": 50})
    write_parquet(work / paths.PREDICTIONS, current)
    main(logging.getLogger("test"))
    assert capsys.readouterr().err == ""


def _baseline_records(n: int = 23) -> pd.DataFrame:
    """Baseline rows with flat probabilities and a rejection of each common kind, spread over batches."""
    rng = np.random.default_rng(4)
    classes = np.array(["negative", "neutral", "positive"])
    proba = rng.dirichlet([1, 1, 1], n).round(3)
    proba[:, 2] = (1 - proba[:, 0] - proba[:, 1]).round(3)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": [f"review {i}" for i in range(n)],
                          "label": classes[rng.integers(0, 3, n)], "prediction": classes[proba.argmax(axis=1)],
                          "confidence": proba.max(axis=1), "p_negative": proba[:, 0], "p_neutral": proba[:, 1],
                          "p_positive": proba[:, 2], "site": ["a", "b"] * (n // 2) + ["a"] * (n % 2)})
    frame.loc[2, "text"] = ""  # empty text: rejected
    frame.loc[7, "label"] = "Negative"  # not a configured label: rejected
    frame.loc[13, "id"] = "r5"  # duplicate id across batches of 4: rejected
    return frame


@pytest.mark.parametrize("batch_rows", [1, 4, 1000])
def test_parquet_baseline_read_in_batches_equals_the_whole_file_read(tmp_path, monkeypatch, batch_rows):
    """A Parquet baseline is validated a batch at a time and keeps the compare columns only: the same
    counts and the same clean values as the whole file read by the ingest code, and as JSON Lines."""
    from blindspot.config import BaselineConfig, CompareConfig, ModelConfig
    from blindspot.engine import local
    from blindspot.ingest import ingest_file
    from blindspot.stages.compare import COLUMNS

    monkeypatch.setattr(local, "BATCH_ROWS", batch_rows)
    records = _baseline_records()
    records.to_parquet(tmp_path / "base.parquet", index=False)
    records.to_json(tmp_path / "base.jsonl", orient="records", lines=True)
    model = ModelConfig(probability_prefix="p_", columns=replace(ModelConfig().columns, probabilities=None))
    ingest = IngestConfig()
    read = {}
    for name in ("base.parquet", "base.jsonl"):
        compare = CompareConfig(baseline=BaselineConfig(name="b", path=str(tmp_path / name)))
        read[name] = read_baseline(compare, model, ingest, COLUMNS, ["proba__"])
    whole = ingest_file(replace(model, path=str(tmp_path / "base.parquet"), metadata=[]), ingest, contract_only=True)
    expected = whole.clean[[c for c in whole.clean.columns if c in COLUMNS or c.startswith("proba__")]]
    for got in read.values():
        assert (got.rows_in, got.rows_rejected, got.reason) == (23, 3, "")
        assert list(got.clean.columns) == list(expected.columns)
        pd.testing.assert_frame_equal(got.clean.reset_index(drop=True).astype(object),
                                      expected.reset_index(drop=True).astype(object))


def test_stage_prior_shift_what_if_is_the_same_for_the_current_rows_in_any_order(bundled, params_for, tmp_path):
    """The stage ranks the what-if's folds by the current ids' hashes (made before the ids are dropped): the
    current predictions written in another row order give the same what-if (integers exactly, floats to 1e-12)."""
    import shutil

    from blindspot.io.writers import write_parquet
    from blindspot.stages.compare import main
    from tests.calibration.test_recalibration import assert_same_numbers

    cfg, _, v2 = bundled
    work = params_for({"compare.baseline.path": "data/raw/v1.json", "stats.n_boot": 50})
    (work / "data/raw").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "data/raw/predictions/v1.json", work / "data/raw/v1.json")
    shifts = []
    for frame in (v2, v2.sample(frac=1, random_state=3).reset_index(drop=True)):
        write_parquet(work / paths.PREDICTIONS, frame)
        main(logging.getLogger("test"))
        shifts.append(json.loads((work / paths.COMPARE_METRICS).read_text())["prior_shift"])
    assert shifts[0]["what_if"]["measured"] == 1
    assert_same_numbers(shifts[0]["what_if"], shifts[1]["what_if"])


# --------------------------------------------------------------------------- per-partition counts


def _version_pair(n: int, seed: int):
    """Two versions of n reviews with probabilities: ids shared but for a few, one label mismatch."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)

    def version(flip: float, ids):
        pred = np.where(rng.random(n) < flip, rng.integers(0, 3, n), y)
        p = rng.dirichlet(np.ones(3), n) * 0.5
        p[np.arange(n), pred] += 0.5
        frame = _frame(ids, y, pred, p.max(axis=1))
        for j, c in enumerate(CLASSES):
            frame[f"proba__{c}"] = p[:, j]
        return frame

    current = version(0.2, range(n))
    baseline = version(0.3, [i if i % 17 else f"b{i}" for i in range(n)])
    baseline.loc[5, "y_true"] = (baseline.loc[5, "y_true"] + 1) % 3
    return current, baseline.iloc[rng.permutation(n)].reset_index(drop=True)


@pytest.mark.parametrize("n_parts", [1, 3, 7])
def test_paired_counts_of_id_partitions_add_up_to_the_whole_tables(n_parts):
    """Rows dealt to partitions by id (as engine=dask's shuffle does), each partition counted on its own:
    the sum of the partitions' PairedCounts gives the whole tables' comparison, every float bit the same."""
    from blindspot.compare import compare_counts, paired_counts

    current, baseline = _version_pair(3000, n_parts)
    masks = {"even": np.arange(len(current)) % 2 == 0, "few": np.arange(len(current)) < 40}
    opts = dict(confident_threshold=0.8, n_boot=200, level=0.95, fdr_alpha=0.05, seed=3, min_rows=10)
    whole = compare_predictions(current, baseline, CLASSES, masks, **opts)

    def part(frame, k):
        # By a fixed hash of the id (Python's own str hash changes per process); the baseline-only ids
        # ("b...") get a partition of their own: one with rows of one version only.
        return np.array([n_parts if i.startswith("b") else zlib.crc32(i.encode()) % n_parts
                         for i in frame["id"]]) == k

    parts = []
    for k in range(n_parts + 1):
        mine = part(current, k)
        parts.append(paired_counts(current[mine].reset_index(drop=True), baseline[part(baseline, k)].reset_index(drop=True),
                                   CLASSES, {key: m[mine] for key, m in masks.items()}, confident_threshold=0.8))
    merged = compare_counts(sum(parts[1:], parts[0]), CLASSES, **opts)
    assert json.dumps(merged, sort_keys=True) == json.dumps(whole, sort_keys=True)
    assert whole["pairing"]["label_mismatch"] == 1 and whole["pairing"]["n_paired"] < 3000
    assert whole["global"]["log_loss"]["tested"]


def test_loss_entry_of_exact_sums_matches_numpy_to_the_last_digits():
    """The exact-sum t test against numpy's two-pass mean and standard deviation of the same differences."""
    rng = np.random.default_rng(11)
    base, cur = rng.exponential(0.5, 5000), rng.exponential(0.45, 5000)
    e = paired_loss_entry("log_loss", base, cur, level=0.95)
    d = cur - base
    assert e["delta"]["value"] == pytest.approx(d.mean(), rel=1e-13)
    half = st.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    assert e["delta"]["ci_high"] - e["delta"]["value"] == pytest.approx(half, rel=1e-10)
    assert e["p_value"] == pytest.approx(st.ttest_rel(cur, base).pvalue, rel=1e-9)


def test_loss_differences_whose_spread_is_below_the_smallest_float_are_untestable_not_a_crash():
    """The exact variance is positive but rounds to 0: no test, as when every row moved alike."""
    for base, cur in (([0, 0], [1e-300, np.nextafter(1e-300, 1)]), ([0, 0], [5e-324, 0.0]),
                      ([0, 0, 0], [1e-170, 2e-170, 0])):
        e = paired_loss_entry("brier", base, cur, level=0.95)
        assert e["p_value"] == (1.0 if e["delta"]["value"] == 0 else 0.0)
        assert e["delta"]["ci_low"] == e["delta"]["ci_high"] == e["delta"]["value"]


def test_a_baseline_that_cannot_be_written_for_the_workers_stops_with_one_line(tmp_path, monkeypatch):
    """engine=dask writes the baseline's clean rows beside the predictions: a failed write (here a full
    disk) is the environment's, said as such, never reported as an unreadable baseline (which engine=local
    would read and compare)."""
    import errno

    import blindspot.compare as compare_module
    from blindspot.compare import SpoolError

    def full_disk(path, tables):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(compare_module, "write_parquet_tables", full_disk)
    cfg = load_params(bundled_params_file())
    compare_cfg = replace(cfg.compare, baseline=replace(cfg.compare.baseline, path="data/raw/predictions/v1.json"))
    with pytest.raises(SpoolError, match="cannot write the baseline's clean rows to .*: No space left on device"):
        read_baseline(compare_cfg, cfg.model, cfg.ingest, ("id", "y_true"), out=tmp_path / "spool.parquet")
    assert read_baseline(compare_cfg, cfg.model, cfg.ingest, ("id", "y_true")).rows_clean == 979
