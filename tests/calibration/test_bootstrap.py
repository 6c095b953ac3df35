import numpy as np
import pytest

from blindspot.calibration.binning import bin_edges, reliability_bins
from blindspot.calibration.bootstrap import calibration_replicates, cell_bootstrap, consistency_null, ece_interval
from blindspot.calibration.metrics import ece_from_bins, top_label_brier_rows


def _data(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.34, 1, n)
    correct = rng.random(n) < np.clip(conf - shift, 0, 1)
    return correct, conf


def test_cell_bootstrap_counts_and_exact_sums_for_constant_cells():
    rng = np.random.default_rng(0)
    groups = np.array([0, 0, 1, 1, 1, 5])
    values = {"v": np.array([2.0, 2.0, 3.0, 3.0, 3.0, 7.0])}  # constant within each cell: sums are exact
    codes, counts, sums = cell_bootstrap(groups, values, n_boot=200, rng=rng)
    assert codes.tolist() == [0, 1, 5]
    assert (counts.sum(axis=1) == 6).all()
    np.testing.assert_allclose(sums["v"], counts * np.array([2.0, 3.0, 7.0]))


def test_cells_match_the_exact_row_bootstrap():
    # Same spread as resampling rows with multinomial weights (what the cell bootstrap replaces).
    correct, conf = _data(300, seed=1, shift=0.08)
    ew, em = bin_edges(conf, n_bins=10), bin_edges(conf, n_bins=10, strategy="quantile")
    brier = top_label_brier_rows(correct, conf)
    rng = np.random.default_rng(2)
    reps = calibration_replicates(correct, conf, edges_width=ew, edges_mass=em, extra={"brier": brier},
                                  n_boot=3000, rng=rng)
    weights = rng.multinomial(300, np.full(300, 1 / 300), size=3000)
    exact_ece = np.array([ece_from_bins(reliability_bins(correct, conf, edges=ew, sample_weight=w)) for w in weights])
    exact_brier = weights @ brier / 300
    exact_over = (weights @ (conf - correct)) / 300
    assert reps["ece"].std() == pytest.approx(exact_ece.std(), rel=0.1)
    assert reps["ece"].mean() == pytest.approx(exact_ece.mean(), abs=0.003)
    assert reps["brier"].std() == pytest.approx(exact_brier.std(), rel=0.1)
    assert reps["overconfidence"].std() == pytest.approx(exact_over.std(), rel=0.1)


def test_replicates_reproducible_from_the_seed():
    correct, conf = _data(200, seed=3)
    ew, em = bin_edges(conf), bin_edges(conf, strategy="quantile")
    a = calibration_replicates(correct, conf, edges_width=ew, edges_mass=em, n_boot=50, rng=np.random.default_rng(9))
    b = calibration_replicates(correct, conf, edges_width=ew, edges_mass=em, n_boot=50, rng=np.random.default_rng(9))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_consistency_null_matches_resampling_rows_from_their_confidence():
    correct, conf = _data(400, seed=4)
    bins = reliability_bins(correct, conf, n_bins=10)
    null = consistency_null(bins, n_boot=4000, rng=np.random.default_rng(5))
    rng = np.random.default_rng(6)
    brute = np.array([ece_from_bins(reliability_bins(rng.random(400) < conf, conf, edges=bins.edges))
                      for _ in range(1000)])
    # Binomial per bin is a little wider than the exact Poisson-binomial: conservative, close.
    assert null.mean() == pytest.approx(brute.mean(), rel=0.05)


def test_ece_interval_formula_on_given_replicates():
    reps = np.linspace(0.10, 0.20, 101)  # mean .15, 2.5% .1025, 97.5% .1975
    null = np.linspace(0.0, 0.04, 100)   # estimate .12 is above every null draw: p = 1/101
    iv = ece_interval(0.12, reps, null, level=0.95)
    # basic [.0425, .1375], percentile [.1025, .1975]: the hull
    assert iv["ci_low"] == pytest.approx(2 * 0.12 - 0.1975)
    assert iv["ci_high"] == pytest.approx(0.1975)
    assert iv["debiased"] == pytest.approx(0.09)
    assert iv["p_value"] == pytest.approx(1 / 101)
    assert iv["noise_floor"] == pytest.approx(0.02)


def test_ece_interval_reaches_zero_when_calibration_is_not_rejected():
    reps = np.linspace(0.02, 0.05, 101)
    null = np.linspace(0.0, 0.06, 100)  # estimate .03 is typical under H0
    iv = ece_interval(0.03, reps, null, level=0.95)
    assert iv["p_value"] > 0.05 and iv["ci_low"] == 0.0


def test_calibrated_vs_miscalibrated_end_to_end():
    for shift, calibrated in ((0.0, True), (0.1, False)):
        correct, conf = _data(3000, seed=8, shift=shift)
        bins_w = reliability_bins(correct, conf)
        rng = np.random.default_rng(1)
        reps = calibration_replicates(correct, conf, edges_width=bins_w.edges,
                                      edges_mass=bin_edges(conf, strategy="quantile"), n_boot=500, rng=rng)
        iv = ece_interval(ece_from_bins(bins_w), reps["ece"], consistency_null(bins_w, n_boot=500, rng=rng))
        if calibrated:
            assert iv["ci_low"] == 0.0 and iv["p_value"] > 0.05
        else:
            assert iv["p_value"] < 0.01 and iv["ci_low"] < 0.1 < iv["ci_high"]


def test_empty_replicates_give_nan():
    iv = ece_interval(float("nan"), [], [])
    assert all(np.isnan(v) for v in iv.values())
