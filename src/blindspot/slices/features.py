"""Slice predicates: boolean row masks with stable keys, built from metadata and text.

A *predicate* is one yes/no question about a row ("is the condition Birth Control?",
"does the review negate?"). All predicates of a table are held as one boolean
membership matrix ``M`` of shape ``(n_rows, n_predicates)``; every slice count later
comes from matrix products with it (see :mod:`blindspot.slices.evaluate`).

Keys (stable across model versions, snake_case, no dots)
--------------------------------------------------------
- metadata, categorical: ``<column>__<value slug>`` (``condition__birth_control``), the
  values beyond the ``max_levels`` most frequent pooled as ``<column>__other``;
  missing values ``<column>__missing``. A watchlist may name any value of a
  categorical column, frequent or not: :meth:`PredicateTable.resolve` builds it on
  demand.
- metadata, numeric or ISO date: quantile bins ``<column>__q1`` ... ``__q<m>`` (bins
  with equal edges merge, so there may be fewer than ``n_quantiles``), each a
  half-open range ``[lo, hi)``, the last one closed.
- text: ``jargon_high``, ``caps_high``, one key per boolean detector (``negation``,
  ``sarcasm_cue``, ``mixed_sentiment``, ``question``, ``exclamation``) and
  ``length_<band>`` for each configured word-count band.

The model's own outputs (label, prediction, confidence, probabilities) are never
features: slicing on them is trivially "significant"; classes are looked at through
per-class recall inside each slice instead.

Each predicate carries ``spec``, the mapping that goes into a finding's ``slice``
field (feature -> value, or a range ``{"ge": lo, "lt": hi}``), and a readable
``description``.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from blindspot import text_features as tf
from blindspot.errors import ConfigError
from blindspot.io.schema import META_PREFIX

# Boolean text detectors that may be listed in ``slices.text_detectors``:
# name -> (column of blindspot.text_features.text_features, description).
TEXT_DETECTORS: dict[str, tuple[str, str]] = {
    "negation": ("negation", "reviews with an explicit negation (not, no, never, n't, ...)"),
    "sarcasm_cue": ("sarcasm_cues", "reviews with a sarcasm cue (oh great, yeah right, scare quotes, ...)"),
    "mixed_sentiment": ("mixed_sentiment", "reviews mixing positive and negative cues around a contrast"),
    "question": ("question", "reviews containing a question mark"),
    "exclamation": ("exclamation", "reviews containing an exclamation mark"),
}
CONJUNCTION = "__and__"
# Below this many rows per worker the text pass runs in one call (threads would cost more than they save).
PARALLEL_MIN_ROWS = 200_000
MAX_TEXT_WORKERS = 4
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Predicate:
    """One yes/no question about a row.

    Attributes
    ----------
    key : str
        Stable snake_case key.
    feature : str
        What it is about; two predicates on the same feature are never conjoined
        (values of one column, bins of one number, bands of one length are disjoint).
    spec : dict
        Feature -> value or range; the finding's ``slice`` mapping.
    description : str
    """

    key: str
    feature: str
    spec: dict
    description: str


@dataclass
class PredicateTable:
    """Predicates and their membership matrix.

    Attributes
    ----------
    predicates : list of Predicate, length P
    matrix : ndarray of bool, shape (n_rows, P)
    categorical : dict
        Column -> (codes, levels, level -> slug) of each categorical metadata column,
        kept to resolve any ``<column>__<slug>`` key on demand.
    """

    predicates: list[Predicate]
    matrix: np.ndarray
    categorical: dict = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.predicates]

    @property
    def features(self) -> list[str]:
        return [p.feature for p in self.predicates]

    def index(self, key: str) -> int | None:
        """Column of ``key`` in :attr:`matrix`, or None."""
        lookup = getattr(self, "_lookup", None)
        if lookup is None or len(lookup) != len(self.predicates):
            lookup = {p.key: i for i, p in enumerate(self.predicates)}
            self._lookup = lookup
        return lookup.get(key)

    def resolve(self, key: str) -> tuple[Predicate, np.ndarray] | None:
        """The predicate and row mask of a single (non-conjunction) key, or None if unknown.

        Keys of the table come first; otherwise ``<column>__<slug>`` is matched against
        every value of a categorical metadata column (so rare values can be watched).
        """
        i = self.index(key)
        if i is not None:
            return self.predicates[i], self.matrix[:, i]
        column, sep, slug = key.partition("__")
        if not sep or column not in self.categorical:
            return None
        codes, levels, slugs = self.categorical[column]
        hits = [i for i, level in enumerate(levels) if slugs[level] == slug]
        if not hits:
            return None
        value = str(levels[hits[0]])
        return Predicate(key, column, {column: value}, f"{column} = {value}"), codes == hits[0]


def slugify(value) -> str:
    """Lower-case snake_case of a value: ``"Birth Control"`` -> ``"birth_control"``."""
    return re.sub(r"[^a-z0-9]+", "_", str(value).lower()).strip("_")


def _unique_slugs(values: Sequence) -> dict:
    """Value -> slug, made unique by a numeric suffix in sorted-value order."""
    out, seen = {}, {}
    for v in sorted(values, key=str):
        base = slugify(v) or "value"
        slug = base
        while slug in seen:
            seen[base] = seen.get(base, 1) + 1
            slug = f"{base}_{seen[base]}"
        seen[slug] = 1
        out[v] = slug
    return out


def _as_categories(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes with -1 for missing, level strings) of a column, vectorised."""
    if pd.api.types.is_bool_dtype(values):
        text = values.astype("boolean").astype("string").str.lower()
    else:
        text = values.astype("string")
    codes, levels = pd.factorize(text, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(levels, dtype=object)


def categorical_predicates(name: str, values: pd.Series, *, max_levels: int) -> tuple[list, list, tuple]:
    """Predicates for a categorical column: top values, "other", "missing".

    Parameters
    ----------
    name : str
        Column name (without ``meta__``).
    values : Series, shape (n,)
        Values are compared as strings (booleans as ``"true"``/``"false"``).
    max_levels : int
        At most this many most frequent values get their own predicate (ties broken
        by value); the rest are pooled as ``<name>__other``.

    Returns
    -------
    predicates : list of Predicate
    masks : list of ndarray of bool, shape (n,)
    resolver : (codes, levels, slugs)
        For :meth:`PredicateTable.resolve`: any level's mask by its slug.
    """
    codes, levels = _as_categories(values)
    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
    order = sorted(range(len(levels)), key=lambda i: (-counts[i], str(levels[i])))  # over levels, not rows
    slugs = _unique_slugs(list(levels))
    top, rest = order[:max_levels], order[max_levels:]
    preds, masks = [], []
    for i in top:
        value = str(levels[i])
        preds.append(Predicate(f"{name}__{slugs[levels[i]]}", name, {name: value}, f"{name} = {value}"))
        masks.append(codes == i)
    if rest:
        kept = sorted(str(levels[i]) for i in top)
        preds.append(Predicate(f"{name}__other", name, {name: {"not_in": kept}},
                               f"{name} not among its {len(top)} most frequent values"))
        masks.append(np.isin(codes, rest))
    missing = codes < 0
    if missing.any():
        preds.append(Predicate(f"{name}__missing", name, {name: None}, f"{name} missing"))
        masks.append(missing)
    return preds, masks, (codes, levels, slugs)


def quantile_predicates(name: str, values: pd.Series, *, n_quantiles: int) -> tuple[list, list]:
    """Quantile-bin predicates for a numeric or datetime column, plus "missing".

    Bin edges are the ``0, 1/q, ..., 1`` quantiles of the observed values (lower
    empirical quantiles, so edges are observed values); equal edges merge bins. Bin
    ``i`` is ``[edge_i, edge_{i+1})``, the last one closed.

    Returns
    -------
    predicates : list of Predicate
    masks : list of ndarray of bool, shape (n,)
    """
    is_date = pd.api.types.is_datetime64_any_dtype(values)
    missing = values.isna().to_numpy()
    if is_date:
        seconds = values.to_numpy(dtype="datetime64[s]").astype(np.int64).astype(float)
        x = np.where(missing, np.nan, seconds)
    else:
        x = values.to_numpy(dtype=float, na_value=np.nan)
        missing = missing | np.isnan(x)
    show = _show_date if is_date else _number
    observed = x[~missing]
    preds, masks = [], []
    if observed.size:
        edges = np.unique(np.quantile(observed, np.linspace(0, 1, n_quantiles + 1), method="lower"))
        if edges.size == 1:
            edges = np.array([edges[0], edges[0]])
        bins = np.searchsorted(edges[1:-1], x, side="right")
        for b in range(edges.size - 1):
            lo, hi = show(edges[b]), show(edges[b + 1])
            last = b == edges.size - 2
            preds.append(Predicate(f"{name}__q{b + 1}", name, {name: {"ge": lo, "le" if last else "lt": hi}},
                                   f"{name} in [{lo}, {hi}{']' if last else ')'}"))
            masks.append((bins == b) & ~missing)
    if missing.any():
        preds.append(Predicate(f"{name}__missing", name, {name: None}, f"{name} missing"))
        masks.append(missing)
    return preds, masks


def _number(v: float):
    return int(v) if float(v).is_integer() else float(v)


def _show_date(seconds: float) -> str:
    stamp = pd.Timestamp(int(seconds), unit="s")
    return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()


def _metadata_kind(values: pd.Series, n_quantiles: int) -> str:
    if pd.api.types.is_bool_dtype(values):
        return "categorical"
    if pd.api.types.is_numeric_dtype(values):
        return "numeric" if values.nunique(dropna=True) > n_quantiles else "categorical"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    observed = values.dropna().astype(str)
    if len(observed) and observed.str.match(_ISO_DATE).all():
        return "date"
    return "categorical"


def metadata_predicates(frame: pd.DataFrame, *, max_levels: int, n_quantiles: int,
                        exclude: Sequence[str] = ()) -> tuple[list, list, dict]:
    """Predicates of every ``meta__`` column of a canonical predictions table.

    Booleans and numbers with at most ``n_quantiles`` distinct values are
    categorical; other numbers and ISO dates (``YYYY-MM-DD...`` strings) are
    quantile-binned; anything else is categorical.

    Returns
    -------
    predicates, masks, categorical resolvers (column -> resolver)
    """
    preds, masks, resolvers = [], [], {}
    for column in frame.columns:
        if not column.startswith(META_PREFIX):
            continue
        name = column[len(META_PREFIX):]
        if name in exclude:
            continue
        values = frame[column]
        kind = _metadata_kind(values, n_quantiles)
        if kind == "categorical":
            p, m, resolver = categorical_predicates(name, values, max_levels=max_levels)
            resolvers[name] = resolver
        else:
            if kind == "date" and not pd.api.types.is_datetime64_any_dtype(values):
                values = pd.to_datetime(values, errors="coerce", format="ISO8601")
            p, m = quantile_predicates(name, values, n_quantiles=n_quantiles)
        preds += p
        masks += m
    return preds, masks, resolvers


def text_feature_table(texts, *, workers: int | None = None) -> pd.DataFrame:
    """:func:`blindspot.text_features.text_features`, over row chunks on several cores.

    The detectors are Arrow regex kernels that release the GIL, and each text's features
    depend on that text alone, so chunks run in threads give exactly the single call's
    table (a test checks it). At a million reviews on two cores the pass takes about 60% of
    the single call's time; below :data:`PARALLEL_MIN_ROWS` rows per worker it is one call.

    Parameters
    ----------
    texts : Series of str, shape (n,)
    workers : int, optional
        Threads; default ``min(cpu count, MAX_TEXT_WORKERS, n // PARALLEL_MIN_ROWS)``.

    Returns
    -------
    DataFrame, shape (n, 9), indexed like ``texts``
    """
    texts = texts if isinstance(texts, pd.Series) else pd.Series(texts)
    n = len(texts)
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_TEXT_WORKERS, n // PARALLEL_MIN_ROWS)
    workers = max(1, min(int(workers), n))
    if workers == 1:
        return tf.text_features(texts)
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(lambda lo_hi: tf.text_features(texts.iloc[lo_hi[0]:lo_hi[1]]),
                              zip(bounds[:-1], bounds[1:])))
    return pd.concat(parts)


