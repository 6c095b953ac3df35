"""Per-slice pictures: a forest plot of gaps with intervals, confusion matrices of top blind spots."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from blindspot.plots import PALETTE
from blindspot.plots.confusion import plot_confusion_grid

__all__ = ["CLASS_PANEL", "GapForestDisplay", "plain_text", "plot_confusion_grid"]

CLASS_PANEL = "recall (class vs other classes)"


def plain_text(text) -> str:
    """``text`` drawn as written: matplotlib reads ``$...$`` as math (a class named ``$\\frac{`` stops
    the figure), so every dollar sign is escaped."""
    return str(text).replace("$", r"\$")


class GapForestDisplay:
    """Gap of each slice's metric to the rest of the data, with its interval, one panel per metric.

    Parameters
    ----------
    table : DataFrame
        One row per (slice, metric): ``label``, ``metric``, ``higher_is_better``,
        ``gap``, ``gap_ci_low``, ``gap_ci_high``, ``significant``.
    title : str, optional
    """

    def __init__(self, table: pd.DataFrame, title: str | None = None):
        self.table = table.reset_index(drop=True)
        self.title = title
        self.figure_ = None

    @classmethod
    def from_findings(cls, findings: Sequence[dict], *, max_rows: int = 18, title: str | None = None):
        """Build from ``reports/findings.json`` rows: per metric, significant findings first
        (by rank), then the rest by key, at most ``max_rows`` per metric."""
        rows = []
        for f in findings:
            label = f["key"] if f["source"] != "class" else f"class: {f['slice']['label']}"
            metric = f["metric"] if f["source"] != "class" else CLASS_PANEL
            rows.append({"label": label, "metric": metric, "higher_is_better": f["higher_is_better"],
                         "gap": f["gap"], "gap_ci_low": f["gap_ci_low"], "gap_ci_high": f["gap_ci_high"],
                         "significant": f["significant"], "order": (0 if f["significant"] else 1,
                                                                     f["rank"] or 0, f["key"])})
        table = pd.DataFrame(rows, columns=["label", "metric", "higher_is_better", "gap", "gap_ci_low",
                                            "gap_ci_high", "significant", "order"])
        if len(table):
            table = (table.sort_values("order", kind="mergesort").groupby("metric", sort=False).head(max_rows)
                     .drop(columns="order"))
        return cls(table, title)

    def plot(self, *, ncols: int = 2, metric_order: Sequence[str] = ()) -> "GapForestDisplay":
        """Draw; returns self (the figure is ``self.figure_``).

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
        ncols = min(ncols, len(metrics))
        nrows = -(-len(metrics) // ncols)
        heights = [max((self.table["metric"] == m).sum(), 2) for m in metrics]
        row_height = max(heights)
        fig, axes = plt.subplots(nrows, ncols, figsize=(6.2 * ncols, 0.9 + 0.32 * row_height * nrows + 0.6 * nrows),
                                 squeeze=False)
        for ax in axes.ravel()[len(metrics):]:
            ax.axis("off")
        for ax, metric in zip(axes.ravel(), metrics):
            part = self.table[self.table["metric"] == metric].iloc[::-1]
            if part.empty:
                ax.text(0.5, 0.5, "nothing tested", ha="center", va="center", transform=ax.transAxes)
                ax.set_title(plain_text(metric), fontsize=10)
                continue
            y = np.arange(len(part))
            higher = bool(part["higher_is_better"].iloc[0])
            worse = np.where(higher, part["gap"] < 0, part["gap"] > 0)
            colours = np.where(part["significant"] & worse, PALETTE["bad"], PALETTE["muted"])
            low = (part["gap"] - part["gap_ci_low"]).clip(lower=0).fillna(0)
            high = (part["gap_ci_high"] - part["gap"]).clip(lower=0).fillna(0)
            for yi, g, lo, hi, c in zip(y, part["gap"], low, high, colours):  # one call per slice row
                ax.errorbar(g, yi, xerr=[[lo], [hi]], fmt="o", color=c, ecolor=c, capsize=2, markersize=4)
            ax.axvline(0, color=PALETTE["neutral"], linewidth=0.8)
            ax.set_yticks(y, [plain_text(v) for v in part["label"]], fontsize=7.5)
            direction = "<- worse   gap (slice - rest)   better ->" if higher else "<- better   gap (slice - rest)   worse ->"
            ax.set_xlabel(direction, fontsize=8)
            ax.set_title(plain_text(metric), fontsize=10)
            ax.tick_params(axis="x", labelsize=8)
            ax.spines[["top", "right"]].set_visible(False)
        fig.suptitle(plain_text(self.title) if self.title else
                     "slice gaps with 95% intervals (red: significant blind spot after FDR)", fontsize=11)
        self.figure_ = fig
        return self
