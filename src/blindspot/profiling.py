"""Data profile of a predictions table: class balance, baselines, text lengths, duplicates.

Named ``profiling`` (not ``profile``) so it never shadows the standard library module.
:func:`profile_predictions` assembles ``metrics/profile.json`` from these pieces and
:func:`blindspot.metrics.classification_report`.

The texts are read once, a batch of rows at a time (:func:`text_rows`), and only what the
profile needs of each row is kept: its length in words and characters and two 128-bit
digests (:class:`TextRows`, 40 bytes a row), so memory does not grow with the texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from blindspot.duplicates import DIGEST, arrow_strings, digest_codes, duplicate_accuracy_of_groups, text_digests
from blindspot.metrics import classification_report
from blindspot.results.estimate import Estimate
from blindspot.text_features import _word_counts


def class_distribution(codes, classes: Sequence[str]) -> dict:
    """Count and share of each class among integer class ``codes``.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
    classes : sequence of str, length K

    Returns
    -------
    dict
        ``{class: {"n": int, "share": float}}`` in ``classes`` order (share NaN when n is 0).
    """
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(classes))[: len(classes)]
    total = counts.sum()
    return {c: {"n": int(k), "share": float(k / total) if total else float("nan")} for c, k in zip(classes, counts)}


def imbalance_ratio(codes, n_classes: int) -> float:
    """Largest class count over smallest class count (inf if a class has no rows)."""
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=n_classes)[:n_classes]
    return float(counts.max() / counts.min()) if counts.min() > 0 else float("inf")


def text_lengths(texts) -> tuple[np.ndarray, np.ndarray]:
    """Length of each text in words (whitespace tokens) and in characters.

    Parameters
    ----------
    texts : array_like of str, shape (n,)

    Returns
    -------
    words, chars : ndarray of int32, shape (n,)
    """
    arr = arrow_strings(texts)
    # The word counter of text_features.n_words on the Arrow buffer directly: n_words first
    # deduplicates and lower-cases the texts for its regex detectors, which a count does not need
    # (1 s instead of 3 s at a million reviews).
    words = _word_counts(arr).astype(np.int32)
    chars = pc.utf8_length(arr).to_numpy(zero_copy_only=False).astype(np.int32)
    return words, chars


def length_summary(words, chars, quantiles: Sequence[float]) -> dict:
    """:func:`length_profile` from the per-row lengths (:func:`text_lengths`).

    Parameters
    ----------
    words, chars : array_like of int, shape (n,)
    quantiles : sequence of float
    """
    out = {}
    for name, values in (("words", words), ("chars", chars)):
        values = np.asarray(values).astype(float)  # float64, as the mean and quantiles always were computed
        entry = {"mean": float(values.mean()) if values.size else float("nan"),
                 "min": float(values.min()) if values.size else float("nan"),
                 "max": float(values.max()) if values.size else float("nan")}
        # One partition for every quantile (np.quantile with a list gives each the single-q value).
        points = np.quantile(values, list(quantiles)) if values.size and len(quantiles) else []
        for i, q in enumerate(quantiles):
            entry[f"q{round(q * 100):02d}"] = float(points[i]) if values.size else float("nan")
        out[name] = entry
    return out


def length_profile(texts, quantiles: Sequence[float]) -> dict:
    """Summary of text length in words (whitespace tokens) and in characters.

    Returns
    -------
    dict
        ``{"words": {...}, "chars": {...}}`` each with ``mean``, ``min``, ``max`` and
        ``q<pct>`` (e.g. ``q50``) for every requested quantile.
    """
    return length_summary(*text_lengths(texts), quantiles)


def duplicate_profile(texts, labels) -> dict:
    """Exact duplicate texts (byte-identical, no normalisation) and whether duplicates agree on their label.

    :func:`duplicate_profile_of_groups` on the exact texts' codes.
    """
    texts = pd.Series(texts)
    if not isinstance(texts.dtype, pd.StringDtype):
        texts = texts.astype("str")
    # Hash the Arrow-backed strings (no Python str per row).
    codes, _ = pd.factorize(texts)
    return duplicate_profile_of_groups(codes, labels)


def duplicate_profile_of_groups(codes, labels) -> dict:
    """Duplicate counts from the group of each row's exact text.

    :func:`blindspot.duplicates.duplicate_accuracy` adds the groups after case folding and
    whitespace collapsing, and the accuracy on them.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
        Equal for rows with the same text, 0 .. n_texts - 1 (any numbering): ``pd.factorize``
        of the texts, or :func:`blindspot.duplicates.digest_codes` of their exact digests.
    labels : array_like, shape (n,)

    Returns
    -------
    dict
        ``distinct_texts``; ``duplicate_rows`` (rows whose text appeared earlier);
        ``duplicated_texts`` (texts that occur more than once); ``conflicting_label_texts``
        (duplicated texts carrying more than one label: a sign of label noise).
    """
    codes = np.asarray(codes, dtype=np.int64)
    n_texts = int(codes.max()) + 1 if codes.size else 0
    # Count distinct (text, label) pairs as integer codes.
    label_codes, label_levels = pd.factorize(pd.Series(labels), use_na_sentinel=False)
    per_text = np.bincount(codes, minlength=n_texts)
    width = max(len(label_levels), 1)
    pairs = codes * width + label_codes
    if n_texts * width <= 50_000_000:  # a presence table (no sort) while it stays under ~50 MB
        seen = np.zeros(n_texts * width, dtype=bool)
        seen[pairs] = True
        labels_per_text = seen.reshape(-1, width).sum(axis=1)
    else:
        labels_per_text = np.bincount(np.unique(pairs) // width, minlength=n_texts)
    return {
        "distinct_texts": n_texts,
        "duplicate_rows": int(len(codes) - n_texts),
        "duplicated_texts": int((per_text > 1).sum()),
        "conflicting_label_texts": int((labels_per_text > 1).sum()),
    }


@dataclass
class TextRows:
    """What the profile keeps of each text: lengths and digests, 40 bytes a row.

    Attributes
    ----------
    words, chars : ndarray of int32, shape (n,)
        :func:`text_lengths`.
    exact, normalised : ndarray of :data:`blindspot.duplicates.DIGEST`, shape (n,)
        :func:`blindspot.duplicates.text_digests`.
    """

    words: np.ndarray
    chars: np.ndarray
    exact: np.ndarray
    normalised: np.ndarray


def text_measures(texts) -> tuple:
    """What the profile keeps of one batch of texts: words, characters, exact and normalised digests.

    Parameters
    ----------
    texts : Series of str, shape (n,)

    Returns
    -------
    tuple of 4 ndarray, each shape (n,)
        As the fields of :class:`TextRows`, in their order.
    """
    return (*text_lengths(texts), *text_digests(texts))


def join_text_rows(parts: Iterable) -> TextRows:
    """:class:`TextRows` from consecutive batches' :func:`text_measures`, in row order."""
    columns = [[np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=DIGEST)],
               [np.zeros(0, dtype=DIGEST)]]
    for measured in parts:
        for column, values in zip(columns, measured):
            column.append(values)
    # One column at a time, its parts dropped once joined: the joining costs one column's
    # bytes beyond the parts, not all four.
    joined = []
    while columns:
        joined.append(np.concatenate(columns.pop(0)))
    return TextRows(*joined)


