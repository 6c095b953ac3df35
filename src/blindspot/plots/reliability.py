"""Reliability diagrams and confidence histograms (Display pattern).

Every curve is drawn from a :class:`~blindspot.calibration.binning.ReliabilityBins`:
the object the metrics were computed from, so the picture shows exactly the bins
behind the reported ECE. ``from_predictions`` bins through the same routine and, as
every display here, returns the display without drawing it (see :mod:`blindspot.plots`).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from blindspot.calibration.binning import ReliabilityBins, reliability_bins
from blindspot.calibration.metrics import ece_from_bins, mce_from_bins
from blindspot.plots import PALETTE, fixed_subplots, plain_text, pyplot, wrap_label
from blindspot.stats import wilson_interval

STRATEGY_LABEL = {"uniform": "equal-width bins", "quantile": "equal-mass bins"}
PANEL_WIDTH = 3.75  # inches, one reliability panel
# Classwise panels: the bins average one class's predicted probability and count the rows of that class.
CLASSWISE_AXES = ("mean predicted p(class) in bin", "share of bin truly in the class")
MIN_ROWS_JOINED = 10  # recalibration overlay: smaller bins are hollow markers, off the line


class ReliabilityDisplay:
    """Reliability diagram: accuracy against mean confidence per bin, with bin counts.

    Parameters
    ----------
    bins : ReliabilityBins
    name : str, optional
        Title (or legend label when overlaid).
    ci_level : float
        Level of the per-bin Wilson error bars on accuracy.

    Attributes
    ----------
    ax_, figure_, counts_ax_ : matplotlib objects, set by :meth:`plot`
    """

    def __init__(self, bins: ReliabilityBins, *, name: str | None = None, ci_level: float = 0.95):
        self.bins = bins
        self.name = name
        self.ci_level = ci_level
        self.ece = ece_from_bins(bins)
        self.mce = mce_from_bins(bins)

    @classmethod
    def from_predictions(cls, correct, confidence, *, n_bins: int = 10, strategy: str = "uniform",
                         name: str | None = None, ci_level: float = 0.95) -> "ReliabilityDisplay":
        """Bin with :func:`~blindspot.calibration.binning.reliability_bins`; draw with :meth:`plot`."""
        bins = reliability_bins(correct, confidence, n_bins=n_bins, strategy=strategy)
        return cls(bins, name=name, ci_level=ci_level)

    def plot(self, ax=None, *, show_counts: bool = True, show_intervals: bool = True, color: str | None = None,
             label: str | None = None, annotate: bool = True, xlim=(0.0, 1.0), min_rows: int = 1,
             axis_labels: tuple[str, str] = ("mean confidence in bin", "accuracy in bin")):
        """Draw the diagram.

        Parameters
        ----------
        ax : matplotlib Axes, optional
        show_counts : bool
            Grey bars of rows per bin on a right-hand axis (with the count written on top).
        show_intervals : bool
            Wilson error bars on each bin's accuracy; without them (overlays) the
            marker area is proportional to the bin's rows instead.
        color, label : str, optional
            Curve colour and legend label (for overlays).
        annotate : bool
            Write ECE, MCE and n in the corner and set the title.
        xlim : tuple
            Confidence axis range, within [0, 1].
        min_rows : int
            Bins with fewer rows are drawn as hollow markers, not joined to their
            neighbours: a line through a bin of one or two rows gives them the weight of a
            full bin. The line also breaks at every empty bin: it never bridges confidences
            that hold no rows.
        axis_labels : (str, str)
            x and y labels: what the bins average (top-label confidence, or one class's
            probability) and what they count (accuracy, or the share of that class).

        Returns
        -------
        self
        """
        if ax is None:
            _, ax = pyplot().subplots(figsize=(5.2, 4.6))
        color = color or PALETTE["accent"]
        if show_counts:
            self.counts_ax_ = self._draw_counts(ax)
        ax.plot([0, 1], [0, 1], linestyle="--", color=PALETTE["neutral"], linewidth=1, label="perfect calibration")
        self._draw_curve(ax, show_intervals=show_intervals, color=color, label=label or "model", min_rows=min_rows)
        ax.set_xlim(max(xlim[0], 0.0), min(xlim[1], 1.0))
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
        ax.grid(alpha=0.25, linewidth=0.5)
        if annotate:
            b = self.bins
            ax.text(0.03, 0.97, f"ECE {self.ece:.3f}   MCE {self.mce:.3f}\nn = {b.n:.0f}, {STRATEGY_LABEL.get(b.strategy, b.strategy)}",
                    transform=ax.transAxes, va="top", fontsize=8,
                    bbox={"facecolor": "white", "edgecolor": PALETTE["muted"], "alpha": 0.9, "boxstyle": "round,pad=0.3"})
            if self.name:
                ax.set_title(self.name, fontsize=10)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _draw_counts(self, ax):
        """Grey bars of rows per bin on a right-hand axis, under the curve; returns that axis."""
        b = self.bins
        cax = ax.twinx()
        widths = np.diff(b.edges)
        cax.bar(b.edges[:-1], b.count, width=widths, align="edge", color=PALETTE["muted"], alpha=0.35,
                edgecolor="white", linewidth=0.6, zorder=0)
        if b.n_bins <= 20:
            for lo, w, c in zip(b.edges[:-1], widths, b.count):
                if c > 0:  # narrow (equal-mass) bars get their count written upright
                    cax.text(lo + w / 2, c, f"{c:.0f}", ha="center", va="bottom", fontsize=6.5,
                             rotation=0 if w >= 0.05 else 90, color=PALETTE["neutral"])
        cax.set_ylim(0, max(b.count.max(), 1) * 3.2)  # keep the bars in the lower third
        cax.set_ylabel("rows per bin", color=PALETTE["neutral"], fontsize=8)
        cax.tick_params(axis="y", labelsize=7, colors=PALETTE["neutral"])
        ax.set_zorder(cax.get_zorder() + 1)
        ax.patch.set_visible(False)
        return cax

    def _draw_curve(self, ax, *, show_intervals: bool, color: str, label: str, min_rows: int) -> None:
        """The bins' accuracy: points with Wilson bars and a line, or (overlays) a line and sized markers."""
        b = self.bins
        ok = b.nonempty
        conf, acc = b.mean_confidence[ok], b.accuracy[ok]
        if show_intervals:
            low, high = wilson_interval(np.rint(b.sum_correct[ok]), np.rint(b.count[ok]), self.ci_level)
            # Wilson bounds can sit a rounding error inside an accuracy of exactly 0 or 1.
            yerr = np.clip([acc - low, high - acc], 0, None)
            bars = ax.errorbar(conf, acc, yerr=yerr, fmt="o", color=color, markersize=4, capsize=2, elinewidth=0.8,
                               label=label)
            bars.lines[0].set_clip_on(False)  # a point at 0 or 1 is drawn whole, on the frame
            ax.plot(*joined_curve(b, min_rows), "-", color=color, linewidth=1.4)
            return
        ax.plot(*joined_curve(b, min_rows), "-", color=color, linewidth=1.4, label=label)
        big = b.count[ok] >= min_rows
        area = 8 + 120 * b.count[ok] / max(b.count.max(), 1)
        ax.scatter(conf[big], acc[big], s=area[big], color=color, alpha=0.8, edgecolors="white", linewidths=0.5,
                   zorder=3, clip_on=False)
        ax.scatter(conf[~big], acc[~big], s=area[~big] + 14, facecolors="none", edgecolors=color, linewidths=1.0,
                   zorder=3, clip_on=False)


