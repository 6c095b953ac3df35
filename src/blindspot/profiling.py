"""Data profile of a predictions table: class balance, baselines, text lengths, duplicates.

Named ``profiling`` (not ``profile``) so it never shadows the standard library module.
:func:`profile_of_counts` assembles ``metrics/profile.json`` from these pieces and
:func:`blindspot.metrics.classification_report_from_confusion`; :func:`profile_predictions`
calls it on a whole table.

Apart from duplicates, the profile needs only counts: the confusion matrix and a histogram
of each length (:class:`ProfileCounts`). A batch of rows reduces to them, batches merge
by integer addition, and the merged counts give the profile of the whole table bit for
bit (the length mean and quantiles reproduce numpy's float arithmetic on the rows:
:func:`length_summary_of_histograms`).

The stage reads the texts once, a batch of rows at a time (:func:`profile_batch`): each
batch leaves its counts and its duplicate groups (:class:`blindspot.duplicates.DigestGroups`,
one record per distinct text of the batch) split into :data:`DIGEST_BUCKETS` buckets by
digest; each bucket's records of every batch are merged and counted by one call
(:func:`duplicate_bucket`). With ``engine: dask`` the records stay on the workers and each
bucket is reduced by one task, so the stage's process holds no value per row; with
``engine: local`` the stage holds the records until their bucket is reduced (57 bytes a
record, two records a row when no text repeats; 40 bytes a row and its labels before).
:func:`profile_predictions`, the library's entry point on a table in memory, keeps two
digests a row (:class:`TextRows`) and takes each repeated text's first row as its
representative; the stage takes the row of smallest seeded hash of its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from blindspot.duplicates import (
    DIGEST,
    DigestGroups,
    DuplicateCounts,
    arrow_strings,
    counts_of_codes,
    duplicate_accuracy_from_counts,
    duplicate_profile_from_counts,
    text_digests,
)
from blindspot.metrics import classification_report_from_confusion, confusion_counts
from blindspot.results.estimate import Estimate
from blindspot.samples import row_hash
from blindspot.text_features import _word_counts


def class_counts(codes, n_classes: int) -> np.ndarray:
    """Rows of each class among integer class ``codes`` (codes ``>= n_classes`` are not counted).

    Parameters
    ----------
    codes : array_like of int, shape (n,)
    n_classes : int

    Returns
    -------
    ndarray of int64, shape (n_classes,)
    """
    return np.bincount(np.asarray(codes, dtype=np.int64), minlength=n_classes)[:n_classes]


def class_distribution(codes, classes: Sequence[str]) -> dict:
    """Count and share of each class among integer class ``codes``.

    :func:`class_distribution_of_counts` of :func:`class_counts`.

    Parameters
    ----------
    codes : array_like of int, shape (n,)
    classes : sequence of str, length K
    """
    return class_distribution_of_counts(class_counts(codes, len(classes)), classes)


def class_distribution_of_counts(counts, classes: Sequence[str]) -> dict:
    """Count and share of each class from the rows of each class.

    Parameters
    ----------
    counts : array_like of int, shape (K,)
        Rows of each class, in ``classes`` order (a row or column sum of the confusion matrix).
    classes : sequence of str, length K

    Returns
    -------
    dict
        ``{class: {"n": int, "share": float}}`` in ``classes`` order (share NaN when n is 0).
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = counts.sum()
    return {c: {"n": int(k), "share": float(k / total) if total else float("nan")} for c, k in zip(classes, counts)}


def imbalance_ratio(codes, n_classes: int) -> float:
    """Largest class count over smallest class count (inf if a class has no rows).

    :func:`imbalance_ratio_of_counts` of :func:`class_counts`.
    """
    return imbalance_ratio_of_counts(class_counts(codes, n_classes))


def imbalance_ratio_of_counts(counts) -> float:
    """Largest over smallest of the rows of each class (inf if a class has no rows).

    Parameters
    ----------
    counts : array_like of int, shape (K,)
    """
    counts = np.asarray(counts, dtype=np.int64)
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

    The per-row definition, and the oracle of :func:`length_summary_of_histograms`,
    which the profile uses (it gives the same dict from mergeable counts).

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


def length_histogram(values) -> np.ndarray:
    """Rows of each length: ``hist[v]`` = number of ``values`` equal to ``v``.

    Parameters
    ----------
    values : array_like of int, shape (n,)
        Lengths (:func:`text_lengths`), none negative.

    Returns
    -------
    ndarray of int64, shape (max(values) + 1,)
        Empty when ``values`` is.

    Raises
    ------
    ValueError
        If a value is negative.
    """
    values = np.asarray(values, dtype=np.int64)
    if values.size and values.min() < 0:
        raise ValueError(f"lengths must be non-negative. Got {int(values.min())} instead.")
    return np.bincount(values).astype(np.int64, copy=False)


