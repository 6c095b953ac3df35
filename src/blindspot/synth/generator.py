""":func:`generate`: reviews, labels, simulated predictions and metadata from one seed.

The steps, each in its own module: draw labels and attributes
(:mod:`~blindspot.synth.attributes`), plant the slices
(:mod:`~blindspot.synth.planting`), simulate the model (:mod:`~blindspot.synth.model`),
write the texts (:mod:`~blindspot.synth.compose`), describe the result
(:mod:`~blindspot.synth.truth`). Every step draws from its own random stream, so a
change to one step's draws leaves the others' as they were.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from blindspot.synth.attributes import attribute_tables, polarity, sample_codes
from blindspot.synth.compose import compose_texts
from blindspot.synth.model import simulate_model
from blindspot.synth.planting import check_not_nested, parse_predicate, plant
from blindspot.synth.spec import (
    DEFAULT_BINARY_SHARES,
    DEFAULT_CLASS_SHARES,
    DEFAULT_CLASSES,
    LATENT_VALUES,
    METADATA_COLUMNS,
    METADATA_VALUES,
    MICRO,
    MODES,
    PlantedSlice,
    SynthData,
)
from blindspot.synth.truth import describe


def _validate_args(n, mode, classes, class_shares, mean_confidence, concentration, planted) -> np.ndarray:
    """Check :func:`generate`'s arguments; return the class shares, normalised, shape (K,)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    k = len(classes)
    if k < 2 or len(set(classes)) != k:
        raise ValueError(f"need at least two distinct classes, got {classes!r}")
    if class_shares is None:
        class_shares = DEFAULT_CLASS_SHARES if k == 3 else DEFAULT_BINARY_SHARES if k == 2 else (1.0 / k,) * k
    shares = np.asarray(class_shares, float)
    if shares.shape != (k,) or (shares <= 0).any() or abs(shares.sum() - 1) > 1e-9:
        raise ValueError(f"class_shares must be {k} positive numbers summing to 1, got {class_shares!r}")
    if not 1.0 / k + 0.01 <= mean_confidence <= 0.99:
        raise ValueError(f"mean_confidence must lie in [1/K + 0.01, 0.99], got {mean_confidence!r}")
    if concentration <= 0:
        raise ValueError("confidence_concentration must be positive")
    if mode == "null" and planted:
        raise ValueError("mode='null' takes no planted slices; use mode='planted'")
    if mode == "planted" and not planted:
        raise ValueError("mode='planted' needs at least one PlantedSlice")
    for s in planted:
        if not 0 <= s.error_gap <= mean_confidence:
            raise ValueError(f"error_gap must lie in [0, mean_confidence], got {s.error_gap!r}")
        if not 0 < s.share < 1:
            raise ValueError(f"share must lie in (0, 1), got {s.share!r}")
        if s.confidence is not None and not 1.0 / k < s.confidence < 1:
            raise ValueError(f"slice confidence must lie in (1/K, 1), got {s.confidence!r}")
    return shares / shares.sum()



def _parse_slices(planted: Sequence[PlantedSlice], class_error_gaps, k: int, mean_confidence: float) -> tuple:
    """The planted slices' predicates, parsed and checked; ``class_error_gaps`` checked too."""
    parsed = tuple(parse_predicate(s.predicate) for s in planted)
    check_not_nested(parsed)
    if class_error_gaps is not None:
        gaps = np.asarray(class_error_gaps, float)
        if gaps.shape != (k,) or (gaps < 0).any() or (gaps > mean_confidence).any():
            raise ValueError(f"class_error_gaps must be {k} numbers in [0, mean_confidence], got {class_error_gaps!r}")
    return parsed


def _arrow_to_series(values: pa.Array, index: pd.Index) -> pd.Series:
    """A pyarrow string array as a pandas string Series (``str`` dtype on pandas 3)."""
    out = values.to_pandas()
    out.index = index
    return out


