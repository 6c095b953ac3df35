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

DPI = 110
PALETTE = {"good": "#2b8a3e", "bad": "#c92a2a", "neutral": "#495057", "accent": "#1c7ed6", "muted": "#adb5bd"}


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as a reproducible PNG and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path
