import hashlib
from types import SimpleNamespace

import numpy as np
import pytest

from blindspot.calibration.binning import reliability_bins
from blindspot.calibration.metrics import expected_calibration_error
from blindspot.io.figures import replace_plot_directory, save_figure
from blindspot.plots.reliability import (
    CLASSWISE_AXES,
    FIGURES,
    ConfidenceHistogramDisplay,
    ReliabilityDisplay,
    calibration_figures,
    recalibration_figure,
    reliability_data,
    reliability_grid,
)


def save_calibration_plots(audit, directory):
    """What the calibrate stage does with an audit's figures and data files."""
    return replace_plot_directory(directory, calibration_figures(audit), data=reliability_data(audit))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.34, 1, 400)
    return rng.random(400) < conf - 0.1, conf


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_display_draws_the_bins_behind_the_metric(data, strategy):
    correct, conf = data
    d = ReliabilityDisplay.from_predictions(correct, conf, n_bins=10, strategy=strategy, name="x").plot()
    bins = reliability_bins(correct, conf, n_bins=10, strategy=strategy)
    assert d.ece == pytest.approx(expected_calibration_error(correct, conf, strategy=strategy))
    line = d.ax_.lines[1]  # [0] is the diagonal
    np.testing.assert_allclose(line.get_xdata(), bins.mean_confidence[bins.nonempty])
    np.testing.assert_allclose(line.get_ydata(), bins.accuracy[bins.nonempty])
    bars = [p.get_height() for p in d.counts_ax_.patches]
    np.testing.assert_allclose(bars, bins.count)
    assert d.ax_.get_title() == "x"


def test_plot_returns_self_and_overlay_mode(data):
    correct, conf = data
    bins = reliability_bins(correct, conf)
    d = ReliabilityDisplay(bins)
    assert d.plot(show_counts=False, show_intervals=False, annotate=False) is d
    assert not hasattr(d, "counts_ax_")


def test_confidence_histogram_counts(data):
    correct, conf = data
    h = ConfidenceHistogramDisplay.from_predictions(correct, conf, bins=10, thresholds=[0.9]).plot()
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
    # Wilson bounds at p = 0 or 1 can land a rounding error inside the point: this once raised
    # (a negative error bar). The bars must start at the point and stay inside [0, 1].
    conf = np.r_[np.full(37, 0.93), np.full(29, 0.45)]
    correct = np.r_[np.ones(37, bool), np.zeros(29, bool)]
    d = ReliabilityDisplay.from_predictions(correct, conf).plot()
    points, _, (bars,) = d.ax_.containers[0]
    np.testing.assert_allclose(points.get_xdata(), [0.45, 0.93])
    np.testing.assert_array_equal(points.get_ydata(), [0.0, 1.0])
    (low0, high0), (low1, high1) = (segment[:, 1] for segment in bars.get_segments())
    assert low0 == 0.0 and 0.05 < high0 < 1.0  # 0 of 29 right: the bar reaches up from the point, not below 0
    assert high1 == 1.0 and 0.0 < low1 < 0.95  # 37 of 37 right: it reaches down from the point, not above 1


def fake_audit(correct, conf, *, classes=("negative", "positive"), slice_key="s", recal=None):
    """What save_calibration_plots reads from a CalibrationAudit, from one set of predictions."""
    bins = reliability_bins(correct, conf)
    summary = SimpleNamespace(bins=bins, bins_equal_mass=reliability_bins(correct, conf, strategy="quantile"),
                              classwise=[bins for _ in classes],
                              metrics={"n": len(conf), "ece": {"value": 0.1, "ci_low": 0.01, "ci_high": 0.2},
                                       "ece_p_value": 0.01})
    return SimpleNamespace(overall=summary, classes=list(classes), worst_slices=[slice_key],
                           slices={slice_key: summary}, recalibration_bins=recal or {"none": bins},
                           histogram=histogram_of(correct, conf))


def histogram_of(correct, conf) -> dict:
    """A CalibrationAudit's ``histogram`` of some rows."""
    h = ConfidenceHistogramDisplay.from_predictions(correct, conf, thresholds=(0.9,))
    return {"edges": h.edges, "correct": h.count_correct, "incorrect": h.count_incorrect, "wrong_at": h.wrong_at}


def test_classwise_axes_say_what_they_show(data):
    correct, conf = data
    fig = reliability_grid([("Class 'a'", reliability_bins(correct, conf))], axis_labels=CLASSWISE_AXES)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "share of bin truly in the class" and "accuracy" not in ax.get_ylabel()
    assert ax.get_xlabel() == "mean predicted p(class) in bin"


def test_classwise_figure_uses_the_class_share_label(data, tmp_path, monkeypatch):
    correct, conf = data
    seen = []
    real = reliability_grid

    def spy(panels, **kwargs):
        fig = real(panels, **kwargs)
        seen.append([ax.get_ylabel() for ax in fig.axes if ax.get_title()])
        return fig

    monkeypatch.setattr("blindspot.plots.reliability.reliability_grid", spy)
    save_calibration_plots(fake_audit(correct, conf), tmp_path)
    classwise = seen[1]
    assert classwise == ["share of bin truly in the class"] * 2


