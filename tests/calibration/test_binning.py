import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from blindspot.calibration.binning import assign_bins, bin_edges, reliability_bins


def test_hand_checked_uniform_bins():
    # Bins of width 0.5: (0, 0.5] and (0.5, 1]; 0.5 itself is in the first (right-closed).
    conf = [0.2, 0.5, 0.6, 0.9]
    correct = [0, 1, 1, 0]
    b = reliability_bins(correct, conf, n_bins=2)
    np.testing.assert_array_equal(b.edges, [0, 0.5, 1])
    np.testing.assert_array_equal(b.count, [2, 2])
    np.testing.assert_allclose(b.sum_confidence, [0.7, 1.5])
    np.testing.assert_array_equal(b.sum_correct, [1, 1])
    np.testing.assert_allclose(b.mean_confidence, [0.35, 0.75])
    np.testing.assert_allclose(b.accuracy, [0.5, 0.5])
    np.testing.assert_allclose(b.gap, [-0.15, 0.25])


def test_empty_bins_are_kept_with_nan_means():
    b = reliability_bins([1, 1], [0.95, 0.97], n_bins=10)
    assert b.n_bins == 10 and b.count[9] == 2 and b.count[:9].sum() == 0
    assert np.isnan(b.accuracy[0]) and b.accuracy[9] == 1
    assert [r["bin"] for r in b.table()] == list(range(10))


def test_edges_and_zero_go_to_the_expected_bins():
    assert assign_bins([0.0, 0.1, 0.1000001, 1.0], bin_edges(None, n_bins=10)).tolist() == [0, 0, 1, 9]


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_calibration_curve(strategy, seed):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.34, 1, 500), 2)  # rounding puts rows exactly on bin edges
    correct = rng.random(500) < conf
    b = reliability_bins(correct, conf, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(b.accuracy[b.nonempty], prob_true, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.mean_confidence[b.nonempty], prob_pred, rtol=0, atol=1e-12)


def test_quantile_bins_have_equal_mass_without_ties():
    conf = np.linspace(0.4, 0.99, 1000)
    b = reliability_bins(np.ones(1000, bool), conf, n_bins=10, strategy="quantile")
    assert b.count.tolist() == [100] * 10


def test_quantile_bins_keep_ties_together():
    conf = np.r_[np.full(60, 0.9), np.linspace(0.4, 0.8, 40)]
    b = reliability_bins(np.ones(100, bool), conf, n_bins=10, strategy="quantile")
    assert b.count.sum() == 100
    # all 60 rows at 0.9 share one bin
    assert b.count.max() == 60


def test_weights_equal_duplicated_rows():
    conf = np.array([0.3, 0.55, 0.8, 0.95])
    correct = np.array([0, 1, 0, 1])
    w = np.array([1, 2, 3, 1])
    weighted = reliability_bins(correct, conf, n_bins=5, sample_weight=w)
    dup = reliability_bins(np.repeat(correct, w), np.repeat(conf, w), n_bins=5)
    np.testing.assert_allclose(weighted.count, dup.count)
    np.testing.assert_allclose(weighted.sum_confidence, dup.sum_confidence)
    np.testing.assert_allclose(weighted.sum_correct, dup.sum_correct)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=60), st.randoms(use_true_random=False),
       st.sampled_from(["uniform", "quantile"]))
def test_invariant_to_row_order(rows, rnd, strategy):
    conf = np.array([r[0] for r in rows])
    correct = np.array([r[1] for r in rows])
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    a = reliability_bins(correct, conf, n_bins=7, strategy=strategy)
    b = reliability_bins(correct[perm], conf[perm], n_bins=7, strategy=strategy)
    np.testing.assert_array_equal(a.edges, b.edges)
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_allclose(a.sum_confidence, b.sum_confidence, atol=1e-12)
    np.testing.assert_array_equal(a.sum_correct, b.sum_correct)


def test_no_rows():
    b = reliability_bins([], [], n_bins=4)
    assert b.n == 0 and b.count.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    "correct,confidence,kwargs,message",
    [
        ([1, 0], [0.5], {}, "must have the same length. Got 2 and 1 instead."),
        ([1], [1.2], {}, "must lie in [0, 1]. Got values from 1.2 to 1.2 instead."),
        ([1], [np.nan], {}, "non-finite"),
        ([2], [0.5], {}, "correct must hold 0/1 or booleans. Got values [2] instead."),
        ([1], [[0.5]], {}, "must be one-dimensional. Got shape (1, 1) instead."),
        ([1], [0.5], {"strategy": "kmeans"}, "strategy must be one of ('uniform', 'quantile'). Got 'kmeans' instead."),
        ([1], [0.5], {"n_bins": 0}, "n_bins must be a positive integer. Got 0 instead."),
    ],
)
def test_error_messages(correct, confidence, kwargs, message):
    with pytest.raises(ValueError) as err:
        reliability_bins(correct, confidence, **kwargs)
    assert message in str(err.value)
