"""Typed configuration: the dataclasses that ``params.yaml`` must fit.

Flow: ``conf/`` (Hydra) is composed into ``params.yaml`` by ``dvc exp run`` (or
``make params``); stages call :func:`load_params`, which merges that file onto these
dataclasses with ``OmegaConf.structured``. An unknown key (a typo) or a value of the
wrong type fails loudly here, before any work is done, with a :class:`ConfigError` of one
sentence: the key, and the closest real key ("did you mean") or the expected type and the
value found. A single value that must lie in a range is checked by its own section when the
section is built (each section's ``_ranges``, all of them listed in order in :data:`RANGES`);
values that must fit together are checked by :mod:`blindspot.preflight`; overrides on the
command line, by the Hydra plugin module in ``conf/hydra_plugins`` (both reuse the functions here).

Each section belongs to one stage; add a field to the section, to its ``conf/`` file,
and to the stage's ``params:`` list in ``dvc.yaml``, then run ``make params``.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from blindspot.errors import ConfigError


# --- value ranges: a section checks its own single values when it is built ---------------------------
#
# Each section lists ``_ranges``: (field, test, what the value must be). The attribute has no
# annotation, so it is no dataclass field and no params.yaml key. ``__post_init__`` runs the
# checks, so a section built from params.yaml (or by hand) holds values in range; a value set
# on a built section afterwards is checked by :func:`check_ranges` (blindspot.preflight runs it).


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def in_open_unit(v) -> bool:
    return is_number(v) and 0 < v < 1


def in_closed_unit(v) -> bool:
    return is_number(v) and 0 <= v <= 1


def in_half_open_unit(v) -> bool:
    return is_number(v) and 0 < v <= 1


def at_least(low: float) -> Callable[[Any], bool]:
    return lambda v: is_number(v) and v >= low


def null_or_at_least(low: float) -> Callable[[Any], bool]:
    return lambda v: v is None or (is_number(v) and v >= low)


def _check_own_ranges(section: Any, prefix: str) -> None:
    """Raise :class:`ConfigError` naming the first field of ``section`` outside its range."""
    for name, ok, expected in type(section)._ranges:
        value = getattr(section, name)
        if not ok(value):
            raise ConfigError(f"{prefix}{name} must be {expected}; found {value!r}")


@dataclass
class ColumnsConfig:
    """Contract field -> column name in the input file (remap here, never in code).

    ``id`` may be null: ids are then ``row-<record number>``. ``confidence`` may be
    null when probabilities are given: it is then their maximum. ``probabilities``
    names a column holding a class -> probability mapping (a JSON object, or its JSON
    text in CSV); null when there are none or when ``probability_prefix`` is used.
    """

    id: Optional[str] = "id"
    text: str = "text"
    label: str = "label"
    prediction: str = "prediction"
    confidence: Optional[str] = "confidence"
    probabilities: Optional[str] = "probabilities"


@dataclass
class ModelConfig:
    """One model version's predictions file and how to read it."""

    name: str = "v1"
    path: str = "data/raw/predictions/v1.json"
    format: str = "auto"  # auto | json | jsonl | csv | tsv | parquet
    columns: ColumnsConfig = field(default_factory=ColumnsConfig)
    # Flat probability columns instead of a mapping column: "p_" reads p_<class>.
    probability_prefix: Optional[str] = None
    # Metadata columns to keep; null keeps every column that is not a contract field.
    metadata: Optional[List[str]] = None


@dataclass
class IngestConfig:
    """Validation rules of the ingest stage."""

    classes: List[str] = field(default_factory=lambda: ["negative", "neutral", "positive"])
    # Explicit aliases for labels and predictions, e.g. {"Positive": "positive"}.
    # Nothing is case-folded or stripped unless it is listed here.
    label_map: Dict[str, str] = field(default_factory=dict)
    # How far probabilities may sum from 1, and confidence sit from their max.
    tolerance: float = 1.0e-3
    # A field (text, or a nested value's JSON) above this many bytes of UTF-8 rejects its row,
    # recorded with its length and sha256, not copied. A UTF-8 byte-order mark is always
    # skipped (noted as bom_stripped in metrics/ingest.json): ingest.allow_bom is gone.
    max_field_bytes: int = 1048576
    # A whole record (a JSON Lines line, or a row's fields together) above this is rejected unread.
    max_record_bytes: int = 4194304

    _ranges = (
        ("tolerance", at_least(0), "a number >= 0"),
    )

    def __post_init__(self):
        _check_own_ranges(self, "ingest.")


