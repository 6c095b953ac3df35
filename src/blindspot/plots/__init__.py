"""Pictures. Every Display follows one contract.

- ``Display(...)`` holds what it draws; ``Display.from_<source>(...)`` computes it through
  the pure function that owns the numbers (:func:`~blindspot.metrics.confusion_counts`,
  :func:`~blindspot.calibration.binning.reliability_bins`, ...) and returns the display
  *without drawing*.
- ``display.plot(ax=None, ...)`` draws (on ``ax``, or on a new figure when omitted), sets
  ``figure_`` (and ``ax_`` for a display of one axes) and returns ``self``; so
  ``Display.from_predictions(...).plot()`` computes and draws. A display whose layout
  is computed from its text (:class:`~blindspot.plots.slices.GapForestDisplay`) always
  makes its own figure.
- :mod:`matplotlib.pyplot` is imported on first draw (:func:`pyplot`), never when a
  module of this package is imported.
- Nothing here writes or deletes a file: the stages save figures with
  :func:`blindspot.io.figures.save_figure` (fixed DPI, no timestamp or version metadata,
  so the same numbers always give the same PNG bytes and DVC sees no change where there is none).
"""

from __future__ import annotations

import functools

import matplotlib

matplotlib.use("Agg")  # headless, deterministic; set before pyplot is imported anywhere

from matplotlib.backends.backend_agg import RendererAgg  # noqa: E402
from matplotlib.font_manager import FontProperties, findfont, get_font  # noqa: E402
from matplotlib.layout_engine import PlaceHolderLayoutEngine  # noqa: E402


def pyplot():
    """:mod:`matplotlib.pyplot`, imported on first use.

    pyplot sets up a figure manager and backend state on import; stages and libraries that
    only read a constant or lay out text from this package need none of it.
    """
    import matplotlib.pyplot as plt

    return plt


DPI = 110
PALETTE = {"good": "#2b8a3e", "bad": "#c92a2a", "neutral": "#495057", "accent": "#1c7ed6", "muted": "#adb5bd",
           "mix": "#e8590c"}
# Break long labels after these (longest first): slice keys join parts with "__and__" and
# column and value with "__", metadata values are words.
BREAKS = ("__and__", "__", "_", " ", "/", "-", ".")


@functools.lru_cache(maxsize=1)
def _font():
    return get_font(findfont(FontProperties()))


@functools.lru_cache(maxsize=4096)
def _drawable(char: str) -> bool:
    return char.isprintable() and _font().get_char_index(ord(char)) != 0


def plain_text(text) -> str:
    """``text`` as it will be drawn: as written, never as matplotlib math, never as an empty box.

    Every dollar sign is escaped (a class named ``$\\frac{`` would stop the figure), and a
    character the figure font has no glyph for (most emoji, control characters) is
    written as its code point, ``U+1F641``: an empty box would make two classes look the same.
    Applying it twice changes nothing (callers may pass text a stage has already made plain).
    """
    out, text = [], str(text)
    for i, ch in enumerate(text):
        if ch == "$":  # idempotent: a dollar sign already escaped stays as it is
            out.append("$" if i and text[i - 1] == "\\" else r"\$")
        else:
            out.append(ch if _drawable(ch) else f"U+{ord(ch):04X}")
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _renderer():
    return RendererAgg(8, 8, DPI)


def text_width(text: str, size: float) -> float:
    """Width in inches of one line of ``text`` drawn at ``size`` points (the default font).

    Measured by the Agg renderer's font metrics: no figure is drawn, so a layout can be
    computed before the axes exist.
    """
    if not text:
        return 0.0
    return max(_renderer().get_text_width_height_descent(line, FontProperties(size=size), ismath=False)[0]
               for line in text.split("\n")) / DPI


def wrap_label(text: str, width: float, size: float) -> str:
    """``text`` broken into lines no wider than ``width`` inches, nothing cut.

    Lines break after a separator of :data:`BREAKS` (a slice key after ``__and__``, then
    after ``__``, ...); a run with no separator wider than ``width`` breaks between characters.
    The lines joined again give ``text`` back exactly: ``"".join(result.split("\\n")) == text``
    when ``text`` holds no newline.
    """
    lines, current = [], ""
    for token in _tokens(text):
        if current and text_width(current + token, size) > width:
            lines.append(current)
            current = ""
        while text_width(token, size) > width and len(token) > 1:  # one long run: cut between characters
            cut = max(i for i in range(1, len(token) + 1) if text_width(token[:i], size) <= width or i == 1)
            if cut > 1 and token[cut - 1] == "\\":  # keep an escaped dollar sign whole
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(token[:cut])
            token = token[cut:]
        current += token
    if current or not lines:
        lines.append(current)
    return "\n".join(lines)


def _tokens(text: str) -> list[str]:
    """``text`` split after each separator of :data:`BREAKS`, the separator kept on the left."""
    tokens, i, start = [], 0, 0
    while i < len(text):
        sep = next((b for b in BREAKS if text.startswith(b, i)), None)
        if sep:
            i += len(sep)
            tokens.append(text[start:i])
            start = i
        else:
            i += 1
    if start < len(text):
        tokens.append(text[start:])
    return tokens


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
    fig : Figure, with a placeholder layout engine (:func:`blindspot.io.figures.save_figure` keeps its geometry)
    axes : ndarray of Axes, shape (nrows, ncols)
    """
    aw, ah = axes_size
    width = left + ncols * aw + (ncols - 1) * wgap + right
    height = bottom + nrows * ah + (nrows - 1) * hgap + top
    fig, axes = pyplot().subplots(nrows, ncols, figsize=(width, height), squeeze=False, gridspec_kw={
        "left": left / width, "right": 1 - right / width, "bottom": bottom / height, "top": 1 - top / height,
        "wspace": wgap / aw, "hspace": hgap / ah})
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=True))
    return fig, axes
