"""Config flow: conf/ (Hydra) -> params.yaml -> typed dataclasses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from blindspot.config import Config, check_override_key, load_params
from blindspot.errors import ConfigError

from _bundled import bundled_params, bundled_params_file
from _paths import ROOT


def _compose(overrides=()):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base=None):
        return OmegaConf.to_container(compose(config_name="config", overrides=list(overrides)), resolve=True)


def test_params_yaml_is_what_conf_composes_to():
    """The workspace's params.yaml is conf/ composed with its model's config file.

    A user's own audit composed from command-line overrides (README, "Audit your own predictions")
    names a model with no file in conf/model/: what composed it is not recorded, so nothing to check.
    """
    committed = yaml.safe_load((ROOT / "params.yaml").read_text())
    name = committed["model"]["name"]
    if not (ROOT / "conf/model" / f"{name}.yaml").is_file():
        pytest.skip(f"params.yaml holds model {name!r}, composed from overrides that are not recorded")
    assert committed == _compose([f"model={name}"]), "params.yaml drifted from conf/: run `make params` and commit both"


def test_committed_params_fit_the_typed_config():
    cfg = load_params(bundled_params_file())
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
    params = bundled_params()
    params["ingest"]["tolerence"] = 0.1
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="tolerence"):
        load_params(path)


def test_wrong_type_fails_loudly(tmp_path):
    params = bundled_params()
    params["stats"]["n_boot"] = "many"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match="n_boot"):
        load_params(path)


@pytest.mark.parametrize("section, value", [("stats", {"ci_level": 1.5}), ("slices", {"min_support": 0}),
                                            ("calibration", {"n_bins": 1}), ("report", {"confident_threshold": 0.0})])
def test_a_section_checks_its_ranges_when_built(section, value):
    # The range lives on the config type: a section built by hand refuses it as params.yaml does.
    from blindspot import config

    (name, found), = value.items()
    cls = type(getattr(Config(), section))
    expected = next(e for k, _, e in config.RANGES if k == f"{section}.{name}")
    with pytest.raises(ConfigError) as exc_info:
        cls(**value)
    assert str(exc_info.value) == f"{section}.{name} must be {expected}; found {found!r}"


def test_out_of_range_value_in_params_fails_at_load(tmp_path):
    params = bundled_params()
    params["stats"]["ci_level"] = 1.5
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError) as exc_info:
        load_params(path)
    assert str(exc_info.value) == f"{path}: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5"


def test_a_value_set_after_building_is_checked_by_check_ranges():
    from blindspot.config import check_ranges

    cfg = Config()
    check_ranges(cfg)
    cfg.seed = -1
    with pytest.raises(ConfigError, match=r"^seed must be an integer in \[0, 2\^32\) \(numpy seeds are non-negative; "
                                          r"the draws over rows mix 32 bits of it\); found -1$"):
        check_ranges(cfg)
    cfg.seed = 2 ** 32  # its salts would collide with another name's (blindspot.samples._salt)
    with pytest.raises(ConfigError, match=r"^seed must be an integer in \[0, 2\^32\).*; found 4294967296$"):
        check_ranges(cfg)
    cfg.seed = 2 ** 32 - 1
    check_ranges(cfg)


def test_missing_params_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "params.yaml")


# --- one sentence per config error: "did you mean", expected type and found value ---------------------


def _write_params(tmp_path, mutate):
    params = bundled_params()
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
    ("judge.http.json_mode", "maybe", "key 'judge.http.json_mode' expects true or false; found \"maybe\""),
    ("model", 5, "key 'model' expects a mapping with keys name, path, format, columns, probability_prefix, "
                 "metadata; found 5"),
    ("slices.length_bands", {"short": [0, "forty"]},
     # No band by default: the whole band is checked against its declared type, naming the band.
     "key 'slices.length_bands.short' expects a list of integers or nulls; found [0, \"forty\"]"),
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


# --- overrides on the command line: `make params` and real `dvc exp run -S` -----------------------------

def _project_copy(root):
    """The files composing params.yaml needs: conf/ (with its Hydra plugin), the script, .dvc/config, inputs."""
    shutil.copytree(ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "compose_params.py", root / "scripts")
    (root / ".dvc").mkdir()
    for name in ("config", ".gitignore"):
        shutil.copy(ROOT / ".dvc" / name, root / ".dvc" / name)
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(ROOT / name, root / name)
    (root / "data" / "raw" / "predictions").mkdir(parents=True)
    for name in ("v1.json", "v2.json"):
        shutil.copy(ROOT / "data" / "raw" / "predictions" / name, root / "data" / "raw" / "predictions" / name)
    return root


# Runs scripts/compose_params.py's main() once per override list in one interpreter (the
# script's __main__ is only sys.exit(main(argv))); prints [status, stderr, params.yaml changed].
_COMPOSE_ALL = """
import contextlib, io, json, runpy, sys
main = runpy.run_path("scripts/compose_params.py")["main"]
out = []
for argv in json.loads(sys.argv[1]):
    before, err = open("params.yaml", "rb").read(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    out.append([status, err.getvalue(), open("params.yaml", "rb").read() != before])
print(json.dumps(out))
"""

BAD_OVERRIDES = [
    ("modle.path=x", "override 'modle.path=x': unknown key 'modle.path'; did you mean 'model.path'?"),
    ("+modle.path=x", "override '+modle.path=x': unknown key 'modle.path'; did you mean 'model.path'?"),
    ("stats.n_boot=many",
     "params.yaml composed from conf/ with stats.n_boot=many: key 'stats.n_boot' expects an integer; found \"many\""),
    ("stats.ci_level=1.5",  # preflight's cross-field checks run at composition too
     "params.yaml composed from conf/ with stats.ci_level=1.5: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5"),
    ("model=v9", "composing conf/ with model=v9: In 'config': Could not find 'model/v9' Available options in 'model':"),
]
GOOD_OVERRIDES = ["model=v2", "+ingest.label_map.Positive=positive"]


@pytest.fixture(scope="module")
def composed(tmp_path_factory):
    """(results of every bad override, then of the good ones, params.yaml after) composed in a project copy."""
    root = _project_copy(tmp_path_factory.mktemp("compose"))
    cases = [[override] for override, _ in BAD_OVERRIDES] + [GOOD_OVERRIDES]
    proc = subprocess.run([sys.executable, "-c", _COMPOSE_ALL, json.dumps(cases)], cwd=root, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), yaml.safe_load((root / "params.yaml").read_text())


@pytest.mark.parametrize("case", range(len(BAD_OVERRIDES)), ids=[o for o, _ in BAD_OVERRIDES])
def test_make_params_refuses_a_bad_override_in_one_line(composed, case):
    status, stderr, changed = composed[0][case]
    assert status == 2
    assert stderr.startswith(f"compose_params: error: {BAD_OVERRIDES[case][1]}") and stderr.count("\n") == 1
    assert not changed, "params.yaml is not written"


def test_make_params_still_composes_good_overrides(composed):
    status, stderr, changed = composed[0][-1]
    assert status == 0 and stderr == "" and changed
    params = composed[1]
    assert params["model"]["name"] == "v2" and params["ingest"]["label_map"] == {"Positive": "positive"}


def test_make_params_command_line(tmp_path):
    root = _project_copy(tmp_path)
    proc = subprocess.run([sys.executable, "scripts/compose_params.py", "modle.path=x"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("compose_params: error: override 'modle.path=x': unknown key 'modle.path'; "
                           "did you mean 'model.path'?\n")


def test_dvc_exp_run_misspelt_override_says_did_you_mean(tmp_path):
    # The real DVC: its Hydra composition loads the plugin from hydra.plugins_path (.dvc/config).
    root = _project_copy(tmp_path)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "workspace"]):
        subprocess.run(cmd, cwd=root, env=env, check=True, capture_output=True)
    dvc = str(Path(sys.executable).with_name("dvc"))
    proc = subprocess.run([dvc, "exp", "run", "-S", "modle.path=x"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 255  # DVC's status for its own errors
    assert "ERROR: override 'modle.path=x': unknown key 'modle.path'; did you mean 'model.path'?" in out
    assert "unexpected error" not in out and "Hit us up" not in out and "+modle.path" not in out
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    assert status.stdout == "", "no stage ran, nothing was written"
