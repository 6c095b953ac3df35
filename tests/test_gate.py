"""The release gate: a planted regression fails and is named; an improvement passes."""

from __future__ import annotations

import json
import subprocess
from xml.etree import ElementTree as ET

from blindspot.cli import main
from blindspot.config import GateConfig
from blindspot.gate import evaluate


def _finding(key, metric="recall_positive", *, rank=1, source="discovered", label=None, q=0.001):
    f = {"key": key, "metric": metric, "source": source, "significant": True, "rank": rank, "slice_n": 120,
         "estimate": {"value": 0.62}, "rest_value": 0.94, "q_value": q, "conditional_q_value": q}
    if label:
        f["slice"] = {"label": label}
    return f


PROFILE = {"accuracy": {"value": 0.74}, "balanced_accuracy": {"value": 0.49},
           "per_class": {"neutral": {"recall": {"value": 0.02}}}}


def _compare(direction: str) -> dict:
    entry = {"baseline": 0.983, "current": 0.927, "delta": {"value": -0.056}, "q_value": 1e-9, "changed": True,
             "direction": direction}
    return {"status": "compared", "baseline": {"name": "v1"}, "family": {"n_tests": 82},
            "settings": {"fdr_alpha": 0.05}, "global": {"per_class": {"positive": {"recall": entry}}}}


def test_a_planted_regression_fails_and_is_named():
    base = [_finding("site__a"), _finding("class__neutral", "recall", source="class", label="neutral", rank=None)]
    now = base + [_finding("site__b__and__age__q1", rank=2)]
    result = evaluate(GateConfig(), findings=now, profile=PROFILE, compare=_compare("worsened"),
                      baseline_findings=base, baseline="v1")
    assert not result.passed
    checks = {c.rule: c for c in result.checks}
    assert not checks["new_blind_spot"].passed and "site__b__and__age__q1 recall_positive" in \
        checks["new_blind_spot"].failures[0]
    assert checks["new_weak_class"].passed
    assert not checks["worse_than_baseline"].passed
    assert checks["worse_than_baseline"].failures == (
        "global.per_class.positive.recall: 0.983 -> 0.927 (delta -0.056, q = 1e-09)",)


def test_an_improvement_passes_and_counts_what_closed():
    base = [_finding("site__a"), _finding("site__b", rank=2)]
    result = evaluate(GateConfig(), findings=[_finding("site__a")], profile=PROFILE, compare=_compare("improved"),
                      baseline_findings=base, baseline="v1")
    assert result.passed
    assert result.checks[0].summary == "0 new (1 blind spots of their own now, 2 in the baseline, 1 closed)"


def test_floors_and_the_first_audit():
    cfg = GateConfig(floors={"accuracy": 0.7, "recall_neutral": 0.1, "recal_neutral": 0.1, "mcc": None})
    result = evaluate(cfg, findings=[_finding("site__a")], profile=PROFILE, compare=None, baseline_findings=None,
                      baseline="none")
    checks = {c.rule: c for c in result.checks}
    assert checks["floor:accuracy"].passed
    assert checks["floor:accuracy"].summary == "accuracy 0.740 against a floor of 0.7"
    assert not checks["floor:recall_neutral"].passed  # 0.02 below 0.1
    assert not checks["floor:recal_neutral"].passed and "no such number" in checks["floor:recal_neutral"].summary
    assert "floor:mcc" not in checks  # a null floor is no rule
    # no baseline audit: the "new" rules cannot be judged and say so, without failing the first audit
    assert checks["new_blind_spot"].passed and checks["new_blind_spot"].summary.startswith("not judged")
    assert checks["worse_than_baseline"].passed and not result.passed


def test_the_command_reads_the_audit_at_head_and_writes_its_reports(tmp_path, capsys):
    (tmp_path / "reports").mkdir()
    (tmp_path / "metrics").mkdir()
    (tmp_path / "params.yaml").write_text("gate:\n  floors:\n    accuracy: 0.5\n", encoding="utf-8")
    (tmp_path / "metrics" / "profile.json").write_text(json.dumps(PROFILE), encoding="utf-8")
    findings = tmp_path / "reports" / "findings.json"
    findings.write_text(json.dumps([_finding("site__a")]), encoding="utf-8")
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1"]):
        subprocess.run(["git", *cmd], cwd=tmp_path, check=True)
    assert main(["gate", "--root", str(tmp_path)]) == 0  # the workspace is the committed audit itself
    findings.write_text(json.dumps([_finding("site__a"), _finding("source__imdb", rank=2)]), encoding="utf-8")
    assert main(["gate", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "# blindspot gate: FAILED" in out and "source__imdb recall_positive" in out
    suite = ET.fromstring((tmp_path / "reports" / "gate.junit.xml").read_text(encoding="utf-8"))
    assert suite.get("failures") == "1" and suite.get("tests") == "4"
    failed = [c.get("name") for c in suite if c.find("failure") is not None]
    assert failed == ["new_blind_spot"]
    assert "| `new_blind_spot` | **FAIL** |" in (tmp_path / "reports" / "gate.md").read_text(encoding="utf-8")


def test_the_command_says_why_it_cannot_run(tmp_path, capsys):
    (tmp_path / "params.yaml").write_text("{}\n", encoding="utf-8")
    assert main(["gate", "--root", str(tmp_path)]) == 2
    assert "reports/findings.json: not found; run `dvc repro` first" in capsys.readouterr().err
