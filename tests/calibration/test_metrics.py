import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss

from blindspot.calibration.binning import reliability_bins
from blindspot.calibration.metrics import (
    binary_proba_from_confidence,
    brier_rows,
    classwise_calibration_error,
    ece_from_bins,
    expected_calibration_error,
    log_loss_rows,
    maximum_calibration_error,
    mce_from_bins,
    multiclass_brier_loss,
    overconfidence,
    prediction_margin,
    top_label_brier_loss,
)


def ece_oracle(correct, conf, edges):
    """Independent ECE: a plain loop over bins with boolean masks."""
    correct, conf = np.asarray(correct, float), np.asarray(conf, float)
    total, worst = 0.0, 0.0
    for b in range(len(edges) - 1):
        lo, hi = edges[b], edges[b + 1]
        mask = (conf > lo) & (conf <= hi) if b > 0 else (conf >= lo) & (conf <= hi)
        if mask.sum():
            gap = abs(conf[mask].mean() - correct[mask].mean())
            total += mask.sum() / len(conf) * gap
            worst = max(worst, gap)
    return total, worst


def test_hand_checked_ece_and_mce():
    # bin (0, .5]: conf .2,.4 (mean .3), 1 of 2 right (.5): gap .2
    # bin (.5, 1]: conf .6,.8,1.0 (mean .8), 3 of 3 right: gap .2
    conf = [0.2, 0.4, 0.6, 0.8, 1.0]
    correct = [1, 0, 1, 1, 1]
    assert expected_calibration_error(correct, conf, n_bins=2) == pytest.approx(2 / 5 * 0.2 + 3 / 5 * 0.2)
    assert maximum_calibration_error(correct, conf, n_bins=2) == pytest.approx(0.2)


def test_second_hand_case_with_unequal_gaps():
    conf = [0.9, 0.9, 0.9, 0.9, 0.3]
    correct = [1, 0, 0, 1, 1]  # high bin: .9 vs .5 (gap .4, 4 rows); low bin: .3 vs 1 (gap .7, 1 row)
    assert expected_calibration_error(correct, conf, n_bins=2) == pytest.approx(0.8 * 0.4 + 0.2 * 0.7)
    assert maximum_calibration_error(correct, conf, n_bins=2) == pytest.approx(0.7)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_ece_mce_match_independent_loop(seed, strategy):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.3, 1, 400), 2)
    correct = rng.random(400) < conf ** 2
    bins = reliability_bins(correct, conf, n_bins=10, strategy=strategy)
    ece, mce = ece_oracle(correct, conf, bins.edges)
    assert ece_from_bins(bins) == pytest.approx(ece, abs=1e-12)
    assert mce_from_bins(bins) == pytest.approx(mce, abs=1e-12)


def test_perfectly_calibrated_data_has_ece_near_zero():
    rng = np.random.default_rng(7)
    n = 50_000
    conf = rng.uniform(1 / 3, 1, n)
    correct = rng.random(n) < conf
    ece = expected_calibration_error(correct, conf, n_bins=10)
    # Sampling error alone: sum_b (n_b/n) * E|N(0, acc_b(1-acc_b)/n_b)| ~ 0.0025 here.
    noise = sum(m / n * np.sqrt(2 * p * (1 - p) / (np.pi * m)) for m, p in [(n / 7, 0.6)] * 7)
    assert ece < 3 * noise
    # and a 0.1 shift of every confidence shows up as ECE ~ 0.1
    assert expected_calibration_error(correct, np.clip(conf - 0.1, 0, 1), n_bins=10) == pytest.approx(0.1, abs=0.01)


def test_metrics_invariant_to_row_order(make_synthetic):
    y, p = make_synthetic(300, seed=1, sharpness=1.5)
    conf, correct = p.max(1), p.argmax(1) == y
    perm = np.random.default_rng(0).permutation(300)
    for strategy in ("uniform", "quantile"):
        assert expected_calibration_error(correct, conf, strategy=strategy) == pytest.approx(
            expected_calibration_error(correct[perm], conf[perm], strategy=strategy), abs=1e-12)
    assert multiclass_brier_loss(y, p) == pytest.approx(multiclass_brier_loss(y[perm], p[perm]), abs=1e-12)
    assert classwise_calibration_error(y, p) == pytest.approx(classwise_calibration_error(y[perm], p[perm]), abs=1e-12)


