"""End to end: the real `dvc repro` of the bundled v1 audit in a temporary copy of the repository.

The session's ``bundled_audit`` (tests/conftest.py) runs every stage from scratch there. Checks that
a second run re-runs nothing and changes no byte, that `dvc exp run -S model=v2` switches the model
version, and, while the workspace holds the bundled audit, that its committed outputs are exactly
what the code produces. A workspace holding a user's own audit is never taken as the truth.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from blindspot import paths

from _bundled import BUNDLED, bundled_params, declared_outputs, run as _run
from _paths import ROOT


def _digest(root: Path, rels) -> dict:
    return {r: hashlib.sha256((root / r).read_bytes()).hexdigest() for r in rels if (root / r).exists()}


def _outputs(root: Path) -> list[str]:
    """Every out, metric and plot file dvc.yaml declares (directories expanded)."""
    found = []
    for name in declared_outputs(root):
        target = root / name
        if target.is_dir():
            found += [str(p.relative_to(root)) for p in sorted(target.rglob("*")) if p.is_file()]
        else:
            found.append(name)
    return sorted(found)


@pytest.mark.slow
def test_repro_from_scratch_then_nothing_to_do(bundled_audit):
    ingest = json.loads((bundled_audit / paths.INGEST_METRICS).read_text())
    assert ingest["rows_in"] == ingest["rows_clean"] == 979

    outputs = _outputs(bundled_audit)
    assert outputs, "dvc.yaml declares no outputs"
    before = _digest(bundled_audit, outputs)
    assert set(before) == set(outputs), "a declared output was not written"

    second = _run(["dvc", "repro"], bundled_audit)
    assert "Running stage" not in second.stdout, second.stdout
    assert _digest(bundled_audit, outputs) == before
    status = _run(["dvc", "status"], bundled_audit)
    assert "up to date" in status.stdout, status.stdout


@pytest.mark.slow
def test_committed_bundled_audit_is_what_the_code_produces(bundled_audit):
    """The repository ships the bundled audit's outputs: they must match a fresh run byte for byte.

    Once a user has audited and committed a file of their own (README, "Audit your own predictions"),
    the workspace's outputs are theirs, not the bundled audit's: nothing to check then.
    """
    workspace = yaml.safe_load((ROOT / "params.yaml").read_text())
    if workspace != bundled_params():
        pytest.skip(f"the workspace holds another audit than {' '.join(BUNDLED)} "
                    f"(model {workspace.get('model', {}).get('name')!r}); its outputs are the user's")
    outputs = _outputs(bundled_audit)
    fresh = _digest(bundled_audit, outputs)
    committed = _digest(ROOT, [o for o in outputs if (ROOT / o).exists() and not o.startswith("data/")])
    assert committed == {k: fresh[k] for k in committed}, "committed outputs differ from a fresh `dvc repro`"


@pytest.mark.slow
def test_exp_run_switches_to_v2(bundled_audit, tmp_path):
    workspace = Path(shutil.copytree(bundled_audit, tmp_path / "repo", symlinks=True))  # the shared run stays v1
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