def add_histograms(a, b) -> np.ndarray:
    """Sum of two length histograms of different lengths (the shorter padded with zeros).

    Parameters
    ----------
    a : array_like of int, shape (m,)
    b : array_like of int, shape (p,)

    Returns
    -------
    ndarray of int64, shape (max(m, p),)
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    out = np.zeros(max(len(a), len(b)), dtype=np.int64)
    out[:len(a)] += a
    out[:len(b)] += b
    return out


def length_summary_of_histograms(words_hist, chars_hist, quantiles: Sequence[float]) -> dict:
    """:func:`length_summary` from length histograms, bit for bit.

    Parameters
    ----------
    words_hist, chars_hist : array_like of int, shape (m,)
        ``hist[v]``: rows of length ``v`` (:func:`length_histogram`; merged with
        :func:`add_histograms`). Trailing zeros change nothing.
    quantiles : sequence of float
        In [0, 1].

    Returns
    -------
    dict
        The same dict, same key order, same floats as :func:`length_summary` of the rows:
        the mean is exact as long as a histogram's total length stays below 2**53 (there
        the float sum of the rows is exact too, whatever its order), and the quantiles are
        :func:`numpy.quantile`'s arithmetic on the order statistics
        (:func:`_linear_quantiles_of_histogram`).
    """
    return {name: _histogram_summary(np.asarray(hist, dtype=np.int64), quantiles)
            for name, hist in (("words", words_hist), ("chars", chars_hist))}


def _histogram_summary(hist: np.ndarray, quantiles: Sequence[float]) -> dict:
    """One entry of :func:`length_summary_of_histograms`: mean, min, max and quantiles of ``hist`` (shape (m,))."""
    n = int(hist.sum())
    if n == 0:
        entry = {"mean": float("nan"), "min": float("nan"), "max": float("nan")}
        for q in quantiles:
            entry[f"q{round(q * 100):02d}"] = float("nan")
        return entry
    present = np.flatnonzero(hist)
    # An exact integer total: numpy's float64 sum of the rows is exact too while every partial
    # sum is an integer below 2**53, and its mean divides that sum by n once, as here.
    total = int(np.dot(hist, np.arange(len(hist), dtype=np.int64)))
    entry = {"mean": float(total) / n, "min": float(present[0]), "max": float(present[-1])}
    points = _linear_quantiles_of_histogram(hist, n, quantiles) if len(quantiles) else []
    for i, q in enumerate(quantiles):
        entry[f"q{round(q * 100):02d}"] = float(points[i])
    return entry


def _order_statistics(cumulative: np.ndarray, ranks) -> np.ndarray:
    """The ``ranks``-th smallest rows (0-based, shape (p,)) as float64, from a histogram's cumsum ``cumulative``."""
    # The i-th smallest row has the first length whose cumulative count exceeds i.
    return np.searchsorted(cumulative, ranks, side="right").astype(np.float64)


def _linear_quantiles_of_histogram(hist: np.ndarray, n: int, quantiles: Sequence[float]) -> np.ndarray:
    """``np.quantile(rows, list(quantiles))`` (method "linear") of the ``n`` rows ``hist`` (shape (m,)) counts.

    The steps and float operations of numpy 2.4 (``numpy/lib/_function_base_impl.py``:
    ``_quantile``, ``_get_indexes``, ``_get_gamma``, ``_lerp``), with the sorted array's
    elements read off the cumulative counts instead of partitioning the rows:
    the virtual index ``(n - 1) * q``; its floor and the next rank, both replaced by the
    last row at or beyond ``n - 1`` (and by the first below 0); gamma the virtual index
    minus the integer floor rank; ``a + (b - a) * gamma``, or ``b - (b - a) * (1 - gamma)``
    where gamma >= 0.5. Integer quantiles (an all-int list) take the rows directly, as numpy does.
    The property tests compare it with the installed numpy, so a numpy that changes its
    arithmetic fails them rather than moving ``metrics/profile.json`` silently.

    Returns
    -------
    ndarray of float64, shape (len(quantiles),)

    Raises
    ------
    ValueError
        If a quantile lies outside [0, 1] (numpy's message).
    """
    q = np.asanyarray(list(quantiles))
    if not (q.min() >= 0 and q.max() <= 1):
        raise ValueError("Quantiles must be in the range [0, 1]")
    cumulative = np.cumsum(hist)
    virtual = np.asanyarray((n - 1) * q)
    if np.issubdtype(virtual.dtype, np.integer):
        return _order_statistics(cumulative, virtual)
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n - 1  # numpy: index -1, the largest row
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    previous = previous.astype(np.intp)
    following = following.astype(np.intp)
    a = _order_statistics(cumulative, np.where(previous < 0, n - 1, previous))
    b = _order_statistics(cumulative, np.where(following < 0, n - 1, following))
    gamma = np.asanyarray(virtual - previous, dtype=virtual.dtype)
    diff = b - a
    out = a + diff * gamma
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
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
    # The counts behind this dict do not depend on which row represents a group: no correctness needed.
    return duplicate_profile_from_counts(counts_of_codes(codes, labels, np.zeros(codes.shape[0], dtype=bool)))


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


