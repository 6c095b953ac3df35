"""``blindspot init`` and ``blindspot audit`` (blindspot.workspace) and the skeleton they copy."""

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from blindspot import cli, workspace
from blindspot.errors import BlindspotError
from blindspot.skeleton import skeleton_files, skeleton_root

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp: Path) -> dict:
    """Git and DVC that read no machine or user settings, run this checkout's blindspot, and need no network."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(tmp / "dvc_site"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _parse(argv):
    parser = argparse.ArgumentParser()
    workspace.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def _csv(path: Path, n: int = 300, seed: int = 7) -> Path:
    """A binary predictions file of the shape a user brings: review, gold, pred, score, platform."""
    rng = random.Random(seed)
    words = {"pos": ["great relief", "works well", "helped a lot", "finally sleeping"],
             "neg": ["terrible nausea", "did not work", "awful headaches", "made it worse"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["review", "gold", "pred", "score", "platform"])
        for _ in range(n):
            gold = rng.choice(["neg", "pos"])
            pred = gold if rng.random() < 0.8 else {"neg": "pos", "pos": "neg"}[gold]
            text = f"This medicine: {', '.join(rng.sample(words[gold], 2))}."
            out.writerow([text, gold, pred, round(rng.uniform(0.5, 1.0), 3), rng.choice(["ios", "android"])])
    return path


# --- Hydra override values -------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["review", "data/raw/mine.csv", "p_", "a b", "a,b", "it's", "x\\y", "tail\\",
                                   "back\\'quote", "${oc.env:HOME}", "0", "1.5", "true", "NULL", "nan", "-inf",
                                   "ünïcode", "[x]", "a=b", "col:1", "=", ""])
def test_a_value_reads_back_as_the_same_string(value):
    written = workspace.hydra_value(value)
    parsed = OverridesParser.create().parse_overrides([f"k={written}"])[0].value()
    # Hydra hands the value to OmegaConf, which resolves interpolations: an escaped ${ stays literal.
    assert OmegaConf.to_container(OmegaConf.create({"k": parsed}), resolve=True)["k"] == value


def test_plain_values_stay_unquoted_and_lists_are_bracketed():
    assert workspace.hydra_value("data/raw/mine.csv") == "data/raw/mine.csv"
    assert workspace.hydra_value(None) == "null"
    assert workspace.hydra_value(["neg", "pos"]) == "[neg,pos]"
    assert workspace.hydra_value(["0", "1"]) == "['0','1']"
    assert workspace.hydra_value(["very bad", "ok"]) == "['very bad',ok]"


# --- the overrides audit composes ------------------------------------------------------------------

def test_audit_sets_every_model_key_in_config_syntax():
    args = _parse(["audit", "data/raw/mine.csv", "--text", "review", "--label", "gold", "--prediction", "pred",
                   "--confidence", "score", "--classes", "neg", "pos"])
    overrides = workspace.audit_overrides(workspace.audit_settings("data/raw/mine.csv", args), args.set or ())
    assert overrides == [
        "model.path=data/raw/mine.csv", "model.name=mine", "model.format=auto", "model.columns.id=null",
        "model.columns.text=review", "model.columns.label=gold", "model.columns.prediction=pred",
        "model.columns.confidence=score", "model.columns.probabilities=null", "model.probability_prefix=null",
        "model.metadata=null", "ingest.classes=[neg,pos]"]


def test_audit_options_and_raw_overrides():
    args = _parse(["audit", "data/raw/x y.jsonl", "--text", "the text", "--label", "gold", "--prediction", "pred",
                   "--probabilities", "p_", "--id", "row id", "--metadata", "age band", "site", "--name", "v 2",
                   "--format", "jsonl", "-S", "judge.offline.polarity=[negative,positive]", "-S", "model.name=other"])
    overrides = workspace.audit_overrides(workspace.audit_settings("data/raw/x y.jsonl", args), args.set)
    assert overrides == [
        "model.path='data/raw/x y.jsonl'", "model.format=jsonl", "model.columns.id='row id'",
        "model.columns.text='the text'", "model.columns.label=gold", "model.columns.prediction=pred",
        "model.columns.confidence=null", "model.columns.probabilities=null", "model.probability_prefix=p_",
        "model.metadata=['age band',site]", "judge.offline.polarity=[negative,positive]", "model.name=other"]
    for override in overrides:  # every one is valid override syntax
        OverridesParser.create().parse_overrides([override])
    with pytest.raises(BlindspotError, match="KEY=VALUE"):
        workspace.audit_overrides({}, ["judge.offline.polarity"])


# --- dvc.yaml, the skeleton, ignore files -----------------------------------------------------------

def test_the_workspace_dvc_yaml_is_the_repository_s_without_code_deps():
    source = (ROOT / "dvc.yaml").read_text(encoding="utf-8")
    text = workspace.workspace_dvc_yaml(source, "9.9")
    assert "src/" not in text and "dvc repro --force" in text.split("stages:")[0]
    ours, theirs = yaml.safe_load(text), yaml.safe_load(source)
    assert ours == workspace.without_code_deps(theirs)
    assert list(ours["stages"]) == list(theirs["stages"]) and ours["plots"] == theirs["plots"]
    for name, stage in theirs["stages"].items():
        for kind in ("outs", "metrics", "params", "cmd"):
            assert ours["stages"][name].get(kind) == stage.get(kind)


def test_the_skeleton_is_found_in_the_source_checkout_and_complete():
    assert skeleton_root() == ROOT
    files = {p.as_posix() for p in skeleton_files(ROOT)}
    for name in ("dvc.yaml", ".dvcignore", "data/judge_cache/.gitignore", "conf/config.yaml",
                 "conf/hydra_plugins/hydra_plugins/blindspot_params.py", ".dvc/plots/offline.html",
                 ".dvc/plots/licenses/vega.LICENSE", ".dvc/plots/reliability.json"):
        assert name in files
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in files)
    assert (ROOT / "conf" / "config.yaml").read_text().count(workspace.DEFAULT_MODEL_LINE) == 1


def test_ignore_lines_are_appended_never_clobbered(tmp_path):
    path = tmp_path / ".gitignore"
    path.write_text("secrets.env\ndvc_plots/", encoding="utf-8")  # no final newline; one line already there
    added = workspace.append_lines(path, ["/dvc_plots/", "/data/interim"], "blindspot")
    assert added == ["/data/interim"]
    assert path.read_text() == "secrets.env\ndvc_plots/\n\n# blindspot\n/data/interim\n"
    assert workspace.append_lines(path, ["/dvc_plots/", "/data/interim"], "blindspot") == []


# --- init ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("existing", ["dvc.yaml", "conf", "params.yaml"])
def test_init_refuses_to_overwrite_naming_the_file(tmp_path, existing):
    (tmp_path / existing).mkdir() if existing == "conf" else (tmp_path / existing).write_text("mine\n")
    with pytest.raises(BlindspotError, match=f"{existing} already exists.*--force"):
        workspace.init_workspace(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]  # nothing written


@pytest.fixture(scope="module")
def inited(tmp_path_factory):
    """A user's git repository (a file and a .gitignore of its own) after `blindspot init`."""
    root = tmp_path_factory.mktemp("users_repo")
    env = _env(root)
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    (root / ".gitignore").write_text("*.log\n/dvc_plots/\n", encoding="utf-8")
    (root / "notes.txt").write_text("the user's own file\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "blindspot.cli", "init", "."], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return root, proc.stdout


def test_init_writes_the_workspace(inited):
    root, out = inited
    assert "src/" not in (root / "dvc.yaml").read_text()
    assert (root / ".gitignore").read_text().startswith("*.log\n/dvc_plots/\n")  # kept, then appended to
    ignored = (root / ".gitignore").read_text().splitlines()
    assert ignored.count("/dvc_plots/") == 1 and "/data/interim" in ignored
    config = (root / ".dvc" / "config").read_text()
    assert "plugins_path = conf/hydra_plugins" in config and "html_template = plots/offline.html" in config
    assert (root / ".dvc" / "plots" / "offline.html").is_file() and (root / "conf/hydra_plugins/hydra_plugins").is_dir()
    assert sorted(p.name for p in (root / "conf" / "model").iterdir()) == ["own.yaml"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert params["model"]["path"] == workspace.OWN_MODEL_PATH and params["model"]["name"] == "own"
    assert "dvc add" in (root / "data" / "raw" / "README.md").read_text()
    assert "blindspot audit data/raw/" in out and "git add .gitignore" in out


def test_init_again_needs_force(inited, tmp_path):
    root, _ = inited
    proc = subprocess.run([sys.executable, "-m", "blindspot.cli", "init", "."], cwd=root, env=_env(tmp_path),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("blindspot init: error: ") and "dvc.yaml already exists" in proc.stderr
    assert proc.stderr.count("\n") == 1


# --- audit checks ----------------------------------------------------------------------------------

def test_audit_dry_run_prints_the_commands(inited, capsys, monkeypatch):
    root, _ = inited
    _csv(root / "data" / "raw" / "dry run.csv", n=10)
    monkeypatch.chdir(root)
    status = cli.main(["audit", "data/raw/dry run.csv", "--text", "review", "--label", "gold", "--prediction", "pred",
                       "--confidence", "score", "--classes", "neg", "pos", "--dry-run"])
    out = capsys.readouterr().out.splitlines()
    assert status == 0
    assert out[0] == "dvc add 'data/raw/dry run.csv'"
    assert out[1].startswith("dvc exp run -S 'model.path='\"'\"'data/raw/dry run.csv'\"'\"'' -S 'model.name=")
    assert not (root / "data" / "raw" / "dry run.csv.dvc").exists()  # nothing ran


@pytest.mark.parametrize("where, message", [
    ("../outside.csv", "is outside the workspace"),
    ("elsewhere.csv", "is outside data/raw/"),
    ("data/raw/missing.csv", "no such file"),
])
def test_audit_refuses_a_file_dvc_would_not_track(inited, capsys, monkeypatch, where, message):
    root, _ = inited
    for name in ("../outside.csv", "elsewhere.csv"):
        _csv(root / name, n=5)
    monkeypatch.chdir(root)
    status = cli.main(["audit", where, "--text", "review", "--label", "gold", "--prediction", "pred",
                       "--confidence", "score", "--dry-run"])
    err = capsys.readouterr().err
    assert status == 2 and message in err and err.count("\n") == 1


def test_audit_needs_a_confidence_or_probabilities(inited, capsys, monkeypatch):
    monkeypatch.chdir(inited[0])
    status = cli.main(["audit", "data/raw/x.csv", "--text", "t", "--label", "l", "--prediction", "p"])
    assert status == 2 and "--confidence COL" in capsys.readouterr().err


# --- end to end ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_init_then_audit_a_csv_end_to_end(tmp_path):
    """A new directory: init, commit, a CSV of one's own, `blindspot audit` for real, the brief and the experiment."""
    start = time.monotonic()
    root, env = tmp_path / "audit me", _env(tmp_path)

    def run(*cmd):
        proc = subprocess.run(list(cmd), cwd=root, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{cmd}: {proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr

    root.mkdir()
    run(sys.executable, "-m", "blindspot.cli", "init", ".")
    run("git", "add", *workspace.workspace_files(root))
    run("git", "commit", "-q", "-m", "blindspot workspace")
    _csv(root / "data" / "raw" / "mine.csv")
    out = run(sys.executable, "-m", "blindspot.cli", "audit", "data/raw/mine.csv", "--text", "review", "--label", "gold",
              "--prediction", "pred", "--confidence", "score", "--classes", "neg", "pos",
              "-S", "judge.offline.polarity=[negative,positive]")
    assert "handing it to DVC: dvc add data/raw/mine.csv" in out
    assert "blindspot audit: git add data/raw/mine.csv.dvc data/raw/.gitignore" in out
    # The experiment's commit: refs/exps/<sha>/<name>, not DVC's refs/exps/exec/EXEC_* (which can point at the
    # baseline commit and sort first when the baseline's sha starts with f).
    ref = [r for r in run("git", "for-each-ref", "refs/exps", "--format=%(refname)").split()
           if not r.startswith("refs/exps/exec/")][0]
    in_experiment = run("git", "ls-tree", "-r", "--name-only", ref).split()
    assert {"data/raw/mine.csv.dvc", "data/raw/.gitignore"} <= set(in_experiment)
    assert "data/raw/mine.csv" not in in_experiment
    assert "blindspot audit: dvc exp run -S model.path=data/raw/mine.csv -S model.name=mine" in out
    assert (root / "data" / "raw" / "mine.csv.dvc").is_file() and "/mine.csv" in (root / "data/raw/.gitignore").read_text()
    brief = (root / "reports" / "blind_spot_brief.md").read_text(encoding="utf-8")
    assert "data/raw/mine.csv" in brief and (root / "reports" / "blind_spot_brief.html").is_file()
    shown = run(sys.executable, "-m", "dvc", "exp", "show", "--csv", "--no-pager")
    rows = [row for row in csv.DictReader(shown.splitlines()) if row.get("model.name") == "mine"]
    assert rows, shown  # the run is an experiment of its own, with its parameters
    assert run(sys.executable, "-m", "dvc", "status").strip().endswith("Data and pipelines are up to date.")
    assert time.monotonic() - start < 120
