"""Each blind spot against the previous version: new, reopened, persisting (better, worse, unchanged), closed."""

from __future__ import annotations

from blindspot.lifecycle import blind_spots, counts, lifecycle, own_blind_spots, track


def _f(key, metric="recall_positive", value=0.6, q=0.001):
    return {"key": key, "metric": metric, "source": "watchlist", "significant": True, "rank": 1,
            "estimate": {"value": value}, "description": f"slice {key}", "q_value": q}


def _weak(cls, value=0.3):
    return {"key": f"class__{cls}", "metric": "recall", "source": "class", "significant": True, "rank": None,
            "estimate": {"value": value}, "slice": {"label": cls}}


def _paired(direction, changed=True):
    return {"tested": True, "changed": changed, "direction": direction}


def test_every_status():
    previous = own_blind_spots([_f("a", value=0.70), _f("b"), _f("c", "error_rate", 0.30), _f("gone")])
    current = own_blind_spots([_f("a", value=0.55), _f("b", value=0.62), _f("c", "error_rate", 0.20), _f("fresh"),
                               _f("back")])
    compare = {"status": "compared",
               "watchlist": {"a": {"recall_positive": _paired("worsened")},
                             "b": {"recall_positive": _paired("unchanged", changed=False)},
                             # a slice's error rate is compared as its accuracy
                             "c": {"accuracy": _paired("improved")}}}
    out = lifecycle(current, previous, compare, previous_closed=frozenset({("back", "recall_positive")}))
    assert out[("a", "recall_positive")] == {"status": "persisting", "trend": "worse", "value": 0.55,
                                             "previous_value": 0.70}
    assert out[("b", "recall_positive")]["trend"] == "unchanged"
    assert out[("c", "error_rate")]["trend"] == "better"
    assert out[("fresh", "recall_positive")]["status"] == "new"
    assert out[("back", "recall_positive")]["status"] == "reopened"
    assert out[("gone", "recall_positive")] == {"status": "closed", "value": None, "previous_value": 0.6}
    assert counts(out) == {"new": 1, "reopened": 1, "persisting": 3, "closed": 1, "persisting_better": 1,
                           "persisting_worse": 1, "persisting_unchanged": 1}


def test_a_slice_the_compare_stage_did_not_pair_is_unchanged_and_no_previous_audit_tells_nothing():
    spots = own_blind_spots([_f("a")])
    assert lifecycle(spots, spots, compare=None)[("a", "recall_positive")]["trend"] == "unchanged"
    assert lifecycle(spots, None) == {}


def test_only_ranked_significant_slice_findings_are_blind_spots_of_their_own_and_weak_classes_are_tracked_too():
    findings = [_f("a"), {**_f("mix", "error_rate"), "rank": None},  # class mix only: no rank of its own
                {**_f("b"), "significant": False}, _weak("neutral"), {**_weak("positive"), "significant": False}]
    assert set(own_blind_spots(findings)) == {("a", "recall_positive")}
    assert set(blind_spots(findings)) == {("a", "recall_positive"), ("class__neutral", "recall")}


def test_a_weak_class_trend_comes_from_the_paired_recall_test():
    compare = {"status": "compared", "global": {"per_class": {"neutral": {"recall": _paired("improved")}}}}
    doc = track([_weak("neutral", 0.2)], current_name="v2", compare=compare, previous_findings=[_weak("neutral")],
                previous={"name": "v1"})
    (entry,) = doc["blind_spots"]
    assert (entry["kind"], entry["label"], entry["status"], entry["trend"]) == ("class", "neutral", "persisting",
                                                                                  "better")


def test_four_versions_carry_closed_blind_spots_forward_so_a_return_is_a_reopening():
    v1 = [_f("a"), _f("b")]
    d1 = track(v1, current_name="v1", reason="no previous audit is recorded")
    assert d1["status"] == "no_baseline" and {e["status"] for e in d1["blind_spots"]} == {"open"}
    assert d1["counts"]["open"] == 2 and d1["counts"]["new"] == 0
    v2 = [_f("a")]  # b closes
    d2 = track(v2, current_name="v2", previous_findings=v1, previous_doc=d1, previous={"name": "v1"})
    assert [(e["key"], e["status"]) for e in d2["blind_spots"]] == [("a", "persisting"), ("b", "closed")]
    assert d2["blind_spots"][0]["first_seen"] == "v1"
    v3 = [_f("a"), _f("c")]  # b still closed: it is carried in closed_earlier, not listed
    d3 = track(v3, current_name="v3", previous_findings=v2, previous_doc=d2, previous={"name": "v2"})
    assert [(e["key"], e["status"]) for e in d3["blind_spots"]] == [("a", "persisting"), ("c", "new")]
    assert [(e["key"], e["closed_in"]) for e in d3["closed_earlier"]] == [("b", "v2")]
    v4 = [_f("b"), _f("c")]  # b is back two versions after it closed; a closes
    d4 = track(v4, current_name="v4", previous_findings=v3, previous_doc=d3, previous={"name": "v3"})
    status = {e["key"]: e["status"] for e in d4["blind_spots"]}
    assert status == {"a": "closed", "b": "reopened", "c": "persisting"}
    assert d4["closed_earlier"] == [] and d4["counts"]["reopened"] == 1
    assert {e["key"]: e["first_seen"] for e in d4["blind_spots"]} == {"a": "v1", "b": "v4", "c": "v3"}


def test_an_untracked_version_says_why():
    doc = track([_f("a")], current_name="v2", previous={"name": "v1"}, reason="another baseline file")
    assert (doc["status"], doc["reason"]) == ("not_tracked", "another baseline file")
    assert doc["previous"] == {"name": "v1"} and doc["blind_spots"][0]["status"] == "open"
