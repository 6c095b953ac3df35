"""Every stage's command line: --help reads and writes nothing, errors are one line each."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from _bundled import bundled_params
from _paths import ROOT
from blindspot.errors import ConfigError
from blindspot.stages._runner import internal_error_line, run, stage_io

STAGES = sorted(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])

# Runs each stage module as `python -m` does (runpy, __main__), in one interpreter so the
# stages' imports are paid once; prints {stage: [exit status, stdout]} as JSON.
_HELP_ALL = """
import contextlib, io, json, runpy, sys
out = {}
for name, flag in zip(sys.argv[1::2], sys.argv[2::2]):
    sys.argv = [f"src/blindspot/stages/{name}.py", flag]
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_module(f"blindspot.stages.{name}", run_name="__main__", alter_sys=True)
        code = "returned without exiting"
    except SystemExit as exc:
        code = exc.code
    out[name] = [code, buf.getvalue()]
print(json.dumps(out))
"""


def _env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}


def test_help_on_every_stage_prints_usage_and_touches_nothing(tmp_path):
    args = [a for i, name in enumerate(STAGES) for a in (name, "--help" if i % 2 else "-h")]
    proc = subprocess.run([sys.executable, "-c", _HELP_ALL, *args], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    for name in STAGES:
        code, text = results[name]
        assert code == 0, (name, code)
        assert text.startswith(f"usage: python -m blindspot.stages.{name} [-h]"), text
        io = stage_io(name)
        assert io is not None
        for path in io["writes"]:
            assert path in text, (name, path)
        for key in io["params"]:
            assert key in text, (name, key)
    assert list(tmp_path.iterdir()) == [], "--help must not write anything"


def test_help_through_python_dash_m(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.report", "--help"], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("usage: python -m blindspot.stages.report [-h]")
    assert "reports/blind_spot_brief.md" in proc.stdout
    assert list(tmp_path.iterdir()) == []


def _never(log):  # a stage main that must not run
    raise AssertionError("the stage ran")


def test_help_does_not_run_the_stage(capsys):
    with pytest.raises(SystemExit) as exc_info:
        run("ingest", _never, argv=["--help"])
    assert exc_info.value.code == 0
    assert "usage: python -m blindspot.stages.ingest [-h]" in capsys.readouterr().out


def test_unknown_argument_is_a_one_line_usage_error(capsys):
    with pytest.raises(SystemExit) as exc_info:
        run("profile", _never, argv=["--n-boot", "10"])
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert err == ("profile: error: unrecognized argument '--n-boot'; usage: python -m blindspot.stages.profile [-h] "
                   "(settings go in params.yaml)\n")


def test_user_error_is_its_message_and_status_2(capsys):
    def main(log):
        raise ConfigError("params.yaml: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5")

    with pytest.raises(SystemExit) as exc_info:
        run("ingest", main, argv=[])
    assert exc_info.value.code == 2
    assert capsys.readouterr().err == "ingest: error: params.yaml: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5\n"


def test_missing_input_file_is_one_line_naming_it(capsys, tmp_path, monkeypatch):
    # A stage run by hand before the one that writes its input (profile before ingest).
    from blindspot.io.readers import read_predictions

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc_info:
        run("profile", lambda log: read_predictions("data/interim/predictions.parquet"), argv=[])
    assert exc_info.value.code == 2
    assert capsys.readouterr().err == ("profile: error: data/interim/predictions.parquet: not found; "
                                       "an earlier stage writes it: run `dvc repro`\n")


def test_unwritable_output_is_one_line_naming_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "metrics").write_text("a file where a directory should be")

    def main(log):
        (tmp_path / "metrics" / "profile.json").write_text("{}")

    with pytest.raises(SystemExit) as exc_info:
        run("profile", main, argv=[])
    assert exc_info.value.code == 2
    assert capsys.readouterr().err == f"profile: error: {tmp_path / 'metrics' / 'profile.json'}: Not a directory\n"


def test_a_bug_says_so_in_one_line_before_its_traceback(capsys):
    def main(log):
        return {}["baseline"]

    with pytest.raises(SystemExit) as exc_info:
        run("compare", main, argv=[])
    assert exc_info.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("compare: internal error: KeyError: 'baseline' (a bug: please report it with the traceback "
                      "below)")
    assert err[1] == "Traceback (most recent call last):"
    assert err[-1] == "KeyError: 'baseline'"


def test_internal_error_line_keeps_one_line_of_a_long_message():
    line = internal_error_line("slice", ValueError("first line\nsecond line"))
    assert line == "slice: internal error: ValueError: first line (a bug: please report it with the traceback below)"
    assert internal_error_line("slice", RuntimeError()) == (
        "slice: internal error: RuntimeError (a bug: please report it with the traceback below)")


def test_every_stage_checks_the_values_before_it_works(capsys, tmp_path, monkeypatch):
    # `dvc repro` re-runs only stages whose params changed: a value edited by hand into
    # params.yaml can reach profile without passing through ingest's full preflight.
    params = bundled_params()
    params["stats"]["ci_level"] = 1.5
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc_info:
        run("profile", _never, argv=[])
    assert exc_info.value.code == 2
    assert capsys.readouterr().err == "profile: error: params.yaml: stats.ci_level must be in (0, 1), e.g. 0.95; found 1.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]


def test_without_params_the_stage_says_so_itself(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc_info:
        run("profile", lambda log: (_ for _ in ()).throw(ConfigError("params.yaml: not found.")), argv=[])
    assert exc_info.value.code == 2
    assert capsys.readouterr().err == "profile: error: params.yaml: not found.\n"
