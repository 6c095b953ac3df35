"""Two result documents (nested dicts and lists, as the stages write them) compared the way a test means it."""

from __future__ import annotations

import math


def differences(got, want, *, rel: float = 0.0, path: str = "") -> list[str]:
    """Where ``got`` differs from ``want``, one line per place (empty: they agree).

    Dicts must hold the same keys in the same order, lists and tuples the same length, and
    every leaf the same type. Floats agree when both are NaN, or when they differ by at most
    ``rel`` times the larger magnitude; ``rel = 0`` asks for the same float, sign of zero
    included. Other leaves must be equal.
    """
    if type(got) is not type(want):
        return [f"{path}: {type(got).__name__} {got!r} vs {type(want).__name__} {want!r}"]
    if isinstance(want, dict):
        if list(got) != list(want):
            return [f"{path}: keys {list(got)} vs {list(want)}"]
        return [d for key in want for d in differences(got[key], want[key], rel=rel, path=f"{path}.{key}")]
    if isinstance(want, (list, tuple)):
        if len(got) != len(want):
            return [f"{path}: {len(got)} items vs {len(want)}"]
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in differences(g, w, rel=rel, path=f"{path}[{i}]")]
    if isinstance(want, float):
        if math.isnan(got) and math.isnan(want):
            return []
        close = abs(got - want) <= rel * max(abs(got), abs(want)) if rel else (
            got == want and math.copysign(1, got) == math.copysign(1, want))
        return [] if close else [f"{path}: {got!r} vs {want!r}"]
    return [] if got == want else [f"{path}: {got!r} vs {want!r}"]


def assert_same(got, want, *, rel: float = 0.0, path: str = "") -> None:
    """:func:`differences` must be empty; the first twenty places are shown when it is not."""
    found = differences(got, want, rel=rel, path=path)
    assert not found, f"{len(found)} difference(s):\n" + "\n".join(found[:20])