@dataclass
class StatsConfig:
    """Shared statistics settings: every interval and test uses these."""

    n_boot: int = 1000
    ci_level: float = 0.95
    fdr_alpha: float = 0.05

    _ranges = (
        ("n_boot", at_least(1), "at least 1"),
        ("ci_level", in_open_unit, "in (0, 1), e.g. 0.95"),
        ("fdr_alpha", in_open_unit, "in (0, 1), e.g. 0.05"),
    )

    def __post_init__(self):
        _check_own_ranges(self, "stats.")


# --- per-stage sections: each is owned by its stage (conf/<group>/default.yaml) ---


@dataclass
class ProfileConfig:
    """Profile stage (conf/profile/default.yaml). Bootstrap size and level: ``stats``."""

    # Quantiles of text length (words, characters) written to metrics/profile.json.
    length_quantiles: List[float] = field(default_factory=lambda: [0.05, 0.25, 0.5, 0.75, 0.95])


@dataclass
class SlicesConfig:
    """Slice stage (conf/slices/default.yaml). Tests, FDR level, intervals: ``stats``."""

    # A slice is tested only with at least this many rows (and the rest too).
    min_support: int = 30
    # Per-class recall in a slice is tested only with this many rows of the class
    # inside the slice and outside it.
    min_class_support: int = 10
    # Discovery: conjunctions of up to this many predicates (1 = single predicates).
    max_depth: int = 2
    # Metadata columns never sliced on: raw names (without meta__) or column keys
    # (metrics/slices.json columns_tested). Skipped with reason "excluded".
    metadata_exclude: List[str] = field(default_factory=list)
    # Categorical metadata: every value with at least min_support rows is a slice of its own,
    # the rarer values pooled as "<column>__other". A number caps the values with a slice of
    # their own at that many most frequent ones (null: no cap, so no frequent value is pooled).
    max_levels: Optional[int] = None
    # Numeric and date metadata: quantile bins.
    n_quantiles: int = 4
    # Boolean text detectors to slice on (names of blindspot.slices.features.TEXT_DETECTORS).
    text_detectors: List[str] = field(default_factory=lambda: [
        "negated_term", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"])
    # jargon_high: at least this many medical-jargon matches per word.
    jargon_high_density: float = 0.05
    # caps_high: at least this share of words in capitals.
    caps_high_share: float = 0.05
    # length_q1 .. length_q<m>: word count between the data's own quantiles (m bins; 0: none).
    # The key names the quantile; the whole-word edges are in metrics/slices.json text_features.
    length_quantiles: int = 4
    # words_le_<w>: reviews of at most this many words (null: none).
    very_short_words: Optional[int] = 10
    # length_<name>: fixed word-count bands [low, high), null high open-ended; none by default
    # (list e.g. {short: [0, 40], long: [130, null]} to keep fixed bands across data sets).
    length_bands: Dict[str, List[Optional[int]]] = field(default_factory=dict)
    # Named slices evaluated on every model version under these keys; a key is a
    # predicate key or predicate keys joined by "__and__".
    watchlist: List[str] = field(default_factory=list)
    # Confusion matrices drawn for this many top blind spots.
    top_k_plots: int = 4
    # Topics learned from the texts alone (TF-IDF + NMF, blindspot.slices.topics): at most this
    # many (one per 100 sampled reviews, at least 2); each is a slice tested alone. 0: none.
    topics_max: int = 20
    # A review is in every topic whose weight (about its cosine with the topic) is at least this.
    topic_weight_floor: float = 0.15
    # Seeded sample of the reviews the topics and the error terms' candidate words are fitted on.
    text_sample_rows: int = 20000
    # Error-associated terms (blindspot.slices.terms): this many words or bigrams selected on each
    # half of a seeded split and tested on the other (cross-fitted). 0: none.
    terms_top_k: int = 20
    # A term is a candidate when at least this many reviews hold it ...
    terms_min_support: int = 30
    # ... and at most this share of them.
    terms_max_df: float = 0.5

    _ranges = (
        ("min_support", at_least(1), "at least 1"),
        ("min_class_support", at_least(1), "at least 1"),
        ("max_depth", at_least(1), "at least 1 (1 = single predicates)"),
        ("max_levels", null_or_at_least(1), "null or at least 1 (null: no cap)"),
        ("length_quantiles", lambda v: is_number(v) and (v == 0 or v >= 2), "0 or at least 2 (0: no quantile bins)"),
        ("very_short_words", null_or_at_least(1), "null or at least 1 (null: no very-short bin)"),
        ("n_quantiles", at_least(2), "at least 2"),
        ("jargon_high_density", at_least(0), "a number >= 0"),
        ("caps_high_share", in_closed_unit, "in [0, 1]"),
        ("top_k_plots", at_least(0), "at least 0"),
        ("topics_max", lambda v: is_number(v) and (v == 0 or v >= 2), "0 or at least 2 (0: no topics)"),
        ("topic_weight_floor", in_half_open_unit, "in (0, 1]"),
        ("text_sample_rows", at_least(200), "at least 200 (fewer rows give no topics)"),
        ("terms_top_k", at_least(0), "at least 0 (0: no error terms)"),
        ("terms_min_support", at_least(2), "at least 2"),
        ("terms_max_df", in_half_open_unit, "in (0, 1]"),
    )

    def __post_init__(self):
        _check_own_ranges(self, "slices.")


@dataclass
class CalibrationConfig:
    """Calibrate stage (conf/calibration/default.yaml)."""

    # Bins of every reliability curve (equal-width and equal-mass alike).
    n_bins: int = 10
    # A wrong prediction with confidence >= a threshold is "confidently incorrect".
    confident_thresholds: List[float] = field(default_factory=lambda: [0.7, 0.8, 0.9])
    # A right prediction whose top-two probability margin is below this is "underconfident".
    underconfident_margin: float = 0.1
    # Classes and slices with fewer rows get their n and a reason instead of numbers.
    min_n: int = 50
    # Reliability curves drawn for this many worst slices.
    n_worst: int = 4
    # Cross-fitting folds of the recalibration what-if.
    recalibration_folds: int = 5
    # Cap on rows written to confident_errors.jsonl / underconfident_correct.jsonl (null: all).
    max_listed_rows: Optional[int] = 5000

    _ranges = (
        ("n_bins", at_least(2), "at least 2"),
        ("underconfident_margin", in_half_open_unit, "in (0, 1]"),
        ("min_n", at_least(1), "at least 1"),
        ("n_worst", at_least(0), "at least 0"),
        ("recalibration_folds", at_least(2), "at least 2"),
        ("max_listed_rows", null_or_at_least(0), "null or at least 0"),
    )

    def __post_init__(self):
        _check_own_ranges(self, "calibration.")


@dataclass
class JudgeOfflineConfig:
    """Settings of the offline rule-based judge (blindspot.judge.offline)."""

    # jargon_density at or above this reads as the technical register.
    technical_jargon_density: float = 0.05
    # A polar reading at least this confident may call an opposite gold label wrong.
    gold_wrong_confidence: float = 0.75
    # The polarity (negative/neutral/positive) of each class in ingest.classes, in that order,
    # e.g. [negative, positive] for classes ["0", "1"]: writable for any class name from the
    # command line. Null: classes named negative/neutral/positive (any case) map themselves,
    # and with other names the offline judge abstains on every row, with the reason.
    polarity: Optional[List[str]] = None
    # The same as a class name -> polarity mapping (kept for existing configs); set one of the two.
    class_polarity: Optional[Dict[str, str]] = None


@dataclass
class JudgeHttpConfig:
    """An OpenAI-compatible chat-completions endpoint (blindspot.judge.http)."""

    base_url: str = "http://localhost:11434/v1"
    model: str = "qwen2.5:7b-instruct"
    # NAME of the environment variable holding the API key (never the key itself); null: no auth.
    api_key_env: Optional[str] = None
    timeout_s: float = 60.0  # total seconds one judge call may take, every attempt and backoff wait included
    max_retries: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    concurrency: int = 4
    max_tokens: int = 400
    json_mode: bool = True


@dataclass
class JudgeConfig:
    """Judge stage (conf/judge/offline.yaml, conf/judge/openai.yaml)."""

    backend: str = "offline"  # offline | openai
    prompt_version: str = "judge_v1"  # src/blindspot/judge/prompts/<name>.txt (openai backend)
    max_candidates: int = 250  # rows judged at most (the selection budget)
    random_sample_size: int = 100  # of which a seeded random sample of all rows
    confident_threshold: float = 0.8  # wrong and confidence >= this: confidently incorrect
    max_calls: int = 500  # backend calls one run may make; cache hits are free
    offline: JudgeOfflineConfig = field(default_factory=JudgeOfflineConfig)
    http: JudgeHttpConfig = field(default_factory=JudgeHttpConfig)


@dataclass
class BaselineConfig:
    """The previous model version's predictions file (read with the ingest validation)."""

    # How the brief names the baseline version.
    name: str = "baseline"
    # Null (the default): no paired comparison, metrics/compare.json says "no baseline
    # configured". A model file sets its own (conf/model/v2.yaml pairs v2 with v1). The file
    # must be under data/raw, which the compare stage lists as a dependency.
    path: Optional[str] = None
    format: str = "auto"
    # Null: read it with the current model's column mapping and probability_prefix.
    columns: Optional[ColumnsConfig] = None
    # Used only when ``columns`` is given.
    probability_prefix: Optional[str] = None


@dataclass
class CompareConfig:
    """Compare stage (conf/compare/default.yaml): paired tests of the current model against a baseline."""

    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    # Wrong with confidence >= this: "confidently incorrect" (compared with McNemar's test).
    confident_threshold: float = 0.8
    # A slice, or a class inside it, with fewer paired rows is reported with n and a reason, untested.
    min_rows: int = 10


@dataclass
class ReportConfig:
    """Report stage (conf/report/default.yaml)."""

    title: str = "Blind Spot Brief"
    # Rows of the ranked blind-spot table (significant slice findings, by rank).
    max_blind_spots: int = 10
    # Confidently-incorrect examples quoted, and the characters kept of each review.
    n_examples: int = 6
    max_quote_chars: int = 320
    # Confidence band shown for "confidently incorrect" (one of calibration.confident_thresholds;
    # the closest one is used otherwise, and named).
    confident_threshold: float = 0.8
    # What missing a class means for patients and users, by class name (risk table wording).
    class_risk: Dict[str, str] = field(default_factory=dict)

    _ranges = (
        ("max_blind_spots", at_least(0), "at least 0"),
        ("n_examples", at_least(0), "at least 0"),
        ("max_quote_chars", at_least(1), "at least 1"),
        ("confident_threshold", in_half_open_unit, "in (0, 1]"),
    )

    def __post_init__(self):
        _check_own_ranges(self, "report.")


@dataclass
class GateConfig:
    """The release gate (conf/gate/default.yaml, :mod:`blindspot.gate`): which rules can fail a build."""

    # A blind spot of its own (slice key and metric) new or reopened against the previous audited version.
    new_blind_spot: bool = True
    # A class significantly weaker than the others, new or reopened against the previous audited version.
    new_weak_class: bool = True
    # A metric significantly worse than the baseline's in the compare stage's paired tests (after FDR control).
    worse_than_baseline: bool = True
    # Floors on headline numbers, by name (accuracy, balanced_accuracy, f1_macro, mcc, cohen_kappa, recall_<class>).
    floors: Dict[str, Optional[float]] = field(default_factory=dict)


ENGINES = ("local", "dask")


@dataclass
class DaskConfig:
    """The Dask cluster of ``engine: dask`` (:mod:`blindspot.engine`); unused with ``engine: local``."""

    # tcp://host:8786 of a running scheduler; null starts a LocalCluster on this machine for the run.
    scheduler_address: Optional[str] = None
    # The LocalCluster's worker processes, threads in each, and memory each may use ("2GB", or bytes).
    n_workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "2GB"

    _ranges = (
        ("n_workers", at_least(1), "at least 1"),
        ("threads_per_worker", at_least(1), "at least 1"),
    )

    def __post_init__(self):
        _check_own_ranges(self, "dask.")


@dataclass
class Config:
    """The whole of ``params.yaml``."""

    seed: int = 20261122
    # Where ingest's row-level work runs: local (this process) or dask (the cluster of the dask section).
    engine: str = "local"
    dask: DaskConfig = field(default_factory=DaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    slices: SlicesConfig = field(default_factory=SlicesConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    gate: GateConfig = field(default_factory=GateConfig)

    # Below 2^32: the salt of a named draw over rows (blindspot.samples._salt) XORs the name's CRC into the
    # seed's high 32 bits, so above 2^32 two seeds could give one salt (two audits the same draws).
    _ranges = (("seed", lambda v: is_number(v) and 0 <= v < 2 ** 32,
                "an integer in [0, 2^32) (numpy seeds are non-negative; the draws over rows mix 32 bits of it)"),
               ("engine", lambda v: v in ENGINES, "one of " + ", ".join(ENGINES)))

    def __post_init__(self):
        _check_own_ranges(self, "")


# Every single-value range, as (dotted key, test, what it must be), in the order they are checked.
_RANGED_SECTIONS = (("", Config), ("stats.", StatsConfig), ("ingest.", IngestConfig), ("slices.", SlicesConfig),
                    ("calibration.", CalibrationConfig), ("report.", ReportConfig), ("dask.", DaskConfig))
RANGES: tuple = tuple((prefix + name, ok, expected) for prefix, cls in _RANGED_SECTIONS for name, ok, expected in cls._ranges)


def check_ranges(cfg: Config) -> None:
    """Each single value of ``cfg`` in its range (:data:`RANGES`), also one set after the sections were built.

    Raises
    ------
    ConfigError
        ``"stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5"`` for the first value out of range.
    """
    for prefix, cls in _RANGED_SECTIONS:
        section = getattr(cfg, prefix[:-1]) if prefix else cfg
        _check_own_ranges(section, prefix)


# --- reading params.yaml: every problem is one sentence naming the key ---------------------------------


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``Optional[X]`` -> ``(X, True)``; anything else -> ``(tp, False)``."""
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


_SCALAR_NAMES = {int: ("an integer", "integers"), float: ("a number", "numbers"), str: ("a string", "strings"),
                 bool: ("true or false", "true/false values"), Any: ("any value", "values")}


def describe_type(tp: Any, *, plural: bool = False) -> str:
    """A config field's type in words: ``List[str]`` -> "a list of strings".

    Parameters
    ----------
    tp : type
        A resolved annotation of a config dataclass field.
    plural : bool
        The plural form, used for the items of a list or mapping.
    """
    inner, optional = _unwrap_optional(tp)
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if inner in _SCALAR_NAMES:
        words = _SCALAR_NAMES[inner][plural]
    elif origin in (list, tuple):
        words = ("lists of " if plural else "a list of ") + describe_type(args[0] if args else Any, plural=True)
    elif origin is dict:
        key, value = args if args else (str, Any)
        words = (("mappings of " if plural else "a mapping of ") + describe_type(key, plural=True) + " to "
                 + describe_type(value, plural=True))
    elif dataclasses.is_dataclass(inner):
        names = ", ".join(f.name for f in dataclasses.fields(inner))
        words = ("mappings" if plural else "a mapping") + f" with keys {names}"
    else:
        words = getattr(inner, "__name__", str(inner))
    return words + ((" or nulls" if plural else " or null") if optional else "")


def _show(value: Any, limit: int = 60) -> str:
    """A found value as the user wrote it (JSON spelling, shortened)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _suggest(name: str, choices: list[str]) -> Optional[str]:
    """The closest of ``choices`` to a misspelt ``name`` (case first, then difflib), or None."""
    for choice in choices:
        if choice.lower() == name.lower():
            return choice
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_sentence(full_key: str, prefix: str, name: str, choices: list[str], rest: str = "") -> str:
    """"unknown key 'a.b'; did you mean 'a.c'?" (or the keys there are, when nothing is close)."""
    guess = _suggest(name, choices)
    if guess is not None:
        return f"unknown key {full_key!r}; did you mean {prefix + guess + rest!r}?"
    where = f"under {prefix[:-1]!r}" if prefix else "at the top level"
    return f"unknown key {full_key!r}; the keys {where} are {', '.join(choices)}"


def _field_type(path: list[str], root: type = None) -> Any:
    """The annotation of the field at a dotted ``path`` (None when the path leaves the dataclasses)."""
    tp: Any = root or Config
    for part in path:
        inner, _ = _unwrap_optional(tp)
        if dataclasses.is_dataclass(inner):
            hints = typing.get_type_hints(inner)
            if part not in hints:
                return None
            tp = hints[part]
        elif typing.get_origin(inner) is dict:
            args = typing.get_args(inner)
            tp = args[1] if args else Any
        elif typing.get_origin(inner) in (list, tuple):
            args = typing.get_args(inner)
            tp = args[0] if args else Any
        else:
            return None
    return tp


def _walk(data: Any, cls: type, prefix: str, unknown: list[str], wrong: list[str]) -> None:
    """Collect unknown keys and values of the wrong shape (mapping / list / scalar) under ``cls``."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    for raw_key, value in data.items():
        key, full = str(raw_key), prefix + str(raw_key)
        if key not in hints:
            unknown.append(_unknown_sentence(full, prefix, key, names))
            continue
        tp, optional = _unwrap_optional(hints[key])
        if value is None:
            continue  # OmegaConf says whether null is allowed (a clear message is built from its error)
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            if isinstance(value, dict):
                _walk(value, tp, full + ".", unknown, wrong)
            else:
                wrong.append(f"key {full!r} expects {describe_type(hints[key])}; found {_show(value)}")
        elif origin in (list, tuple) and not isinstance(value, list):
            wrong.append(f"key {full!r} expects {describe_type(hints[key])}; found {_show(value)}")
        elif origin is dict and not isinstance(value, dict):
            wrong.append(f"key {full!r} expects {describe_type(hints[key])}; found {_show(value)}")
        elif tp in _SCALAR_NAMES and tp is not Any and isinstance(value, (dict, list)):
            wrong.append(f"key {full!r} expects {describe_type(hints[key])}; found {_show(value)}")


def _lookup(data: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def config_from_mapping(data: Any, source: str = "params.yaml") -> Config:
    """Check a plain mapping against :class:`Config` and build it.

    Parameters
    ----------
    data : dict
        The parsed ``params.yaml`` (or a composed Hydra config without its ``hydra`` node).
    source : str
        Where the mapping came from; every message starts with it.

    Returns
    -------
    Config
        Missing keys take the dataclass defaults; OmegaConf converts what it safely can
        (``"5"`` -> 5 for an integer, ``0`` -> ``"0"`` for a string).

    Raises
    ------
    ConfigError
        One sentence: ``"<source>: unknown key 'model.colums'; did you mean 'model.columns'?"``
        or ``"<source>: key 'stats.n_boot' expects an integer; found \\"many\\""``.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections ({', '.join(f.name for f in dataclasses.fields(Config))}); "
                          f"found {_show(data)}")
    unknown: list[str] = []
    wrong: list[str] = []
    _walk(data, Config, "", unknown, wrong)
    if unknown:
        more = f" ({len(unknown) - 1} more unknown key(s) after it)" if len(unknown) > 1 else ""
        raise ConfigError(f"{source}: {unknown[0]}{more}")
    if wrong:
        raise ConfigError(f"{source}: {wrong[0]}")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Config), OmegaConf.create(data))
        return OmegaConf.to_object(merged)  # each section checks its ranges as it is built
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except OmegaConfBaseException as exc:
        key = str(getattr(exc, "full_key", "") or "")
        path = re.sub(r"\[(\d+)\]", r".\1", key).split(".") if key else []  # 'a.b[1]' -> a, b, 1
        tp = _field_type(path) if path else None
        if tp is not None:
            raise ConfigError(f"{source}: key {key!r} expects {describe_type(tp)}; "
                              f"found {_show(_lookup(data, path))}") from None
        first = str(getattr(exc, "msg", None) or exc).splitlines()[0]
        raise ConfigError(f"{source}: {first}" + (f" (key {key!r})" if key else "")) from None


def check_override_key(key: str) -> Optional[str]:
    """Whether a dotted key (a Hydra override's left-hand side) names a config field.

    Keys inside a mapping-typed field (``ingest.label_map.Positive``) and list items are
    free; every other part must be a dataclass field.

    Returns
    -------
    str or None
        None when the key exists; otherwise one sentence, e.g.
        ``"unknown key 'modle.path'; did you mean 'model.path'?"`` (every misspelt part
        corrected where a close name exists).
    """
    parts = key.split(".")
    tp: Any = Config
    for i, part in enumerate(parts):
        inner, _ = _unwrap_optional(tp)
        if not dataclasses.is_dataclass(inner):
            origin = typing.get_origin(inner)
            if origin in (dict, list, tuple) or inner is Any:
                return None
            above = ".".join(parts[:i])
            return f"unknown key {key!r}: {above!r} is {describe_type(tp)}, not a section"
        hints = typing.get_type_hints(inner)
        if part not in hints:
            prefix = ".".join(parts[:i]) + "." if i else ""
            names = [f.name for f in dataclasses.fields(inner)]
            guess = _suggest(part, names)
            rest = ""
            if guess is not None and i + 1 < len(parts):
                # Correct the rest too where it is also misspelt: 'modle.colums.txt' -> 'model.columns.text'.
                fixed = _correct(parts[i + 1:], hints[guess])
                rest = "." + ".".join(fixed)
            return _unknown_sentence(key, prefix, part, names, rest)
        tp = hints[part]
    return None


def _correct(parts: list[str], tp: Any) -> list[str]:
    """Best-effort correction of each misspelt part under ``tp`` (kept as written when nothing is close)."""
    out = []
    for part in parts:
        inner, _ = _unwrap_optional(tp)
        if not dataclasses.is_dataclass(inner):
            out.append(part)
            tp = Any
            continue
        hints = typing.get_type_hints(inner)
        name = part if part in hints else (_suggest(part, list(hints)) or part)
        out.append(name)
        tp = hints.get(name, Any)
    return out


def load_params(path: str | Path = "params.yaml") -> Config:
    """Read ``params.yaml`` into a typed :class:`Config`.

    Raises
    ------
    ConfigError
        If the file is missing or not YAML, or a key is unknown ("did you mean ...?")
        or has the wrong type (the key, the expected type and the value found).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: not found. Run from the repository root, or `make params` to compose it.")
    try:
        # OmegaConf's YAML loader, as the stages always used (it reads 1e-3 as a number, PyYAML as a string).
        loaded = OmegaConf.load(path)
        data = OmegaConf.to_container(loaded, resolve=False)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"{path}: {str(getattr(exc, 'msg', None) or exc).splitlines()[0]}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); compose it again with `make params`") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    return config_from_mapping({} if data is None else data, str(path))


def to_dict(cfg: Any) -> dict:
    """A plain ``dict`` of a config dataclass (for logging and hashing)."""
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)
