"""Confusion matrices and class bars stay legible with many classes, long names and emoji."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from blindspot.io.figures import save_figure
from blindspot.plots.confusion import ConfusionDisplay, plot_class_distribution, plot_confusion_grid

LONG = "very_long_class_name_for_side_effects"
TWELVE = [str(i) for i in range(9)] + ["\U0001F600", "\U0001F641", LONG]


def drawn(fig):
    """Draw with the layout save_figure gives it (tight_layout unless the geometry is fixed)."""
    if not isinstance(fig.get_layout_engine(), PlaceHolderLayoutEngine):
        fig.tight_layout()
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def assert_inside(fig, texts, renderer):
    for t in texts:
        if t.get_text():
            box = t.get_window_extent(renderer)
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1, t.get_text()


def axis_texts(ax):
    return [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label, ax.title]


@pytest.mark.parametrize("classes", [TWELVE, ["negative", "neutral", "positive"], ["0", "1"]])
def test_confusion_text_is_inside_the_figure_and_never_cut(classes):
    k = len(classes)
    d = ConfusionDisplay(np.arange(k * k).reshape(k, k) * 37, classes, title="model v1: confusion matrix").plot()
    r = drawn(d.figure_)
    for ax in d.figure_.axes:
        assert_inside(d.figure_, axis_texts(ax), r)
        ticks = [t.get_window_extent(r) for t in ax.get_xticklabels()]
        assert not any(overlap(a, b) for a, b in zip(ticks, ticks[1:]))  # neighbouring names do not run together
        shown = [t.get_text().replace("\n", "") for t in ax.get_xticklabels()]
        assert LONG in shown if LONG in classes else True
    assert_inside(d.figure_, d.figure_.texts, r)


def test_a_class_without_a_glyph_is_not_an_empty_box():
    d = ConfusionDisplay(np.eye(12, dtype=int), TWELVE).plot()
    names = [t.get_text() for t in d.figure_.axes[0].get_yticklabels()]
    assert "U+1F641" in names and "\U0001F641" not in names
    assert "\U0001F600" in names  # the font has this one: drawn as written


def test_grid_of_twelve_classes_keeps_its_titles_and_ticks_inside():
    panels = [(f"condition__attention_deficit_disorder_with_hyperactivity_{i}", np.eye(12, dtype=int) * 5)
              for i in range(3)]
    fig = plot_confusion_grid(panels, TWELVE, title="model v1: top blind spots, row-normalised confusion")
    r = drawn(fig)
    shown = [ax for ax in fig.axes if ax.get_title()]
    for ax in shown:
        assert_inside(fig, axis_texts(ax), r)
    titles = [ax.title.get_window_extent(r) for ax in shown]
    assert not any(overlap(a, b) for i, a in enumerate(titles) for b in titles[i + 1:])
    assert_inside(fig, fig.texts, r)
    assert "condition__attention_deficit_disorder_with_hyperactivity_0" in shown[0].get_title().replace("\n", "")


def test_grid_without_panels_is_a_small_note(tmp_path):
    fig = plot_confusion_grid([], TWELVE, title="model v1: no significant blind spot")
    assert fig.get_figheight() < 3
    save_figure(fig, tmp_path / "g.png")


@pytest.mark.parametrize("classes", [TWELVE, ["0", "1"]])
def test_class_distribution_legend_covers_no_bar(classes):
    counts = {c: 1500 for c in classes}
    fig = plot_class_distribution(counts, {c: 1510 - 20 * (i % 2) for i, c in enumerate(classes)}, title="model x")
    r = drawn(fig)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(r)
    assert not any(overlap(legend, bar.get_window_extent(r)) for bar in ax.patches)
    values = [t for t in ax.texts]
    assert not any(overlap(legend, t.get_window_extent(r)) for t in values)
    assert not any(overlap(ax.title.get_window_extent(r), t.get_window_extent(r)) for t in values)
    assert_inside(fig, axis_texts(ax), r)