def joined_curve(bins: ReliabilityBins, min_rows: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The reliability line: bins with at least ``min_rows`` rows, broken (NaN) wherever a
    bin between two of them has fewer rows, so that no segment bridges missing data.

    Returns
    -------
    x, y : ndarray of float, shape (n_bins,)
        Mean confidence and accuracy per bin; NaN where the line breaks.
    """
    keep = bins.count >= max(min_rows, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(keep, bins.mean_confidence, np.nan), np.where(keep, bins.accuracy, np.nan)


class ConfidenceHistogramDisplay:
    """Histograms of confidence for correct and for incorrect predictions.

    Made from counts (:meth:`from_counts`, what the calibrate stage adds up over batches) or from
    the rows (:meth:`from_predictions`).

    Parameters
    ----------
    edges : ndarray of float, shape (B + 1,)
        Equal-width histogram edges over [0, 1].
    count_correct, count_incorrect : ndarray of int, shape (B,)
    wrong_at : dict float -> int
        Per threshold (drawn as a dashed line), the wrong predictions at or above it.
    """

    def __init__(self, edges, count_correct, count_incorrect, *, wrong_at: dict | None = None):
        self.edges = np.asarray(edges, dtype=float)
        self.count_correct = np.asarray(count_correct)
        self.count_incorrect = np.asarray(count_incorrect)
        self.wrong_at = dict(wrong_at or {})

    @classmethod
    def from_counts(cls, histogram: dict) -> "ConfidenceHistogramDisplay":
        """From a :class:`~blindspot.calibration.audit.CalibrationAudit`'s ``histogram``."""
        return cls(histogram["edges"], histogram["correct"], histogram["incorrect"], wrong_at=histogram["wrong_at"])

    @classmethod
    def from_predictions(cls, correct, confidence, *, bins: int = 20,
                         thresholds: Sequence[float] = ()) -> "ConfidenceHistogramDisplay":
        """Count the histograms of the rows (``bins`` equal-width bins); draw with :meth:`plot`."""
        correct = np.asarray(correct, dtype=bool)
        confidence = np.asarray(confidence, dtype=float)
        edges = np.linspace(0, 1, bins + 1)
        return cls(edges, np.histogram(confidence[correct], edges)[0], np.histogram(confidence[~correct], edges)[0],
                   wrong_at={t: int((~correct & (confidence >= t)).sum()) for t in thresholds})

    def plot(self, ax=None) -> "ConfidenceHistogramDisplay":
        """Draw both histograms and the thresholds on ``ax`` (a new figure when omitted); returns self."""
        if ax is None:  # fixed text: axis labels, a legend inside, a one-line title
            _, axes = fixed_subplots(1, 1, axes_size=(5.4, 2.8), left=0.62, right=0.15, bottom=0.52, top=0.32,
                                     wgap=0, hgap=0)
            ax = axes[0, 0]
        e = self.edges
        ax.stairs(self.count_correct, e, fill=True, alpha=0.35, color=PALETTE["good"],
                  label=f"correct (n={int(self.count_correct.sum())})")
        ax.stairs(self.count_incorrect, e, fill=True, alpha=0.45, color=PALETTE["bad"],
                  label=f"incorrect (n={int(self.count_incorrect.sum())})")
        ax.stairs(self.count_correct, e, color=PALETTE["good"], linewidth=1.2)
        ax.stairs(self.count_incorrect, e, color=PALETTE["bad"], linewidth=1.2)
        top = max(self.count_correct.max(initial=0), self.count_incorrect.max(initial=0), 1)
        for i, t in enumerate(sorted(self.wrong_at)):
            k = self.wrong_at[t]
            ax.axvline(t, color=PALETTE["neutral"], linestyle="--", linewidth=0.9)
            # Staggered heights so labels of close thresholds do not overlap.
            # Near the right edge the label goes left of its line, inside the axes.
            right = t > 0.88
            ax.text(t - 0.006 if right else t + 0.006, top * (1.30 - 0.13 * (i % 3)), f"≥ {t:g}: {k}\nwrong",
                    fontsize=6.5, va="top", ha="right" if right else "left", color=PALETTE["neutral"])
        ax.set_ylim(0, top * 1.35)
        ax.set_xlim(0, 1)
        ax.set_xlabel("confidence of the predicted class")
        ax.set_ylabel("predictions")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        ax.grid(alpha=0.25, linewidth=0.5)
        self.ax_, self.figure_ = ax, ax.figure
        return self


def reliability_grid(panels: Sequence[tuple[str, ReliabilityBins]], *, ncols: int = 2, suptitle: str | None = None,
                     empty_message: str = "nothing to draw", ci_level: float = 0.95, xlim=(0.0, 1.0),
                     axis_labels: tuple[str, str] = ("mean confidence in bin", "accuracy in bin")):
    """A figure of reliability diagrams, one per ``(title, bins)``; a note when there are none.

    The geometry is fixed (:func:`blindspot.plots.fixed_subplots`): titles are wrapped to
    the panel width by the font's metrics (a long slice key or class name takes more
    lines, never its neighbour's space) and the other text is known (axis labels,
    numbers), so margins are set, not measured by a drawing pass.
    """
    n = max(len(panels), 1)
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    panels = [("\n".join(wrap_label(plain_text(line), PANEL_WIDTH + 0.4, 10) for line in title.split("\n")), bins)
              for title, bins in panels]
    title_lines = max((title.count("\n") + 1 for title, _ in panels), default=0)
    title_h = 0.08 + 0.19 * title_lines  # 10 pt lines plus the title pad
    sup_h = 0.38 if suptitle else 0.0
    # Left: y tick labels and label; right: the counts axis's tick labels and label.
    width = 0.62 + ncols * PANEL_WIDTH + (ncols - 1) * 1.3 + 0.62
    if suptitle:
        suptitle = wrap_label(plain_text(suptitle), width - 0.3, 11)
        sup_h = 0.18 + 0.2 * (suptitle.count("\n") + 1)
    fig, axes = fixed_subplots(nrows, ncols, axes_size=(PANEL_WIDTH, 3.1), left=0.62, right=0.62, bottom=0.52,
                               top=0.12 + title_h + sup_h, wgap=1.3, hgap=0.62 + title_h)
    flat = axes.ravel()
    if not panels:
        flat[0].axis("off")
        flat[0].text(0.5, 0.5, empty_message, ha="center", va="center", fontsize=10, wrap=True)
    for ax, (title, bins) in zip(flat, panels):
        ReliabilityDisplay(bins, name=title, ci_level=ci_level).plot(ax=ax, xlim=xlim, axis_labels=axis_labels)
    for ax in flat[len(panels) or 1:]:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11, y=1 - 0.1 / fig.get_figheight(), va="top")
    return fig


