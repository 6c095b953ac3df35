"""Every configuration check that needs no data, run by the first stage before any work.

``dvc repro`` runs ingest first; ingest calls :func:`check` right after
:func:`~blindspot.config.load_params`. A setting that cannot work (a level outside (0, 1),
a band the report cannot show, a polarity map that does not fit the classes, a baseline
file outside the workspace) therefore stops the run at stage one, in one sentence naming
the key, instead of at stage five after four stages ran.

Types and unknown keys are :func:`~blindspot.config.load_params`'s job; this module checks
values and how keys fit together. It stays cheap: it reads no data file (the ingest stage
does) and imports no stage library that the ingest stage does not load anyway.
The label values found in the file are ingest's to check (it names the labels it found
when they do not match ``ingest.classes``); they are not repeated here.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Callable, Mapping, Optional, Sequence

# The single-value ranges live on the config sections (blindspot.config.RANGES lists them all).
from blindspot.config import RANGES, at_least, check_ranges, in_closed_unit, in_half_open_unit, is_number  # noqa: F401
from blindspot.errors import ConfigError

# Names of blindspot.slices.features.TEXT_DETECTORS, kept here because importing the slices
# package costs about a second (tests/test_preflight.py fails when the two drift apart).
TEXT_DETECTORS = ("exclamation", "mixed_sentiment", "negated_term", "question", "sarcasm_cue")
# blindspot.slices.features.RETIRED_DETECTORS: a retired name -> (its replacement, why it went).
RETIRED_DETECTORS = {
    "negation": ("negated_term", "it fired on any 'no' or 'not' anywhere in a review (760 of the 979 bundled "
                                 "reviews), so it sliced nothing; 'negated_term' fires only when a sentiment or "
                                 "clinical term is in the negation's scope"),
}
# The form of a watchlist key (blindspot.slices.watchlist._KEY, kept here for the same reason).
WATCH_KEY = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*(?:__[a-z0-9]+(?:_[a-z0-9]+)*)*$")


def check_lists(cfg) -> None:
    """Thresholds, quantiles, length bands and detector names: lists whose every item has a range."""
    thresholds = list(cfg.calibration.confident_thresholds)
    if not thresholds or not all(in_half_open_unit(t) for t in thresholds):
        raise ConfigError(f"calibration.confident_thresholds must be a non-empty list of numbers in (0, 1]; "
                          f"found {thresholds}")
    quantiles = list(cfg.profile.length_quantiles)
    if not all(in_closed_unit(q) for q in quantiles):
        raise ConfigError(f"profile.length_quantiles must be numbers in [0, 1]; found {quantiles}")
    for band, bounds in cfg.slices.length_bands.items():
        bounds = list(bounds)
        low, high = (bounds + [None, None])[:2]
        if len(bounds) != 2 or not at_least(0)(low) or (high is not None and not (is_number(high) and high > low)):
            raise ConfigError(f"slices.length_bands.{band} must be [low, high] word counts with 0 <= low < high "
                              f"(high may be null); found {bounds}")
    for detector in cfg.slices.text_detectors:
        if detector in RETIRED_DETECTORS:
            replacement, why = RETIRED_DETECTORS[detector]
            raise ConfigError(f"slices.text_detectors: the detector {detector!r} was retired ({why}); "
                              f"list {replacement!r} instead")
    unknown = [d for d in cfg.slices.text_detectors if d not in TEXT_DETECTORS]
    if unknown:
        raise ConfigError(f"slices.text_detectors: unknown detector {unknown[0]!r}; choose from "
                          f"{', '.join(TEXT_DETECTORS)}")
    watch = [str(k) for k in cfg.slices.watchlist]
    for key in watch:
        if not WATCH_KEY.match(key):
            raise ConfigError(f"slices.watchlist: {key!r} is not a slice key (snake_case, e.g. 'jargon_high', "
                              f"'condition__birth_control', 'negated_term__and__jargon_high'; the keys are listed in "
                              f"metrics/slices.json)")
        if watch.count(key) > 1:
            raise ConfigError(f"slices.watchlist: {key!r} is listed twice")
        parts = key.split("__and__")
        check_length_key(cfg, key, parts)
        retired = [p for p in parts if p in RETIRED_DETECTORS]
        if retired:
            replacement, why = RETIRED_DETECTORS[retired[0]]
            renamed = "__and__".join(replacement if p == retired[0] else p for p in parts)
            raise ConfigError(f"slices.watchlist: {key!r} names the retired detector {retired[0]!r} ({why}); "
                              f"it was replaced by {replacement!r}: write {renamed!r}")


# The fixed length bands that were defaults until the quantile bins replaced them.
RETIRED_LENGTH_BANDS = {"short": "[0, 40]", "medium": "[40, 130]", "long": "[130, null]"}
_LENGTH_KEY = re.compile(r"^length_(.+)$")
_WORDS_KEY = re.compile(r"^words_le_(\d+)$")


def check_length_key(cfg, key: str, parts: Sequence[str]) -> None:
    """A watchlist key's length parts name a length slice this configuration builds.

    The fixed bands ``length_short/medium/long`` are no longer built by default: a watchlist
    that still names one would follow nothing (or, were a band of that name redefined, a
    different set of reviews), so the run stops here and says how to keep the old band.
    """
    # blindspot.slices.keys.slugify, inlined: importing the slices package costs about a second.
    bands = {"length_" + re.sub(r"[^a-z0-9]+", "_", str(b).lower()).strip("_") for b in cfg.slices.length_bands}
    m = int(cfg.slices.length_quantiles or 0)
    quantile_keys = {f"length_q{i}" for i in range(1, m + 1)}
    for part in parts:
        length, words = _LENGTH_KEY.match(part), _WORDS_KEY.match(part)
        if length and part not in bands and part not in quantile_keys:
            name = length.group(1)
            if name in RETIRED_LENGTH_BANDS:
                raise ConfigError(
                    f"slices.watchlist: {key!r} names the fixed length band {part!r}, which is no longer built by "
                    f"default (a fixed 'short' of 0-39 words is most of one data set and little of another; the "
                    f"word-count quantile bins length_q1 .. length_q{m or 4} follow the data instead). Keep it by "
                    f"listing it in slices.length_bands ({name}: {RETIRED_LENGTH_BANDS[name]}), or watch a quantile "
                    f"bin such as 'length_q{m or 4}' instead")
            if re.fullmatch(r"q\d+", name):
                raise ConfigError(f"slices.watchlist: {key!r} names {part!r}, but slices.length_quantiles is {m}: "
                                  f"the quantile bins are length_q1 .. length_q{m}" if m else
                                  f"slices.watchlist: {key!r} names {part!r}, but slices.length_quantiles is 0 "
                                  f"(no quantile bins); set it to e.g. 4")
        if words and (cfg.slices.very_short_words is None or int(words.group(1)) != cfg.slices.very_short_words):
            raise ConfigError(f"slices.watchlist: {key!r} names {part!r}, but slices.very_short_words is "
                              f"{cfg.slices.very_short_words!r}: set it to {words.group(1)} or watch "
                              + (f"'words_le_{cfg.slices.very_short_words}'" if cfg.slices.very_short_words
                                 is not None else "another slice"))


def check_report_band(cfg) -> None:
    """Calibrate's bands have distinct metrics keys, and the brief's band is one of them.

    Compared by :func:`blindspot.keys.threshold_key`, the key the calibrate stage writes
    and the report reads.
    """
    from blindspot.keys import threshold_key

    measured = sorted({float(t) for t in cfg.calibration.confident_thresholds})
    keys: dict[str, float] = {}
    for t in measured:
        if threshold_key(t) in keys:
            raise ConfigError(f"calibration.confident_thresholds {keys[threshold_key(t)]:g} and {t:g} share the "
                              f"metrics key {threshold_key(t)} (thresholds are kept to 1e-8); drop one")
        keys[threshold_key(t)] = t
    wanted = cfg.report.confident_threshold
    if threshold_key(wanted) not in keys:
        raise ConfigError(f"report.confident_threshold {wanted:g} is not one of calibration.confident_thresholds "
                          f"{measured}, so the calibrate stage would not measure it; add it there or pick one of them")


def _did_you_mean(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_input_contract(cfg) -> None:
    """Column mapping and label aliases that can never work, whatever the file holds."""
    classes = [str(c) for c in cfg.ingest.classes]
    if len(classes) < 2 or len(set(classes)) != len(classes):
        repeated = sorted({c for c in classes if classes.count(c) > 1})
        found = f"{repeated[0]!r} twice" if repeated else f"{classes}"
        raise ConfigError(f"ingest.classes must list at least two distinct classes; found {found}")
    columns = cfg.model.columns
    named = {role: getattr(columns, role) for role in ("id", "text", "label", "prediction", "confidence",
                                                        "probabilities") if getattr(columns, role) is not None}
    seen: dict[str, str] = {}
    for role, column in named.items():
        if column in seen:
            raise ConfigError(f"model.columns.{seen[column]} and model.columns.{role} both name the column "
                              f"{column!r}; each contract field needs its own column")
        seen[column] = role
    if columns.confidence is None and columns.probabilities is None and cfg.model.probability_prefix is None:
        raise ConfigError("model.columns.confidence is null and there are no probabilities "
                          "(model.columns.probabilities and model.probability_prefix are null too); "
                          "name the confidence column or the probabilities")
    for alias, target in (cfg.ingest.label_map or {}).items():
        if str(target) not in classes:
            raise ConfigError(f"ingest.label_map maps {alias!r} to {target!r}, which is not one of ingest.classes "
                              f"{classes}{_did_you_mean(str(target), classes)}")
    from blindspot.io.readers import FORMATS

    if cfg.model.format not in ("auto", *FORMATS):
        raise ConfigError(f"model.format must be one of {', '.join(('auto', *FORMATS))}; found {cfg.model.format!r}")


def check_input_path(cfg) -> None:
    """The predictions file inside the workspace, where DVC tracks it (``blindspot.paths.workspace_input``)."""
    from blindspot import paths

    workspace_input = getattr(paths, "workspace_input", None)
    if workspace_input is not None:
        workspace_input(cfg.model.path)


def check_judge(cfg, environ: Optional[Mapping[str, str]]) -> None:
    """The judge section against the classes (polarity map), backend, prompt and HTTP settings."""
    from blindspot.judge.checks import check_config

    check_config(cfg.judge, list(cfg.ingest.classes), environ=environ)


def check_compare(cfg) -> None:
    """The baseline: its limits, and its file inside the workspace (``blindspot.compare_checks.check_config``)."""
    from blindspot.compare_checks import check_config

    check_config(cfg.compare, cfg.model, cfg.ingest)


def check_values(cfg, *, source: str = "params.yaml") -> None:
    """The value checks alone: ranges, lists, the report's band. Pure and cheap (stdlib and blindspot.keys).

    ``src/blindspot/stages/_runner.py`` runs them before every stage: ``dvc repro`` re-runs only the stages
    whose params changed, so a value edited into ``params.yaml`` by hand may never pass
    through ingest's full :func:`check`.

    Raises
    ------
    ConfigError
        One sentence, as :func:`check`.
    """
    _run(((lambda: check_ranges(cfg)), (lambda: check_lists(cfg)), (lambda: check_report_band(cfg))), source)


def _run(steps: Sequence[Callable[[], None]], source: str) -> None:
    for step in steps:
        try:
            step()
        except ConfigError as exc:
            message = " ".join(str(exc).split())  # one line, whatever the check wrote
            raise ConfigError(message if message.startswith(f"{source}:") else f"{source}: {message}") from None


def check(cfg, *, environ: Optional[Mapping[str, str]] = os.environ, source: str = "params.yaml") -> None:
    """Run every check; the first problem stops the run.

    Parameters
    ----------
    cfg : blindspot.config.Config
        As :func:`~blindspot.config.load_params` returned it.
    environ : mapping or None
        Where the judge's API key variable is looked up (default ``os.environ``); None
        skips that check (composing ``params.yaml`` needs no key; running the judge does).
    source : str
        Prefix of the message.

    Raises
    ------
    ConfigError
        One sentence: ``"params.yaml: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5"``.
    """
    _run(((lambda: check_values(cfg, source=source)), (lambda: check_input_contract(cfg)),
          (lambda: check_judge(cfg, environ)), (lambda: check_compare(cfg)), (lambda: check_input_path(cfg))), source)
