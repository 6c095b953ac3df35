"""Config flow: conf/ (Hydra) -> params.yaml -> typed dataclasses."""

from __future__ import annotations

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from blindspot.config import Config, check_override_key, load_params
from blindspot.errors import ConfigError

from _paths import ROOT


def _compose(overrides=()):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        return OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)), resolve=True)


def test_params_yaml_is_what_conf_composes_to():
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert committed == _compose(), "params.yaml drifted from conf/: run `make params` and commit both"


def test_committed_params_fit_the_typed_config():
    cfg = load_params(ROOT / "params.yaml")
    assert isinstance(cfg, Config)
    assert cfg.model.name == "v1" and cfg.ingest.classes == ["negative", "neutral", "positive"]


def test_model_group_switches_version():
    composed = _compose(["model=v2"])
    assert composed["model"]["name"] == "v2"
    assert composed["model"]["path"] == "data/raw/predictions/v2.json"


def test_no_interpolation_dvc_would_freeze():
    text = "\n".join(p.read_text() for p in (ROOT / "conf").rglob("*.yaml"))
    assert "${oc.env" not in text and "???" not in text


def test_unknown_key_fails_loudly(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["ingest"]["tolerence"] = 0.1
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="tolerence"):
        load_params(path)


def test_wrong_type_fails_loudly(tmp_path):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["stats"]["n_boot"] = "many"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="n_boot"):
        load_params(path)


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "params.yaml")


# --- one sentence per config error: "did you mean", expected type and found value ---------------------


def _write_params(tmp_path, mutate):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    mutate(params)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def _one_sentence(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and "Traceback" not in message and "full_key" not in message
    return message


def test_misspelt_section_gets_did_you_mean(tmp_path):
    path = _write_params(tmp_path, lambda p: p.__setitem__("modle", p.pop("model")))
    with pytest.raises(ConfigError) as exc_info:
        load_params(path)
    assert _one_sentence(exc_info) == f"{path}: unknown key 'modle'; did you mean 'model'?"


def test_misspelt_nested_key_gets_did_you_mean(tmp_path):
    path = _write_params(tmp_path, lambda p: p["model"].__setitem__("colums", p["model"].pop("columns")))
    with pytest.raises(ConfigError) as exc_info:
        load_params(path)
    assert _one_sentence(exc_info) == f"{path}: unknown key 'model.colums'; did you mean 'model.columns'?"


def test_unknown_key_without_close_name_lists_the_keys_there(tmp_path):
    path = _write_params(tmp_path, lambda p: p["stats"].__setitem__("zzzz", 1))
    with pytest.raises(ConfigError) as exc_info:
        load_params(path)
    assert _one_sentence(exc_info) == (f"{path}: unknown key 'stats.zzzz'; the keys under 'stats' are "
                                       "n_boot, ci_level, fdr_alpha")


@pytest.mark.parametrize("dotted, value, expected", [
    ("stats.n_boot", "many", "key 'stats.n_boot' expects an integer; found \"many\""),
    ("stats.n_boot", None, "key 'stats.n_boot' expects an integer; found null"),
    ("stats.ci_level", "high", "key 'stats.ci_level' expects a number; found \"high\""),
    ("ingest.classes", "negative", "key 'ingest.classes' expects a list of strings; found \"negative\""),
    ("ingest.allow_bom", "maybe", "key 'ingest.allow_bom' expects true or false; found \"maybe\""),
    ("model", 5, "key 'model' expects a mapping with keys name, path, format, columns, probability_prefix, "
                 "metadata; found 5"),
    ("slices.length_bands", {"short": [0, "forty"]},
     "key 'slices.length_bands.short[1]' expects an integer or null; found \"forty\""),
    ("slices.length_bands", {"short": 40}, "key 'slices.length_bands.short' expects a list of integers or nulls; found 40"),
])
def test_wrong_type_is_one_sentence_with_key_expected_and_found(tmp_path, dotted, value, expected):
    def mutate(params):
        *parents, leaf = dotted.split(".")
        node = params
        for key in parents:
            node = node[key]
        node[leaf] = value

    path = _write_params(tmp_path, mutate)
    with pytest.raises(ConfigError) as exc_info:
        load_params(path)
    assert _one_sentence(exc_info) == f"{path}: {expected}"


def test_values_omegaconf_converts_safely_still_load(tmp_path):
    # Class names 0/1 written as YAML integers are the strings "0"/"1", as before.
    path = _write_params(tmp_path, lambda p: p["ingest"].__setitem__("classes", [0, 1]))
    assert load_params(path).ingest.classes == ["0", "1"]


def test_params_that_are_not_yaml(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match=r"params.yaml: not valid YAML at line 2"):
        load_params(path)


@pytest.mark.parametrize("key, expected", [
    ("modle.path", "unknown key 'modle.path'; did you mean 'model.path'?"),
    ("model.colums.txt", "unknown key 'model.colums.txt'; did you mean 'model.columns.text'?"),
    ("stats.n_boot.x", "unknown key 'stats.n_boot.x': 'stats.n_boot' is an integer, not a section"),
    ("model.path", None),
    ("ingest.label_map.Positive", None),  # a key inside a mapping field is the user's own
    ("judge.offline.class_polarity.0", None),
    ("compare.baseline.columns.text", None),  # Optional[ColumnsConfig]
])
def test_override_keys_are_checked_against_the_dataclasses(key, expected):
    assert check_override_key(key) == expected