def tiny_bins_audit():
    # As the cross-fitted isotonic what-if can give: 3 rows mapped to confidence 0, 1 row alone
    # at accuracy 0 next to full bins, an empty bin in between.
    conf = np.r_[np.zeros(3), 0.39, np.full(60, 0.55), np.full(80, 0.85)]
    correct = np.r_[[1, 1, 0], 0, np.arange(60) < 30, np.arange(80) < 70].astype(bool)
    return reliability_bins(correct, conf)


def test_recalibration_line_joins_only_bins_with_rows(data):
    correct, conf = data
    fig = recalibration_figure({"none": reliability_bins(correct, conf), "isotonic": tiny_bins_audit()})
    ax = fig.axes[0]
    iso = next(line for line in ax.lines if line.get_label().startswith("isotonic"))
    x, y = np.asarray(iso.get_xdata(), float), np.asarray(iso.get_ydata(), float)
    finite = np.isfinite(x)
    # Only the 60- and 80-row bins are on the line; the 3-row bin at 0 and the lone row are not.
    np.testing.assert_allclose(x[finite], [0.55, 0.85])
    assert np.isnan(x[:5]).all()  # nothing drawn from the small bins to the first full one
    lo, hi = ax.get_xlim()
    assert 0 <= lo and hi <= 1 and ax.get_ylim()[0] >= 0
    # The small bins are still shown, as hollow markers.
    hollow = [c for c in ax.collections if len(c.get_offsets()) and not len(c.get_facecolor())]
    offsets = np.vstack([c.get_offsets() for c in hollow])
    assert {(round(a, 2), round(b, 2)) for a, b in offsets} == {(0.0, 0.67), (0.39, 0.0)}


def test_reliability_line_breaks_at_an_empty_bin():
    conf = np.r_[np.full(20, 0.05), np.full(20, 0.45)]
    d = ReliabilityDisplay.from_predictions(np.arange(40) % 2 == 0, conf, n_bins=10).plot()
    curve = d.ax_.lines[-1]
    x = np.asarray(curve.get_xdata(), float)
    assert np.isfinite(x).sum() == 2 and not np.isfinite(x[1:4]).any()  # no segment from 0.05 to 0.45


def test_long_slice_titles_wrap_inside_their_panel(data):
    correct, conf = data
    key = "condition__attention_deficit_disorder_with_hyperactivity_adult_onset__and__length_medium"
    fig = reliability_grid([(f"Slice {key} (n=500)\nECE 95% CI [0.1, 0.2], p = 0.001", reliability_bins(correct, conf)),
                            ("Slice b (n=20)", reliability_bins(correct, conf))], suptitle="x " * 80)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    a, b = (ax.title.get_window_extent(r) for ax in fig.axes if ax.get_title())
    assert a.x1 < b.x0  # the long title does not run into its neighbour
    assert key in fig.axes[0].get_title().replace("\n", "")
    sup = fig.texts[0].get_window_extent(r)
    assert sup.y0 > max(a.y1, b.y1) and 0 <= sup.x0 and sup.x1 <= fig.bbox.x1


def test_dvc_reliability_plot_draws_the_diagonal(data, tmp_path):
    # The project's DVC template (.dvc/plots/reliability.json) draws y = x from 0 to 1 as its own layer;
    # the records still carry it per bin for any other tool that reads them.
    import json

    import yaml

    from _paths import ROOT
    correct, conf = data
    save_calibration_plots(fake_audit(correct, conf), tmp_path)
    records = json.loads((tmp_path / "reliability_equal_width.json").read_text())
    assert records and all(r["perfect_calibration"] == r["mean_confidence"] for r in records)
    plots = {next(iter(p)): next(iter(p.values())) for p in yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]
             if isinstance(p, dict)}
    for name in ("calibration_reliability_equal_width", "calibration_reliability_equal_mass"):
        y, = plots[name]["y"].values()
        assert y == "accuracy" and plots[name]["template"] == "reliability"
        assert "perfect calibration" in plots[name]["title"]
    template = json.loads((ROOT / ".dvc" / "plots" / "reliability.json").read_text())
    diagonal = [layer["data"]["values"] for layer in template["layer"] if isinstance(layer["data"]["values"], list)]
    assert diagonal == [[{"confidence": 0, "accuracy": 0}, {"confidence": 1, "accuracy": 1}]]
    watch = plots["slice_gaps_watchlist"]
    assert watch["x"] == "worse_by" and "right = worse" in watch["title"]


def test_threshold_labels_near_the_right_edge_stay_inside(data):
    correct, conf = data
    h = ConfidenceHistogramDisplay.from_predictions(correct, conf, thresholds=[0.7, 0.95, 0.99]).plot()
    fig = h.figure_
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    frame = h.ax_.get_window_extent(r)
    for t in h.ax_.texts:
        box = t.get_window_extent(r)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, t.get_text()


def test_stage_helper_leaves_exactly_one_run_in_the_directory(data, tmp_path):
    correct, conf = data
    (tmp_path / "renamed_last_run.png").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("not a plot file")
    written = save_calibration_plots(fake_audit(correct, conf), tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([*FIGURES, "reliability_equal_mass.json", "reliability_equal_width.json", "keep.txt"])
    assert [p.name for p in written][2:] == list(FIGURES)  # data files first, figures in order
