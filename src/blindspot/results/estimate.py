"""A number with its interval and the method behind it: the one encoding every metrics file uses.

Written as ``{"value": v, "ci_low": lo, "ci_high": hi, "method": m}`` (bounds and method
omitted when there are none), read back by :meth:`Estimate.decode` from the same code. A
value the file gives as null reads as :class:`Unmeasured`: a NaN that carries why, so no
consumer can crash on it and the brief can say "not measurable: <reason>".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

GENERIC_REASON = "no value recorded"
# The fields of an encoded estimate; any other key under it is a key of its own (e.g. a count).
ESTIMATE_FIELDS = ("value", "ci_low", "ci_high", "method", "reason")


class Unmeasured(float):
    """A value a metrics file gives as null or NaN: a NaN that carries why.

    It behaves as NaN in arithmetic and comparisons (so no section can crash on it) and
    every formatter of :mod:`blindspot.report.fmt` renders it as "not measurable: <reason>".
    """

    def __new__(cls, reason: str = GENERIC_REASON):
        obj = super().__new__(cls, "nan")
        obj.reason = reason or GENERIC_REASON
        return obj

    def __repr__(self) -> str:
        return f"Unmeasured({self.reason!r})"


def measured(x) -> bool:
    """True for a finite number (not None, not NaN, not :class:`Unmeasured`)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Estimate:
    """A number, its interval (``None`` bounds when none was computed) and the interval's method.

    ``value`` is NaN (or :class:`Unmeasured` once read back) when it could not be measured,
    and ``reason`` then says why (written beside it).
    """

    value: float
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    method: str = ""
    reason: str = ""

    @property
    def has_interval(self) -> bool:
        return measured(self.ci_low) and measured(self.ci_high)

    @property
    def ok(self) -> bool:
        return measured(self.value)

    def encode(self) -> dict:
        """The JSON object; the writer (:mod:`blindspot.io.writers`) rounds and turns NaN into null."""
        out: dict[str, Any] = {"value": self.value}
        if self.ci_low is not None or self.ci_high is not None:
            out["ci_low"], out["ci_high"] = self.ci_low, self.ci_high
        if self.method:
            out["method"] = self.method
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def decode(cls, d: Mapping, reason: str = GENERIC_REASON) -> "Estimate":
        """An estimate from its JSON object; a null or missing value reads as :class:`Unmeasured` (``reason``)."""
        value, why = d.get("value"), str(d.get("reason") or "")
        return cls(float(value) if measured(value) else Unmeasured(why or reason),
                   _bound(d.get("ci_low")), _bound(d.get("ci_high")), str(d.get("method") or ""), why)


def _bound(x) -> Optional[float]:
    return float(x) if measured(x) else None
