"""Each blind spot against the previous version: new, reopened, persisting (better, worse, unchanged), closed."""

from __future__ import annotations

from blindspot.gate import own_blind_spots
from blindspot.lifecycle import counts, lifecycle


def _f(key, metric="recall_positive", value=0.6):
    return {"key": key, "metric": metric, "source": "watchlist", "significant": True, "rank": 1,
            "estimate": {"value": value}}


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


def test_only_ranked_significant_slice_findings_are_blind_spots_of_their_own():
    findings = [_f("a"), {**_f("mix", "error_rate"), "rank": None},  # class mix only: no rank of its own
                {**_f("b"), "significant": False}, {**_f("class__x", "recall"), "source": "class"}]
    assert set(own_blind_spots(findings)) == {("a", "recall_positive")}
