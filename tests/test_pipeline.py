"""End to end: the real `dvc repro` in a temporary copy of the repository.

Checks that a fresh run reproduces every committed metrics file byte for byte, that a
second run re-runs nothing and changes no byte, and that `dvc exp run -S model=v2`
switches the model version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from blindspot import paths

from _paths import ROOT

BIN = Path(sys.executable).parent


def _run(cmd, cwd, check=True):
    env = dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}", DVC_NO_ANALYTICS="1",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def _tracked_files():
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


def _digest(root: Path, rels) -> dict:
    return {r: hashlib.sha256((root / r).read_bytes()).hexdigest() for r in rels if (root / r).exists()}


def _outputs(root: Path) -> list[str]:
    """Every out, metric and plot file dvc.yaml declares (directories expanded)."""
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    found = []
    for stage in stages.values():
        for key in ("outs", "metrics", "plots"):
            for item in stage.get(key, []):
                name = next(iter(item)) if isinstance(item, dict) else item
                target = root / name
                if target.is_dir():
                    found += [str(p.relative_to(root)) for p in sorted(target.rglob("*")) if p.is_file()]
                else:
                    found.append(name)
    return sorted(found)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    work = tmp_path_factory.mktemp("repo")
    for rel in _tracked_files():
        dest = work / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    _run(["git", "init", "-q"], work)
    _run(["git", "add", "-A"], work)
    _run(["git", "commit", "-qm", "snapshot"], work)
    return work


@pytest.mark.slow
def test_repro_from_scratch_then_nothing_to_do(workspace):
    first = _run(["dvc", "repro"], workspace)
    assert "Traceback" not in first.stderr
    ingest = json.loads((workspace / paths.INGEST_METRICS).read_text())
    assert ingest["rows_in"] == ingest["rows_clean"] == 979

    outputs = _outputs(workspace)
    assert outputs, "dvc.yaml declares no outputs"
    before = _digest(workspace, outputs)
    assert set(before) == set(outputs), "a declared output was not written"

    # The committed metrics, plots and reports are exactly what the code produces.
    committed = _digest(ROOT, [o for o in outputs if (ROOT / o).exists() and not o.startswith("data/")])
    assert committed == {k: before[k] for k in committed}, "committed outputs differ from a fresh `dvc repro`"

    second = _run(["dvc", "repro"], workspace)
    assert "Running stage" not in second.stdout, second.stdout
    assert _digest(workspace, outputs) == before
    status = _run(["dvc", "status"], workspace)
    assert "up to date" in status.stdout, status.stdout


@pytest.mark.slow
def test_exp_run_switches_to_v2(workspace):
    _run(["dvc", "repro"], workspace)
    _run(["git", "add", "-A"], workspace)
    _run(["git", "commit", "-qm", "v1 run", "--allow-empty"], workspace)
    _run(["dvc", "exp", "run", "-S", "model=v2"], workspace)
    params = yaml.safe_load((workspace / "params.yaml").read_text())
    assert params["model"]["name"] == "v2" and params["model"]["path"].endswith("v2.json")
    diff = json.loads(_run(["dvc", "metrics", "diff", "--json"], workspace).stdout)
    assert list(diff) == ["metrics/headline.json"], "only the headline is a declared metric"
    accuracy = diff["metrics/headline.json"]["accuracy.value"]
    assert accuracy["old"] == pytest.approx(0.713994) and accuracy["new"] > accuracy["old"]
    # A detailed file is an out, not a declared metric: `--targets` still diffs it.
    detail = json.loads(_run(["dvc", "metrics", "diff", "--json", "--targets", "metrics/slices.json"], workspace).stdout)
    recall = detail["metrics/slices.json"]["watchlist.jargon_high.recall_negative.value"]
    assert recall["new"] != recall["old"], "the watchlist key follows the slice across versions"

    # The paired comparison agrees with `dvc metrics diff` on every global metric it shares with profile.
    compare = json.loads((workspace / "metrics/compare.json").read_text())
    assert compare["baseline"]["name"] == "v1" and compare["current"]["name"] == "v2"
    entry = compare["global"]["accuracy"]
    assert entry["baseline"] == pytest.approx(accuracy["old"]) and entry["current"] == pytest.approx(accuracy["new"])
    assert entry["delta"]["value"] == pytest.approx(accuracy["diff"], abs=2e-6)
    brief = (workspace / "reports/blind_spot_brief.md").read_text()
    assert "v2" in brief and f"{entry['current']:.3f}" in brief
