"""v3 and v4 are v2 with exactly the documented predictions moved, and nothing else."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from _paths import ROOT

SCRIPT = ROOT / "scripts" / "make_versions.py"
PREDICTIONS = ROOT / "data" / "raw" / "predictions"
CLASSES = ("negative", "neutral", "positive")
PREDICTION_FIELDS = {"prediction", "confidence", "probabilities"}


def _module():
    spec = importlib.util.spec_from_file_location("make_versions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve the module's annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def _load(version: str) -> list[dict]:
    return json.loads((PREDICTIONS / f"{version}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def versions() -> dict[str, list[dict]]:
    return {v: _load(v) for v in ("v2", "v3", "v4")}


def test_rerun_rewrites_the_committed_files_byte_for_byte(tmp_path):
    for out in (tmp_path / "a", tmp_path / "b"):
        subprocess.run([sys.executable, str(SCRIPT), "--out-dir", str(out)], check=True, capture_output=True)
    for name in ("v3.json", "v4.json"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes()
        assert first == (PREDICTIONS / name).read_bytes(), f"{name} differs from `make versions`"


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_every_row_keeps_the_input_contract(versions, version):
    for r in versions[version]:
        proba = [r["probabilities"][c] for c in CLASSES]
        top = max(proba)
        assert r["prediction"] == CLASSES[proba.index(top)], r["id"]  # the argmax, first class on a tie
        assert r["confidence"] == top, r["id"]
        assert abs(sum(proba) - 1) < 1e-5, r["id"]
        assert list(r) == list(versions["v2"][0]), r["id"]  # same fields, same order


def _changed(old: list[dict], new: list[dict]) -> list[tuple[dict, dict]]:
    """The (old, new) pairs that differ; asserts the rows line up and only prediction fields move."""
    assert [r["id"] for r in old] == [r["id"] for r in new]
    pairs = [(a, b) for a, b in zip(old, new) if a != b]
    for a, b in pairs:
        assert {k for k in a if a[k] != b[k]} <= PREDICTION_FIELDS, a["id"]
        # A swap of two classes' probabilities: same values, same confidence.
        assert sorted(a["probabilities"].values()) == sorted(b["probabilities"].values()), a["id"]
        assert a["confidence"] == b["confidence"], a["id"]
    return pairs


def test_v3_fixes_birth_control_positive_and_negative_errors_only(versions):
    pairs = _changed(versions["v2"], versions["v3"])
    assert len(pairs) == 12 + 24
    assert all(a["prediction"] != a["label"] and b["prediction"] == b["label"] for a, b in pairs)
    birth_control = [a for a, _ in pairs if a["label"] == "positive"]
    assert len(birth_control) == 12 and all(a["condition"] == "Birth Control" for a in birth_control)
    assert sum(a["label"] == "negative" for a, _ in pairs) == 24


def test_v4_breaks_positive_depression_reviews_only(versions):
    pairs = _changed(versions["v3"], versions["v4"])
    assert len(pairs) == 18
    for a, b in pairs:
        assert (a["label"], a["condition"], a["prediction"]) == ("positive", "Depression", "positive")
        assert b["prediction"] == "negative"


def test_the_counts_the_docstring_states(versions):
    """The docstring's numbers (v3: 12 of 16, 24 of 124, 156/256; v4: 18 of 36, 18/38) are the data's."""
    v2, v3, v4 = versions["v2"], versions["v3"], versions["v4"]

    def count(records, **where):
        return sum(all(r[k] == v for k, v in where.items()) and r["prediction"] == r["label"] for r in records)

    bc = [r for r in v2 if r["condition"] == "Birth Control" and r["label"] == "positive"]
    assert (len(bc), len(bc) - count(bc)) == (86, 16)
    assert count(v3, condition="Birth Control", label="positive") == 82
    negative = [r for r in v2 if r["label"] == "negative"]
    assert (len(negative) - count(negative), count(v2, label="negative")) == (124, 132)
    assert count(v3, label="negative") == 156
    depression = [r for r in v3 if r["condition"] == "Depression" and r["label"] == "positive"]
    assert (len(depression), count(depression)) == (38, 36)
    assert count(v4, condition="Depression", label="positive") == 18
    module = _module()
    assert [f.count for f in module.V3_FLIPS] == [12, 24] and [f.count for f in module.V4_FLIPS] == [18]


def test_a_swap_that_would_tie_is_refused():
    module = _module()
    tied = {"id": "x", "label": "positive", "prediction": "negative", "confidence": 0.4,
            "probabilities": {"negative": 0.4, "neutral": 0.4, "positive": 0.2}}
    with pytest.raises(ValueError, match="tie"):
        module.moved_to(tied, "positive")
