"""The README's commands run as printed.

Every command is read from README.md itself, never retyped here, and run with nothing added:
the "Audit your own predictions" command on a file shaped as the README describes (composed
and ingested quickly; then, slow, the literal `dvc exp run ...` in a git copy of the
repository, through every stage to the brief), and the UCI sentences command, which the
foreign-data corpus runs (tests/corpus).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from blindspot import synth

from _paths import ROOT

BIN = Path(sys.executable).parent


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README.md has no section {title!r}"
    return match.group(1)


def _blocks(section: str, lang: str) -> list[str]:
    """Fenced code blocks of one language, de-indented (they may sit in a list item)."""
    out = []
    for m in re.finditer(rf"^( *)```{lang}\n(.*?)^\1```", section, re.M | re.S):
        indent = len(m.group(1))
        out.append("".join(line[indent:] if line.startswith(" " * indent) else line
                           for line in m.group(2).splitlines(keepends=True)))
    return out


def _exp_run(section: str) -> tuple[str, list[str]]:
    """The section's one `dvc exp run ...` command: its text and its -S overrides, parsed as a shell would."""
    found = []
    for block in _blocks(section, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens[:3] == ["dvc", "exp", "run"]:
                found.append((line, tokens[3:]))
    assert len(found) == 1, f"expected one `dvc exp run` command, found {len(found)}"
    line, args = found[0]
    assert args[::2] == ["-S"] * len(args[1::2]) and len(args) % 2 == 0, f"only -S overrides expected: {args}"
    return line, args[1::2]


OWN = "Audit your own predictions"


def _own_file(root: Path, overrides: list[str], n: int = 600) -> Path:
    """The file the README describes, at the path its command names, with the columns its text lists."""
    setting = dict(o.split("=", 1) for o in overrides)
    columns = re.search(r"with columns `([^`]+)`", _section(OWN)).group(1).split(", ")
    classes = setting["ingest.classes"].strip("[]").split(",")
    prefix = setting["model.probability_prefix"]
    named = {setting[f"model.columns.{f}"]: f for f in ("text", "label", "prediction", "confidence")}
    named.update({f"{prefix}{c}": f"p_{c}" for c in classes})
    assert set(columns) == set(named), f"README lists columns {columns}; its command maps {sorted(named)}"
    data = synth.generate(n, seed=3, mode="planted", classes=tuple(classes),
                          planted=[synth.PlantedSlice({"platform": "android"}, error_gap=0.25, share=0.2)])
    frame = data.frame.rename(columns={v: k for k, v in named.items()})[columns + ["platform", "age_band"]]
    path = root / setting["model.path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def _scratch(tmp_path: Path) -> Path:
    for name in ("conf", "scripts"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_own_file_command_composes_and_ingests_as_printed(tmp_path):
    _, overrides = _exp_run(_section(OWN))
    work = _scratch(tmp_path)
    path = _own_file(work, overrides, n=50)
    proc = subprocess.run([sys.executable, "scripts/compose_params.py", *overrides], cwd=work,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.ingest"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    rel = path.relative_to(work).as_posix()
    assert f"50 rows in from {rel}" in proc.stderr and "50 clean, 0 rejected" in proc.stderr


def test_the_contract_example_record_is_valid(tmp_path):
    """The JSON record of step 1 ingests cleanly with the default classes (beside a second one, since a
    file of one class is refused)."""
    record = json.loads(_blocks(_section(OWN), "json")[0])
    other = dict(record, id="r-0002", label="positive")
    work = _scratch(tmp_path)
    (work / "data/raw").mkdir(parents=True)
    (work / "data/raw/example.jsonl").write_text(json.dumps(record) + "\n" + json.dumps(other) + "\n")
    subprocess.run([sys.executable, "scripts/compose_params.py", "model.path=data/raw/example.jsonl"], cwd=work,
                   check=True, capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "blindspot.stages.ingest"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0 and "2 clean, 0 rejected" in proc.stderr, proc.stderr


def test_the_uci_command_is_the_one_the_corpus_runs():
    from corpus.datasets import DATASETS

    _, overrides = _exp_run(_section("A second data set: the UCI sentences"))
    assert overrides == DATASETS["uci_sentences"].overrides == ["model=uci_sentences"]


def _git_copy(dest: Path) -> Path:
    """The repository's git files (a clone), without the workspace's baseline record: a first audit of one's own file."""
    from _bundled import clear_baseline, copy_repository

    work = copy_repository(dest)
    clear_baseline(work)
    return work


@pytest.mark.slow
def test_own_file_command_runs_every_stage_as_printed(tmp_path):
    """The README's `dvc exp run ...`, typed as printed in a clone, audits the file end to end."""
    command, overrides = _exp_run(_section(OWN))
    work = _git_copy(tmp_path / "clone")
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", DVC_NO_ANALYTICS="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    for git in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "clone"]):
        subprocess.run(git, cwd=work, env=env, check=True, capture_output=True)
    path = _own_file(work, overrides)  # step 1: the user copies the file under data/raw/
    proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr
    rel = path.relative_to(work).as_posix()
    ingest = json.loads((work / "metrics/ingest.json").read_text())
    assert ingest["rows_in"] == ingest["rows_clean"] == 600
    brief = (work / "reports/blind_spot_brief.md").read_text(encoding="utf-8")
    title = brief.splitlines()[0].replace("\\", "")
    assert rel in title and "mine" in title, title  # titled with the user's file, not "Model v1"
    assert "no baseline: no previous audit is recorded" in brief.lower()
    findings = json.loads((work / "reports/findings.json").read_text())
    planted = [f for f in findings if f["significant"] and f.get("slice") == {"platform": "android"}]
    assert planted, "the planted blind spot was missed"
    assert "android" in brief
