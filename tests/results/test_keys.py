"""Key declarations: paths with varying segments, writing through them, and checking a file against them."""

from __future__ import annotations

import pytest

from blindspot.results import HIGHER, LOWER, NEITHER, Estimate, Key, ResultsFile, undeclared

SPEC = ResultsFile("metrics/x.json", "X", "test", (
    Key("n_rows", "count", "rows"),
    Key("per_class.<class>.recall", "estimate", "recall"),
    Key("per_class.<class>.support", "count", "support"),
    Key("slices.<key>.error_rate", "estimate", "error rate"),
    Key("findings[].key", "text", "slice key"),
    Key("classes", "map:count", "index of each class"),
))


def test_a_key_fills_its_segments_and_writes_an_estimate_encoded():
    doc: dict = {}
    SPEC["per_class.<class>.recall"].put(doc, Estimate(0.3, 0.25, 0.36, "wilson"), **{"class": "negative"})
    SPEC["n_rows"].put(doc, 979)
    assert doc == {"per_class": {"negative": {"recall": {"value": 0.3, "ci_low": 0.25, "ci_high": 0.36,
                                                         "method": "wilson"}}}, "n_rows": 979}
    assert SPEC["per_class.<class>.recall"].at(**{"class": "neutral"}) == ("per_class", "neutral", "recall")


def test_direction_comes_from_the_metric_name_unless_declared():
    assert SPEC["per_class.<class>.recall"].direction == HIGHER
    assert SPEC["slices.<key>.error_rate"].direction == LOWER
    assert SPEC["n_rows"].direction == NEITHER
    assert Key("accuracy_over_baseline", "estimate", "lift", HIGHER).direction == HIGHER


def test_a_conforming_file_has_no_problem():
    doc = {"n_rows": 3, "classes": {"a": 0, "b": 1},
           "per_class": {"a": {"recall": {"value": 0.5, "ci_low": 0.1, "ci_high": 0.9, "method": "wilson"},
                               "support": 2}},
           "slices": {"site__x": {"error_rate": {"value": None, "reason": "no rows"}}},
           "findings": [{"key": "site__x"}, {"key": "site__y"}]}
    assert undeclared(doc, SPEC) == []


def test_an_undeclared_key_and_a_wrong_kind_are_named():
    doc = {"n_rows": 2.5, "per_class": {"a": {"recall": 0.5, "recal": {"value": 1}}}, "classes": {"a": "zero"},
           "extra": {"deep": 1}}
    problems = undeclared(doc, SPEC)
    assert "metrics/x.json: n_rows should be count, found float" in problems
    assert "metrics/x.json: per_class.a.recall should be estimate, found float" in problems
    assert "metrics/x.json: per_class.a.recal is not declared" in problems
    assert "metrics/x.json: classes.a should be count" in problems
    assert "metrics/x.json: extra is not declared" in problems and len(problems) == 5


def test_a_bad_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        Key("x", "float", "no such kind")