def recalibration_figure(bins_by_method: dict[str, ReliabilityBins], *, labels: dict[str, str] | None = None):
    """Before/after reliability curves of the recalibration what-if, overlaid on one axis."""
    fig, axes = fixed_subplots(1, 1, axes_size=(4.6, 3.7), left=0.62, right=0.15, bottom=0.52, top=0.55,
                               wgap=0, hgap=0)  # fixed text: a two-line title, fixed labels
    ax = axes[0, 0]
    colors = {"none": PALETTE["bad"], "temperature_scaling": PALETTE["accent"], "isotonic": PALETTE["good"]}
    labels = labels or {}
    for method, bins in bins_by_method.items():
        d = ReliabilityDisplay(bins)
        d.plot(ax=ax, show_counts=False, show_intervals=False, annotate=False, color=colors.get(method),
               label=labels.get(method, f"{method} (ECE {d.ece:.3f})"), min_rows=MIN_ROWS_JOINED)
    # Each curve drew the diagonal: keep one legend entry per label.
    handles, names = ax.get_legend_handles_labels()
    seen, keep = set(), []
    for h, nm in zip(handles, names):
        if nm not in seen:
            seen.add(nm)
            keep.append((h, nm))
    ax.legend(*zip(*keep), loc="lower right", fontsize=8, frameon=False)  # reliability curves rise: lower right is free
    ax.set_title("Recalibration what-if (cross-fitted), equal-width bins\nmarker area ~ rows in bin; hollow: "
                 f"fewer than {MIN_ROWS_JOINED} rows, not joined", fontsize=10)
    return fig


