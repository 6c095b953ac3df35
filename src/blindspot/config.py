"""Typed configuration: the dataclasses that ``params.yaml`` must fit.

Flow: ``conf/`` (Hydra) is composed into ``params.yaml`` by ``dvc exp run`` (or
``make params``); stages call :func:`load_params`, which merges that file onto these
dataclasses with ``OmegaConf.structured``. An unknown key (a typo) or a value of the
wrong type fails loudly here, before any work is done, with a :class:`ConfigError`
naming the key.

Each section belongs to one stage; add a field to the section, to its ``conf/`` file,
and to the stage's ``params:`` list in ``dvc.yaml``, then run ``make params``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from blindspot.errors import ConfigError


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
    # A UTF-8 byte-order mark is refused unless this is true.
    allow_bom: bool = False


@dataclass
class StatsConfig:
    """Shared statistics settings: every interval and test uses these."""

    n_boot: int = 1000
    ci_level: float = 0.95
    fdr_alpha: float = 0.05


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
    # Metadata columns (names without meta__) never sliced on.
    metadata_exclude: List[str] = field(default_factory=list)
    # Categorical metadata: at most this many most frequent values, the rest "other".
    max_levels: int = 10
    # Numeric and date metadata: quantile bins.
    n_quantiles: int = 4
    # Boolean text detectors to slice on (names of blindspot.slices.features.TEXT_DETECTORS).
    text_detectors: List[str] = field(default_factory=lambda: [
        "negation", "sarcasm_cue", "mixed_sentiment", "question", "exclamation"])
    # jargon_high: at least this many medical-jargon matches per word.
    jargon_high_density: float = 0.05
    # caps_high: at least this share of words in capitals.
    caps_high_share: float = 0.05
    # length_<name>: word count in [low, high); null high is open-ended.
    length_bands: Dict[str, List[Optional[int]]] = field(default_factory=lambda: {
        "short": [0, 40], "medium": [40, 130], "long": [130, None]})
    # Named slices evaluated on every model version under these keys; a key is a
    # predicate key or predicate keys joined by "__and__".
    watchlist: List[str] = field(default_factory=list)
    # Confusion matrices drawn for this many top blind spots.
    top_k_plots: int = 4


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


@dataclass
class JudgeOfflineConfig:
    """Settings of the offline rule-based judge (blindspot.judge.offline)."""

    # jargon_density at or above this reads as the technical register.
    technical_jargon_density: float = 0.05
    # A polar reading at least this confident may call an opposite gold label wrong.
    gold_wrong_confidence: float = 0.75
    # Class name -> polarity the rules read (negative/neutral/positive); null when classes are so named.
    class_polarity: Optional[Dict[str, str]] = None


@dataclass
class JudgeHttpConfig:
    """An OpenAI-compatible chat-completions endpoint (blindspot.judge.http)."""

    base_url: str = "http://localhost:11434/v1"
    model: str = "qwen2.5:7b-instruct"
    # NAME of the environment variable holding the API key (never the key itself); null: no auth.
    api_key_env: Optional[str] = None
    timeout_s: float = 60.0
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

    name: str = "v1"
    # Null: no paired comparison (metrics/compare.json says so). Keep it under data/raw,
    # which the compare stage lists as a dependency.
    path: Optional[str] = "data/raw/predictions/v1.json"
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
    # A git revision whose committed metrics/*.json give unpaired per-metric deltas (null: none).
    # A convenience that makes the report depend on git history; the compare stage is the test to trust.
    baseline_rev: Optional[str] = None
    # What missing a class means for patients and users, by class name (risk table wording).
    class_risk: Dict[str, str] = field(default_factory=dict)


@dataclass
class Config:
    """The whole of ``params.yaml``."""

    seed: int = 20261122
    model: ModelConfig = field(default_factory=ModelConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    profile: ProfileConfig = field(default_factory=ProfileConfig)
    slices: SlicesConfig = field(default_factory=SlicesConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    report: ReportConfig = field(default_factory=ReportConfig)


def load_params(path: str | Path = "params.yaml") -> Config:
    """Read ``params.yaml`` into a typed :class:`Config`.

    Raises
    ------
    ConfigError
        If the file is missing, or a key is unknown or has the wrong type.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: not found. Run from the repository root, or `make params` to compose it.")
    try:
        loaded = OmegaConf.load(path)
        merged = OmegaConf.merge(OmegaConf.structured(Config), loaded)
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        where = f" at key {key!r}" if key else ""
        raise ConfigError(f"{path}{where}: {exc.msg if hasattr(exc, 'msg') else exc}".splitlines()[0]) from None


def to_dict(cfg: Any) -> dict:
    """A plain ``dict`` of a config dataclass (for logging and hashing)."""
    return OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)
