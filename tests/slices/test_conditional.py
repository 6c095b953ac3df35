"""The error rate within the true classes: the exact stratified test, its verification, and what it decides.

Oracles: scipy's Fisher test (one stratum), brute-force enumeration with ``math.comb`` (small
tables), scipy's per-stratum hypergeometric moments for the Mantel-Haenszel approximation, and a
simulation of the null (slice membership permuted within each class).
"""

import math
from itertools import product

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from blindspot import synth
from blindspot.slices import audit_slices
from blindspot.slices.evaluate import Counts, mantel_haenszel_greater, stratified_greater
from blindspot.slices.discovery import within_parent_tests

from _slice_synth import generate
from test_audit import CLASSES, SETTINGS

WEAK_NEGATIVE = (0.35, 0.0, 0.0)


def _random_table(rng, k, max_n):
    big_n = rng.integers(1, max_n, k)
    big_x = np.array([rng.integers(0, v + 1) for v in big_n])
    n = np.array([rng.integers(0, v + 1) for v in big_n])
    x = np.array([rng.integers(max(0, n[j] - (big_n[j] - big_x[j])), min(n[j], big_x[j]) + 1) for j in range(k)])
    return x, n, big_x, big_n


def _brute_force(x, n, big_x, big_n) -> float:
    """P(sum of the strata's slice failures >= observed), every configuration enumerated."""
    pmfs = []
    for j in range(len(x)):
        lo, hi = max(0, n[j] - (big_n[j] - big_x[j])), min(n[j], big_x[j])
        pmfs.append([(v, math.comb(big_x[j], v) * math.comb(big_n[j] - big_x[j], n[j] - v) / math.comb(big_n[j], n[j]))
                     for v in range(lo, hi + 1)])
    return sum(math.prod(pr for _, pr in combo) for combo in product(*pmfs) if sum(v for v, _ in combo) >= sum(x))


def test_one_stratum_is_fishers_one_sided_test():
    rng = np.random.default_rng(0)
    for _ in range(300):
        x, n, big_x, big_n = _random_table(rng, 1, 400)
        p, _, _ = stratified_greater([x], [n], [big_x], [big_n])
        expected = st.fisher_exact([[x[0], n[0] - x[0]], [big_x[0] - x[0], big_n[0] - n[0] - big_x[0] + x[0]]],
                                   alternative="greater")[1]
        if np.isfinite(p[0]):
            assert p[0] == pytest.approx(expected, rel=1e-9, abs=1e-15)
        else:  # fixed by its margins: nothing can vary
            assert max(0, n[0] - (big_n[0] - big_x[0])) == min(n[0], big_x[0])


def test_small_tables_match_brute_force_enumeration():
    rng = np.random.default_rng(1)
    x, n, bx, bn = zip(*(_random_table(rng, 3, 25) for _ in range(300)))
    p, _, expected = stratified_greater(np.array(x), np.array(n), np.array(bx), np.array(bn))
    for i in range(300):
        if np.isfinite(p[i]):
            assert p[i] == pytest.approx(_brute_force(x[i], n[i], bx[i], bn[i]), rel=1e-10, abs=1e-14)
        assert expected[i] == pytest.approx(sum(n[i][j] * bx[i][j] / bn[i][j] for j in range(3)))


def test_large_tables_agree_with_mantel_haenszel_from_scipy_moments():
    rng = np.random.default_rng(2)
    big_n, big_x = np.array([5200, 1800, 13000]), np.array([900, 400, 1800])
    n = np.stack([rng.binomial(big_n, f) for f in rng.uniform(0.05, 0.5, 200)])
    x = np.stack([rng.hypergeometric(big_x, big_n - big_x, row) for row in n])
    x[:20] = np.minimum(x[:20] + (0.03 * n[:20]).astype(int), np.minimum(n[:20], big_x))  # some far tails
    p, log10p, _ = stratified_greater(x, n, big_x, big_n)
    mean = sum(st.hypergeom.mean(big_n[j], big_x[j], n[:, j]) for j in range(3))
    var = sum(st.hypergeom.var(big_n[j], big_x[j], n[:, j]) for j in range(3))
    z = (x.sum(axis=1) - mean - 0.5) / np.sqrt(var)
    p_mh, _, _ = mantel_haenszel_greater(x, n, big_x, big_n)
    np.testing.assert_allclose(p_mh, st.norm.sf(z), rtol=1e-9)
    # The normal approximation is close in the body of the distribution; in the upper tail it is too
    # small (errors are rare, so the counts are right-skewed): the reason the exact test is used.
    body, tail = p > 0.01, (p > 1e-8) & (p <= 0.01)
    assert body.sum() > 100 and tail.sum() >= 3
    np.testing.assert_allclose(p[body], p_mh[body], rtol=0.1)
    assert ((p[tail] / p_mh[tail] > 0.9) & (p[tail] / p_mh[tail] < 3)).all()
    assert (p[tail] > p_mh[tail]).mean() > 0.5
    assert (log10p[p <= 1e-8] < -8).all()


