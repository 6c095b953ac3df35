"""blindspot.preflight: every config check that needs no data, at stage one, in one sentence."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import pytest

from _bundled import bundled_params_file
from _paths import ROOT
from blindspot import preflight
from blindspot.config import load_params
from blindspot.errors import BlindspotError, ConfigError

BASE = load_params(bundled_params_file())


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """An empty workspace holding the bundled predictions (model and baseline paths resolve in it)."""
    _bundle(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bundle(root):
    (root / "data" / "raw" / "predictions").mkdir(parents=True)
    for name in ("v1.json", "v2.json"):  # model v1 and its baseline
        shutil.copy(ROOT / "data" / "raw" / "predictions" / name, root / "data" / "raw" / "predictions" / name)


def _with(**dotted):
    """A copy of the committed config with dotted keys replaced: _with(**{"stats.ci_level": 1.5})."""
    cfg = copy.deepcopy(BASE)
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        node = cfg
        for part in parents:
            node = getattr(node, part)
        setattr(node, leaf, value)
    return cfg


def _message(cfg, **kwargs) -> str:
    with pytest.raises(ConfigError) as exc_info:
        preflight.check(cfg, environ={}, **kwargs)
    message = str(exc_info.value)
    assert "\n" not in message and message.startswith("params.yaml: ")
    return message


def test_the_committed_config_passes(workspace):
    preflight.check(BASE, environ={})


def _bad_value(expected: str):
    """A value that breaks the rule described by ``expected`` (the third column of RANGES)."""
    if expected.startswith("in (0, 1)"):
        return 1.0
    if expected.startswith(("in [0, 1]", "in (0, 1]")):
        return 1.5
    if expected.startswith("null or at least"):
        return -1
    if expected.startswith("0 or at least"):
        return 1
    if expected.startswith("at least"):
        return int(expected.split()[2]) - 1
    if expected.startswith("an integer >= 0"):
        return -1
    if expected.startswith("an integer in [0, 2^32)"):
        return 2 ** 32
    if expected.startswith("a number >= 0"):
        return -0.5
    if expected.startswith("one of"):
        return "elsewhere"
    raise AssertionError(f"no bad value for {expected!r}")


@pytest.mark.parametrize("key, test, expected", preflight.RANGES, ids=[r[0] for r in preflight.RANGES])
def test_every_range_is_checked(workspace, key, test, expected):
    value = _bad_value(expected)
    assert not test(value)
    assert _message(_with(**{key: value})) == f"params.yaml: {key} must be {expected}; found {value!r}"


def test_levels_are_open_intervals(workspace):
    assert _message(_with(**{"stats.ci_level": 1.5})) == \
        "params.yaml: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5"
    assert "stats.fdr_alpha" in _message(_with(**{"stats.fdr_alpha": 0.0}))
    assert "stats.n_boot" in _message(_with(**{"stats.n_boot": 0}))
    assert "stats.ci_level" in _message(_with(**{"stats.ci_level": float("nan")}))


def test_report_band_must_be_measured_by_calibrate(workspace):
    assert _message(_with(**{"report.confident_threshold": 0.85})) == (
        "params.yaml: report.confident_threshold 0.85 is not one of calibration.confident_thresholds "
        "[0.7, 0.8, 0.9], so the calibrate stage would not measure it; add it there or pick one of them")
    preflight.check(_with(**{"report.confident_threshold": 0.975,
                             "calibration.confident_thresholds": [0.9, 0.975]}), environ={})


@pytest.mark.parametrize("key, value, fragment", [
    ("calibration.confident_thresholds", [], "calibration.confident_thresholds must be a non-empty list"),
    ("calibration.confident_thresholds", [0.8, 1.2], "found [0.8, 1.2]"),
    ("profile.length_quantiles", [0.5, 2.0], "profile.length_quantiles must be numbers in [0, 1]"),
    ("slices.length_bands", {"short": [40, 10]}, "slices.length_bands.short must be [low, high]"),
    ("slices.length_bands", {"short": [None, 10]}, "slices.length_bands.short"),
    ("slices.text_detectors", ["negated_term", "sarcasm"], "unknown detector 'sarcasm'"),
    ("slices.text_detectors", ["negation"], "slices.text_detectors: the detector 'negation' was retired (it fired on "
                                            "any 'no' or 'not' anywhere"),
    ("slices.text_detectors", ["negation"], "list 'negated_term' instead"),
    ("ingest.classes", ["neg", "pos", "neg"], "ingest.classes must list at least two distinct classes; found 'neg' twice"),
    ("ingest.classes", ["only"], "ingest.classes must list at least two distinct classes"),
    ("ingest.label_map", {"Pos": "positiv"}, "ingest.label_map maps 'Pos' to 'positiv', which is not one of "
                                             "ingest.classes ['negative', 'neutral', 'positive']; did you mean 'positive'?"),
    ("model.format", "xlsx", "model.format must be one of auto, json, jsonl"),
])
def test_list_and_contract_checks(workspace, key, value, fragment):
    assert fragment in _message(_with(**{key: value}))


def test_default_wording_for_other_classes_is_not_an_error(workspace):
    # report.class_risk's defaults name the bundled classes; a user's own classes simply get the generic wording.
    preflight.check(_with(**{"ingest.classes": ["0", "1"]}), environ={})


def test_two_contract_fields_on_one_column(workspace):
    cfg = _with()
    cfg.model.columns.prediction = "label"
    assert _message(cfg) == ("params.yaml: model.columns.label and model.columns.prediction both name the column "
                             "'label'; each contract field needs its own column")


def test_no_confidence_and_no_probabilities(workspace):
    cfg = _with(**{"model.probability_prefix": None})
    cfg.model.columns.confidence = None
    cfg.model.columns.probabilities = None
    assert "model.columns.confidence is null and there are no probabilities" in _message(cfg)


def test_text_detector_names_and_watch_keys_match_the_slice_library():
    from blindspot.slices.features import RETIRED_DETECTORS, TEXT_DETECTORS
    from blindspot.slices.watchlist import _KEY

    assert sorted(TEXT_DETECTORS) == sorted(preflight.TEXT_DETECTORS)
    assert {k: v[0] for k, v in preflight.RETIRED_DETECTORS.items()} == RETIRED_DETECTORS
    assert not set(RETIRED_DETECTORS) & set(TEXT_DETECTORS)
    assert _KEY.pattern == preflight.WATCH_KEY.pattern


@pytest.mark.parametrize("watchlist, fragment", [
    (["jargon_high", "Jargon High"], "slices.watchlist: 'Jargon High' is not a slice key"),
    (["jargon.high"], "slices.watchlist: 'jargon.high' is not a slice key"),
    (["negated_term", "negated_term"], "slices.watchlist: 'negated_term' is listed twice"),
    (["jargon_high", "negation"], "slices.watchlist: 'negation' names the retired detector 'negation'"),
    (["negation__and__jargon_high"], "it was replaced by 'negated_term': write 'negated_term__and__jargon_high'"),
    (["condition__pain__and__negation"], "write 'condition__pain__and__negated_term'"),
])
def test_watchlist_keys_are_checked_before_the_slice_stage(workspace, watchlist, fragment):
    assert fragment in _message(_with(**{"slices.watchlist": watchlist}))


def test_bands_sharing_a_metrics_key_are_refused(workspace):
    cfg = _with(**{"calibration.confident_thresholds": [0.8, 0.9, 0.900000001]})
    assert "share the metrics key conf_ge_90" in _message(cfg)


@pytest.mark.parametrize("field, value", [("n_bins", 1), ("confident_thresholds", [0.0]), ("underconfident_margin", 0),
                                          ("min_n", 0), ("recalibration_folds", 1), ("max_listed_rows", -1)])
def test_calibration_checks_agree_with_the_calibrate_stage(workspace, field, value):
    # The calibrate stage keeps its own check; preflight must refuse at least what it refuses.
    from blindspot.calibration.audit import check_config

    cfg = _with(**{f"calibration.{field}": value})
    with pytest.raises(ConfigError):
        check_config(cfg.calibration)
    assert f"calibration.{field}" in _message(cfg)


# --- the judge's and compare's checks, gathered here -------------------------------------------------


def test_polarity_map_that_does_not_fit_the_classes_fails_at_preflight(workspace):
    cfg = _with(**{"ingest.classes": ["0", "1"]})
    cfg.judge.offline.class_polarity = {"zero": "negative", "one": "positive"}
    assert "judge.offline.class_polarity must name every class of ingest.classes" in _message(cfg)


def test_openai_judge_without_its_key_fails_at_preflight(workspace):
    cfg = _with(**{"judge.backend": "openai"})
    cfg.judge.http.api_key_env = "BLINDSPOT_TEST_NO_SUCH_KEY"
    assert "BLINDSPOT_TEST_NO_SUCH_KEY" in _message(cfg)
    preflight.check(cfg, environ={"BLINDSPOT_TEST_NO_SUCH_KEY": "x"})


def test_missing_baseline_fails_at_preflight(workspace):
    message = _message(_with(**{"compare.baseline.path": "data/raw/predictions/nope.json"}))
    assert message.startswith("params.yaml: compare.baseline.path: data/raw/predictions/nope.json does not exist")


def test_baseline_outside_the_workspace_fails_at_preflight(workspace, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "v1.json"
    shutil.copy(ROOT / "data" / "raw" / "predictions" / "v1.json", outside)
    assert "outside the workspace" in _message(_with(**{"compare.baseline.path": str(outside)}))


def test_preflight_does_not_read_the_predictions_file(workspace):
    # Unreadable content: only the ingest stage reads (and judges) the file.
    (workspace / "data" / "raw" / "predictions" / "v1.json").write_bytes(b"\x00\xff not json")
    preflight.check(BASE, environ={})


# --- wired into stage one ------------------------------------------------------------------------------


def test_ingest_stops_on_a_cross_field_error_before_writing_anything(params_for):
    from blindspot.stages import ingest

    root = params_for({"stats.ci_level": 1.5})
    _bundle(root)
    with pytest.raises(ConfigError, match=r"stats.ci_level must be in \(0, 1\)"):
        ingest.main(None)
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "data/raw/predictions/v1.json", "data/raw/predictions/v2.json", "params.yaml"]


def test_ingest_stops_on_a_judge_polarity_error_before_writing_anything(params_for):
    from blindspot.stages import ingest

    root = params_for({"ingest.classes": ["0", "1"], "judge.offline.class_polarity": {"zero": "negative"}})
    _bundle(root)
    with pytest.raises(BlindspotError, match="judge.offline.class_polarity"):
        ingest.main(None)
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "data/raw/predictions/v1.json", "data/raw/predictions/v2.json", "params.yaml"]


def test_config_is_a_dataclass_tree():
    # preflight reads attributes; load_params returns dataclasses, not DictConfig.
    assert dataclasses.is_dataclass(BASE) and dataclasses.is_dataclass(BASE.judge.offline)
