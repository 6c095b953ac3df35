"""Configuration checks of the judge, as pure functions: callable before any stage runs.

:func:`check_config` raises :class:`~blindspot.errors.ConfigError` (one sentence, naming
the key) for a ``judge`` section that cannot work: a value out of range, an unknown
backend or prompt, impossible HTTP limits, a polarity map that does not fit
``ingest.classes``. It reads no file but the prompt and, only when asked, the given
environment mapping.

What is *not* a configuration error: class names the offline rules cannot read as
sentiments (``0``/``1``, emoji, 32 topics) with no polarity map. The offline judge then
abstains on every row with the reason (:func:`resolve_polarity`), and the pipeline
goes on.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from blindspot.errors import ConfigError

BACKENDS = ("offline", "openai")
POLARITIES = ("negative", "neutral", "positive")


def _polarity_value(value, where: str) -> str:
    text = str(value).strip().lower() if value is not None else ""
    if text not in POLARITIES:
        raise ConfigError(f"{where} must be one of {list(POLARITIES)}, got {value!r}")
    return text


def _check_map(mapping: dict, source: str) -> None:
    values = list(mapping.values())
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ConfigError(f"{source} gives the polarity {repeated[0]!r} to more than one class; each of negative, "
                          f"neutral, positive may name at most one class, since the judge's reading must map back to "
                          f"one class")
    missing = [p for p in ("negative", "positive") if p not in values]
    if missing:
        raise ConfigError(f"{source} has no class for the polarity {missing[0]!r}; the offline rules read negative "
                          f"and positive (and optionally neutral), so both need a class")


def configured_polarity(offline, classes: Sequence[str]) -> Optional[dict]:
    """The class -> polarity map the user wrote (``judge.offline.polarity`` or ``class_polarity``), validated.

    Parameters
    ----------
    offline : blindspot.config.JudgeOfflineConfig
    classes : sequence of str, length K
        ``ingest.classes``.

    Returns
    -------
    dict or None
        None when neither key is set.

    Raises
    ------
    ConfigError
        Both keys set, a length or class set that does not match ``ingest.classes``, an
        unknown polarity, or a polarity given to two classes.
    """
    classes = [str(c) for c in classes]
    listed, mapped = getattr(offline, "polarity", None), getattr(offline, "class_polarity", None)
    if listed is not None and mapped is not None:
        raise ConfigError("judge.offline.polarity and judge.offline.class_polarity are both set; set one of the two")
    if listed is not None:
        listed = list(listed)
        if len(listed) != len(classes):
            raise ConfigError(f"judge.offline.polarity has {len(listed)} entries but ingest.classes has "
                              f"{len(classes)} ({classes}); give one polarity per class, in that order")
        mapping = {c: _polarity_value(v, f"judge.offline.polarity[{i}] (class {c!r})")
                   for i, (c, v) in enumerate(zip(classes, listed))}
        _check_map(mapping, "judge.offline.polarity")
        return mapping
    if mapped is not None:
        keys = [str(k) for k in mapped]
        extra = [k for k in keys if k not in classes]
        absent = [c for c in classes if c not in keys]
        if extra or absent:
            detail = f"class {absent[0]!r} has no entry" if absent else f"{extra[0]!r} is not in ingest.classes"
            raise ConfigError(f"judge.offline.class_polarity must name every class of ingest.classes ({classes}) and "
                              f"no other: {detail}; or use the list form judge.offline.polarity=[...]")
        mapping = {str(k): _polarity_value(v, f"judge.offline.class_polarity[{str(k)!r}]") for k, v in mapped.items()}
        _check_map(mapping, "judge.offline.class_polarity")
        return {c: mapping[c] for c in classes}
    return None


def resolve_polarity(offline, classes: Sequence[str]) -> tuple[Optional[dict], Optional[str]]:
    """How the offline rules map onto ``classes``: (class -> polarity, None) or (None, why they cannot).

    A configured map wins; otherwise classes named negative / neutral / positive (any
    case, surrounding spaces ignored) map themselves.

    Returns
    -------
    mapping : dict or None
    reason : str or None
        When there is no mapping, the abstention reason, e.g. ``class '0' has no
        polarity; set judge.offline.polarity``.

    Raises
    ------
    ConfigError
        From :func:`configured_polarity`.
    """
    classes = [str(c) for c in classes]
    mapping = configured_polarity(offline, classes)
    if mapping is not None:
        return mapping, None
    auto = {c: c.strip().lower() for c in classes}
    for c in classes:
        if auto[c] not in POLARITIES:
            return None, f"class {c!r} has no polarity; set judge.offline.polarity"
    values = list(auto.values())
    for p in ("negative", "positive"):
        if p not in values:
            return None, f"no class has the polarity {p!r}; set judge.offline.polarity"
    if len(set(values)) != len(values):
        return None, "two classes read as the same polarity; set judge.offline.polarity"
    return auto, None


def check_config(cfg_judge, classes: Sequence[str], environ: Optional[Mapping[str, str]] = None) -> None:
    """Every check of the ``judge`` section that needs no data: call it before any stage runs.

    Parameters
    ----------
    cfg_judge : blindspot.config.JudgeConfig
    classes : sequence of str
        ``ingest.classes``.
    environ : mapping, optional
        ``os.environ`` to also check that the variable named by ``judge.http.api_key_env``
        is set (openai backend only); omitted, the environment is not read.

    Raises
    ------
    ConfigError
        One sentence naming the key, what was expected and what was found.
    """
    if cfg_judge.backend not in BACKENDS:
        raise ConfigError(f"judge.backend must be one of {list(BACKENDS)}, got {cfg_judge.backend!r}")
    if not 0 <= cfg_judge.confident_threshold <= 1:
        raise ConfigError(f"judge.confident_threshold must be in [0, 1], got {cfg_judge.confident_threshold}")
    for name in ("max_candidates", "random_sample_size", "max_calls"):
        if getattr(cfg_judge, name) < 0:
            raise ConfigError(f"judge.{name} must be >= 0, got {getattr(cfg_judge, name)}")
    offline = cfg_judge.offline
    if not 0 <= offline.gold_wrong_confidence <= 1:
        raise ConfigError(f"judge.offline.gold_wrong_confidence must be in [0, 1], got {offline.gold_wrong_confidence}")
    if not offline.technical_jargon_density >= 0:
        raise ConfigError(f"judge.offline.technical_jargon_density must be >= 0, got {offline.technical_jargon_density}")
    configured_polarity(offline, classes)  # checked whichever backend runs: a typo is a typo
    if cfg_judge.backend == "openai":
        from blindspot.judge.http import check_http_config
        from blindspot.judge.prompt import load_prompt

        check_http_config(cfg_judge.http)
        load_prompt(cfg_judge.prompt_version)
        var = cfg_judge.http.api_key_env
        if environ is not None and var and not environ.get(var):
            raise ConfigError(f"judge.http.api_key_env names the environment variable {var!r}, but it is not set (or "
                              f"empty); export it, or set judge.http.api_key_env=null for a server without "
                              f"authentication")