def test_null_distribution_by_simulation():
    """Permuting slice membership within each class is the null; the exact p values are valid under it."""
    rng = np.random.default_rng(3)
    y = rng.choice(3, size=600, p=[0.3, 0.1, 0.6])
    wrong = rng.random(600) < np.array([0.4, 0.2, 0.1])[y]  # a weak class, errors independent of the slice
    member = rng.random(600) < np.array([0.5, 0.1, 0.05])[y]  # a slice holding more of the weak class
    big_n = np.bincount(y, minlength=3)
    big_x = np.bincount(y, weights=wrong, minlength=3).astype(int)
    n = np.bincount(y, weights=member, minlength=3).astype(int)
    sims = 20000
    x = np.zeros((sims, 3), np.int64)
    for j in range(3):  # within class j, the slice takes a random n_j of its rows
        rows = np.flatnonzero(y == j)
        draws = np.argsort(rng.random((sims, rows.size)), axis=1)[:, :n[j]]
        x[:, j] = wrong[rows][draws].sum(axis=1)
    p, _, _ = stratified_greater(x, np.broadcast_to(n, x.shape), np.broadcast_to(big_x, x.shape),
                                 np.broadcast_to(big_n, x.shape))
    for a in (0.01, 0.05, 0.1, 0.5):
        assert (p <= a).mean() <= a + 3 * math.sqrt(a * (1 - a) / sims)
    # The exact tail at each observed total matches the simulated frequency.
    t = x.sum(axis=1)
    for value in np.quantile(t, [0.5, 0.8, 0.95]).astype(int):
        sim_tail = (t >= value).mean()
        exact_tail = p[np.flatnonzero(t == value)[0]]
        assert exact_tail == pytest.approx(sim_tail, abs=4 * math.sqrt(sim_tail * (1 - sim_tail) / sims) + 1e-3)
    # A marginal test on the same slice would reject often: it is worse, through its class mix only.
    marginal = st.hypergeom.sf(t - 1, 600, big_x.sum(), n.sum())
    assert (marginal <= 0.05).mean() > 0.5


def _audit(seed, plant):
    data = synth.generate(2000, seed=seed, mode="planted", planted=[plant], class_error_gaps=WEAK_NEGATIVE)
    from _slice_synth import canonical

    return audit_slices(canonical(data), CLASSES, **SETTINGS), data


def test_a_class_mix_slice_restates_the_class_weakness():
    plant = synth.PlantedSlice({"specialty": "psychiatry"}, error_gap=0.0, share=0.1, class_weights=(8, 1, 1))
    audit, data = _audit(4, plant)
    assert data.truth["planted"][0]["class_shares_inside"]["negative"] > 0.6
    f = next(f for f in audit.findings if f["key"] == "specialty__psychiatry" and f["metric"] == "error_rate")
    assert f["significant"] and f["evidence"] == "class_mix" and f["rank"] is None and f["class_mix_rank"] >= 1
    assert f["q_value"] <= 0.05 < f["conditional_q_value"]
    assert f["expected_given_class_mix"] == pytest.approx(f["estimate"]["value"] * f["n"] - f["excess_given_class_mix"],
                                                           abs=1e-3)
    # Nothing in this data is worse within its classes: no blind spot of its own.
    assert [f["key"] for f in audit.findings if f["rank"] is not None] == []
    assert audit.metrics["discovered"]["specialty__psychiatry"]["rank"] is None
    assert audit.metrics["discovered"]["specialty__psychiatry"]["error_rate"]["evidence"] == "class_mix"


def test_a_within_class_slice_is_a_blind_spot_of_its_own():
    plant = synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.2, share=0.1)
    audit, _ = _audit(4, plant)
    ranked = [f for f in audit.findings if f["rank"] is not None]
    assert ranked[0]["key"] == "specialty__dermatology" and ranked[0]["evidence"] == "within_class"
    assert ranked[0]["conditional_q_value"] < 1e-3
    assert audit.metrics["family"]["n_blind_spots"] >= 1


def test_a_recall_finding_is_its_own_conditional_test(null_run_weak):
    tests = null_run_weak.tests
    recall = tests[tests["metric"] != "error_rate"]
    np.testing.assert_array_equal(recall["cond_p_value"].fillna(-1), recall["p_value"].fillna(-1))
    np.testing.assert_array_equal(recall["cond_q_value"].fillna(-1), recall["q_value"].fillna(-1))