def text_rows(batches: Iterable) -> TextRows:
    """:class:`TextRows` of a table's texts read a batch of rows at a time.

    Parameters
    ----------
    batches : iterable of Series of str
        The texts in row order, a batch at a time
        (:func:`blindspot.io.readers.predictions_batches`); each batch is dropped once
        its rows are measured. Any split gives the same result.

    Returns
    -------
    TextRows
        Rows in the order of the batches.
    """
    return join_text_rows(text_measures(texts) for texts in batches)


def baseline_verdict(report: dict) -> str:
    """``"above"``, ``"indistinguishable"`` or ``"below"``: where the interval of
    accuracy minus the majority-class baseline lies relative to 0."""
    lift = report["accuracy_over_baseline"]
    return "above" if lift["ci_low"] > 0 else "indistinguishable" if lift["ci_high"] >= 0 else "below"


def baseline_statement(report: dict) -> str:
    """One plain sentence: how far accuracy sits above always predicting the majority class.

    Works on :func:`profile_predictions` output or ``metrics/profile.json`` as read back,
    so the report can phrase it from the metrics file (the sentence itself is not stored
    there: long strings make ``dvc metrics diff`` tables unreadable).
    """
    acc = report["accuracy"]
    lift = report["accuracy_over_baseline"]
    level = round(report["ci_level"] * 100)
    verdict = {"above": "clearly above", "indistinguishable": "not distinguishable from",
               "below": "below"}[baseline_verdict(report)]
    return (f"Accuracy {acc['value']:.3f} ({level}% CI {acc['ci_low']:.3f} to {acc['ci_high']:.3f}) is "
            f"{lift['value']:+.3f} ({lift['ci_low']:+.3f} to {lift['ci_high']:+.3f}) against the "
            f"{report['majority_baseline_accuracy']:.3f} a model scores by always predicting "
            f"'{report['majority_class']}': {verdict} that baseline. Balanced accuracy is "
            f"{report['balanced_accuracy']['value']:.3f} and macro F1 {report['f1_macro']['value']:.3f}.")


