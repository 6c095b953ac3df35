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
    """Profile stage (conf/profile/default.yaml)."""


@dataclass
class SlicesConfig:
    """Slice stage (conf/slices/default.yaml)."""

    min_support: int = 30


@dataclass
class CalibrationConfig:
    """Calibrate stage (conf/calibration/default.yaml)."""

    n_bins: int = 10


@dataclass
class JudgeConfig:
    """Judge stage (conf/judge/offline.yaml, conf/judge/openai.yaml)."""

    backend: str = "offline"


@dataclass
class ReportConfig:
    """Report stage (conf/report/default.yaml)."""


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