@pytest.fixture(scope="module")
def null_run_weak():
    data = synth.generate(2000, seed=8, mode="null", class_error_gaps=WEAK_NEGATIVE)
    from _slice_synth import canonical

    return audit_slices(canonical(data), CLASSES, **SETTINGS)


def test_weak_class_null_has_no_blind_spot_of_its_own(null_run_weak):
    own = [f for f in null_run_weak.findings if f["rank"] is not None]
    assert own == []
    mixed = {f["key"] for f in null_run_weak.findings if f.get("class_mix_rank") is not None}
    assert "sarcasm_cue" in mixed  # sarcasm lives in negative reviews: worse, through the class mix only


def test_within_parent_tests_match_a_direct_computation():
    # Two parents and their conjunction, counts per class (3 classes).
    support = np.array([[300, 60, 500], [200, 40, 300], [100, 20, 150]])  # parent a, parent b, a and b
    correct = np.array([[200, 50, 450], [150, 30, 280], [50, 15, 135]])
    counts = Counts(n=support.sum(1), errors=(support - correct).sum(1), support=support, correct=correct)
    wanted = np.array([[False] * 4, [False] * 4, [True] * 4])
    got = within_parent_tests([(0,), (1,), (0, 1)], counts, wanted)
    assert sorted(set(zip(got["slice"], got["parent"]))) == [(2, 0), (2, 1)]
    miss = support - correct
    for parent in (0, 1):
        p_err = got[(got["parent"] == parent) & (got["metric"] == 0)]["p_value"].item()
        want, _, _ = stratified_greater([miss[2]], [support[2]], [miss[parent]], [support[parent]])
        assert p_err == pytest.approx(want[0])
        for j in range(3):
            p_rec = got[(got["parent"] == parent) & (got["metric"] == 1 + j)]["p_value"].item()
            table = [[miss[2, j], correct[2, j]], [miss[parent, j] - miss[2, j], correct[parent, j] - correct[2, j]]]
            assert p_rec == pytest.approx(st.fisher_exact(table, alternative="greater")[1])


def test_a_conjunction_not_worse_within_a_parent_is_not_reported():
    """``a`` is weak everywhere; ``a and b`` is no worse than the rest of ``a`` (same rate in b and not-b)."""
    rng = np.random.default_rng(5)
    n = 3000
    a = rng.random(n) < 0.3
    b = rng.random(n) < 0.5
    y_true = rng.choice(3, n, p=[0.3, 0.1, 0.6])
    wrong = rng.random(n) < np.where(a, 0.45, 0.1)
    y_pred = np.where(wrong, (y_true + 1) % 3, y_true)
    frame = pd.DataFrame({"id": pd.array([f"r{i}" for i in range(n)], dtype="string"),
                          "text": pd.array(["fine"] * n, dtype="string"),
                          "y_true": y_true.astype(np.int8), "y_pred": y_pred.astype(np.int8),
                          "meta__a": pd.array(np.where(a, "yes", "no"), dtype="string"),
                          "meta__b": pd.array(np.where(b, "yes", "no"), dtype="string")})
    audit = audit_slices(frame, CLASSES, **dict(SETTINGS, text_detectors=[]))
    err = audit.tests[audit.tests["metric"] == "error_rate"].merge(audit.slices[["key"]], left_on="slice",
                                                                  right_index=True)
    conj = err[err["key"] == "a__yes__and__b__yes"].iloc[0]
    assert conj["marginal_significant"]  # worse than the rest of the data ...
    assert conj["explained"] and not conj["reported"]  # ... but not within "a = yes"
    keys = {f["key"] for f in audit.findings if f["rank"] is not None or f.get("class_mix_rank") is not None}
    assert "a__yes" in keys and "a__yes__and__b__yes" not in keys
    for f in audit.findings:
        for parent in f.get("within_parents", []):
            assert parent["q_value"] <= 0.05  # every reported conjunction beat each parent, inside it


def test_a_better_scored_conjunction_still_needs_to_beat_each_parent_within_it():
    """The retired rule reported a conjunction that merely out-scored its parents; this one did (seed 9)."""
    plant = synth.PlantedSlice({"specialty": "psychiatry"}, error_gap=0.0, share=0.1, class_weights=(8, 1, 1))
    audit, _ = _audit(9, plant)
    keys = audit.slices["key"].tolist()
    err = audit.tests[audit.tests["metric"] == "error_rate"].set_index("slice")
    child = keys.index("platform__ios__and__sarcasm_cue")
    parents = [keys.index("platform__ios"), keys.index("sarcasm_cue")]
    assert all(err.at[p, "score"] < err.at[child, "score"] for p in parents)  # out-scores both parents ...
    assert err.at[child, "significant"] and err.at[child, "explained"]  # ... but is not worse within one
    assert "platform__ios__and__sarcasm_cue" not in {f["key"] for f in audit.findings}