def mark_unmeasurable(report: dict) -> dict:
    """Per-class metrics a class's counts cannot define, set to NaN (written null) with a reason.

    A configured class with no rows has no recall (0 of 0) and, unless the model
    predicts it, no precision and no F1 either; scoring them 0 would read as a class
    the model always misses. ``imbalance_ratio`` is infinite then, and is given the
    same treatment. Modifies and returns ``report``.
    """
    for name, entry in report["per_class"].items():
        if entry["support"] == 0:
            why = f"no row of class '{name}' in the data"
            undefined = ("recall", "f1") if entry["predicted"] else ("recall", "precision", "f1")
            for metric in undefined:
                entry[metric] = Estimate(float("nan"), float("nan"), float("nan"), reason=why).encode()
    empty = [c for c, e in report["per_class"].items() if e["support"] == 0]
    if empty:
        report["imbalance_ratio_reason"] = f"class {', '.join(repr(c) for c in empty)} has no rows"
    return report


def profile_predictions(frame: pd.DataFrame, classes: Sequence[str], *, n_boot: int, level: float,
                        rng: np.random.Generator, length_quantiles: Sequence[float],
                        texts: Iterable | None = None) -> dict:
    """Everything in ``metrics/profile.json`` for a canonical predictions table.

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        Canonical predictions: ``y_true``, ``y_pred``, ``text`` unless ``texts`` is
        given, and ``label``; without ``label``, ``y_true`` stands for it in the label
        conflicts (ingest writes ``label = classes[y_true]``: the same groups).
    classes : sequence of str
    n_boot, level, rng
        Bootstrap settings (see :func:`blindspot.metrics.bootstrap_metrics`).
    length_quantiles : sequence of float
    texts : iterable of Series of str, or TextRows, optional
        The table's texts in row order, a batch at a time (:func:`text_rows`), so the
        frame need not hold them; or what the profile keeps of them, measured elsewhere
        (engine=dask: on the workers, :func:`join_text_rows`); ``frame["text"]`` in one
        batch when None.

    Returns
    -------
    dict
    """
    y_true = frame["y_true"].to_numpy(dtype=np.int64)
    y_pred = frame["y_pred"].to_numpy(dtype=np.int64)
    rows = texts if isinstance(texts, TextRows) else text_rows([frame["text"]] if texts is None else texts)
    if len(rows.words) != len(frame):
        raise ValueError(f"texts must give one text per row of the frame. Got {len(rows.words)} for "
                         f"{len(frame)} rows instead.")
    labels = frame["label"] if "label" in frame.columns else y_true
    report = mark_unmeasurable(classification_report(y_true, y_pred, classes, n_boot=n_boot, level=level, rng=rng))
    return {
        "n_rows": int(len(frame)),
        "classes": {c: i for i, c in enumerate(classes)},
        "label_distribution": class_distribution(y_true, classes),
        "prediction_distribution": class_distribution(y_pred, classes),
        "imbalance_ratio": imbalance_ratio(y_true, len(classes)),
        **report,
        "baseline_verdict": baseline_verdict(report),
        "text_length": length_summary(rows.words, rows.chars, length_quantiles),
        # Exact-text counts, then the normalised groups with accuracy on duplicated against
        # unique rows (blindspot.duplicates: the leakage check the brief reports).
        "duplicates": {**duplicate_profile_of_groups(digest_codes(rows.exact), labels),
                       **duplicate_accuracy_of_groups(digest_codes(rows.normalised), labels,
                                                      y_true == y_pred, level=level)},
    }
