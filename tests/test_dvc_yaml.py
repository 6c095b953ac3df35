"""dvc.yaml declares, for every stage, the library code the stage runs.

A module missing from a stage's deps means an edit to it would not re-run the stage, and
`dvc repro` would report a stale result as up to date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from _paths import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
PACKAGE_MARKERS = ("src/blindspot/stages/__init__.py", "src/blindspot/__init__.py")  # no code a stage depends on


def test_every_stage_of_the_mission_is_declared():
    assert {"ingest", "profile", "slice", "calibrate", "judge", "report"} <= set(STAGES)


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_imported_project_module_is_a_dependency(name):
    deps = [d if isinstance(d, str) else next(iter(d)) for d in STAGES[name]["deps"]]
    # What the stage imports at start-up (the project imports its own modules at module level).
    code = (f"import sys, blindspot.stages.{name}; print('\\n'.join(m.__file__ for n, m in sys.modules.items() "
            "if n.startswith('blindspot') and getattr(m, '__file__', None)))")
    files = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    assert f"src/blindspot/stages/{name}.py" in {str(Path(f).resolve().relative_to(ROOT)) for f in files}
    for f in files:
        rel = str(Path(f).resolve().relative_to(ROOT))
        if rel in PACKAGE_MARKERS:
            continue
        assert any(rel == d or rel.startswith(d.rstrip("/") + "/") for d in deps), \
            f"stage {name} imports {rel}, which is not among its deps in dvc.yaml"


def test_report_reruns_on_any_params_change():
    # The brief's footer prints the sha256 of params.yaml: the whole file is a dependency.
    assert "params.yaml" in STAGES["report"]["deps"]
