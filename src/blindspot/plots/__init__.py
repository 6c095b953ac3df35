"""Pictures. Each Display computes through a pure function and draws with ``.plot``.

:func:`save_figure` is the only way figures reach disk: fixed DPI, no timestamp or
version metadata, so the same numbers always give the same PNG bytes and DVC does
not see a change where there is none.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless, deterministic; set before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.layout_engine import (  # noqa: E402
    ConstrainedLayoutEngine,
    PlaceHolderLayoutEngine,
    TightLayoutEngine,
)

DPI = 110
PALETTE = {"good": "#2b8a3e", "bad": "#c92a2a", "neutral": "#495057", "accent": "#1c7ed6", "muted": "#adb5bd"}


def fixed_subplots(nrows: int, ncols: int, *, axes_size: tuple[float, float], left: float, right: float,
                   bottom: float, top: float, wgap: float, hgap: float):
    """A grid of equal axes whose geometry is fixed in inches: no layout pass at save time.

    For figures whose text is known in advance (fixed labels, numbers, titles of a
    known number of lines): the margins are given instead of measured, which saves
    ``tight_layout``'s measuring of every tick label, about a quarter of a second
    a figure.

    Parameters
    ----------
    nrows, ncols : int
    axes_size : (float, float)
        Width and height of each axes, inches.
    left, right, bottom, top : float
        Figure margins around the grid, inches (room for labels, titles, suptitle).
    wgap, hgap : float
        Space between neighbouring axes, inches.

    Returns
    -------
    fig : Figure, with a placeholder layout engine (:func:`save_figure` keeps its geometry)
    axes : ndarray of Axes, shape (nrows, ncols)
    """
    aw, ah = axes_size
    width = left + ncols * aw + (ncols - 1) * wgap + right
    height = bottom + nrows * ah + (nrows - 1) * hgap + top
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, gridspec_kw={
        "left": left / width, "right": 1 - right / width, "bottom": bottom / height, "top": 1 - top / height,
        "wspace": wgap / aw, "hspace": hgap / ah})
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
    return fig, axes


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as a reproducible PNG and close it.

    Layout runs at most once: ``tight_layout`` here, unless the figure was already
    laid out (its ``tight_layout`` called, or made by :func:`fixed_subplots`) or uses
    constrained layout, whose solver runs inside ``savefig``. The canvas is then saved as laid out, with no layout
    engine left on it: an engine, or ``bbox_inches="tight"``, makes ``savefig`` draw
    the whole figure twice (once to measure, once to write), the largest avoidable
    cost of a small run's figures.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        if engine is None or isinstance(engine, TightLayoutEngine):
            fig.tight_layout()
        fig.set_layout_engine(None)  # laid out: savefig need not measure again
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path
