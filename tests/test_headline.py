"""The headline metrics: a screenful of keys, every number copied from its source file, counted as the brief counts.

Checked on the report's fixture cases (real stage outputs; ``planted`` is shaped like the bundled demo,
``twelve_classes`` has more classes than the headline lists) and on hand-built extremes.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from blindspot.headline import MAX_CLASSES, MAX_KEYS, N_WORST_CLASSES, headline, n_keys
from blindspot.io.writers import dumps_metrics
from blindspot.report import reasoning
from blindspot.report.load import load_inputs
from blindspot.results import undeclared
from blindspot.results.headline import HEADLINE
from _paths import ROOT

CASES = ROOT / "tests" / "report" / "cases"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("_"))
SOURCES = {"profile": "metrics/profile.json", "slices": "metrics/slices.json",
           "calibration": "metrics/calibration.json", "compare": "metrics/compare.json"}
COMPARED = {"status": "compared", "family": {"n_tests": 40, "n_changed": 5, "n_improved": 3, "n_worsened": 2}}
GATE_ROOM = 5  # keys left for the gate's result, added later


def _load(case: Path) -> dict:
    return {name: json.loads((case / rel).read_text(encoding="utf-8")) for name, rel in SOURCES.items()}


def _written(files: dict, threshold: float = 0.8) -> dict:
    """The headline as the stage writes it and a reader loads it back."""
    doc = headline(files["profile"], slices=files["slices"], calibration=files["calibration"],
                   compare=files["compare"], confident_threshold=threshold)
    return json.loads(dumps_metrics(doc))


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_every_case_fits_a_screen_and_holds_only_declared_keys(case):
    files = _load(case)
    for compare in (files["compare"], COMPARED):
        doc = _written({**files, "compare": compare})
        assert n_keys(doc) <= MAX_KEYS - GATE_ROOM
        assert undeclared(doc, HEADLINE) == []


def test_the_bundled_like_case_copies_its_numbers_from_the_source_files():
    files = _load(CASES / "planted")
    doc = _written({**files, "compare": COMPARED})
    profile, cal = files["profile"], files["calibration"]
    for name in ("accuracy", "balanced_accuracy", "f1_macro"):
        assert doc[name] == profile[name]
    assert doc["recall"] == {c: profile["per_class"][c]["recall"] for c in profile["per_class"]}
    assert doc["recall_classes_omitted"] == 0
    assert doc["ece"] == cal["overall"]["ece"]
    assert doc["confidently_incorrect"] == {"threshold": 0.8, "rate": cal["confidently_incorrect"]["conf_ge_80"]["rate"]}
    assert doc["comparison"] == {"status": "compared", "n_improved": 3, "n_worsened": 2}
    assert n_keys(doc) == 1 + 3 * 4 + 3 * 4 + 1 + 4 + 5 + 3 + 3


def test_the_rate_is_read_at_the_band_the_brief_uses():
    files = _load(CASES / "planted")
    bands = files["calibration"]["confidently_incorrect"]
    assert _written(files, 0.9)["confidently_incorrect"]["rate"] == bands["conf_ge_90"]["rate"]
    # No 0.85 band: the closest (the lower one on a tie), as blindspot.report.load picks it.
    assert _written(files, 0.85)["confidently_incorrect"]["threshold"] == 0.8


def test_twelve_classes_keep_the_lowest_recalls_and_count_the_rest():
    files = _load(CASES / "twelve_classes")
    doc = _written(files)
    per_class = files["profile"]["per_class"]
    assert len(per_class) == 12 > MAX_CLASSES
    assert len(doc["recall"]) == N_WORST_CLASSES
    worst_kept = max(v["value"] for v in doc["recall"].values())
    assert all(per_class[c]["recall"]["value"] >= worst_kept for c in per_class if c not in doc["recall"])
    assert all(doc["recall"][c] == per_class[c]["recall"] for c in doc["recall"])
    assert doc["recall_classes_omitted"] == 12 - N_WORST_CLASSES
    assert n_keys(doc) <= MAX_KEYS - GATE_ROOM


@pytest.mark.parametrize("n_classes", [1, MAX_CLASSES, MAX_CLASSES + 1, 200])
def test_any_number_of_classes_fits(n_classes):
    # A class with no row has no recall: it is listed after every measured one.
    per_class = {f"c{i}": {"recall": {"value": i / 1000, "ci_low": 0.0, "ci_high": 1.0, "method": "wilson"}}
                 for i in range(n_classes)}
    per_class["c0"]["recall"] = {"value": None, "method": "wilson", "reason": "no row of the class"}
    profile = {"classes": {c: i for i, c in enumerate(per_class)}, "per_class": per_class,
               **{m: {"value": 0.5, "ci_low": 0.4, "ci_high": 0.6, "method": "bootstrap"}
                  for m in ("accuracy", "balanced_accuracy", "f1_macro")}}
    cal = {"overall": {"ece": {"value": 0.1, "ci_low": 0.05, "ci_high": 0.2, "method": "m"}},
           "confident_thresholds": [0.8], "confidently_incorrect": {"conf_ge_80": {"rate": {"value": 0.1}}}}
    slices = {"family": {"n_blind_spots": 1, "n_class_mix_slices": 2, "n_class_findings": 3}}
    doc = json.loads(dumps_metrics(headline(profile, slices=slices, calibration=cal, compare=COMPARED)))
    assert n_keys(doc) <= MAX_KEYS - GATE_ROOM and undeclared(doc, HEADLINE) == []
    if n_classes > MAX_CLASSES:
        assert sorted(doc["recall"]) == ["c1", "c2", "c3", "c4"]


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_blind_spots_are_counted_as_the_brief_counts_them(case):
    inputs = load_inputs(case, confident_threshold=0.8)
    counts = _written(_load(case))["blind_spots"]
    assert counts == {"own": len(reasoning.own_entries(inputs)), "class_mix": len(reasoning.class_mix_entries(inputs)),
                      "weak_classes": len(reasoning.significant_weak_classes(inputs))}


def test_the_stage_writes_the_same_bytes_twice(tmp_path, monkeypatch):
    import blindspot.stages.headline as stage

    case = CASES / "planted"
    for rel in [*SOURCES.values(), "params.yaml"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(case / rel, tmp_path / rel)
    monkeypatch.chdir(tmp_path)
    log = logging.getLogger("headline")
    stage.main(log)
    first = (tmp_path / HEADLINE.path).read_bytes()
    stage.main(log)
    assert (tmp_path / HEADLINE.path).read_bytes() == first
    assert json.loads(first) == _written(_load(case))
