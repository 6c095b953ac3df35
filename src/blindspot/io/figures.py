"""Figures to disk: the one place a figure becomes a file (the plotting package never writes).

:func:`save_figure` writes one PNG reproducibly (fixed DPI, no timestamp or version
metadata, layout run at most once); :func:`replace_plot_directory` makes a stage's plot
directory hold exactly one run's figures and data files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

from blindspot.io.writers import write_json
from blindspot.plots import DPI, pyplot


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as a reproducible PNG and close it.

    Layout runs at most once: ``tight_layout`` here, unless the figure was already
    laid out (its ``tight_layout`` called, or made by :func:`blindspot.plots.fixed_subplots`)
    or uses constrained layout, whose solver runs inside ``savefig``. The canvas is then
    saved as laid out, with no layout engine left on it: an engine, or ``bbox_inches="tight"``,
    makes ``savefig`` draw the whole figure twice (once to measure, once to write), the
    largest avoidable cost of a small run's figures.

    Returns
    -------
    Path, the file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        if engine is None or isinstance(engine, TightLayoutEngine):
            fig.tight_layout()
        fig.set_layout_engine(None)  # laid out: savefig need not measure again
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    pyplot().close(fig)
    return path


def replace_plot_directory(directory: str | Path, figures: Iterable[tuple[str, Any]],
                           data: Mapping[str, Any] | None = None) -> list[Path]:
    """Make ``directory`` hold exactly these files: earlier ``*.png`` and ``*.json`` are removed.

    A file an earlier run wrote and this run does not (a figure since renamed) would
    otherwise linger in a directory DVC tracks as one output.

    Parameters
    ----------
    directory : str or Path
    figures : iterable of (str, Figure)
        File name and figure; each is saved (and closed) as it comes, so a generator
        keeps one figure open at a time.
    data : mapping of str to JSON-able, optional
        File name and document, written first with :func:`~blindspot.io.writers.write_json`.

    Returns
    -------
    list of Path, the files written, data files first.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for old in list(directory.glob("*.png")) + list(directory.glob("*.json")):
        old.unlink()
    written = [write_json(directory / name, document) for name, document in (data or {}).items()]
    written += [save_figure(fig, directory / name) for name, fig in figures]
    return written