# Files the calibrate stage writes under plots/calibration/ (the directory is its own output).
FIGURES = ("reliability.png", "reliability_classwise.png", "reliability_slices.png",
           "confidence_histogram.png", "recalibration.png")
DATA_FILES = ("reliability_equal_width.json", "reliability_equal_mass.json")


def _nonempty_records(bins: ReliabilityBins) -> list[dict]:
    """Records of the bins with rows for the DVC reliability plot.

    DVC plots draw every record: empty bins (NaN means) would break the line. Each record
    also carries ``perfect_calibration`` (its mean confidence): plotted as a second y
    field against ``mean_confidence`` it is the diagonal, which DVC's templates cannot draw.
    """
    return [{**r, "perfect_calibration": r["mean_confidence"]} for r in bins.table() if r["count"] > 0]


def reliability_data(audit) -> dict[str, list]:
    """The DVC reliability plot data of a :class:`CalibrationAudit`: file name (:data:`DATA_FILES`) -> records."""
    o = audit.overall
    return {DATA_FILES[0]: _nonempty_records(o.bins), DATA_FILES[1]: _nonempty_records(o.bins_equal_mass)}


def calibration_figures(audit, *, ci_level: float = 0.95) -> Iterator[tuple[str, object]]:
    """Every calibration figure of a :class:`CalibrationAudit`, as (file name, Figure) in :data:`FIGURES` order.

    Everything is drawn from the bins and counts stored in ``audit`` (the ones behind the numbers).
    A generator: each figure is drawn when asked for, so the caller can save and close
    it before the next one is drawn (:func:`blindspot.io.figures.replace_plot_directory`).
    """
    o = audit.overall
    yield FIGURES[0], reliability_grid([("Top-label reliability, equal-width bins", o.bins),
                                        ("Top-label reliability, equal-mass bins", o.bins_equal_mass)],
                                       ci_level=ci_level)

    if o.classwise is not None:
        panels = [(f"Class {name!r}: predicted p({name}) vs share truly {name}", b)
                  for name, b in zip(audit.classes, o.classwise)]
        fig = reliability_grid(panels, ncols=min(3, len(panels)), suptitle="Classwise reliability (all rows)",
                               ci_level=ci_level, axis_labels=CLASSWISE_AXES)
    else:
        fig = reliability_grid([], empty_message="Classwise reliability needs class probabilities:\n"
                                                 "the input has a confidence only.")
    yield FIGURES[1], fig

    level = f"{ci_level:.0%}"
    panels = []
    for key in audit.worst_slices:
        sm = audit.slices[key].metrics
        panels.append((f"Slice {key} (n={sm['n']})\nECE {level} CI [{sm['ece']['ci_low']:.3f}, {sm['ece']['ci_high']:.3f}], "
                       f"p = {sm['ece_p_value']:.3f}", audit.slices[key].bins))
    yield FIGURES[2], reliability_grid(
        panels, suptitle="Slices most credibly miscalibrated (highest ECE lower bound)",
        empty_message="No slice with enough rows to evaluate\n(see slice_counts in metrics/calibration.json).",
        ci_level=ci_level)

    d = ConfidenceHistogramDisplay.from_counts(audit.histogram).plot()
    d.ax_.set_title("Confidence of correct and incorrect predictions", fontsize=10)
    yield FIGURES[3], d.figure_

    if audit.recalibration_bins:
        names = {"none": "as given", "temperature_scaling": "temperature scaling", "isotonic": "isotonic regression"}
        labels = {m: f"{names.get(m, m)} (ECE {ece_from_bins(b):.3f})" for m, b in audit.recalibration_bins.items()}
        fig = recalibration_figure(audit.recalibration_bins, labels=labels)
    else:
        fig = reliability_grid([], empty_message="Recalibration what-if not run\n(see recalibration.reason).")
    yield FIGURES[4], fig