def text_predicates(texts, *, detectors: Sequence[str], jargon_high_density: float, caps_high_share: float,
                    length_bands: Mapping[str, Sequence]) -> tuple[list, list]:
    """Predicates from the text detectors of :mod:`blindspot.text_features`.

    Parameters
    ----------
    texts : Series of str, shape (n,)
    detectors : sequence of str
        Names in :data:`TEXT_DETECTORS`.
    jargon_high_density : float
        ``jargon_high``: at least this many jargon matches per word.
    caps_high_share : float
        ``caps_high``: at least this share of words in capitals.
    length_bands : mapping of str to [low, high]
        ``length_<name>``: ``low <= n_words < high`` (high null: no upper bound).

    Raises
    ------
    ConfigError
        On an unknown detector name or a malformed band.
    """
    unknown = [d for d in detectors if d not in TEXT_DETECTORS]
    if unknown:
        raise ConfigError(f"slices.text_detectors: unknown detector(s) {unknown}; choose from {sorted(TEXT_DETECTORS)}.")
    preds, masks = [], []
    feats = text_feature_table(texts)  # every detector in one pass over the distinct texts
    density = feats["jargon_density"].to_numpy()
    preds.append(Predicate("jargon_high", "jargon", {"jargon_density": {"ge": jargon_high_density}},
                           f"reviews dense in medical jargon (>= {jargon_high_density:g} terms per word)"))
    masks.append(density >= jargon_high_density)
    for name in detectors:
        column, text = TEXT_DETECTORS[name]
        preds.append(Predicate(name, name, {name: True}, text))
        masks.append(feats[column].to_numpy(dtype=bool))
    caps = feats["caps_intensity"].to_numpy()
    preds.append(Predicate("caps_high", "caps", {"caps_intensity": {"ge": caps_high_share}},
                           f"reviews with >= {caps_high_share:.0%} of words in capitals"))
    masks.append(caps >= caps_high_share)
    words = feats["n_words"].to_numpy()
    for band, bounds in length_bands.items():
        if len(bounds) != 2 or bounds[0] is None or (bounds[1] is not None and bounds[1] <= bounds[0]):
            raise ConfigError(f"slices.length_bands.{band}: expected [low, high] with low < high "
                              f"(high may be null); got {list(bounds)}.")
        lo, hi = bounds
        spec = {"ge": lo} if hi is None else {"ge": lo, "lt": hi}
        text = f"reviews of {lo} words or more" if hi is None else f"reviews of {lo} to {hi - 1} words"
        preds.append(Predicate(f"length_{slugify(band)}", "length", {"n_words": spec}, text))
        masks.append((words >= lo) & (True if hi is None else words < hi))
    return preds, masks


def build_predicates(frame: pd.DataFrame, *, text_detectors: Sequence[str], jargon_high_density: float,
                     caps_high_share: float, length_bands: Mapping[str, Sequence], max_levels: int,
                     n_quantiles: int, metadata_exclude: Sequence[str] = ()) -> PredicateTable:
    """All predicates of a canonical predictions table (text first, then metadata).

    Returns
    -------
    PredicateTable
        Duplicate keys are refused (a metadata column whose slug collides with a text
        key would be ambiguous).
    """
    preds, masks = text_predicates(frame["text"], detectors=text_detectors, jargon_high_density=jargon_high_density,
                                   caps_high_share=caps_high_share, length_bands=length_bands)
    mp, mm, resolvers = metadata_predicates(frame, max_levels=max_levels, n_quantiles=n_quantiles,
                                            exclude=metadata_exclude)
    preds += mp
    masks += mm
    keys = [p.key for p in preds]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ConfigError(f"slice predicate keys collide: {dupes}; exclude or rename the metadata column.")
    matrix = np.column_stack(masks) if masks else np.zeros((len(frame), 0), dtype=bool)
    return PredicateTable(preds, matrix.astype(bool, copy=False), resolvers)
