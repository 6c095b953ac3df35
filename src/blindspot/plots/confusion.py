"""Confusion matrices: counts and row-normalised (recall on the diagonal) side by side."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from blindspot.metrics import confusion_counts


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
        """Compute the matrix from integer class codes (see :func:`confusion_counts`)."""
        return cls(confusion_counts(y_true, y_pred, len(classes)), classes, title)

    def plot(self, axes=None, *, cmap: str = "Blues") -> "ConfusionDisplay":
        """Draw counts (left) and row shares (right) on two axes; returns self.

        Parameters
        ----------
        axes : pair of matplotlib Axes, optional
            New figure when omitted.
        """
        if axes is None:
            fig, axes = plt.subplots(1, 2, figsize=(9.2, 3.9))
        else:
            fig = axes[0].figure
        k = len(self.classes)
        panels = ((self.counts, "counts", lambda v: f"{int(v):,}"),
                  (self.normalised, "share of true class (row-normalised)", lambda v: f"{v:.0%}"))
        for ax, (matrix, label, fmt) in zip(axes, panels):
            shown = np.nan_to_num(np.asarray(matrix, dtype=float))
            top = shown.max() if shown.size and shown.max() > 0 else 1.0
            ax.imshow(shown, cmap=cmap, vmin=0, vmax=top)
            for i in range(k):  # a K x K loop over cells, not rows
                for j in range(k):
                    value = matrix[i, j]
                    text = "n/a" if not np.isfinite(value) else fmt(value)
                    ax.text(j, i, text, ha="center", va="center", fontsize=9,
                            color="white" if shown[i, j] > 0.6 * top else "black")
            ax.set_xticks(range(k), self.classes, rotation=30, ha="right")
            ax.set_yticks(range(k), self.classes)
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
            ax.set_title(label, fontsize=10)
        if self.title:
            fig.suptitle(self.title, fontsize=11)
        self.figure_ = fig
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
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 3.9 * nrows), squeeze=False)
    k = len(classes)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    if not panels:
        axes[0, 0].text(0.5, 0.5, "no slice to show", ha="center", va="center")
    for ax, (name, counts) in zip(axes.ravel(), panels):
        counts = np.asarray(counts)
        share = row_normalise(counts)
        ax.imshow(np.nan_to_num(share), cmap="Blues", vmin=0, vmax=1)
        for i in range(k):
            for j in range(k):
                text = "n/a" if not np.isfinite(share[i, j]) else f"{share[i, j]:.0%}\n({counts[i, j]})"
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if np.nan_to_num(share[i, j]) > 0.6 else "black")
        ax.set_xticks(range(k), classes, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(k), classes, fontsize=8)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true", fontsize=8)
        ax.set_title(f"{name}\n(n = {int(counts.sum()):,})", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=11)
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
    fig, ax = plt.subplots(figsize=(5.6, 3.4))
    labels = [label_counts[c] for c in classes]
    preds = [prediction_counts[c] for c in classes]
    ax.bar(x - 0.2, labels, width=0.4, label="true label", color=PALETTE["neutral"])
    ax.bar(x + 0.2, preds, width=0.4, label="prediction", color=PALETTE["accent"])
    for xi, (a, b) in enumerate(zip(labels, preds)):
        ax.text(xi - 0.2, a, f"{a:,}", ha="center", va="bottom", fontsize=8)
        ax.text(xi + 0.2, b, f"{b:,}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, classes)
    ax.set_ylabel("rows")
    ax.legend(frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or "class distribution: labels vs predictions", fontsize=10)
    return fig
