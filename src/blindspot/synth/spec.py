"""What the generator can make: classes, metadata, latent attributes, planted slices, its output.

The public constants and types of :mod:`blindspot.synth` live here; the other modules
of the package read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

DEFAULT_CLASSES = ("negative", "neutral", "positive")
DEFAULT_CLASS_SHARES = (0.26, 0.09, 0.65)
# Two classes: the neutral share folded into the other two in proportion.
DEFAULT_BINARY_SHARES = (0.29, 0.71)

# Metadata: independent of each other, of the label and of errors (null mode).
METADATA_VALUES: dict[str, tuple[str, ...]] = {
    "age_band": ("18-29", "30-44", "45-64", "65+"),
    "platform": ("ios", "android", "web"),
    "specialty": (
        "general_practice", "dermatology", "psychiatry", "pediatrics", "cardiology",
        "endocrinology", "gastroenterology", "neurology", "orthopedics", "oncology",
    ),
    "app_version": ("4.1.0", "4.2.3", "4.3.0", "5.0.1"),
}
METADATA_SHARES: dict[str, tuple[float, ...]] = {
    "age_band": (0.24, 0.34, 0.28, 0.14),
    "platform": (0.46, 0.39, 0.15),
    "specialty": (0.27, 0.12, 0.14, 0.09, 0.08, 0.07, 0.07, 0.07, 0.05, 0.04),
    "app_version": (0.08, 0.22, 0.42, 0.28),
}
METADATA_COLUMNS = tuple(METADATA_VALUES)

# Latent attributes and their base rates by polarity (negative, neutral, positive):
# negative reviews negate more often; sarcasm is a way of being negative only.
LATENT_VALUES: dict[str, tuple[Any, ...]] = {
    "register": ("plain", "jargon"),
    "negated": (False, True),
    "sarcastic": (False, True),
    "mixed": (False, True),
}
LATENT_TRUE_RATE = {
    "register": (0.30, 0.30, 0.30),
    "negated": (0.30, 0.20, 0.12),
    "sarcastic": (0.22, 0.0, 0.0),
    "mixed": (0.15, 0.20, 0.12),
}
LATENT_COLUMNS = ("register", "negated", "sarcastic", "mixed", "in_planted")

MODES = ("null", "planted")
NEG, NEU, POS = 0, 1, 2  # polarity codes: a review reads negative, neutral or positive
MICRO = 1_000_000  # probabilities are integers of 1e-6


@dataclass(frozen=True)
class PlantedSlice:
    """A blind spot to plant.

    Parameters
    ----------
    predicate : mapping of str to str or bool
        Column -> value that defines the slice; columns are metadata
        (:data:`METADATA_COLUMNS`) or latent attributes (``register``, ``negated``,
        ``sarcastic``, ``mixed``). Boolean attributes accept ``True``/``False`` or
        the strings ``"true"``/``"false"`` (also ``1/0``, ``yes/no``).
    error_gap : float
        Error rate inside the slice minus the error rate of rows in no planted slice
        (``1 - mean_confidence``), exactly in expectation; at most ``mean_confidence``.
        With a single slice that is the gap to all other rows; with several, the
        gap to the complement is smaller (it holds the other slices) and is given as
        ``expected_gap`` in the truth.
    confidence : float, optional
        If given, wrong predictions inside the slice get confidence near this value
        (``N(confidence, 0.02)`` clipped into ``(1/K, 1)``).
    share : float
        Expected share of rows on which the predicate holds.
    class_weights : sequence of float, length K, optional
        Relative odds that a row of each true class is in the slice (default: equal,
        so the slice has the data's class mix). Unequal weights plant a slice whose
        *class mix* differs: with ``error_gap=0`` and a weak class
        (``generate(class_error_gaps=...)``) it is worse than the rest only because it
        holds more of that class, with no effect within any class.
    """

    predicate: Mapping[str, Any]
    error_gap: float = 0.20
    confidence: float | None = None
    share: float = 0.10
    class_weights: Sequence[float] | None = None

    @classmethod
    def parse(cls, spec: str, **kwargs) -> "PlantedSlice":
        """Build from ``"col=value[,col=value...]"`` (the CLI's ``--plant``).

        Examples
        --------
        >>> PlantedSlice.parse("age_band=65+,platform=android", error_gap=0.3).predicate
        {'age_band': '65+', 'platform': 'android'}
        """
        predicate = {}
        for part in spec.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ValueError(f"bad slice spec {spec!r}: expected col=value[,col=value...]")
            predicate[key.strip()] = value.strip()
        return cls(predicate=predicate, **kwargs)


@dataclass
class SynthData:
    """Output of :func:`generate`.

    Attributes
    ----------
    frame : DataFrame, shape (n, 5 + K + 4)
        ``id, text, label, prediction, confidence, p_<class>..., age_band, platform,
        specialty, app_version`` (the input contract, flat form).
    truth : dict
        JSON-serialisable description of what was generated: ``seed, n, mode,
        classes, class_shares`` (requested), ``realised_class_shares,
        mean_confidence, base_error_rate`` (expected outside slices, ``1 -
        mean_confidence``), ``class_error_gaps``, ``realised_error_rate`` (all rows),
        ``realised_base_error_rate`` (rows in no slice), ``metadata_columns,
        latent_columns`` and ``planted``: per slice ``index, predicate, share,
        error_gap, confidence, expected_error_rate_inside,
        expected_error_rate_outside, expected_gap`` (outside = all rows not in the
        slice), and realised ``n_rows, realised_share, error_rate_inside,
        error_rate_outside, realised_gap, mean_confidence_inside``.
    latent : DataFrame, shape (n, 5)
        Same index as ``frame``: ``register`` (str), ``negated``, ``sarcastic``,
        ``mixed`` (bool) and ``in_planted`` (int: planted slice index, -1 for none).
    """

    frame: pd.DataFrame
    truth: dict
    latent: pd.DataFrame

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.truth["classes"])

