"""The brief's conclusions from hand-built findings: the status rule and one entry per slice."""

from __future__ import annotations

from blindspot.report.load import Estimate, Finding, Inputs, Slices
from blindspot.report.reasoning import (INCOMPLETE, NO_BLIND_SPOT, NOT_READY, class_mix_entries, own_entries,
                                        status)
from tests.report.test_sections import _calibration, _profile


def _finding(key, metric="error_rate", *, significant=True, evidence=None, rank=None, mix_rank=None, source="discovered",
             label=None, q=0.01) -> Finding:
    return Finding(id=f"{key}/{metric}", source=source, key=key, description=key.replace("__", " = "), n=100,
                   slice_n=100, metric=metric, higher_is_better=metric != "error_rate", value=Estimate(0.4, 0.3, 0.5),
                   rest_value=0.2, gap=Estimate(0.2, 0.1, 0.3), p_value=q / 10, q_value=q, significant=significant,
                   excess=20.0, excess_given_class_mix=None, rank=rank, explained_by_parent=False, label=label,
                   conditional_q_value=q if evidence == "within_class" else 0.9, evidence=evidence,
                   class_mix_rank=mix_rank)


def _slices(*findings) -> Slices:
    return Slices(n_rows=440, fdr_alpha=0.05, ci_level=0.95, test="t", gap_interval_method="g", n_tests=40,
                  n_slices_tested=10, findings=tuple(findings), watchlist=())


def test_a_slice_with_two_significant_metrics_is_one_entry_and_leaves_the_class_mix_group():
    sl = _slices(_finding("site__a", "recall_negative", evidence="within_class", rank=1),
                 _finding("site__a", "error_rate", evidence="class_mix", mix_rank=1),
                 _finding("site__b", "error_rate", evidence="class_mix", mix_rank=2),
                 _finding("site__c", "error_rate", significant=False, q=0.4))
    inputs = Inputs(profile=_profile(), slices=sl)
    own, mix = own_entries(inputs), class_mix_entries(inputs)
    assert [e.lead.key for e in own] == ["site__a"]
    assert [o.metric for o in own[0].others] == ["error_rate"]
    assert [e.lead.key for e in mix] == ["site__b"], "a blind spot of its own is not listed again as class mix"


def test_status_blocks_on_weak_classes_and_own_blind_spots_only():
    weak = _finding("class__neutral", "recall", source="class", label="neutral", q=0.001)
    mix_only = _slices(_finding("site__b", "error_rate", evidence="class_mix", mix_rank=1))
    st = status(Inputs(profile=_profile(), slices=mix_only, calibration=_calibration(12)), alpha=0.05)
    assert st.label == NO_BLIND_SPOT and st.blockers == ()
    assert (1, "slice worse only through its class mix") in st.notes and st.notes[1][0] == 12
    st = status(Inputs(profile=_profile(), slices=_slices(weak)), alpha=0.05)
    assert st.label == NOT_READY and st.blockers == ((1, "weak class"),) and st.weak == ("neutral",)
    own = _slices(_finding("site__a", "recall_negative", evidence="within_class", rank=1))
    st = status(Inputs(profile=_profile(), slices=own), alpha=0.05)
    assert st.label == NOT_READY and st.blockers == ((1, "blind spot of its own"),)


def test_status_without_slice_results_is_incomplete_not_clean():
    st = status(Inputs(profile=_profile()), alpha=0.05)
    assert st.label == INCOMPLETE and "no slice was tested" in st.blockers[0][1]


def test_easier_repeated_texts_are_noted_not_blocking():
    from dataclasses import replace

    from blindspot.report.load import Duplicates

    dup = Duplicates(groups=17, rows_duplicated=34, rows_unique=2966, conflicting_groups=0,
                     rows_in_conflicting_groups=0, accuracy_duplicated=Estimate(1.0, 0.9, 1.0),
                     accuracy_unique=Estimate(0.826, 0.81, 0.84), easier_p_value=0.001)
    profile = replace(_profile(), duplicates=dup)
    st = status(Inputs(profile=profile, slices=_slices()), alpha=0.05)
    assert st.label == NO_BLIND_SPOT  # stock phrases recur and are easy: a question to check, not a verdict
    assert (None, "repeated texts easier than once-only ones (check for leakage)") in st.notes
