"""Per-slice pictures: a forest plot of gaps with intervals, confusion matrices of top blind spots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.ticker import MaxNLocator

from blindspot.plots import PALETTE, plain_text, pyplot, text_width, wrap_label
from blindspot.plots.confusion import plot_confusion_grid

__all__ = ["CLASS_PANEL", "GapForestDisplay", "layout_forest", "plain_text", "plot_confusion_grid", "worse_by"]

CLASS_PANEL = "recall (class vs other classes)"


class GapForestDisplay:
    """Gap of each slice's metric to the rest of the data, with its interval, one panel per metric.

    Parameters
    ----------
    table : DataFrame
        One row per (slice, metric): ``label``, ``metric``, ``higher_is_better``,
        ``gap``, ``gap_ci_low``, ``gap_ci_high``, ``significant``, optionally ``evidence``
        (``"class_mix"``: significant only through the slice's class mix, drawn apart).
    title : str, optional
    """

    def __init__(self, table: pd.DataFrame, title: str | None = None):
        self.table = table.reset_index(drop=True)
        self.title = title
        self.figure_ = None

    @classmethod
    def from_findings(cls, findings: Sequence[dict], *, max_rows: int = 18, title: str | None = None):
        """Build from ``reports/findings.json`` rows: per metric, blind spots of their own first
        (by rank), then slices worse only through their class mix (by ``class_mix_rank``),
        then the rest by key, at most ``max_rows`` per metric."""
        rows = []
        for f in findings:
            label = f["key"] if f["source"] != "class" else f"class: {f['slice']['label']}"
            metric = f["metric"] if f["source"] != "class" else CLASS_PANEL
            rows.append({"label": label, "metric": metric, "higher_is_better": f["higher_is_better"],
                         "gap": f["gap"]["value"], "gap_ci_low": f["gap"]["ci_low"], "gap_ci_high": f["gap"]["ci_high"],
                         "significant": f["significant"], "evidence": f.get("evidence"),
                         "order": (0 if f["significant"] else 1, int(f.get("evidence") == CLASS_MIX),
                                   f.get("rank") or f.get("class_mix_rank") or 0, f["key"])})
        table = pd.DataFrame(rows, columns=["label", "metric", "higher_is_better", "gap", "gap_ci_low",
                                            "gap_ci_high", "significant", "evidence", "order"])
        if len(table):
            table = (table.sort_values("order", kind="mergesort").groupby("metric", sort=False).head(max_rows)
                     .drop(columns="order"))
        return cls(table, title)

    def plot(self, *, ncols: int = 2, metric_order: Sequence[str] = ()) -> "GapForestDisplay":
        """Draw on a figure of its own; returns self (the figure is ``self.figure_``).

        No ``ax``: the panels' geometry is computed from the labels they hold, so the
        display lays out the whole figure itself.

        Every panel plots how much worse the slice is than the rest (:func:`worse_by`), so
        "worse" is to the right in every panel, whichever way its metric points. The
        geometry is computed from the measured width of the labels (:func:`layout_forest`):
        long labels wrap, never cut, and the figure title has its own band above the panels.

        Parameters
        ----------
        ncols : int
            Panels per row.
        metric_order : sequence of str
            Panels in this order first (e.g. class panel, ``error_rate``, recalls in
            class order), then any other metric in order of appearance.
        """
        present = list(dict.fromkeys(self.table["metric"]))
        metrics = [m for m in metric_order if m in present] + [m for m in present if m not in metric_order]
        metrics = metrics or ["(no findings)"]
        parts = [self.table[self.table["metric"] == m].iloc[::-1] for m in metrics]
        title = self.title or "slice gaps with 95% intervals (red: significant blind spot after FDR)"
        layout = layout_forest([[str(v) for v in part["label"]] for part in parts], [panel_title(m) for m in metrics],
                               title, ncols=ncols)
        fig = pyplot().figure(figsize=layout.size)
        fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
        fig.text(0.5, 1 - FOREST_PAD / layout.size[1], layout.title, ha="center", va="top", fontsize=TITLE_SIZE)
        fig.text(0.5, 1 - (layout.key_top) / layout.size[1], layout.key, ha="center", va="top", fontsize=KEY_SIZE,
                 color=PALETTE["neutral"])
        for rect, labels, heading, part in zip(layout.rects, layout.labels, layout.titles, parts):
            ax = fig.add_axes(rect)
            ax.set_title(heading, fontsize=PANEL_TITLE_SIZE)
            ax.spines[["top", "right"]].set_visible(False)
            if part.empty:
                ax.text(0.5, 0.5, "nothing tested", ha="center", va="center", transform=ax.transAxes)
                ax.set_yticks([])
                continue
            y = np.arange(len(part))
            worse, low, high = worse_by(part)
            colours = point_colours(part, worse)
            err_low = np.nan_to_num(np.clip(worse - low, 0, None))
            err_high = np.nan_to_num(np.clip(high - worse, 0, None))
            for yi, g, lo, hi, c in zip(y, worse, err_low, err_high, colours):  # one call per slice row
                ax.errorbar(g, yi, xerr=[[lo], [hi]], fmt="o", color=c, ecolor=c, capsize=2, markersize=4)
            ax.axvline(0, color=PALETTE["neutral"], linewidth=0.8)
            ax.set_ylim(-0.6, len(part) - 0.4)
            ax.set_yticks(y, labels, fontsize=LABEL_SIZE)
            ax.set_xlabel(WORSE_LABEL.get(bool(part["higher_is_better"].iloc[0])), fontsize=8)
            ax.tick_params(axis="x", labelsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))  # 0.025 steps would touch
        self.figure_ = fig
        return self


CLASS_PANEL_TITLE = "recall of each class (class vs the other classes)"
PANEL_TITLE = {CLASS_PANEL: CLASS_PANEL_TITLE, "error_rate": "error rate"}


def panel_title(metric: str) -> str:
    """A panel's title in words: ``recall_negative`` -> "recall of class negative"."""
    if metric in PANEL_TITLE:
        return PANEL_TITLE[metric]
    if metric.startswith("recall_"):
        return f"recall of class {metric[len('recall_'):]}"
    return metric.replace("_", " ")


# What the x axis shows: the slice's shortfall, positive = worse, in the metric's own points.
WORSE_LABEL = {True: "rest \u2212 slice: right = slice worse than the rest",
               False: "slice \u2212 rest: right = slice worse than the rest"}
LABEL_SIZE, PANEL_TITLE_SIZE, TITLE_SIZE, KEY_SIZE = 7.5, 10, 11, 8
CLASS_MIX = "class_mix"  # a finding's ``evidence`` when it is worse only through its class mix
KEY = ("red: significantly worse (a blind spot of its own, or a weak class)   orange: worse only through its class "
       "mix   grey: not significant; bars: 95% intervals")
FOREST_PAD = 0.12          # inches around the figure title and at the right and bottom edges
AXES_WIDTH = 3.3           # inches of plotting width per panel
ROW_PITCH = 0.13           # inches per label line
MAX_LABEL_WIDTH = 2.6      # inches: longer labels wrap


def point_colours(part: pd.DataFrame, worse: np.ndarray) -> np.ndarray:
    """Red: a significant shortfall (a blind spot of its own, or a weak class); orange: significant
    only through the slice's class mix (it holds more of the weak classes); grey: the rest."""
    sig = part["significant"].to_numpy(bool) & (worse > 0)
    mix = np.asarray(part["evidence"] == CLASS_MIX) if "evidence" in part else np.zeros(len(part), bool)
    return np.where(sig & mix, PALETTE["mix"], np.where(sig, PALETTE["bad"], PALETTE["muted"]))


def worse_by(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How much worse each slice is than the rest, with its interval: positive is worse.

    ``gap`` is slice minus rest. For a metric where higher is better (recall) a
    shortfall is a negative gap, so it is negated (and the interval bounds swap); an
    error rate's gap is kept. One direction for every panel.

    Returns
    -------
    worse, low, high : ndarray of float, shape (n,)
    """
    sign = np.where(part["higher_is_better"].to_numpy(bool), -1.0, 1.0)
    gap, lo, hi = (part[c].to_numpy(float) for c in ("gap", "gap_ci_low", "gap_ci_high"))
    return sign * gap, np.where(sign > 0, lo, -hi), np.where(sign > 0, hi, -lo)


@dataclass
class ForestLayout:
    """Geometry of a forest figure, in figure fractions, computed before anything is drawn.

    Attributes
    ----------
    size : (float, float)
        Figure width and height, inches.
    rects : list of (left, bottom, width, height)
        One axes rectangle per panel.
    labels : list of list of str
        Each panel's y tick labels, wrapped.
    titles : list of str
        Panel titles, wrapped.
    title : str
        Figure title, wrapped to the figure width.
    key, key_top : str, float
        The colour key under the title, wrapped, and its top (inches from the figure top).
    """

    size: tuple
    rects: list
    labels: list
    titles: list
    title: str
    key: str = ""
    key_top: float = 0.0


def layout_forest(labels: Sequence[Sequence[str]], titles: Sequence[str], title: str, *, ncols: int = 2) -> ForestLayout:
    """Lay out panels of labelled rows so that no text is cut or drawn over other text.

    Each column gets a label margin as wide as its widest (wrapped) label; each row of
    panels is as tall as its longest panel, counted in label lines; panel titles and
    the figure title wrap to their width and get bands of their own. Text widths come
    from the font's metrics (:func:`blindspot.plots.text_width`), so the figure is laid
    out once, with no measuring draw at save time.

    Parameters
    ----------
    labels : sequence of sequence of str, one per panel (bottom to top)
    titles : sequence of str, one per panel
    title : str
    ncols : int

    Returns
    -------
    ForestLayout
    """
    n = max(len(labels), 1)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    wrapped = [[wrap_label(plain_text(v), MAX_LABEL_WIDTH, LABEL_SIZE) for v in panel] for panel in labels]
    title_width = AXES_WIDTH + 0.8
    panel_titles = [wrap_label(plain_text(t), title_width, PANEL_TITLE_SIZE) for t in titles]
    label_w = [max([text_width(v, LABEL_SIZE) for i, p in enumerate(wrapped) if i % ncols == c for v in p] or [0])
               for c in range(ncols)]
    col_left = [w + 0.2 for w in label_w]      # labels plus the tick marks
    col_w = [left + AXES_WIDTH + 0.35 for left in col_left]  # right: half an x tick label
    width = sum(col_w) + FOREST_PAD
    fig_title = wrap_label(plain_text(title), width - 2 * FOREST_PAD, TITLE_SIZE)
    key = KEY if text_width(KEY, KEY_SIZE) <= width - 2 * FOREST_PAD else "\n".join(
        wrap_label(part, width - 2 * FOREST_PAD, KEY_SIZE) for part in KEY.split("   "))  # one entry a line
    key_top = FOREST_PAD + 0.21 * (fig_title.count("\n") + 1) + 0.04
    top = key_top + 0.155 * (key.count("\n") + 1) + 0.12
    row_h, row_title = [], []
    for r in range(nrows):
        members = range(r * ncols, min((r + 1) * ncols, len(labels)))
        lines = [sum(v.count("\n") + 1 for v in wrapped[i]) + len(wrapped[i]) * 0.8 for i in members] or [2]
        row_h.append(max(0.55, ROW_PITCH * max(lines)))
        row_title.append(0.08 + 0.19 * max([panel_titles[i].count("\n") + 1 for i in members] or [1]))
    below = 0.52                               # x tick labels and the axis label
    height = top + sum(h + t + below for h, t in zip(row_h, row_title)) + FOREST_PAD
    rects, y = [], height - top
    for r in range(nrows):
        y -= row_title[r] + row_h[r]
        x = 0.0
        for c in range(ncols):
            if r * ncols + c < len(labels):
                rects.append(((x + col_left[c]) / width, y / height, AXES_WIDTH / width, row_h[r] / height))
            x += col_w[c]
        y -= below
    return ForestLayout((width, height), rects, wrapped, panel_titles, fig_title, key, key_top)
