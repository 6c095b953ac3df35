"""Sections from hand-built views: a sentence appears only when its finding is in the data."""

from __future__ import annotations

import pytest

from blindspot.report import markdown
from blindspot.report.document import Document, plain, run
from blindspot.report.load import (Calibration, ClassRow, Comparison, ConfidentRate, Delta, Estimate, Inputs, Judge,
                                   Profile, Slices)
from blindspot.report.fmt import kappa_strength
from blindspot.report.sections.comparison import comparison
from blindspot.report.sections.judge import judge as judge_section
from blindspot.report.sections.risks import risk_rows
from blindspot.report.sections.verdict import verdict


def _profile(recalls=(0.8, 0.7, 0.9), predicted=(100, 40, 300), lift=(0.05, 0.02, 0.08)) -> Profile:
    names = ["negative", "neutral", "positive"]
    support = [120, 40, 280]
    rows = tuple(ClassRow(n, s, s / 440, p, p / 440, Estimate(r, max(r - 0.05, 0), min(r + 0.05, 1)),
                          Estimate(0.7, 0.6, 0.8), Estimate(0.7))
                 for n, s, p, r in zip(names, support, predicted, recalls))
    return Profile(model="vX", n_rows=440, ci_level=0.95, accuracy=Estimate(0.82, 0.78, 0.85),
                   balanced_accuracy=Estimate(0.8, 0.76, 0.84), f1_macro=Estimate(0.79), mcc=Estimate(0.6),
                   cohen_kappa=Estimate(0.6), majority_class="positive", majority_baseline=0.636,
                   lift=Estimate(*lift), imbalance_ratio=7.0, classes=rows,
                   confusion={"negative": {"negative": 96, "neutral": 4, "positive": 20}}, interval_method="x")


def _md(blocks) -> str:
    return markdown.render(Document("t").add(*blocks))


def _calibration(count: int) -> Calibration:
    rate = ConfidentRate(0.8, count, Estimate(count / 440, 0.0, 0.1), 200, 0.1)
    return Calibration(n=440, threshold=0.8, thresholds=(0.8,), ece=Estimate(0.03, 0.01, 0.05), ece_p_value=0.2,
                       ece_noise_floor=0.02, overconfidence=Estimate(0.01, -0.01, 0.03), mean_confidence=0.83,
                       accuracy=0.82, confidence_auroc=0.8, brier=None, confident=rate, by_class={}, by_slice={},
                       recal_status="ok", recal_reason="", recal_best=None, recal_ece_before=None, recal_ece_after=None,
                       interval_method="x")


def _judge(**overrides) -> Judge:
    """A judge view with no finding at all; ``overrides`` set the fields a test is about."""
    fields = dict(backend="offline", model="m", prompt_version="p", n_candidates=10, n_random=5, n_targeted=5,
                  judged=10, coverage=1.0, failures={"total": 0}, reason="", kappa_gold=Estimate(0.5, 0.3, 0.7),
                  agreement_gold=Estimate(0.7, 0.5, 0.8), n_agreement=5, kappa_model=Estimate(0.4),
                  sarcasm=0, mixed=0, technical=0, gold_wrong=0, gold_wrong_random=0, gold_wrong_random_n=5,
                  gold_wrong_random_rate=Estimate(0.0, 0.0, 0.4), ci_n=0, ci_with_gold=0, ci_with_model=0,
                  ci_with_neither=0, cl_available=False, cl_suspected=None, cl_rate=None, cl_flag_kappa=None,
                  injection_suspected=0, interval_method="x")
    return Judge(**{**fields, **overrides})


def test_healthy_model_gets_no_alarming_sentence():
    text = _md(verdict(Inputs(profile=_profile(), calibration=_calibration(0)), alpha=0.05))
    assert "0.820 \\[0.780, 0.850\\]" in text and "5.0 points \\[2.0, 8.0\\] above always answering 'positive'" in text
    for phrase in ("never predicted", "missed", "blind spot", "wrong with confidence", "Against", "NOT READY"):
        assert phrase not in text, phrase


def test_collapsed_class_and_confident_errors_appear_only_when_present():
    inputs = Inputs(profile=_profile(recalls=(0.8, 0.0, 0.9), predicted=(100, 0, 340)), calibration=_calibration(12))
    text = _md(verdict(inputs, alpha=0.05))
    assert "'neutral' is never predicted (recall 0.00" in text
    assert "12 reviews (2.7%) are wrong with confidence ≥ 0.8" in text
    rows = [[plain(run(cell)) for cell in row] for row in risk_rows(inputs, {"neutral": "mixed reports are lost"})]
    assert [r[0].split(" (")[0] for r in rows] == ["Class 'neutral' is never predicted", "12 reviews"]
    assert rows[0][1] == "Mixed reports are lost."
    assert rows[0][3] == "metrics/profile.json: per_class.neutral.recall.value"


