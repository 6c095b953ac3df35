"""blindspot.paths.workspace_input: inputs outside the workspace are refused (DVC would not see them change)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from blindspot.errors import InputError
from blindspot.paths import workspace_input

from _paths import DATA, ROOT


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / "data/raw").mkdir(parents=True)
    (ws / "data/raw/mine.csv").write_text("x\n")
    (tmp_path / "elsewhere.csv").write_text("x\n")
    return ws


def test_paths_inside_are_returned_as_given(workspace):
    assert str(workspace_input("data/raw/mine.csv", root=workspace)) == "data/raw/mine.csv"
    assert workspace_input(workspace / "data/raw/mine.csv", root=workspace) == workspace / "data/raw/mine.csv"
    assert str(workspace_input("data/raw/../raw/mine.csv", root=workspace)) == "data/raw/../raw/mine.csv"
    assert str(workspace_input("data/raw/not_yet.csv", root=workspace)) == "data/raw/not_yet.csv"


@pytest.mark.parametrize("given", ["../elsewhere.csv", "data/raw/../../../elsewhere.csv", "ABS"])
def test_dotdot_and_absolute_paths_outside_are_refused_with_where_to_put_them(workspace, given):
    outside = (workspace.parent / "elsewhere.csv").resolve()
    given = str(outside) if given == "ABS" else given
    with pytest.raises(InputError) as info:
        workspace_input(given, key="compare.baseline.path", root=workspace)
    message = str(info.value)
    assert message.startswith(f"{given}, field 'compare.baseline.path': the file is outside the workspace")
    assert "stale audit" in message and f"found:    {outside}" in message
    assert f"cp {outside} data/raw/elsewhere.csv" in message and "-S compare.baseline.path=data/raw/elsewhere.csv" in message


def test_a_symlink_pointing_out_is_refused_and_named(workspace):
    os.symlink(workspace.parent / "elsewhere.csv", workspace / "data/raw/link.csv")
    with pytest.raises(InputError, match=r"a symlink \(data/raw/link.csv\) pointing to .*elsewhere.csv"):
        workspace_input("data/raw/link.csv", root=workspace)
    os.symlink(workspace.parent, workspace / "data/raw/up")  # a linked directory on the way
    with pytest.raises(InputError, match=r"a symlink \(data/raw/up\)"):
        workspace_input("data/raw/up/elsewhere.csv", root=workspace)


def test_a_symlink_inside_the_workspace_is_fine(workspace):
    os.symlink(workspace / "data/raw/mine.csv", workspace / "data/raw/alias.csv")
    assert str(workspace_input("data/raw/alias.csv", root=workspace)) == "data/raw/alias.csv"


def test_the_ingest_stage_refuses_an_input_outside_and_writes_nothing(params_for):
    workdir = params_for({"model.path": str(DATA / "bad/row_missing_text.jsonl")})
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.ingest"], cwd=workdir, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "ingest: error: " in proc.stderr and "outside the workspace" in proc.stderr and "data/raw/" in proc.stderr
    assert not (workdir / "data/interim").exists() and not (workdir / "metrics").exists()
    # The same file copied under data/raw is read.
    (workdir / "data/raw").mkdir(parents=True)
    shutil.copyfile(DATA / "bad/row_missing_text.jsonl", workdir / "data/raw/p.jsonl")
    params = (workdir / "params.yaml").read_text().replace(str(DATA / "bad/row_missing_text.jsonl"), "data/raw/p.jsonl")
    (workdir / "params.yaml").write_text(params)
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.ingest"], cwd=workdir, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