def test_multiclass_brier_against_direct_numpy(make_synthetic):
    y, p = make_synthetic(200, seed=2)
    direct = np.mean([sum((p[i, k] - (y[i] == k)) ** 2 for k in range(3)) for i in range(200)])
    assert multiclass_brier_loss(y, p) == pytest.approx(direct, abs=1e-12)
    assert 0 <= multiclass_brier_loss(y, p) <= 2
    # the worst case: all mass on a wrong class scores 2
    assert multiclass_brier_loss([0], [[0.0, 1.0, 0.0]]) == 2.0


def test_binary_brier_is_twice_sklearn_and_top_label_is_sklearn():
    rng = np.random.default_rng(3)
    p1 = rng.uniform(0, 1, 300)
    y = (rng.random(300) < p1).astype(int)
    proba = np.column_stack([1 - p1, p1])
    assert multiclass_brier_loss(y, proba) == pytest.approx(2 * brier_score_loss(y, p1), abs=1e-12)
    conf, correct = proba.max(1), proba.argmax(1) == y
    assert top_label_brier_loss(correct, conf) == pytest.approx(brier_score_loss(correct, conf), abs=1e-12)


def test_multiclass_brier_matches_sklearn_unscaled(make_synthetic):
    # scikit-learn >= 1.7 computes the multiclass Brier score without halving: the same definition.
    y, p = make_synthetic(250, seed=5)
    assert multiclass_brier_loss(y, p) == pytest.approx(brier_score_loss(y, p, labels=[0, 1, 2]), abs=1e-12)


def test_log_loss_matches_sklearn(make_synthetic):
    y, p = make_synthetic(250, seed=6, sharpness=3)
    assert log_loss_rows(y, p).mean() == pytest.approx(log_loss(y, p, labels=[0, 1, 2]), rel=1e-12)
    # a zero probability for the true class is clipped, not infinite
    assert np.isfinite(log_loss_rows([0], [[0.0, 1.0]])).all()


def test_classwise_ece_hand_checked():
    # class 1 probabilities .8, .8 vs truth 1, 0: one bin, gap .3; class 0 probabilities .2, .2 vs 0, 1: gap .3
    y = [1, 0]
    p = [[0.2, 0.8], [0.2, 0.8]]
    assert classwise_calibration_error(y, p, n_bins=10) == pytest.approx(0.3)


def test_overconfidence_sign():
    assert overconfidence([1, 0], [0.9, 0.9]) == pytest.approx(0.4)
    assert overconfidence([1, 1], [0.6, 0.6]) == pytest.approx(-0.4)
    assert np.isnan(overconfidence([], []))


def test_margin_and_binary_reconstruction():
    np.testing.assert_allclose(prediction_margin([[0.5, 0.3, 0.2], [0.4, 0.4, 0.2]]), [0.2, 0.0])
    p = binary_proba_from_confidence([1, 0], [0.7, 0.9])
    np.testing.assert_allclose(p, [[0.3, 0.7], [0.9, 0.1]])


def test_brier_rows_row_values():
    np.testing.assert_allclose(brier_rows([0, 2], [[1, 0, 0], [0.5, 0.5, 0]]), [0.0, 0.25 + 0.25 + 1])


@pytest.mark.parametrize(
    "y,p,message",
    [
        ([0, 1], [0.5, 0.5], "proba must be a 2-D array (n_rows, n_classes). Got shape (2,) instead."),
        ([0], [[0.5, 0.5], [0.5, 0.5]], "y_true must have shape (2,) to match proba. Got (1,) instead."),
        ([0, 3], [[0.5, 0.5], [0.5, 0.5]], "y_true must hold class indices in [0, 1]. Got values from 0 to 3 instead."),
    ],
)
def test_proba_error_messages(y, p, message):
    with pytest.raises(ValueError) as err:
        multiclass_brier_loss(y, p)
    assert message in str(err.value)


def test_margin_needs_two_classes():
    with pytest.raises(ValueError, match="a margin needs at least two classes. Got 1."):
        prediction_margin([[1.0]])


def test_confidence_auroc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    from blindspot.calibration.summary import confidence_auroc

    rng = np.random.default_rng(4)
    conf = np.round(rng.uniform(0.3, 1, 300), 2)  # many ties
    correct = rng.random(300) < conf
    assert confidence_auroc(correct, conf) == pytest.approx(roc_auc_score(correct, conf), abs=1e-12)
    assert np.isnan(confidence_auroc([True, True], [0.5, 0.6]))
