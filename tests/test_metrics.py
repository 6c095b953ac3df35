"""Global metrics: confusion-matrix formulas against scikit-learn, bootstrap shape and seeding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from blindspot import metrics as bm


def test_confusion_counts_hand_checked():
    cm = bm.confusion_counts([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_confusion_counts_errors_echo_input():
    with pytest.raises(ValueError, match="differ in shape: \\(2,\\) vs \\(3,\\)"):
        bm.confusion_counts([0, 1], [0, 1, 1], 2)
    with pytest.raises(ValueError, match="y_pred holds codes outside \\[0, 2\\): got min 0, max 2"):
        bm.confusion_counts([0, 1], [0, 2], 2)


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 4).flatmap(lambda k: st.tuples(
    st.just(k), st.lists(st.tuples(st.integers(0, k - 1), st.integers(0, k - 1)), min_size=1, max_size=60))))
def test_confusion_formulas_equal_sklearn(data):
    # Oracle: every metric computed from the confusion matrix equals scikit-learn on the rows.
    k, pairs = data
    y_true, y_pred = np.array(pairs).T
    ours = bm.metrics_from_confusion(bm.confusion_counts(y_true, y_pred, k))
    ref = bm.point_metrics(y_true, y_pred, k)
    for name in bm.GLOBAL_METRICS + bm.PER_CLASS_METRICS + ("support",):
        np.testing.assert_allclose(ours[name], ref[name], atol=1e-12, err_msg=name, equal_nan=True)


def test_point_metrics_match_named_sklearn_calls():
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    y_pred = np.array([0, 2, 2, 2, 2, 2, 2, 2, 0, 2])
    got = bm.point_metrics(y_true, y_pred, 3)
    assert got["accuracy"] == pytest.approx(0.5)
    assert got["recall"].tolist() == pytest.approx([1 / 3, 0.0, 0.8])
    assert got["mcc"] == pytest.approx(skm.matthews_corrcoef(y_true, y_pred))
    assert got["balanced_accuracy"] == pytest.approx((1 / 3 + 0 + 0.8) / 3)


def test_metrics_vectorise_over_a_stack_of_tables():
    tables = np.array([[[5, 1], [2, 2]], [[3, 3], [0, 4]]])
    stacked = bm.metrics_from_confusion(tables)
    for i in range(2):
        single = bm.metrics_from_confusion(tables[i])
        for name, values in stacked.items():
            np.testing.assert_allclose(values[i], single[name])


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 500)
    y_pred = np.where(rng.random(500) < 0.7, y_true, rng.integers(0, 3, 500))
    cm = bm.confusion_counts(y_true, y_pred, 3)
    a = bm.bootstrap_metrics(cm, n_boot=300, level=0.95, rng=np.random.default_rng(1))
    b = bm.bootstrap_metrics(cm, n_boot=300, level=0.95, rng=np.random.default_rng(1))
    point = bm.metrics_from_confusion(cm)
    for name in bm.GLOBAL_METRICS:
        assert a[name] == b[name]
        assert a[name][0] < point[name] < a[name][1]
    assert a["recall"][0].shape == (3,)


def test_bootstrap_rejects_no_replicates():
    with pytest.raises(ValueError, match="got 0"):
        bm.bootstrap_metrics(np.eye(2, dtype=int), n_boot=0, level=0.95, rng=np.random.default_rng(0))


def test_classification_report_baseline_and_wilson_for_empty_class():
    y_true = np.array([2] * 8 + [0, 1])
    y_pred = np.array([2] * 8 + [2, 2])
    rep = bm.classification_report(y_true, y_pred, ["neg", "neu", "pos"], n_boot=200, level=0.95,
                                   rng=np.random.default_rng(0))
    assert rep["majority_class"] == "pos" and rep["majority_baseline_accuracy"] == pytest.approx(0.8)
    assert rep["accuracy_over_baseline"]["value"] == pytest.approx(0.0)
    neu = rep["per_class"]["neu"]
    # 0 of 1 recalled: Wilson interval is not degenerate; nothing predicted: precision interval undefined.
    assert neu["recall"]["value"] == 0 and neu["recall"]["ci_high"] > 0.5
    assert np.isnan(neu["precision"]["ci_low"]) and neu["predicted"] == 0
    assert rep["confusion_matrix"]["neg"] == {"neg": 0, "neu": 0, "pos": 1}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=80), st.integers(0, 80), st.integers(0, 99))
def test_report_from_summed_batch_confusions_is_the_report_of_the_rows(pairs, cut, seed):
    import json

    y_true = np.array([t for t, _ in pairs], dtype=np.int64)
    y_pred = np.array([p for _, p in pairs], dtype=np.int64)
    classes = ["a", "b", "c", "d"]  # often one with no rows: NaN Wilson bounds, compared through their repr
    summed = bm.confusion_counts(y_true[:cut], y_pred[:cut], 4) + bm.confusion_counts(y_true[cut:], y_pred[cut:], 4)
    got = bm.classification_report_from_confusion(summed, classes, n_boot=30, level=0.9,
                                                  rng=np.random.default_rng(seed))
    want = bm.classification_report(y_true, y_pred, classes, n_boot=30, level=0.9, rng=np.random.default_rng(seed))
    assert json.dumps(got) == json.dumps(want)  # same keys in the same order, floats by their exact repr


def test_report_from_confusion_refuses_a_matrix_of_other_classes():
    with pytest.raises(ValueError, match=r"cm must have shape \(3, 3\).*Got \(2, 2\)"):
        bm.classification_report_from_confusion(np.eye(2, dtype=int), ["a", "b", "c"], n_boot=10, level=0.9,
                                                rng=np.random.default_rng(0))
