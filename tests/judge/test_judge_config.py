"""conf/judge/*.yaml: the same keys, the typed config, and the one-override switch to a local Ollama."""

from __future__ import annotations

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from blindspot.config import Config, JudgeConfig

from _paths import ROOT


def _compose(overrides=()):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        return OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)), resolve=True)


def _keys(node, prefix=""):
    out = set()
    for k, v in node.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= _keys(v, prefix + k + ".")
    return out


def test_both_judge_files_have_the_same_keys_as_the_dataclass():
    offline = yaml.safe_load((ROOT / "conf/judge/offline.yaml").read_text())
    openai = yaml.safe_load((ROOT / "conf/judge/openai.yaml").read_text())
    typed = OmegaConf.to_container(OmegaConf.structured(JudgeConfig))
    assert _keys(offline) == _keys(openai) == _keys(typed)
    assert offline["backend"] == "offline" and openai["backend"] == "openai"


def test_one_override_switches_to_a_local_ollama():
    composed = _compose(["judge=openai"])
    cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), composed))
    assert cfg.judge.backend == "openai"
    assert cfg.judge.http.base_url == "http://localhost:11434/v1" and cfg.judge.http.api_key_env is None


def test_default_is_offline():
    assert _compose()["judge"]["backend"] == "offline"


def test_no_secret_shaped_values_in_judge_conf():
    text = (ROOT / "conf/judge/offline.yaml").read_text() + (ROOT / "conf/judge/openai.yaml").read_text()
    assert "sk-" not in text and "Bearer" not in text and "${" not in text
