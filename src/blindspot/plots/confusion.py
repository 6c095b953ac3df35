"""Confusion matrices: counts and row-normalised (recall on the diagonal) side by side."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from blindspot.metrics import confusion_counts
from blindspot.plots import fixed_subplots, plain_text, pyplot, text_width, wrap_label

MAX_ANNOTATED = 20      # classes: above this the cells are too small to hold their numbers
TICK_WIDTH = 1.4        # inches: a longer class name wraps onto more lines


def class_ticks(classes: Sequence[str], size: float) -> list[str]:
    """Class names as tick labels: drawn as written (code point for a missing glyph), wrapped, never cut."""
    return [wrap_label(plain_text(c), TICK_WIDTH, size) for c in classes]


def matrix_style(k: int) -> dict:
    """Sizes of a K x K matrix panel that keep every number and name legible.

    Returns
    -------
    dict with ``cell`` (inches per cell), ``font`` (cell text, points), ``tick`` (tick
    labels, points), ``rotation`` (x tick labels, degrees) and ``annotate`` (bool).
    """
    small = k > 6
    return {"cell": 0.42 if small else 0.8, "font": 6.5 if small else 9, "tick": 7 if small else 9,
            "rotation": 90 if small else 30, "annotate": k <= MAX_ANNOTATED}


def class_style(classes: Sequence[str]) -> dict:
    """:func:`matrix_style` for these names: upright x tick labels when every name fits its column."""
    style = matrix_style(len(classes))
    if all(text_width(t, style["tick"]) < 0.85 * style["cell"] for t in class_ticks(classes, style["tick"])):
        style["rotation"] = 0
    return style


def x_tick_style(style: dict) -> dict:
    """Rotated x tick labels anchored at their end, so a wrapped (multi-line) name stays under its column."""
    if style["rotation"] == 90:
        return {"rotation": 90, "ha": "right", "va": "center", "rotation_mode": "anchor"}
    return {"rotation": style["rotation"], "ha": "right" if style["rotation"] else "center"}


def matrix_margins(classes: Sequence[str], style: dict, *, min_side: float) -> tuple[float, float, float]:
    """Side of a matrix panel and the room its tick labels take, inches, measured from the font.

    Returns
    -------
    side : float
        Width and height of the (square) axes.
    left : float
        Width of the widest y tick label.
    below : float
        Height of the x tick labels (rotated names: their width).
    """
    ticks = class_ticks(classes, style["tick"])
    label = max([text_width(t, style["tick"]) for t in ticks] or [0])
    lines = max([t.count("\n") + 1 for t in ticks] or [1])
    side = max(len(classes) * style["cell"], min_side)
    rotation = style["rotation"]
    below = label if rotation == 90 else 0.5 * label + 0.16 * lines if rotation else 0.16 * lines  # sin 30 = 0.5
    return side, label, below + 0.1


def row_normalise(cm) -> np.ndarray:
    """Each row divided by its total (NaN for an empty row): row i, column j is P(pred j | true i)."""
    cm = np.asarray(cm, dtype=float)
    totals = cm.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, cm / totals, np.nan)


class ConfusionDisplay:
    """Counts and row-normalised confusion matrix of one set of predictions.

    Parameters
    ----------
    counts : ndarray of int, shape (K, K)
        Rows = true class, columns = predicted class.
    classes : sequence of str, length K
    title : str, optional
    """

    def __init__(self, counts, classes: Sequence[str], title: str | None = None):
        self.counts = np.asarray(counts, dtype=np.int64)
        self.classes = list(classes)
        self.title = title
        self.normalised = row_normalise(self.counts)
        self.figure_ = None

    @classmethod
    def from_predictions(cls, y_true, y_pred, classes: Sequence[str], title: str | None = None) -> "ConfusionDisplay":
        """Compute the matrix from integer class codes (see :func:`confusion_counts`); draw with :meth:`plot`."""
        return cls(confusion_counts(y_true, y_pred, len(classes)), classes, title)

    def plot(self, ax=None, *, cmap: str = "Blues") -> "ConfusionDisplay":
        """Draw counts (left) and row shares (right) on two axes; returns self.

        Parameters
        ----------
        ax : pair of matplotlib Axes, optional
            New figure when omitted.

        Returns
        -------
        self, with ``figure_`` and ``ax_`` (the pair of axes) set.
        """
        k = len(self.classes)
        style = class_style(self.classes)
        if ax is None:  # geometry from the measured tick labels: laid out once, nothing cut
            side, left, below = matrix_margins(self.classes, style, min_side=2.6)
            fig, axes = fixed_subplots(1, 2, axes_size=(side, side), left=left + 0.55, right=0.25, bottom=below + 0.5,
                                       top=0.75 if self.title else 0.4, wgap=left + 0.75, hgap=0)
            axes = axes[0]
        else:
            axes = ax
            fig = axes[0].figure
        ticks = class_ticks(self.classes, style["tick"])
        panels = ((self.counts, "counts", lambda v: f"{int(v):,}"),
                  (self.normalised, "share of true class (row-normalised)", lambda v: f"{v:.0%}"))
        for ax, (matrix, label, fmt) in zip(axes, panels):
            shown = np.nan_to_num(np.asarray(matrix, dtype=float))
            top = shown.max() if shown.size and shown.max() > 0 else 1.0
            ax.imshow(shown, cmap=cmap, vmin=0, vmax=top)
            for i in range(k if style["annotate"] else 0):  # a K x K loop over cells, not rows
                for j in range(k):
                    value = matrix[i, j]
                    text = "n/a" if not np.isfinite(value) else fmt(value)
                    ax.text(j, i, text, ha="center", va="center", fontsize=style["font"],
                            color="white" if shown[i, j] > 0.6 * top else "black")
            ax.set_xticks(range(k), ticks, fontsize=style["tick"], **x_tick_style(style))
            ax.set_yticks(range(k), ticks, fontsize=style["tick"])
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(label, fontsize=10)
        if self.title:
            fig.suptitle(plain_text(self.title), fontsize=11, y=1 - 0.12 / fig.get_figheight(), va="top")
        self.figure_, self.ax_ = fig, axes
        return self


def plot_confusion_grid(panels, classes: Sequence[str], *, ncols: int = 2, title: str | None = None):
    """Row-normalised confusion matrices of several subsets in one figure.

    Parameters
    ----------
    panels : sequence of (str, ndarray of shape (K, K))
        Panel title and counts for each subset.
    classes : sequence of str

    Returns
    -------
    matplotlib Figure
    """
    n = max(len(panels), 1)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    k = len(classes)
    style = class_style(classes)
    style = {**style, "tick": min(8, style["tick"])}
    if panels:  # geometry from the measured tick labels and wrapped titles: laid out once, nothing cut
        side, left, below = matrix_margins(classes, style, min_side=2.4)
        names = [f"{wrap_label(plain_text(name), side + 0.6, 9)}\n(n = {int(np.asarray(c).sum()):,})"
                 for name, c in panels]
        title_h = 0.12 + 0.16 * max(t.count("\n") + 1 for t in names)
        width = left + 0.5 + ncols * side + (ncols - 1) * (left + 0.7) + 0.3
        if title:
            title = wrap_label(plain_text(title), width - 0.3, 11)
        sup_h = 0.25 + 0.2 * (title.count("\n") + 1) if title else 0.1
        fig, axes = fixed_subplots(nrows, ncols, axes_size=(side, side), left=left + 0.5, right=0.3,
                                   bottom=below + 0.45, top=title_h + sup_h, wgap=left + 0.7,
                                   hgap=below + 0.5 + title_h)
    else:  # a one-line note
        fig, axes = pyplot().subplots(1, 1, figsize=(6.0, 1.6), squeeze=False)
        names = []
    ticks = class_ticks(classes, style["tick"])
    font = style["font"] - 1 if k > 6 else 8  # two lines a cell
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    if not panels:
        axes[0, 0].text(0.5, 0.5, "no slice to show", ha="center", va="center")
    for ax, name, (_, counts) in zip(axes.ravel(), names, panels):
        counts = np.asarray(counts)
        share = row_normalise(counts)
        ax.imshow(np.nan_to_num(share), cmap="Blues", vmin=0, vmax=1)
        for i in range(k if style["annotate"] else 0):
            for j in range(k):
                text = "n/a" if not np.isfinite(share[i, j]) else f"{share[i, j]:.0%}\n({counts[i, j]})"
                ax.text(j, i, text, ha="center", va="center", fontsize=font,
                        color="white" if np.nan_to_num(share[i, j]) > 0.6 else "black")
        ax.set_xticks(range(k), ticks, fontsize=style["tick"], **x_tick_style(style))
        ax.set_yticks(range(k), ticks, fontsize=style["tick"])
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title if panels else plain_text(title), fontsize=11, y=1 - 0.12 / fig.get_figheight(), va="top")
    return fig


def plot_class_distribution(label_counts: dict, prediction_counts: dict, *, title: str | None = None):
    """Bars of how often each class is the true label and the prediction.

    Parameters
    ----------
    label_counts, prediction_counts : dict of str to int
        Class -> rows, in the same class order.

    Returns
    -------
    matplotlib Figure
    """
    from blindspot.plots import PALETTE

    classes = list(label_counts)
    x = np.arange(len(classes))
    style = class_style(classes)
    fig, ax = pyplot().subplots(figsize=(max(5.6, 0.6 * len(classes) + 1.4), 3.4 + (1.0 if style["rotation"] == 90 else 0)))
    labels = [label_counts[c] for c in classes]
    preds = [prediction_counts[c] for c in classes]
    ax.bar(x - 0.2, labels, width=0.4, label="true label", color=PALETTE["neutral"])
    ax.bar(x + 0.2, preds, width=0.4, label="prediction", color=PALETTE["accent"])
    many = len(classes) > 6  # counts stand upright above narrow bars so neighbours do not run together
    for xi, (a, b) in enumerate(zip(labels, preds)):
        for dx, v in ((-0.2, a), (0.2, b)):
            ax.text(xi + dx, v, f" {v:,}" if many else f"{v:,}", ha="center", va="bottom", fontsize=7 if many else 8,
                    rotation=90 if many else 0)
    ax.set_ylim(0, max(labels + preds + [1]) * (1.3 if many else 1.15))  # room for the counts above the bars
    ax.set_xticks(x, class_ticks(classes, style["tick"]), rotation=style["rotation"], fontsize=style["tick"] + 1)
    ax.set_ylabel("rows")
    # Above the plotting area, under the title: never on top of a bar.
    ax.legend(frameon=False, fontsize=8, ncols=2, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(plain_text(title or "class distribution: labels vs predictions"), fontsize=10, pad=22)
    return fig
