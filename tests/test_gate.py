"""The release gate: a planted regression fails and is named; an improvement passes; the command's exit codes."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

from blindspot.cli import main
from blindspot.config import GateConfig
from blindspot.gate import evaluate, junit_xml, markdown, to_json
from blindspot.lifecycle import track


def _finding(key, metric="recall_positive", *, rank=1, source="discovered", label=None, q=0.001):
    f = {"key": key, "metric": metric, "source": source, "significant": True, "rank": rank, "slice_n": 120,
         "estimate": {"value": 0.62}, "rest_value": 0.94, "q_value": q, "description": key}
    if label:
        f["slice"] = {"label": label}
    return f


PROFILE = {"accuracy": {"value": 0.74}, "balanced_accuracy": {"value": 0.49},
           "per_class": {"neutral": {"recall": {"value": 0.02}}}}


def _compare(direction: str) -> dict:
    entry = {"baseline": 0.983, "current": 0.927, "delta": {"value": -0.056}, "q_value": 1e-9, "changed": True,
             "direction": direction, "tested": True}
    return {"status": "compared", "baseline": {"name": "v1"}, "family": {"n_tests": 82},
            "settings": {"fdr_alpha": 0.05}, "global": {"per_class": {"positive": {"recall": entry}}}}


def _lifecycle(now, before, compare=None):
    return track(now, current_name="v2", compare=compare, previous_findings=before,
                 previous={"name": "v1", "commit": "0123456789abcdef", "committed": "2026-12-01T10:00:00+00:00",
                           "subject": "audit v1"})


def test_a_planted_regression_fails_and_is_named():
    base = [_finding("site__a"), _finding("class__neutral", "recall", source="class", label="neutral", rank=None)]
    now = base + [_finding("site__b__and__age__q1", rank=2)]
    compare = _compare("worsened")
    result = evaluate(GateConfig(), lifecycle=_lifecycle(now, base, compare), profile=PROFILE, compare=compare)
    assert not result.passed
    checks = {c.rule: c for c in result.checks}
    assert not checks["new_blind_spot"].passed
    assert checks["new_blind_spot"].failures[0].startswith("site__b__and__age__q1 (`site__b__and__age__q1` "
                                                           "recall_positive, new)")
    assert checks["new_weak_class"].passed
    assert not checks["worse_than_baseline"].passed
    assert checks["worse_than_baseline"].failures == (
        "global.per_class.positive.recall: 0.983 -> 0.927 (delta -0.056, q = 1e-09)",)
    assert result.baseline == "v1, the audit committed at 0123456789ab (2026-12-01, 'audit v1')"
    doc = to_json(result)
    assert (doc["passed"], doc["n_failed"], doc["n_rules"]) == (0, 2, 3)
    suite = ET.fromstring(junit_xml(result))
    assert [c.get("name") for c in suite if c.find("failure") is not None] == ["new_blind_spot",
                                                                               "worse_than_baseline"]
    assert "| `new_blind_spot` | **FAIL** |" in markdown(result)


def test_an_improvement_passes_and_counts_what_closed():
    base = [_finding("site__a"), _finding("site__b", rank=2)]
    now = [_finding("site__a")]
    result = evaluate(GateConfig(), lifecycle=_lifecycle(now, base), profile=PROFILE, compare=_compare("improved"))
    assert result.passed
    assert result.checks[0].summary == "0 new or reopened (1 blind spots of their own now, 2 in v1, 1 closed)"


def test_a_new_weak_class_fails_its_rule():
    now = [_finding("class__neutral", "recall", source="class", label="neutral", rank=None)]
    result = evaluate(GateConfig(), lifecycle=_lifecycle(now, []), profile=PROFILE, compare=None)
    checks = {c.rule: c for c in result.checks}
    assert not checks["new_weak_class"].passed and checks["new_weak_class"].failures[0].startswith("class 'neutral'")


def test_floors_and_the_first_audit():
    cfg = GateConfig(floors={"accuracy": 0.7, "recall_neutral": 0.1, "recal_neutral": 0.1, "mcc": None})
    first = track([_finding("site__a")], current_name="v1", reason="no previous audit is recorded")
    result = evaluate(cfg, lifecycle=first, profile=PROFILE, compare=None)
    checks = {c.rule: c for c in result.checks}
    assert checks["floor:accuracy"].passed
    assert checks["floor:accuracy"].summary == "accuracy 0.740 against a floor of 0.7"
    assert not checks["floor:recall_neutral"].passed  # 0.02 below 0.1
    assert not checks["floor:recal_neutral"].passed and "no such number" in checks["floor:recal_neutral"].summary
    assert "floor:mcc" not in checks  # a null floor is no rule
    # no previous audit: the "new" rules cannot be judged and say so, without failing the first audit
    assert checks["new_blind_spot"].passed and checks["new_blind_spot"].summary.startswith(
        "not judged: no previous audit is recorded")
    assert checks["worse_than_baseline"].passed and not result.passed


def _recorded(root, passed: int):
    (root / "metrics").mkdir(parents=True, exist_ok=True)
    (root / "reports").mkdir(parents=True, exist_ok=True)
    (root / "metrics/gate.json").write_text(json.dumps({"passed": passed}), encoding="utf-8")
    (root / "reports/gate.md").write_text(f"# blindspot gate: {'PASSED' if passed else 'FAILED'}\n", encoding="utf-8")


def test_the_command_exits_with_what_the_gate_stage_recorded(tmp_path, capsys):
    _recorded(tmp_path, 1)
    assert main(["gate", "--root", str(tmp_path), "--no-status"]) == 0
    _recorded(tmp_path, 0)
    assert main(["gate", "--root", str(tmp_path), "--no-status"]) == 1
    assert "# blindspot gate: FAILED" in capsys.readouterr().out


def test_the_command_says_why_it_cannot_run(tmp_path, capsys):
    assert main(["gate", "--root", str(tmp_path)]) == 2
    assert "metrics/gate.json: not found; run `dvc repro`" in capsys.readouterr().err
