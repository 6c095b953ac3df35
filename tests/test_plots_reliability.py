import hashlib

import numpy as np
import pytest

from blindspot.calibration.binning import reliability_bins
from blindspot.calibration.metrics import expected_calibration_error
from blindspot.plots import save_figure
from blindspot.plots.reliability import ConfidenceHistogramDisplay, ReliabilityDisplay, reliability_grid


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.34, 1, 400)
    return rng.random(400) < conf - 0.1, conf


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_display_draws_the_bins_behind_the_metric(data, strategy):
    correct, conf = data
    d = ReliabilityDisplay.from_predictions(correct, conf, n_bins=10, strategy=strategy, name="x")
    bins = reliability_bins(correct, conf, n_bins=10, strategy=strategy)
    assert d.ece == pytest.approx(expected_calibration_error(correct, conf, strategy=strategy))
    line = d.ax_.lines[1]  # [0] is the diagonal
    np.testing.assert_allclose(line.get_xdata(), bins.mean_confidence[bins.nonempty])
    np.testing.assert_allclose(line.get_ydata(), bins.accuracy[bins.nonempty])
    bars = [p.get_height() for p in d.counts_ax_.patches]
    np.testing.assert_allclose(bars, bins.count)
    assert d.ax_.get_title() == "x"


def test_from_bins_returns_self_and_overlay_mode(data):
    correct, conf = data
    bins = reliability_bins(correct, conf)
    d = ReliabilityDisplay(bins)
    assert d.plot(show_counts=False, show_intervals=False, annotate=False) is d
    assert not hasattr(d, "counts_ax_")


def test_confidence_histogram_counts(data):
    correct, conf = data
    h = ConfidenceHistogramDisplay.from_predictions(correct, conf, bins=10, thresholds=[0.9])
    assert h.count_correct.sum() == correct.sum() and h.count_incorrect.sum() == (~correct).sum()
    assert any("≥ 0.9: " in t.get_text() for t in h.ax_.texts)


def test_grid_with_no_panels_explains(tmp_path):
    fig = reliability_grid([], empty_message="nothing here")
    assert any(t.get_text() == "nothing here" for t in fig.axes[0].texts)
    save_figure(fig, tmp_path / "e.png")


def test_png_bytes_are_reproducible(data, tmp_path):
    correct, conf = data
    digests = []
    for i in range(2):
        fig = reliability_grid([("a", reliability_bins(correct, conf))])
        digests.append(hashlib.sha256(save_figure(fig, tmp_path / f"{i}.png").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_bins_with_accuracy_zero_or_one_draw():
    # Wilson bounds at p = 0 or 1 can land a rounding error inside the point: no negative error bar.
    conf = np.r_[np.full(37, 0.93), np.full(29, 0.45)]
    correct = np.r_[np.ones(37, bool), np.zeros(29, bool)]
    ReliabilityDisplay.from_predictions(correct, conf)
