"""`blindspot baseline`: the audit committed at a revision, recorded in baseline/ for the stages to read."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
import yaml

from blindspot import baseline
from blindspot.cli import main
from blindspot.errors import BlindspotError

PARAMS = {"model": {"name": "v1", "path": "data/raw/p.jsonl", "format": "jsonl",
                    "columns": {"id": "rid", "text": "review", "label": "gold", "prediction": "pred",
                                "confidence": "score", "probabilities": None}, "probability_prefix": "p_"}}


def _git(root, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def project(tmp_path):
    """A git repository with one committed audit of data/raw/p.jsonl (model v1)."""
    root = tmp_path / "proj"
    (root / "data/raw").mkdir(parents=True)
    (root / "reports").mkdir()
    (root / "metrics").mkdir()
    (root / "data/raw/p.jsonl").write_text('{"rid": 1}\n', encoding="utf-8")
    (root / "params.yaml").write_text(yaml.safe_dump(PARAMS), encoding="utf-8")
    (root / "reports/findings.json").write_text('[{"key": "a", "metric": "error_rate"}]\n', encoding="utf-8")
    (root / "metrics/headline.json").write_text('{"accuracy": {"value": 0.7}}\n', encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "audit v1")
    return root


def test_record_copies_the_committed_audit_and_stages_it(project, capsys):
    assert main(["baseline", "--root", str(project)]) == 0
    assert "baseline: v1, the audit committed at" in capsys.readouterr().out
    rec = baseline.load(project)
    assert (rec.name, rec.rev, rec.path) == ("v1", "HEAD", "data/raw/p.jsonl")
    assert rec.commit == _git(project, "rev-parse", "HEAD").strip() and rec.subject == "audit v1"
    assert rec.input_sha256 == hashlib.sha256(b'{"rid": 1}\n').hexdigest()
    assert baseline.load_copy(project, baseline.paths.FINDINGS) == [{"key": "a", "metric": "error_rate"}]
    assert not (project / "baseline/lifecycle.json").exists()  # the audit had none: no stale copy either
    staged = _git(project, "diff", "--cached", "--name-only").split()
    assert staged == ["baseline/baseline.json", "baseline/findings.json", "baseline/headline.json"]
    cfg = baseline.compare_config(rec)
    assert (cfg.name, cfg.path, cfg.format, cfg.columns.text, cfg.probability_prefix) == (
        "v1", "data/raw/p.jsonl", "jsonl", "review", "p_")
    assert baseline.provenance(rec, configured=False)["source"] == "previous_audit"
    assert baseline.stale_reason(rec, project) is None
    assert baseline.same_version(rec, None, project) and baseline.same_version(rec, "data/raw/p.jsonl", project)


def test_a_predictions_file_changed_since_the_audit_is_refused(project):
    (project / "data/raw/p.jsonl").write_text('{"rid": 2}\n', encoding="utf-8")
    with pytest.raises(BlindspotError, match="not the file the audit at HEAD .* read: its content differs"):
        baseline.record(project)


def test_a_dvc_tracked_file_is_checked_against_its_pointer(project):
    data = b'{"rid": 3}\n'
    (project / "data/raw/.gitignore").write_text("/p.jsonl\n", encoding="utf-8")
    _git(project, "rm", "-q", "--cached", "data/raw/p.jsonl")
    (project / "data/raw/p.jsonl").write_bytes(data)
    pointer = {"outs": [{"md5": hashlib.md5(data).hexdigest(), "size": len(data), "hash": "md5", "path": "p.jsonl"}]}
    (project / "data/raw/p.jsonl.dvc").write_text(yaml.safe_dump(pointer), encoding="utf-8")
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "dvc add p.jsonl")
    rec = baseline.record(project)
    assert rec.input_sha256 == hashlib.sha256(data).hexdigest()
    (project / "data/raw/p.jsonl").write_bytes(b'{"rid": 4}\n')
    assert "changed since baseline/baseline.json recorded it" in baseline.stale_reason(rec, project)
    with pytest.raises(BlindspotError, match="differs from the one its .dvc file recorded"):
        baseline.record(project)


@pytest.mark.parametrize("rev, message", [("nope", "--rev nope: not a commit"),
                                          ("HEAD~1", "--rev HEAD~1: not a commit")])
def test_a_revision_that_is_not_a_commit(project, rev, message):
    with pytest.raises(BlindspotError, match=message):
        baseline.record(project, rev)


def test_a_commit_without_an_audit(project, capsys):
    (project / "reports/findings.json").unlink()
    _git(project, "commit", "-qam", "drop the audit")
    assert main(["baseline", "--root", str(project)]) == 2
    assert "no audit is committed there" in capsys.readouterr().err


def test_a_hand_edited_record_is_named(project):
    (project / "baseline").mkdir()
    (project / "baseline/baseline.json").write_text(json.dumps({"name": "v1"}), encoding="utf-8")
    with pytest.raises(BlindspotError, match="baseline/baseline.json: not a baseline record"):
        baseline.load(project)
