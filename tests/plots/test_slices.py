"""The gap forest: one direction for "worse", no text cut or drawn over other text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blindspot.io.figures import save_figure
from blindspot.plots.slices import CLASS_PANEL, GapForestDisplay, worse_by

LONG = "condition__attention_deficit_disorder_with_hyperactivity_adult_onset__and__length_medium"


def finding(key, metric, gap, *, higher, significant=False, source="discovered", rank=None):
    return {"key": key, "source": source, "metric": metric, "higher_is_better": higher,
            "gap": {"value": gap, "ci_low": gap - 0.05, "ci_high": gap + 0.05}, "significant": significant, "rank": rank,
            "slice": {"label": key}}


@pytest.fixture
def findings():
    return ([finding("class__negative", "recall", -0.3, higher=True, significant=True, source="class"),
             finding("class__positive", "recall", 0.3, higher=True, source="class")]
            + [finding(f"slice_{i}", "error_rate", 0.01 * i, higher=False) for i in range(12)]
            + [finding(LONG, "error_rate", 0.2, higher=False, significant=True, rank=1),
               finding(LONG, "recall_negative", -0.2, higher=True, significant=True, rank=2),
               finding("jargon_high", "recall_negative", 0.1, higher=True)])


def drawn(findings, tmp_path, title="model v1: slice gaps to the rest, 95% intervals (red: blind spot)"):
    d = GapForestDisplay.from_findings(findings, title=title).plot(
        metric_order=[CLASS_PANEL, "error_rate", "recall_negative"])
    fig = d.figure_
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def points(ax):
    """x of each drawn point, by its y tick label (labels joined back to one line)."""
    labels = {round(t.get_position()[1]): t.get_text().replace("\n", "") for t in ax.get_yticklabels()}
    out = {}
    for line in ax.lines:
        x, y = line.get_xdata(), line.get_ydata()
        if len(x) == 1 and line.get_marker() == "o":
            out[labels[round(float(y[0]))]] = float(x[0])
    return out


def test_worse_points_right_in_every_panel(findings, tmp_path):
    fig, _ = drawn(findings, tmp_path)
    by_title = {ax.get_title().replace("\n", ""): ax for ax in fig.axes}
    cls, err, rec = (by_title[t] for t in ("recall of each class (class vs the other classes)", "error rate",
                                           "recall of class negative"))
    # Negative recall 0.3 below the rest and error rate 0.2 above it: both worse, both right of zero.
    assert points(cls)["class: class__negative"] > 0 > points(cls)["class: class__positive"]
    assert points(err)[LONG] == pytest.approx(0.2)
    assert points(rec)[LONG] == pytest.approx(0.2) and points(rec)["jargon_high"] == pytest.approx(-0.1)
    for ax in fig.axes:
        assert "right = slice worse than the rest" in ax.get_xlabel()
    assert "rest \u2212 slice" in rec.get_xlabel() and "slice \u2212 rest" in err.get_xlabel()


def test_worse_by_swaps_the_interval_of_a_higher_is_better_metric():
    part = pd.DataFrame({"gap": [-0.2, 0.1], "gap_ci_low": [-0.3, 0.05], "gap_ci_high": [-0.1, 0.2],
                         "higher_is_better": [True, False]})
    worse, low, high = worse_by(part)
    np.testing.assert_allclose(worse, [0.2, 0.1])
    np.testing.assert_allclose(low, [0.1, 0.05])
    np.testing.assert_allclose(high, [0.3, 0.2])


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_figure_title_has_its_own_band(findings, tmp_path):
    fig, renderer = drawn(findings, tmp_path)
    title, key = fig.texts
    boxes = [t.get_window_extent(renderer) for t in (title, key)]
    assert not _boxes_overlap(*boxes)
    for box in boxes:
        for ax in fig.axes:
            assert not _boxes_overlap(box, ax.title.get_window_extent(renderer))
            assert not _boxes_overlap(box, ax.get_window_extent(renderer))
        assert box.y1 <= fig.bbox.y1 and box.x0 >= 0 and box.x1 <= fig.bbox.x1


def visible_x_ticks(ax):
    """The x tick labels drawn (matplotlib also lists ticks just outside the view limits)."""
    low, high = sorted(ax.get_xlim())
    return [t for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]


def test_long_labels_wrap_but_are_never_cut(findings, tmp_path):
    fig, renderer = drawn(findings, tmp_path, title="model " + "x" * 200)
    shown = []
    texts = [t for ax in fig.axes for t in [*ax.get_yticklabels(), *visible_x_ticks(ax), ax.title, ax.xaxis.label]]
    for t in texts + list(fig.texts):
        if not t.get_text():
            continue
        box = t.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1 and box.y0 >= 0 and box.y1 <= fig.bbox.y1, t.get_text()
        shown.append(t.get_text().replace("\n", ""))
    assert LONG in shown and "model " + "x" * 200 in shown
    # Panel titles do not run into each other or into the axes of a neighbouring panel.
    titles = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for i, a in enumerate(titles):
        for j, ax in enumerate(fig.axes):
            if i != j:
                assert not _boxes_overlap(a, titles[j])
                assert not _boxes_overlap(a, ax.get_window_extent(renderer))
    # Tick labels of one panel stay out of the panel to their left.
    for ax in fig.axes:
        for t in ax.get_yticklabels():
            for other in fig.axes:
                if other is not ax:
                    assert not _boxes_overlap(t.get_window_extent(renderer), other.get_window_extent(renderer))


def test_class_without_a_glyph_is_written_as_its_code_point(tmp_path):
    rows = [finding(k, "recall", g, higher=True, source="class") for k, g in (("\U0001F641", -0.1), ("a", 0.1))]
    rows[0]["slice"]["label"] = "\U0001F641"
    fig, _ = drawn(rows, tmp_path)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "class: U+1F641" in labels


def test_saving_keeps_the_checked_geometry(findings, tmp_path):
    fig, _ = drawn(findings, tmp_path)
    before = [ax.get_position().bounds for ax in fig.axes]
    save_figure(fig, tmp_path / "forest.png")  # no tight_layout pass moves what the tests above checked
    assert [ax.get_position().bounds for ax in fig.axes] == before


def test_x_tick_labels_of_a_narrow_range_do_not_touch(tmp_path):
    # Gaps from -0.05 to 0.15 gave ticks every 0.025: "-0.050-0.025 0.000" ran together.
    rows = [finding(f"s{i}", "recall_positive", g, higher=True) for i, g in enumerate((-0.0095, -0.1005, -0.02))]
    fig, renderer = drawn(rows, tmp_path)
    ax, = fig.axes
    boxes = [t.get_window_extent(renderer) for t in visible_x_ticks(ax)]
    assert len(boxes) >= 3
    assert all(a.x1 + 2 < b.x0 for a, b in zip(boxes, boxes[1:]))


def test_class_mix_findings_are_drawn_apart_from_blind_spots_of_their_own(tmp_path):
    from matplotlib.colors import to_hex

    from blindspot.plots import PALETTE

    rows = [finding("own", "error_rate", 0.2, higher=False, significant=True, rank=1),
            finding("mix", "error_rate", 0.15, higher=False, significant=True),
            finding("quiet", "error_rate", 0.01, higher=False)]
    rows[0]["evidence"], rows[1]["evidence"], rows[1]["class_mix_rank"] = "within_class", "class_mix", 1
    fig, _ = drawn(rows, tmp_path)
    ax, = fig.axes
    colour = {}
    labels = {round(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels()}
    for line in ax.lines:
        if line.get_marker() == "o":
            colour[labels[round(float(line.get_ydata()[0]))]] = to_hex(line.get_color())
    assert colour == {"own": PALETTE["bad"], "mix": PALETTE["mix"], "quiet": PALETTE["muted"]}
    assert [t.get_text() for t in ax.get_yticklabels()] == ["quiet", "mix", "own"]  # own blind spot on top
    assert "orange: worse only through its class mix" in fig.texts[1].get_text()
