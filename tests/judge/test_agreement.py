"""Kappa with intervals, and the confident-learning cross-check, against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, confusion_matrix

from blindspot.judge.agreement import agreement_score, confident_learning_suspects, kappa_from_confusion


def test_kappa_hand_computed():
    # 2x2 table [[20, 5], [10, 15]]: p_o = 0.7, p_e = (25*30 + 25*20) / 50**2 = 0.5, kappa = 0.4
    assert kappa_from_confusion([[20, 5], [10, 15]]) == pytest.approx(0.4)


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=60))
def test_kappa_from_confusion_matches_sklearn(pairs):
    a, b = np.array(pairs).T
    cm = confusion_matrix(a, b, labels=[0, 1, 2])
    ours = kappa_from_confusion(cm)
    if np.isnan(ours):
        assert len(set(a)) == len(set(b)) == 1 and set(a) == set(b)
    else:
        assert ours == pytest.approx(cohen_kappa_score(a, b, labels=[0, 1, 2]), abs=1e-12)


def test_kappa_vectorised_over_leading_axes():
    tables = np.array([[[20, 5], [10, 15]], [[0, 0], [0, 0]], [[7, 0], [0, 0]]])
    out = kappa_from_confusion(tables)
    assert out[0] == pytest.approx(0.4) and np.isnan(out[1]) and np.isnan(out[2])


def test_agreement_score_point_interval_and_rate():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 200)
    b = np.where(rng.random(200) < 0.7, a, rng.integers(0, 3, 200))
    out = agreement_score(a, b, n_classes=3, n_boot=500, level=0.95, rng=np.random.default_rng(1))
    kappa, rate = out["kappa"], out["agreement_rate"]
    assert out["n"] == 200 and kappa.value == pytest.approx(cohen_kappa_score(a, b))
    assert kappa.ci_low < kappa.value < kappa.ci_high and kappa.method == "bootstrap_percentile_of_counts"
    assert rate.value == pytest.approx((a == b).mean())
    assert rate.ci_low < rate.value < rate.ci_high and rate.method == "wilson"
    again = agreement_score(a, b, n_classes=3, n_boot=500, level=0.95, rng=np.random.default_rng(1))
    assert again == out


def test_agreement_score_empty_is_nan_with_n_zero():
    out = agreement_score([], [], n_classes=3, n_boot=50, level=0.95, rng=np.random.default_rng(0))
    assert out["n"] == 0 and np.isnan(out["kappa"].value) and np.isnan(out["kappa"].ci_low)
    assert np.isnan(out["agreement_rate"].value)


def test_confident_learning_hand_example():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.9, 0.1], [0.3, 0.7], [0.2, 0.8], [0.6, 0.4]])
    # t_0 = mean(0.9, 0.3) = 0.6 ; t_1 = mean(0.8, 0.4) = 0.6
    suspect, t = confident_learning_suspects(y, p)
    assert t == pytest.approx([0.6, 0.6])
    # row 1: p_0 = 0.3 < 0.6 and p_1 = 0.7 >= 0.6 -> suspect; row 3: p_1 = 0.4 < 0.6 and p_0 = 0.6 >= 0.6 -> suspect
    assert suspect.tolist() == [False, True, False, True]


def test_confident_learning_brute_force_oracle():
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(3), size=300)
    y = rng.integers(0, 3, 300)
    suspect, t = confident_learning_suspects(y, p)
    for i in range(300):
        others = [j for j in range(3) if j != y[i] and p[i, j] >= np.mean(p[y == j, j])]
        assert suspect[i] == (p[i, y[i]] < np.mean(p[y == y[i], y[i]]) and bool(others))


def test_confident_learning_class_without_rows_flags_nothing_for_it():
    y = np.array([0, 0])
    p = np.array([[0.2, 0.8], [0.9, 0.1]])
    suspect, t = confident_learning_suspects(y, p)
    assert np.isnan(t[1]) and not suspect.any()


def test_confident_learning_shape_error():
    with pytest.raises(ValueError, match=r"proba must have shape \(n, K\) with n = len\(y_true\) = 2"):
        confident_learning_suspects([0, 1], np.zeros((3, 2)))