@dataclass(frozen=True, eq=False)
class ProfileCounts:
    """What the profile needs of a batch of rows, apart from duplicates: counts that merge exactly.

    Each batch (a row group, on a worker with engine=dask) reduces to these; merged
    (integer additions, in any order and grouping) they are the counts of the whole
    table, and :func:`profile_of_counts` builds the profile from them.

    Attributes
    ----------
    confusion : ndarray of int64, shape (K, K)
        Rows of each (true, predicted) class pair (:func:`blindspot.metrics.confusion_counts`).
    words, chars : ndarray of int64, shape (max length + 1,)
        ``words[v]``: rows of ``v`` words (:func:`length_histogram`); empty for no rows.
        Grown with zeros as needed on merging.
    n_rows : int
    """

    confusion: np.ndarray
    words: np.ndarray
    chars: np.ndarray
    n_rows: int

    @classmethod
    def of(cls, y_true, y_pred, words, chars, k: int) -> "ProfileCounts":
        """The counts of one batch of rows.

        Parameters
        ----------
        y_true, y_pred : array_like of int, shape (n,)
            Class codes in ``[0, k)``.
        words, chars : array_like of int, shape (n,)
            Each row's length (:func:`text_lengths`).
        k : int
            Number of classes.

        Raises
        ------
        ValueError
            If the arrays differ in length, or a code or length is out of range.
        """
        n = len(y_true)
        if not len(y_pred) == len(words) == len(chars) == n:
            raise ValueError(f"y_true, y_pred, words and chars must have one value per row. Got lengths "
                             f"{n}, {len(y_pred)}, {len(words)} and {len(chars)} instead.")
        return cls(confusion_counts(y_true, y_pred, k), length_histogram(words), length_histogram(chars), int(n))

    @classmethod
    def empty(cls, k: int) -> "ProfileCounts":
        """The counts of no rows: the identity of :meth:`merge`."""
        return cls(np.zeros((k, k), dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0)

    def merge(self, other: "ProfileCounts") -> "ProfileCounts":
        """The counts of both batches' rows (exact: integer sums).

        Raises
        ------
        ValueError
            If the two count different numbers of classes.
        """
        if self.confusion.shape != other.confusion.shape:
            raise ValueError(f"cannot merge counts of {self.confusion.shape[0]} and {other.confusion.shape[0]} "
                             f"classes.")
        return ProfileCounts(self.confusion + other.confusion, add_histograms(self.words, other.words),
                             add_histograms(self.chars, other.chars), self.n_rows + other.n_rows)


def profile_of_counts(counts: ProfileCounts, classes: Sequence[str], *, n_boot: int, level: float,
                      rng: np.random.Generator, length_quantiles: Sequence[float], duplicates: dict) -> dict:
    """Everything in ``metrics/profile.json`` from the table's merged counts and its duplicates.

    The one place the profile is assembled (:func:`profile_predictions` calls it).

    Parameters
    ----------
    counts : ProfileCounts
        Of every row of the table (merged over its batches).
    classes : sequence of str, length K
    n_boot, level, rng
        Bootstrap settings (see :func:`blindspot.metrics.bootstrap_metrics`).
    length_quantiles : sequence of float
    duplicates : dict
        The ``"duplicates"`` entry, already built (exact-text counts, then the normalised
        groups with the accuracy on duplicated against unique rows).

    Returns
    -------
    dict
    """
    report = mark_unmeasurable(classification_report_from_confusion(counts.confusion, classes, n_boot=n_boot,
                                                                    level=level, rng=rng))
    labels = counts.confusion.sum(axis=1)
    return {
        "n_rows": int(counts.n_rows),
        "classes": {c: i for i, c in enumerate(classes)},
        "label_distribution": class_distribution_of_counts(labels, classes),
        "prediction_distribution": class_distribution_of_counts(counts.confusion.sum(axis=0), classes),
        "imbalance_ratio": imbalance_ratio_of_counts(labels),
        **report,
        "baseline_verdict": baseline_verdict(report),
        "text_length": length_summary_of_histograms(counts.words, counts.chars, length_quantiles),
        "duplicates": duplicates,
    }


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
        (:func:`join_text_rows` of :func:`text_measures` of each batch); ``frame["text"]``
        in one batch when None.

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
    labels = pd.factorize(frame["label"] if "label" in frame.columns else pd.Series(y_true), use_na_sentinel=False)[0]
    # The representative of a repeated text: its first row here (a library call may have no ids), the row
    # of smallest seeded id hash in the stage (profile_batch). The same counts, then the same dict.
    counts, exact, normalised = _rows_parts(rows, y_true, y_pred, labels, np.arange(len(frame), dtype=np.uint64),
                                            len(classes))
    return profile_of_batches([counts], [(exact.counts(), normalised.counts())], classes, n_boot=n_boot,
                              level=level, rng=rng, length_quantiles=length_quantiles)[0]


def _rows_parts(rows: TextRows, y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray, rank: np.ndarray,
                k: int) -> tuple:
    """Some rows' :class:`ProfileCounts` and the :class:`~blindspot.duplicates.DigestGroups` of their exact
    and of their normalised texts (labels as integer codes, each group represented by its row of least rank)."""
    correct = y_true == y_pred
    return (ProfileCounts.of(y_true, y_pred, rows.words, rows.chars, k),
            *(DigestGroups.of(d, labels, correct, rank) for d in (rows.exact, rows.normalised)))


def duplicates_entry(exact: DuplicateCounts, normalised: DuplicateCounts, level: float) -> dict:
    """The ``duplicates`` entry of the profile: exact-text counts, then the normalised groups with accuracy
    on duplicated against unique rows (:mod:`blindspot.duplicates`: the leakage check the brief reports)."""
    return {**duplicate_profile_from_counts(exact), **duplicate_accuracy_from_counts(normalised, level)}


# --------------------------------------------------------------------------- the stage's per-batch reduce

#: Buckets of the duplicate groups (a digest's leading bits): each bucket's groups are merged and counted
#: by one task, so no process holds the groups of the whole table (:func:`blindspot.engine.batches.map_reduce_buckets`).
DIGEST_BUCKETS = 16
#: The draw that picks a repeated text's representative row (:func:`blindspot.samples.row_hash` of the ids).
REPRESENTATIVE = "profile/duplicate_representative"
#: Columns the profile reads of every row.
PROFILE_COLUMNS = ("id", "text", "y_true", "y_pred")


def profile_batch(frame: pd.DataFrame, *, k: int, seed: int, n_buckets: int = DIGEST_BUCKETS) -> tuple:
    """One batch's part of the profile: its counts, and its duplicate groups by bucket.

    A module-level function, so that Dask sends it to the workers (one row group per task).

    Parameters
    ----------
    frame : DataFrame, shape (n, ...)
        :data:`PROFILE_COLUMNS` of consecutive rows.
    k : int
        Classes.
    seed : int
        Seeds the representative of each repeated text (:data:`REPRESENTATIVE`): the row of
        smallest hash of its id, the same for the rows in any order or batches.
    n_buckets : int

    Returns
    -------
    counts : ProfileCounts
    buckets : list of (DigestGroups, DigestGroups), length n_buckets
        Each bucket's groups of the exact texts and of the normalised texts.
    """
    y_true = frame["y_true"].to_numpy(dtype=np.int64)
    # Labels by class code: y_true gives the groups the labels give (ingest writes label = classes[y_true]).
    counts, exact, normalised = _rows_parts(TextRows(*text_measures(frame["text"])), y_true,
                                            frame["y_pred"].to_numpy(dtype=np.int64), y_true,
                                            row_hash(seed, frame["id"], REPRESENTATIVE), k)
    return counts, list(zip(exact.buckets(n_buckets), normalised.buckets(n_buckets)))


def duplicate_bucket(parts) -> tuple:
    """One bucket's groups of every batch merged, then counted: (exact, normalised) :class:`DuplicateCounts`."""
    parts = list(parts)
    return tuple(DigestGroups.merged(p[i] for p in parts).counts() for i in (0, 1))


def profile_of_batches(counts, buckets, classes: Sequence[str], *, n_boot: int, level: float,
                       rng: np.random.Generator, length_quantiles: Sequence[float]) -> tuple[dict, ProfileCounts]:
    """The profile from every batch's :func:`profile_batch` counts and every bucket's :func:`duplicate_bucket`.

    Returns
    -------
    profile : dict
        ``metrics/profile.json``.
    counts : ProfileCounts
        Of the whole table (the confusion matrix the stage draws).
    """
    total = ProfileCounts.empty(len(classes))
    for part in counts:
        total = total.merge(part)
    exact = DuplicateCounts.total(b[0] for b in buckets)
    normalised = DuplicateCounts.total(b[1] for b in buckets)
    profile = profile_of_counts(total, classes, n_boot=n_boot, level=level, rng=rng,
                                length_quantiles=length_quantiles, duplicates=duplicates_entry(exact, normalised, level))
    return profile, total
