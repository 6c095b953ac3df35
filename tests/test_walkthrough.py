"""The README's four-version walkthrough, run as printed in a copy of the repository, then `make test` there.

The copy starts as a fresh clone after `make audit` would leave it: the bundled v1 audit made from
scratch and committed (:func:`_bundled.make_bundled_audit`). Every command of the README's "Compare
model versions" block then runs as printed, in order: baseline records, `dvc exp run` of v2, v3 and
v4, commits, the gate, the dashboard. The checks follow each version's files: the baseline each was
compared with, the lifecycle, the gate's exit codes (v2 fails, v3 passes, v4 fails naming the planted
Depression regression), the history page, and the README's pasted gate table against the real one.

Last, `make test` runs in that copy: a user who audited and committed four versions of their own
still has a passing test suite. The inner run skips this test (it would recurse).
"""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest

from _bundled import make_bundled_audit, run
from _paths import ROOT
from test_readme import _blocks, _section

INNER = "BLINDSPOT_WALKTHROUGH_INNER"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.environ.get(INNER) == "1", reason="the walkthrough's own `make test` run")]


def _commands() -> list[str]:
    (block,) = [b for b in _blocks(_section("Compare model versions"), "bash") if "blindspot baseline" in b]
    return [line for line in block.splitlines() if shlex.split(line, comments=True)]


def _json(work, rev, path):
    return json.loads(run(["git", "show", f"{rev}:{path}"], work).stdout)


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The copy after every command of the README block: (workspace, {command index: completed process})."""
    work = make_bundled_audit(tmp_path_factory.mktemp("walk") / "ws")
    # `make` must find its set-up done, as in the user's clone: the copy shares this checkout's .venv. Were the
    # copy's pyproject.toml newer than the install stamp, `make` would re-install the shared .venv from the copy.
    stamp = ROOT / ".venv" / ".installed"
    assert all((work / f).stat().st_mtime <= stamp.stat().st_mtime for f in ("pyproject.toml", "constraints.txt"))
    (work / ".venv").symlink_to(ROOT / ".venv")
    done = {}
    for i, line in enumerate(_commands()):
        proc = run(["bash", "-c", line], work, check=False)
        done[i] = proc
        gate = shlex.split(line, comments=True)[:2] == ["blindspot", "gate"]
        assert proc.returncode == (1 if gate else 0), f"{line}\n{proc.stdout}\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
    return work, done


def test_each_version_is_compared_with_the_one_before(walked):
    work, _ = walked
    commits = run(["git", "log", "--format=%H %s", "-5"], work).stdout.split("\n")
    sha = {subject: commit for commit, subject in (c.split(" ", 1) for c in commits if c)}
    for version, previous in (("v3", "v2"), ("v4", "v3")):
        rev = sha[f"audit {version}"]
        record = _json(work, rev, "baseline/baseline.json")
        assert (record["name"], record["commit"]) == (previous, sha[f"audit {previous}"])
        compare = _json(work, rev, "metrics/compare.json")
        assert compare["status"] == "compared" and compare["baseline"]["source"] == "previous_audit"
        assert compare["baseline"]["commit"] == sha[f"audit {previous}"]
        assert _json(work, rev, "reports/lifecycle.json")["previous"]["name"] == previous
        assert f"the audit committed at `{sha[f'audit {previous}'][:12]}`" in run(
            ["git", "show", f"{rev}:reports/blind_spot_brief.md"], work).stdout
    v2 = _json(work, sha["audit v2"], "reports/lifecycle.json")
    assert v2["status"] == "tracked" and v2["previous"]["name"] == "v1"  # v2.yaml's configured v1 is the record


def test_the_lifecycle_closes_in_v3_and_opens_in_v4(walked):
    work, _ = walked
    v3 = _json(work, "HEAD~1", "reports/lifecycle.json")
    assert v3["counts"]["closed"] >= 1 and v3["counts"]["new"] == 0
    v4 = _json(work, "HEAD", "reports/lifecycle.json")
    new = {(e["key"], e["metric"]) for e in v4["blind_spots"] if e["status"] == "new"}
    assert ("condition__depression", "recall_positive") in new
    headline = _json(work, "HEAD", "metrics/headline.json")
    assert headline["blind_spots"]["new"] == len(new) and headline["gate"] == {"passed": 0, "n_failed": 2}
    assert _json(work, "HEAD~1", "metrics/headline.json")["gate"]["passed"] == 1  # the fix passes
    from blindspot.headline import n_keys

    assert f"{n_keys(headline)} for v2 to v4" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_gate_names_the_regression_as_the_readme_shows(walked):
    work, done = walked
    (i,) = [i for i, line in enumerate(_commands()) if line.startswith("blindspot gate")]
    out = done[i].stdout
    assert "# blindspot gate: FAILED" in out and "condition__depression" in out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for row in rows:  # the README's pasted rule table is this run's
        assert row in readme, row
    junit = (work / "reports/gate.junit.xml").read_text(encoding="utf-8")
    assert 'failures="2"' in junit


def test_metrics_diff_fits_a_screen_and_the_dashboard_has_four_versions(walked):
    work, _ = walked
    diff = run(["dvc", "metrics", "diff", "HEAD~1", "HEAD"], work).stdout.splitlines()
    assert 5 < len(diff) <= 61 and all(line.startswith(("Path", "metrics/headline.json")) for line in diff if line)
    page = (work / "reports/history.html").read_text(encoding="utf-8")
    assert "blindspot history: 4 audited versions" in page
    assert re.search(r"condition__depression / recall_positive.*?new", page, re.S)


def test_make_test_passes_in_the_walked_workspace(walked):
    work, _ = walked
    # The shared .venv's editable install points at this checkout's src/; the copy's tests must import the copy's.
    proc = run(["make", "test"], work, check=False,
               env={INNER: "1", "HYPOTHESIS_PROFILE": "ci", "PYTHONPATH": str(work / "src")})
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-30:])
    assert proc.returncode == 0, tail
