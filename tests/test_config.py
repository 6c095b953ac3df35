"""Config flow: conf/ (Hydra) -> params.yaml -> typed dataclasses."""

from __future__ import annotations

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from blindspot.config import Config, load_params
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
