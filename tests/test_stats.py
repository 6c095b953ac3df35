import numpy as np
import pytest
from scipy import stats as st

from blindspot.stats import average_ranks, bh_qvalues, percentile_interval, resample_counts, wilson_interval


@pytest.mark.parametrize("k,n", [(0, 10), (3, 10), (10, 10), (57, 979), (1, 1)])
def test_wilson_matches_scipy(k, n):
    low, high = wilson_interval(k, n, 0.95)
    ref = st.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-12)
    assert high == pytest.approx(ref.high, abs=1e-12)


def test_wilson_vectorised_and_empty():
    low, high = wilson_interval([0, 5], [0, 10])
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert 0 < low[1] < 0.5 < high[1] < 1


def test_resample_counts_keeps_total_and_means():
    rng = np.random.default_rng(0)
    cm = np.array([[50, 10], [5, 35]])
    reps = resample_counts(cm, 4000, rng)
    assert reps.shape == (4000, 2, 2)
    assert (reps.sum(axis=(1, 2)) == cm.sum()).all()
    np.testing.assert_allclose(reps.mean(axis=0), cm, rtol=0.03)


def test_resample_counts_matches_row_bootstrap_spread():
    # The multinomial on cells is the row bootstrap: compare accuracy spread to a brute-force one.
    rng = np.random.default_rng(1)
    correct = np.r_[np.ones(70), np.zeros(30)]
    brute = np.array([rng.choice(correct, 100).mean() for _ in range(4000)])
    reps = resample_counts([70, 30], 4000, rng)
    assert reps[:, 0].mean() / 100 == pytest.approx(brute.mean(), abs=0.01)
    assert (reps[:, 0] / 100).std() == pytest.approx(brute.std(), rel=0.1)


def test_percentile_interval():
    low, high = percentile_interval(np.arange(1001), 0.9)
    assert low == pytest.approx(50) and high == pytest.approx(950)


def test_bh_qvalues_against_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan])
    q = bh_qvalues(p)
    # sorted p: .01 .03 .04 .5 (m=4); q = min over j>=i of p_j*m/j
    q_04 = 0.04 * 4 / 3
    expected = [min(0.01 * 4 / 1, 0.03 * 4 / 2, q_04), q_04, min(0.03 * 4 / 2, q_04), 0.5]
    np.testing.assert_allclose(q[:4], expected)
    assert np.isnan(q[4])


@pytest.mark.parametrize("seed", range(5))
def test_bh_qvalues_match_scipy(seed):
    rng = np.random.default_rng(seed)
    # Ties, exact zeros and ones, and a spread of magnitudes: the cases an ordering bug would show.
    p = np.concatenate([rng.uniform(size=200), rng.uniform(size=20) ** 8, [0.0, 1.0, 0.02, 0.02, 0.02]])
    rng.shuffle(p)
    np.testing.assert_allclose(bh_qvalues(p), st.false_discovery_control(p, method="bh"), rtol=1e-12, atol=0)


def test_bh_qvalues_empty_and_all_nan():
    assert bh_qvalues([]).shape == (0,)
    assert np.isnan(bh_qvalues([np.nan, np.nan])).all()


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_wilson_matches_scipy_at_other_levels(level):
    low, high = wilson_interval(12, 40, level)
    ref = st.binomtest(12, 40).proportion_ci(confidence_level=level, method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-12)
    assert high == pytest.approx(ref.high, abs=1e-12)


@pytest.mark.parametrize("values", [
    [3.0, 1.0, 2.0],
    [0.5, 0.5, 0.5, 0.5],
    [0.2, 0.9, 0.2, 0.7, 0.9, 0.9, 0.1],
    np.round(np.random.default_rng(0).uniform(size=500), 2),  # many ties
    [],
])
def test_average_ranks_match_scipy_rankdata(values):
    np.testing.assert_array_equal(average_ranks(values), st.rankdata(values))


@pytest.mark.parametrize("values", [
    np.random.default_rng(0).random(1000),
    np.round(np.random.default_rng(1).random(5000), 2),  # many ties
    np.array([0.5, np.nan, 0.2, np.nan, 0.5, 1.0]),  # NaNs tie with each other, as in np.unique
    np.array([]),
    np.array([0.3]),
    np.array([2, 0, 2, 1]),
])
def test_average_ranks_equal_the_unique_counts_formula_to_the_last_bit(values):
    """The one-sort ranks are the mean-rank formula over np.unique's groups, float for float."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    expected = (ends - (counts - 1) / 2.0)[inverse.ravel()]
    got = average_ranks(values)
    assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
