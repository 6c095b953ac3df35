"""`blindspot history` on a small hand-made git history: the SQLite rows, and the page in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess

import pytest

from blindspot.cli import main
from blindspot.history import read_history

ACCURACY = [(0.70, 0.67, 0.73), (0.74, 0.71, 0.77), (0.66, 0.63, 0.69)]  # v3's interval lies below v2's 0.74


def _est(value, lo, hi):
    return {"value": value, "ci_low": lo, "ci_high": hi, "method": "wilson"}


def _finding(key, metric, value):
    return {"key": key, "metric": metric, "source": "metadata", "significant": True, "rank": 1,
            "estimate": _est(value, value - 0.05, value + 0.05)}


def _write(path, doc):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _git(root, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root, check=True,
                   capture_output=True)


@pytest.fixture()
def project(tmp_path):
    """Three commits: v1 from profile.json only, v2 and v3 with a headline; a blind spot new in v2, closed in v3."""
    root = tmp_path / "proj"
    root.mkdir()
    _git(root, "init", "-q")
    spots = [[_finding("topic__a", "error_rate", 0.4)],
             [_finding("topic__a", "error_rate", 0.4), _finding("topic__<b>", "recall_negative", 0.3)],
             [_finding("topic__a", "error_rate", 0.41)]]
    for i, ((acc, lo, hi), found) in enumerate(zip(ACCURACY, spots)):
        profile = {"model": f"model-{i + 1}", "accuracy": _est(acc, lo, hi),
                   "per_class": {"negative": {"recall": _est(acc - 0.1, lo - 0.1, hi - 0.1)}}}
        _write(root / "metrics/profile.json", profile)
        if i:
            _write(root / "metrics/headline.json",
                   {"schema_version": 1, "accuracy": _est(acc, lo, hi), "blind_spots": {"own": len(found)},
                    "recall": {"negative": _est(acc - 0.1, lo - 0.1, hi - 0.1)}, "recall_classes_omitted": 0})
        _write(root / "metrics/slices.json",
               {"watchlist": {"topic__a": {"accuracy": _est(0.6 - 0.01 * i, 0.5, 0.7), "n": 40}}})
        _write(root / "reports/findings.json", found)
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", f"audit v{i + 1} <script>")
    return root


def test_history_writes_sqlite_and_an_offline_page(project, tmp_path, capsys):
    assert main(["history", "--root", str(project)]) == 0
    assert "3 audited versions" in capsys.readouterr().out
    con = sqlite3.connect(project / "reports/history.sqlite")
    models = [r[0] for r in con.execute("SELECT model FROM versions ORDER BY date, rowid")]
    assert models == ["model-1", "model-2", "model-3"]
    acc = con.execute("SELECT value, ci_low, ci_high FROM metrics WHERE name = 'accuracy' ORDER BY rowid").fetchall()
    assert acc == ACCURACY
    assert con.execute("SELECT count(*) FROM metrics WHERE name = 'recall.negative'").fetchone() == (3,)
    assert con.execute("SELECT count(*) FROM metrics WHERE name = 'watchlist.topic__a / accuracy'").fetchone() == (3,)
    spots = con.execute("SELECT slice, metric, status FROM blind_spots ORDER BY rowid").fetchall()
    assert spots == [("topic__a", "error_rate", "open"),
                     ("topic__<b>", "recall_negative", "new"), ("topic__a", "error_rate", "persisting"),
                     ("topic__<b>", "recall_negative", "closed"), ("topic__a", "error_rate", "persisting")]
    con.close()

    page = (project / "reports/history.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)  # nothing fetched from a network
    assert "<script" not in page  # the commit message's text is escaped, and the page has no script of its own
    assert "topic__&lt;b&gt;" in page
    assert page.count('class="regression"') >= 2  # accuracy and recall.negative at v3, in the charts and tables
    main(["history", "--root", str(project), "--out", "again.html", "--db", "again.sqlite"])
    assert (project / "again.html").read_text(encoding="utf-8") == page  # deterministic

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium installed")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'chrome'}",
                          "--virtual-time-budget=3000", "--dump-dom", (project / "reports/history.html").as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<svg") == 3  # accuracy, blind_spots.own, recall.negative
    assert "regression-mark" in dom and "▼ regression" in dom
    assert "ev-new" in dom and "ev-closed" in dom


def test_an_uncommitted_experiment_follows_the_history_and_a_committed_one_is_not_repeated(project):
    """`dvc exp run` keeps each experiment as a commit under refs/exps; history reads it after the branch."""
    _write(project / "metrics/profile.json", {"model": "model-exp", "accuracy": _est(0.8, 0.77, 0.83)})
    _write(project / "reports/findings.json", [])
    _git(project, "add", "-A")
    tree = subprocess.run(["git", "write-tree"], cwd=project, capture_output=True, text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True,
                          check=True).stdout.strip()
    exp = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit-tree", tree, "-p",
                          head, "-m", "exp"], cwd=project, capture_output=True, text=True, check=True).stdout.strip()
    _git(project, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/brave-fox", exp)
    _git(project, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/same-as-v3", head)  # committed already
    versions = read_history(project)
    assert [v.subject for v in versions][-2:] == ["audit v3 <script>", "experiment brave-fox"]
    assert versions[-1].model == "model-exp"