def test_lift_whose_interval_includes_zero_is_no_better_than_the_baseline():
    text = _md(verdict(Inputs(profile=_profile(lift=(0.01, -0.02, 0.04))), alpha=0.05))
    assert "no better than always answering 'positive' (0.636)" in text


def test_no_risk_row_without_findings():
    assert risk_rows(Inputs(profile=_profile(), calibration=_calibration(0)), {}) == []


def test_judge_without_gold_label_doubts_adds_no_label_noise_row():
    judge = _judge()
    assert risk_rows(Inputs(profile=_profile(), judge=judge), {}) == []
    judge2 = Judge(**{**judge.__dict__, "gold_wrong_random": 2, "gold_wrong": 2})
    row = risk_rows(Inputs(profile=_profile(), judge=judge2), {})[0]
    assert plain(run(row[0])).startswith("Suspected label noise: the judge calls 2 of 5")


@pytest.mark.parametrize("n, sentence", [
    (0, None),
    (1, "1 review looks like an attempt to instruct the judge"),
    (3, "3 reviews look like an attempt to instruct the judge"),
])
def test_injection_count_is_said_in_the_right_number_with_its_limits(n, sentence):
    judge = _judge(injection_suspected=n)
    text = " ".join(_md(judge_section(Inputs(profile=_profile(), judge=judge))).split())
    if sentence is None:
        assert "instruct the judge" not in text
    else:
        assert sentence in text and "does not prove there were none" in text


@pytest.mark.parametrize("k, word", [(-0.1, "poor"), (0.1, "slight"), (0.3, "fair"), (0.5, "moderate"),
                                     (0.7, "substantial"), (0.9, "almost perfect"), (float("nan"), "undefined")])
def test_kappa_strength(k, word):
    assert kappa_strength(k) == word


def _comparison(changed: bool, same: bool) -> Comparison:
    d = Delta(metric="accuracy", baseline=0.70, current=0.75 if not same else 0.70,
              delta=Estimate(0.05 if not same else 0.0, 0.02, 0.08), n=400, test="mcnemar_exact", tested=True,
              reason="", p_value=0.001, q_value=0.004 if changed else 0.3, higher_is_better=True, changed=changed,
              direction="improved" if changed else "unchanged", baseline_only=3, current_only=23)
    return Comparison(status="compared", reason="", current_name="v2", baseline_name="v1", baseline_path="b.json",
                      baseline_is_current=same, n_current=400, n_baseline=400, n_paired=400, label_mismatch=0,
                      n_tests=1, n_changed=int(changed), n_improved=int(changed), n_worsened=0, fdr_alpha=0.05,
                      ci_level=0.95, confident_threshold=0.8, test="x", global_deltas=(d,), class_deltas={},
                      slice_deltas={})


def test_comparison_sections():
    same = _md(comparison(Inputs(profile=_profile(), comparison=_comparison(False, True))))
    assert "is the current model" in same and "|" not in same
    moved = _md(comparison(Inputs(profile=_profile(), comparison=_comparison(True, False))))
    assert "**all reviews**: accuracy improved 0.700 → 0.750 (+0.050 \\[+0.020, +0.080\\], q = 0.004)" in moved
    row = ("| accuracy *(higher is better)* | 0.700 | 0.750 | +0.050 \\[+0.020, +0.080\\] | 400 | McNemar (3/23) "
           "| 0.004 | **improved** |")
    assert row in moved
    quiet = _md(comparison(Inputs(profile=_profile(), comparison=_comparison(False, False))))
    assert "**all reviews**" not in quiet and "Accuracy moves +0.050" in quiet and "(q = 0.300)" in quiet
    assert "Not run: no paired comparison" in _md(comparison(Inputs(profile=_profile())))


def test_slices_absent_is_said_not_crashed():
    from blindspot.report.sections.slices import blind_spots

    text = _md(blind_spots(Inputs(profile=_profile()), max_rows=5))
    assert "Not run: the slice stage" in text
    empty = Slices(n_rows=440, fdr_alpha=0.05, ci_level=0.95, test="t", gap_interval_method="g", n_tests=12,
                   n_slices_tested=4, findings=(), watchlist=())
    text = _md(verdict(Inputs(profile=_profile(), slices=empty), alpha=0.05))
    assert "No slice is worse than the rest within its true classes (12 tests)" in text
    assert "NO BLIND SPOT FOUND" in text
