"""blindspot.judge.check_config: every judge setting that cannot work is a one-sentence ConfigError, before any work."""

from __future__ import annotations

import dataclasses

import pytest

from blindspot.config import JudgeConfig, JudgeHttpConfig, JudgeOfflineConfig
from blindspot.errors import ConfigError
from blindspot.judge import check_config
from blindspot.judge.checks import resolve_polarity

THIRTY_TWO = [f"c{i:02d}" for i in range(32)]


def cfg(backend="offline", offline=None, http=None, **kw) -> JudgeConfig:
    return JudgeConfig(backend=backend, offline=JudgeOfflineConfig(**(offline or {})),
                       http=JudgeHttpConfig(**(http or {})), **kw)


@pytest.mark.parametrize("classes", [["0", "1"], ["\U0001f600", "\U0001f61e"], THIRTY_TWO, ["negative", "positive"],
                                     ["Negative", "Neutral", "Positive"]])
def test_any_class_names_without_a_map_are_valid_config(classes):
    check_config(cfg(), classes)  # the offline judge abstains per row instead


@pytest.mark.parametrize("classes, offline, message", [
    (["0", "1"], {"polarity": ["negative"]},
     r"^judge.offline.polarity has 1 entries but ingest.classes has 2 \(\['0', '1'\]\); give one polarity per class, "
     r"in that order$"),
    (["0", "1"], {"polarity": ["negative", "happy"]},
     r"^judge.offline.polarity\[1\] \(class '1'\) must be one of \['negative', 'neutral', 'positive'\], got 'happy'$"),
    (["0", "1", "2"], {"polarity": ["negative", "positive", "positive"]},
     r"gives the polarity 'positive' to more than one class"),
    (["0", "1"], {"polarity": ["negative", "neutral"]}, r"has no class for the polarity 'positive'"),
    (THIRTY_TWO, {"polarity": ["negative", "positive"]}, r"has 2 entries but ingest.classes has 32"),
    (["0", "1"], {"polarity": ["negative", "positive"], "class_polarity": {"0": "negative", "1": "positive"}},
     r"both set; set one of the two"),
    (["neg", "pos"], {"class_polarity": {"neg": "negative"}}, r"class 'pos' has no entry"),
    (["neg", "pos"], {"class_polarity": {"neg": "negative", "pos": "positive", "x": "neutral"}},
     r"'x' is not in ingest.classes"),
])
def test_a_polarity_map_that_does_not_fit_is_a_config_error(classes, offline, message):
    with pytest.raises(ConfigError, match=message):
        check_config(cfg(offline=offline), classes)
    with pytest.raises(ConfigError, match=message):  # whichever backend runs
        check_config(cfg("openai", offline=offline), classes)


def test_the_list_and_the_mapping_give_the_same_map():
    listed = resolve_polarity(JudgeOfflineConfig(polarity=["negative", "positive"]), ["0", "1"])
    mapped = resolve_polarity(JudgeOfflineConfig(class_polarity={"1": "positive", "0": "negative"}), ["0", "1"])
    assert listed == mapped == ({"0": "negative", "1": "positive"}, None)


@pytest.mark.parametrize("change, message", [
    ({"backend": "gpt"}, r"judge.backend must be one of \['offline', 'openai'\], got 'gpt'"),
    ({"confident_threshold": 1.5}, r"judge.confident_threshold must be in \[0, 1\], got 1.5"),
    ({"max_calls": -1}, "judge.max_calls must be >= 0, got -1"),
    ({"max_candidates": -1}, "judge.max_candidates must be >= 0"),
    ({"backend": "openai", "http": {"base_url": "localhost:11434"}}, "must be an http"),
    ({"backend": "openai", "http": {"timeout_s": 0.0}}, "timeout_s > 0"),
    ({"backend": "openai", "http": {"concurrency": 0}}, "concurrency >= 1"),
    ({"backend": "openai", "prompt_version": "nope"}, "no prompt file named 'nope'"),
])
def test_bad_settings_are_config_errors(change, message):
    http = change.pop("http", None)
    with pytest.raises(ConfigError, match=message):
        check_config(dataclasses.replace(cfg(http=http), **change), ["negative", "positive"])


def test_the_key_variable_is_checked_only_when_an_environment_is_given():
    openai = cfg("openai", http={"api_key_env": "BLINDSPOT_NO_SUCH_VARIABLE"})
    check_config(openai, ["negative", "positive"])  # pure: no environment read
    with pytest.raises(ConfigError, match="'BLINDSPOT_NO_SUCH_VARIABLE', but it is not set"):
        check_config(openai, ["negative", "positive"], environ={})
    check_config(openai, ["negative", "positive"], environ={"BLINDSPOT_NO_SUCH_VARIABLE": "k"})