def _frame(classes: Sequence[str], label: np.ndarray, pred: np.ndarray, conf: np.ndarray, proba: np.ndarray,
           codes: dict, text: pa.Array) -> pd.DataFrame:
    """The input contract in flat form, shape (n, 5 + K + 4).

    Parameters
    ----------
    classes : sequence of str, length K
    label, pred : ndarray of int, shape (n,)
    conf : ndarray of float, shape (n,)
    proba : ndarray of int64, shape (n, K)
        Micro-units.
    codes : dict of str to ndarray of int, each shape (n,)
        Attribute value codes (metadata columns are read).
    text : pyarrow string Array, shape (n,)
    """
    n = label.size
    index = pd.RangeIndex(n)
    width = max(7, len(str(n)))
    ids = pc.binary_join_element_wise(
        "s-", pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0"), "")
    class_arr = pa.array(classes, pa.string())
    columns = {
        "id": _arrow_to_series(ids, index),
        "text": _arrow_to_series(text, index),
        "label": _arrow_to_series(class_arr.take(pa.array(label)), index),
        "prediction": _arrow_to_series(class_arr.take(pa.array(pred)), index),
        "confidence": pd.Series(conf, index=index, dtype=np.float64),
    }
    for j, c in enumerate(classes):
        columns[f"p_{c}"] = pd.Series(proba[:, j] / MICRO, index=index, dtype=np.float64)
    for col in METADATA_COLUMNS:
        values = pa.array(METADATA_VALUES[col], pa.string())
        columns[col] = _arrow_to_series(values.take(pa.array(codes[col])), index)
    return pd.DataFrame(columns, index=index)


def _latent(codes: dict, assign: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The latent attributes and planted slice of each row, shape (n, 5)."""
    return pd.DataFrame({
        "register": _arrow_to_series(pa.array(LATENT_VALUES["register"]).take(pa.array(codes["register"])), index),
        "negated": codes["negated"].astype(bool),
        "sarcastic": codes["sarcastic"].astype(bool),
        "mixed": codes["mixed"].astype(bool),
        "in_planted": assign,
    }, index=index)


def generate(n: int, *, seed: int, mode: str = "null", classes: Sequence[str] = DEFAULT_CLASSES,
             class_shares: Sequence[float] | None = None, mean_confidence: float = 0.85,
             confidence_concentration: float = 6.0, planted: Sequence[PlantedSlice] = (),
             class_error_gaps: Sequence[float] | None = None) -> SynthData:
    """Generate reviews, labels, simulated predictions and metadata.

    Parameters
    ----------
    n : int
        Rows.
    seed : int
        Seed of the one ``np.random.default_rng`` all draws come from: same arguments, same frames.
    mode : {"null", "planted"}
        ``"null"``: errors independent of everything, model calibrated; ``"planted"``: plus ``planted``.
    classes : sequence of str, length K >= 2
        Class names; the first reads negative, the last positive, any others neutral.
    class_shares : sequence of float, length K, optional
        Expected label shares; default (0.26, 0.09, 0.65) for K=3, (0.29, 0.71) for K=2, else uniform.
    mean_confidence : float
        Expected confidence, hence expected accuracy outside planted slices.
    confidence_concentration : float
        ``a + b`` of the confidence Beta; larger is narrower around the mean.
    planted : sequence of PlantedSlice
        Slices to plant (``mode="planted"`` only); made disjoint, so no predicate may contain another.
    class_error_gaps : sequence of float, length K, optional
        Extra error rate of each true class everywhere (a weak class: ``1 - mean_confidence + gap``
        outside slices), each in ``[0, mean_confidence]``; both modes (a weak class is not a slice).

    Returns
    -------
    SynthData
        ``frame`` and ``latent`` (n rows each), ``truth`` (see :class:`SynthData`).

    Examples
    --------
    >>> data = generate(1000, seed=0, mode="planted",
    ...                 planted=[PlantedSlice({"specialty": "oncology"}, error_gap=0.2)])
    >>> list(data.frame.columns[:5])
    ['id', 'text', 'label', 'prediction', 'confidence']
    """
    classes, planted = tuple(str(c) for c in classes), tuple(planted)
    shares = _validate_args(n, mode, classes, class_shares, mean_confidence, confidence_concentration, planted)
    n, k = int(n), len(classes)
    parsed = _parse_slices(planted, class_error_gaps, k, mean_confidence)
    class_pol, tables = polarity(k), attribute_tables()
    # Independent streams per step: a change to one step's draws leaves the others be.
    r_label, r_attr, r_slice, r_model, r_text, r_class = np.random.default_rng(seed).spawn(6)
    label = r_label.choice(k, size=n, p=shares)
    pol = class_pol[label]
    codes = {col: sample_codes(tables[col], pol, r_attr) for col in tables}
    assign = plant(codes, label, class_pol, parsed, planted, tables, shares, r_slice)
    pred, conf, proba = simulate_model(label, k, assign, planted, mean_confidence, confidence_concentration, r_model,
                                       class_error_gaps, r_class)
    text = compose_texts(codes["specialty"], pol, codes["register"], codes["negated"].astype(bool),
                         codes["sarcastic"].astype(bool), codes["mixed"].astype(bool), r_text)
    frame = _frame(classes, label, pred, conf, proba, codes, text)
    truth = describe(seed=seed, mode=mode, classes=classes, shares=shares, mean_confidence=mean_confidence,
                     confidence_concentration=confidence_concentration, class_error_gaps=class_error_gaps,
                     planted=planted, parsed=parsed, label=label, pred=pred, conf=conf, assign=assign)
    return SynthData(frame=frame, truth=truth, latent=_latent(codes, assign, frame.index))
