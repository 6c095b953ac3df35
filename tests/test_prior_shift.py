"""Prior shift: class-mix test, label-free EM prior estimate, cross-fitted correction (blindspot.prior_shift)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats as st

from blindspot.engine.batches import LocalParts
from blindspot.prior_shift import (
    NO_PROBABILITIES_REASON,
    adjust_posteriors,
    cross_fitted_predictions,
    em_prior,
    fold_hashes,
    hash_fold,
    label_shift_test,
    prior_part,
    prior_shift,
    prior_shift_parts,
    triple_counts,
    what_if_metrics,
)

CLASSES = ["negative", "neutral", "positive"]
MEANS = np.array([[-1.5, 0.0], [0.0, 1.2], [1.5, 0.0]])


def _draw(prior, n, seed):
    """Gold labels, and the Bayes posteriors under ``train`` priors, of 2-d Gaussian classes (known p(x|y))."""
    rng = np.random.default_rng(seed)
    y = rng.choice(len(prior), size=n, p=prior)
    x = MEANS[y] + rng.normal(size=(n, 2))
    loglik = -0.5 * ((x[:, None, :] - MEANS[None]) ** 2).sum(-1)
    return y, np.exp(loglik - loglik.max(axis=1, keepdims=True))


def _posteriors(lik, prior):
    p = lik * np.asarray(prior)[None, :]
    return p / p.sum(axis=1, keepdims=True)


TRAIN, SHIFTED = np.array([0.6, 0.3, 0.1]), np.array([0.2, 0.3, 0.5])


# --------------------------------------------------------------------------- the class-mix test


def test_identical_shares_say_no_shift():
    """The bundled v1/v2 pair holds the same reviews: the statistic is 0 and p = 1."""
    out = label_shift_test([300, 200, 479], [300, 200, 479])
    assert out["statistic"] == 0 and out["p_value"] == pytest.approx(1.0) and not out["shifted"]
    assert out["total_variation"] == 0 and out["dof"] == 2


def test_shifted_shares_are_detected_and_match_scipy():
    table = np.array([[180, 90, 30], [60, 90, 150]])
    out = label_shift_test(*table)
    ref = st.chi2_contingency(table, correction=False)
    assert out["statistic"] == pytest.approx(ref.statistic) and out["p_value"] == pytest.approx(ref.pvalue)
    assert out["shifted"] and out["p_value"] < 1e-20
    assert out["total_variation"] == pytest.approx(0.4)


def test_a_class_absent_from_both_files_is_left_out_and_one_class_is_untestable():
    out = label_shift_test([10, 0, 30], [20, 0, 20])
    ref = st.chi2_contingency([[10, 30], [20, 20]], correction=False)
    assert out["dof"] == 1 and out["p_value"] == pytest.approx(ref.pvalue)
    lone = label_shift_test([5, 0], [7, 0])
    assert np.isnan(lone["p_value"]) and not lone["shifted"]


def test_the_test_holds_its_level_on_null_data():
    rng = np.random.default_rng(3)
    p = [label_shift_test(rng.multinomial(400, TRAIN), rng.multinomial(500, TRAIN))["p_value"] for _ in range(400)]
    assert 0.02 <= np.mean(np.array(p) < 0.05) <= 0.09


# --------------------------------------------------------------------------- EM (Saerens et al. 2002)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_em_recovers_a_known_prior_shift(seed):
    _, lik = _draw(SHIFTED, 4000, seed)
    fit = em_prior(_posteriors(lik, TRAIN), TRAIN)
    assert fit["converged"] and np.abs(fit["prior"] - SHIFTED).max() < 0.03
    naive = _posteriors(lik, TRAIN).mean(axis=0)  # the uncorrected mean is far off: the test can fail
    assert np.abs(naive - SHIFTED).max() > 0.1


@pytest.mark.parametrize("seed", [0, 1])
def test_em_stays_put_without_shift(seed):
    _, lik = _draw(TRAIN, 4000, seed)
    fit = em_prior(_posteriors(lik, TRAIN), TRAIN)
    assert np.abs(fit["prior"] - TRAIN).max() < 0.03 and np.abs(fit["weights"] - 1).max() < 0.15


def test_em_fixed_point_and_rejects_a_zero_training_prior():
    _, lik = _draw(SHIFTED, 2000, 5)
    proba = _posteriors(lik, TRAIN)
    fit = em_prior(proba, TRAIN)
    # At the fixed point the mean adjusted posterior is the prior itself.
    np.testing.assert_allclose(adjust_posteriors(proba, fit["weights"]).mean(axis=0), fit["prior"], atol=1e-7)
    with pytest.raises(ValueError, match="positive"):
        em_prior(proba, [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="shape"):
        em_prior(proba[:, :2], TRAIN)


@settings(max_examples=30, deadline=None)
@given(hs.integers(0, 10_000), hs.integers(2, 5))
def test_em_returns_a_probability_vector(seed, k):
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.ones(k), size=50)
    fit = em_prior(proba, rng.dirichlet(np.ones(k)) + 1e-3)
    assert fit["prior"].shape == (k,) and np.all(fit["prior"] >= 0) and fit["prior"].sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------- cross-fitted what-if


def test_each_fold_is_corrected_with_the_prior_of_the_other_folds():
    y, lik = _draw(SHIFTED, 600, 7)
    proba = _posteriors(lik, TRAIN)
    hashes = fold_hashes(_ids(600), 11)
    out = cross_fitted_predictions(proba.argmax(1), proba, TRAIN, hashes=hashes, n_splits=4)
    fold = hash_fold(hashes, 4)
    sizes = np.bincount(fold, minlength=4)
    assert sizes.sum() == 600 and np.all(np.abs(sizes - 150) < 4 * np.sqrt(600 * 0.25 * 0.75))  # binomial sizes
    for f in range(4):
        np.testing.assert_allclose(out["fold_priors"][f], em_prior(proba[fold != f], TRAIN)["prior"], rtol=1e-7)
        expected = adjust_posteriors(proba[fold == f], out["fold_priors"][f] / TRAIN).argmax(1)
        np.testing.assert_array_equal(out["y_after"][fold == f], expected)


def _ids(n):
    return np.array([f"review-{i}" for i in range(n)], dtype=object)


def test_folds_follow_the_ids_and_are_balanced():
    from blindspot.samples import row_hash

    ids = _ids(1003)
    hashes = fold_hashes(ids, 5)
    np.testing.assert_array_equal(hashes, row_hash(5, ids, "prior_shift/folds"))
    fold = hash_fold(hashes, 4)
    # The rule in Python's integers: the top 32 bits of the hash scaled to [0, 4).
    assert fold.tolist() == [((int(h) >> 32) * 4) >> 32 for h in hashes]
    sizes = np.bincount(fold, minlength=4)
    assert sizes.sum() == 1003 and np.all(np.abs(sizes - 1003 / 4) < 4 * np.sqrt(1003 * 0.25 * 0.75))
    perm = np.random.default_rng(1).permutation(1003)
    np.testing.assert_array_equal(hash_fold(fold_hashes(ids[perm], 5), 4), fold[perm])  # each id keeps its fold
    np.testing.assert_array_equal(hash_fold(hashes[:10], 4), fold[:10])  # nor do the other rows move it
    assert not np.array_equal(hash_fold(fold_hashes(ids, 6), 4), fold)  # the seed moves them


def test_folds_are_roughly_equal_on_ten_thousand_rows():
    sizes = np.bincount(hash_fold(fold_hashes(_ids(10_000), 3), 5), minlength=5)
    assert sizes.sum() == 10_000 and np.all(np.abs(sizes - 2000) < 4 * np.sqrt(10_000 * 0.2 * 0.8))
    assert st.chisquare(sizes).pvalue > 1e-3  # multinomial with equal shares
    edges = np.array([0, 1 << 32, (1 << 63) + 5, (1 << 64) - 1], dtype=np.uint64)
    assert hash_fold(edges, 5).tolist() == [0, 0, 2, 4]  # the whole uint64 range lands in [0, n_splits)


def test_cross_fitting_of_shuffled_rows_gives_the_same_corrections():
    y, lik = _draw(SHIFTED, 900, 3)
    proba, ids = _posteriors(lik, TRAIN), _ids(900)
    perm = np.random.default_rng(2).permutation(900)
    a = cross_fitted_predictions(proba.argmax(1), proba, TRAIN, hashes=fold_hashes(ids, 1), n_splits=5)
    b = cross_fitted_predictions(proba[perm].argmax(1), proba[perm], TRAIN, hashes=fold_hashes(ids[perm], 1),
                                 n_splits=5)
    np.testing.assert_array_equal(b["y_after"], a["y_after"][perm])
    np.testing.assert_array_equal(b["fold_priors"], a["fold_priors"])  # each EM adds its rows in hash order
    assert (a["n_changed"], a["converged"]) == (b["n_changed"], b["converged"]) and a["n_changed"] > 0


def test_what_if_of_shuffled_rows_gives_the_same_numbers():
    from tests.calibration.test_recalibration import assert_same_numbers

    y_b, _ = _draw(TRAIN, 1500, 101)
    y, lik = _draw(SHIFTED, 1500, 6)
    p, ids = _posteriors(lik, TRAIN), _ids(1500)
    perm = np.random.default_rng(3).permutation(1500)

    def block(rows):
        return prior_shift(y_b, y[rows], p[rows].argmax(1), p[rows].copy(), CLASSES, baseline_name="v1", alpha=0.05,
                           n_boot=200, level=0.95, seed=3, hashes=fold_hashes(ids[rows], 3))

    a, b = block(np.arange(1500)), block(perm)
    assert a["what_if"]["measured"] == 1
    assert_same_numbers(a["what_if"], b["what_if"], rtol=0)


def test_without_hashes_the_positions_are_hashed():
    y, lik = _draw(SHIFTED, 300, 5)
    proba = _posteriors(lik, TRAIN)
    fallback = cross_fitted_predictions(proba.argmax(1), proba, TRAIN, n_splits=3, seed=8)
    given = cross_fitted_predictions(proba.argmax(1), proba, TRAIN, n_splits=3, hashes=fold_hashes(range(300), 8))
    np.testing.assert_array_equal(fallback["y_after"], given["y_after"])
    np.testing.assert_array_equal(fallback["fold_priors"], given["fold_priors"])
    with pytest.raises(ValueError, match="one hash a row is needed"):
        cross_fitted_predictions(proba.argmax(1), proba, TRAIN, hashes=fold_hashes(range(299), 8))


def test_only_rows_whose_argmax_moves_change_prediction():
    """A file prediction that differs from the argmax (a tie broken otherwise) is kept unless the correction moves it."""
    proba = np.tile([[0.5, 0.5, 0.0]], (20, 1))
    y_pred = np.full(20, 1)
    out = cross_fitted_predictions(y_pred, proba, [0.5, 0.5, 1e-9], n_splits=2, seed=0)
    np.testing.assert_array_equal(out["y_after"], y_pred)
    assert out["n_changed"] == 0


def test_what_if_metrics_are_the_direct_rates_with_paired_intervals():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 3, 300)
    before = np.where(rng.random(300) < 0.6, t, (t + 1) % 3)
    after = np.where(rng.random(300) < 0.3, t, before)
    table = triple_counts(t, before, after, 3)
    assert table.shape == (3, 3, 3) and table[1, 2, 1] == int(((t == 1) & (before == 2) & (after == 1)).sum())
    out = what_if_metrics(table, CLASSES, n_boot=400, level=0.95, rng=np.random.default_rng(1))
    acc = out["accuracy"]
    assert acc["before"]["value"] == pytest.approx(np.mean(before == t))
    assert acc["after"]["value"] == pytest.approx(np.mean(after == t))
    d = acc["delta"]
    assert d["ci_low"] <= d["value"] <= d["ci_high"] and d["ci_low"] > 0
    assert acc["lost"] == 0 and acc["gained"] == int(((before != t) & (after == t)).sum()) and acc["p_value"] < 1e-6
    for j, c in enumerate(CLASSES):
        r = out["per_class"][c]["recall"]
        assert r["n"] == int((t == j).sum()) and r["after"]["value"] == pytest.approx(np.mean(after[t == j] == j))
        assert r["before"]["ci_low"] <= r["before"]["value"] <= r["before"]["ci_high"]


def _block(prior_current, seed=0, n=2000, proba=True):
    y_b, _ = _draw(TRAIN, n, seed + 100)
    y, lik = _draw(prior_current, n, seed)
    p = _posteriors(lik, TRAIN)
    return prior_shift(y_b, y, p.argmax(1), p if proba else None, CLASSES, baseline_name="v1", alpha=0.05,
                       n_boot=300, level=0.95, seed=seed)


def test_shifted_deployment_is_named_estimated_and_corrected():
    out = _block(SHIFTED)
    assert out["label_shift"]["shifted"] and out["label_shift"]["p_value"] < 1e-10
    est = np.array([out["em"]["estimated_prior"][c] for c in CLASSES])
    # Looser than the exact-prior tests above: the baseline's sampled shares stand in for the training prior.
    actual = np.array([out["em"]["current_label_shares"][c] for c in CLASSES])
    assert np.abs(est - actual).max() < 0.06 and np.abs(est - TRAIN).max() > 0.3
    assert out["em"]["total_variation_to_current_labels"] == pytest.approx(0.5 * np.abs(est - actual).sum())
    assert out["em"]["training_prior"]["negative"] == out["label_shift"]["shares_baseline"]["negative"]
    acc = out["what_if"]["accuracy"]
    assert acc["delta"]["ci_low"] > 0.03  # correcting to the true mix helps the Bayes classifier
    assert out["what_if"]["per_class"]["positive"]["recall"]["delta"]["value"] > 0.1


def test_no_shift_changes_little_and_is_not_called_a_shift():
    out = _block(TRAIN, seed=4)
    assert not out["label_shift"]["shifted"]
    acc = out["what_if"]["accuracy"]
    assert abs(acc["delta"]["value"]) < 0.01 and acc["delta"]["ci_low"] <= 0 <= acc["delta"]["ci_high"]


def test_same_inputs_same_block():
    assert _block(SHIFTED, seed=2) == _block(SHIFTED, seed=2)


def test_reasons_instead_of_numbers():
    out = _block(SHIFTED, proba=False)
    assert out["label_shift"]["shifted"] and out["em"] == {"measured": 0, "reason": NO_PROBABILITIES_REASON}
    y, lik = _draw(SHIFTED, 200, 1)
    p = _posteriors(lik, TRAIN)
    absent = prior_shift(np.zeros(50, int), y, p.argmax(1), p, CLASSES, baseline_name="v1", alpha=0.05, n_boot=50,
                         level=0.95, seed=0)
    assert absent["what_if"]["measured"] == 0 and "no row in the baseline v1" in absent["em"]["reason"]


# --------------------------------------------------------------------------- the brief's sentences


def _rendered(block, status="not_compared"):
    """The comparison section rendered from a compare.json holding ``block`` (different reviews: not paired)."""
    import json

    from blindspot.report import markdown
    from blindspot.report.document import Document
    from blindspot.report.load import Inputs, Src, parse_compare
    from blindspot.report.sections.comparison import comparison

    doc = json.loads(json.dumps({"status": status, "reason": "0 paired rows, fewer than compare.min_rows=10",
                                 "current": {"name": "v2"}, "baseline": {"name": "v1"}, "prior_shift": block}))
    return markdown.render(Document("t").add(*comparison(Inputs(profile=None, comparison=parse_compare(Src("compare.json", doc))))))


def test_brief_names_a_shift_and_what_the_correction_would_do():
    block = _block(SHIFTED)
    text = " ".join(_rendered(block).split())
    acc = block["what_if"]["accuracy"]
    assert "The class mix shifted: v2's reviews are negative 21%, neutral 29%, positive 50% against v1's" in text
    assert "A label-free prior correction would help" in text
    assert f"would take accuracy from {acc['before']['value']:.3f} to {acc['after']['value']:.3f} ({acc['delta']['value']:+.3f} \\[" in text
    assert "recall of 'positive'" in text and "do not apply" not in text


def test_brief_says_no_shift_and_why_nothing_was_estimated():
    y, lik = _draw(TRAIN, 300, 9)
    block = prior_shift(y, y, y, None, CLASSES, baseline_name="v1", alpha=0.05, n_boot=50, level=0.95, seed=0)
    text = " ".join(_rendered(block).split())
    assert "The class mix did not shift: v2 and v1 hold the classes in the same shares" in text
    assert "chi-square p = 1.000" in text and "no class probabilities" in text


def test_brief_is_silent_when_not_measured():
    from blindspot.prior_shift import NO_BASELINE_REASON, not_measured

    text = _rendered(not_measured(NO_BASELINE_REASON), status="no_baseline")
    assert "class mix" not in text.lower()


def test_brief_says_when_the_correction_would_hurt_and_em_did_not_settle():
    block = _block(SHIFTED)
    acc = block["what_if"]["accuracy"]
    acc["after"]["value"] = acc["before"]["value"] - 0.2
    acc["delta"].update(value=-0.2, ci_low=-0.25, ci_high=-0.15)
    block["em"].update(converged=0, total_variation_to_current_labels=0.4)
    text = " ".join(_rendered(block).split())
    prior = text.split("### Blind spots across versions")[0]  # the lifecycle subsection follows the prior shift
    assert "A label-free prior correction would hurt" in prior and prior.rstrip().endswith("do not apply it.")
    assert "the estimate did not settle: EM stopped at its iteration cap; the gold labels say negative 21%" in text


def test_rare_class_uses_a_monte_carlo_exact_test_close_to_fisher():
    """2 x 2 with small expected counts: the Monte Carlo p value matches Fisher's exact test (two-sided)."""
    table = np.array([[1, 40], [7, 30]])
    out = label_shift_test(*table, rng=np.random.default_rng(0))
    assert "Monte Carlo" in out["test"] and out["min_expected"] < 5
    # Fisher's two-sided p orders tables by probability, the chi-square test by statistic: for 2 x 2 close.
    assert out["p_value"] == pytest.approx(st.fisher_exact(table).pvalue, abs=0.02)
    assert label_shift_test(*table)["test"].startswith("Pearson")  # no generator: the chi-square p value
    big = label_shift_test([300, 200, 479], [310, 190, 479], rng=np.random.default_rng(0))
    assert big["test"].startswith("Pearson")


def test_em_step_sums_are_the_adjusted_posteriors_of_each_ems_rows():
    """A part's fixed-point sums: EM 0 over every row, EM 1 + f over the rows outside fold f, zero-weight rows kept."""
    from blindspot.prior_shift import FIXED_BITS, _part_em_sums

    rng = np.random.default_rng(7)
    p = rng.dirichlet([0.3, 1.0, 2.0], size=2000)
    p[:7] = [1.0, 0.0, 0.0]  # mass only on a class the weights will zero
    hashes = fold_hashes(range(2000), 1)
    fold = hash_fold(hashes, 3)
    part = prior_part(np.zeros(2000, int), np.zeros(2000, int), p, hashes, 3)
    weights = np.vstack([rng.random(3) * 2, [0.0, 1.3, 0.6], rng.random(3), rng.random(3) + 0.1])
    active = np.array([True, True, False, True])
    sums = _part_em_sums(part, weights, active)
    assert sums[2] is None
    # Plain numpy, row by row: the adjusted posteriors, where a row's weighted mass is 0 its own posterior.
    p = p / p.sum(axis=1, keepdims=True)
    for e in (0, 1, 3):
        rows = p if e == 0 else p[fold != e - 1]
        scaled = rows * weights[e]
        mass = scaled.sum(axis=1, keepdims=True)
        adjusted = np.where(mass > 0, scaled / np.where(mass > 0, mass, 1), rows)
        np.testing.assert_allclose(np.array(sums[e], dtype=float) / 2.0 ** FIXED_BITS, adjusted.sum(axis=0),
                                   rtol=0, atol=rows.shape[0] * 2.0 ** -FIXED_BITS + 1e-9)
        np.testing.assert_allclose(adjust_posteriors(rows, weights[e]), adjusted, rtol=0, atol=1e-15)


# --------------------------------------------------------------------------- per batch, merged exactly


def _shifted_rows(n, seed):
    """Baseline labels, and current labels, predictions, probabilities and fold hashes of a shifted file."""
    y_b, _ = _draw(TRAIN, n, seed + 100)
    y, lik = _draw(SHIFTED, n, seed)
    p = _posteriors(lik, TRAIN)
    return y_b, y, p.argmax(1), p, fold_hashes(_ids(n), seed)


def _parts(y, y_pred, p, hashes, cuts, n_splits=5):
    """LocalParts of the rows cut at ``cuts`` (ascending positions inside (0, n))."""
    edges = [0, *cuts, len(y)]
    return LocalParts([prior_part(y[a:b], y_pred[a:b], p[a:b], hashes[a:b], n_splits)
                       for a, b in zip(edges[:-1], edges[1:])])


def _parts_block(y_b, y, y_pred, p, hashes, cuts, n_splits=5):
    return prior_shift_parts(_parts(y, y_pred, p, hashes, cuts, n_splits), np.bincount(y_b, minlength=3), CLASSES,
                             baseline_name="v1", alpha=0.05, n_boot=200, level=0.95, seed=4,
                             n_splits=n_splits)


def _bytes(block) -> str:
    """The block as compare.json writes it: every float's digits (NaN included)."""
    import json

    return json.dumps(block, sort_keys=True)


def test_any_batching_and_any_order_give_the_same_block_bit_for_bit():
    y_b, y, y_pred, p, hashes = _shifted_rows(1200, 8)
    one = _parts_block(y_b, y, y_pred, p, hashes, [])
    assert one["what_if"]["measured"] == 1 and one["what_if"]["n_changed"] > 0 and one["em"]["n_iter"] > 5
    for cuts in ([600], list(range(7, 1200, 7)), [1, 2, 3, 500, 1199], [1000]):
        assert _bytes(_parts_block(y_b, y, y_pred, p, hashes, cuts)) == _bytes(one), cuts
    perm = np.random.default_rng(4).permutation(1200)
    shuffled = _parts_block(y_b, y[perm], y_pred[perm], p[perm], hashes[perm], [300, 301, 950])
    assert _bytes(shuffled) == _bytes(one)
    # The library's entry point cuts the arrays its own way: the same numbers again.
    whole = prior_shift(y_b, y, y_pred, p, CLASSES, baseline_name="v1", alpha=0.05, n_boot=200, level=0.95, seed=4,
                        hashes=hashes)
    assert _bytes(whole) == _bytes(one)


@settings(max_examples=15, deadline=None)
@given(hs.lists(hs.integers(1, 299), max_size=12, unique=True), hs.integers(0, 2 ** 32 - 1))
def test_batches_cut_anywhere_of_rows_in_any_order_give_the_same_block(cuts, order_seed):
    y_b, y, y_pred, p, hashes = _shifted_rows(300, 2)
    one = _parts_block(y_b, y, y_pred, p, hashes, [], n_splits=3)
    perm = np.random.default_rng(order_seed).permutation(300)
    got = _parts_block(y_b, y[perm], y_pred[perm], p[perm], hashes[perm], sorted(cuts), n_splits=3)
    assert _bytes(got) == _bytes(one)


def _plain_em(p, train, tol=1e-8, max_iter=2000):
    """Saerens et al.'s EM as written in the paper, in float numpy: (prior, steps)."""
    p = p / p.sum(axis=1, keepdims=True)
    train = np.asarray(train) / np.sum(train)
    prior = train.copy()
    for it in range(1, max_iter + 1):
        adjusted = p * (prior / train)
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        step = np.abs(adjusted.mean(axis=0) - prior).max()
        prior = adjusted.mean(axis=0)
        if step <= tol:
            return prior, it
    return prior, max_iter


def test_every_em_matches_a_plain_numpy_em():
    y_b, y, y_pred, p, hashes = _shifted_rows(3000, 5)
    block = _parts_block(y_b, y, y_pred, p, hashes, [1000, 2500])
    train = np.bincount(y_b, minlength=3)
    prior, steps = _plain_em(p, train)
    np.testing.assert_allclose([block["em"]["estimated_prior"][c] for c in CLASSES], prior, rtol=0, atol=1e-9)
    assert abs(block["em"]["n_iter"] - steps) <= 1 and block["em"]["converged"] == 1
    np.testing.assert_allclose([block["em"]["mean_predicted_probability"][c] for c in CLASSES], p.mean(axis=0),
                               rtol=0, atol=1e-12)
    fold = hash_fold(hashes, 5)
    for f, fold_prior in enumerate(block["what_if"]["fold_priors"]):
        np.testing.assert_allclose([fold_prior[c] for c in CLASSES], _plain_em(p[fold != f], train)[0], rtol=0,
                                   atol=1e-9)
    # And em_prior, the estimate of one array, is the same EM.
    np.testing.assert_allclose(em_prior(p, train)["prior"], prior, rtol=0, atol=1e-9)


def test_what_if_table_is_the_rows_corrected_fold_by_fold():
    y_b, y, y_pred, p, hashes = _shifted_rows(900, 6)
    block = _parts_block(y_b, y, y_pred, p, hashes, [450])
    train = np.bincount(y_b, minlength=3) / 900
    fold, after = hash_fold(hashes, 5), y_pred.copy()
    for f, fold_prior in enumerate(block["what_if"]["fold_priors"]):
        rows = fold == f
        moved = adjust_posteriors(p[rows], np.array([fold_prior[c] for c in CLASSES]) / train).argmax(1)
        after[rows] = np.where(moved != p[rows].argmax(1), moved, y_pred[rows])
    acc = block["what_if"]["accuracy"]
    assert block["what_if"]["n_changed"] == int((after != y_pred).sum()) and block["what_if"]["n"] == 900
    assert acc["after"]["value"] == np.mean(after == y) and acc["before"]["value"] == np.mean(y_pred == y)
    assert acc["gained"] == int(((y_pred != y) & (after == y)).sum())


def test_tiny_data_with_an_empty_fold_and_an_empty_complement():
    n = 10
    seed = next(s for s in range(200) if np.bincount(hash_fold(fold_hashes(_ids(n), s), 5), minlength=5).min() == 0)
    y_b, _ = _draw(TRAIN, 200, 1)
    y, lik = _draw(SHIFTED, n, 2)
    p = _posteriors(lik, TRAIN)
    kw = dict(baseline_name="v1", alpha=0.05, n_boot=100, level=0.95, seed=0)
    hashes = fold_hashes(_ids(n), seed)
    out = prior_shift(y_b, y, p.argmax(1), p, CLASSES, hashes=hashes, **kw)
    empty = int(np.flatnonzero(np.bincount(hash_fold(hashes, 5), minlength=5) == 0)[0])
    assert out["what_if"]["measured"] == 1 and out["what_if"]["n"] == n
    # The empty fold's prior is estimated on every row: the full-data estimate.
    assert out["what_if"]["fold_priors"][empty] == out["em"]["estimated_prior"]
    # Every row in one fold: its prior comes from no row (the training prior), the others' from every row.
    same = prior_shift(y_b, y, p.argmax(1), p, CLASSES, hashes=np.full(n, 1 << 63, dtype=np.uint64), **kw)
    # (the shares renormalised to sum to 1: equal to the last bit or two)
    assert same["what_if"]["fold_priors"][2] == pytest.approx(same["em"]["training_prior"], rel=1e-15)
    assert same["what_if"]["fold_priors"][0] == same["em"]["estimated_prior"] and same["what_if"]["n_changed"] == 0
    few = prior_shift(y_b, y[:9], p[:9].argmax(1), p[:9], CLASSES, hashes=hashes[:9], **kw)
    assert few["what_if"] == {"measured": 0, "reason": "not measurable: 9 current rows, fewer than 10 for 5 folds"}


def test_without_probabilities_the_class_mix_is_still_tested():
    y_b, y, _, _, _ = _shifted_rows(500, 3)
    cb, cc = np.bincount(y_b, minlength=3), np.bincount(y, minlength=3)
    kw = dict(baseline_name="v1", alpha=0.05, n_boot=100, level=0.95, seed=0)
    for parts in (None, LocalParts([])):
        out = prior_shift_parts(parts, cb, CLASSES, counts_current=cc, **kw)
        assert out["em"] == out["what_if"] == {"measured": 0, "reason": NO_PROBABILITIES_REASON}
        assert out["label_shift"]["counts_current"] == dict(zip(CLASSES, cc.tolist())) and out["label_shift"]["shifted"]
        assert out == prior_shift(y_b, y, y, None, CLASSES, **kw)
    with pytest.raises(ValueError, match="counts_current is needed"):
        prior_shift_parts(None, cb, CLASSES, **kw)
    y_b, y, y_pred, p, hashes = _shifted_rows(100, 3)
    with pytest.raises(ValueError, match="disagree"):
        prior_shift_parts(_parts(y, y_pred, p, hashes, [50]), cb, CLASSES, counts_current=cc, **kw)


def test_layout_of_the_probabilities_changes_nothing_and_they_are_left_as_given():
    import pickle

    y_b, y, y_pred, p, hashes = _shifted_rows(400, 12)
    fortran = np.asfortranarray(p)
    fortran.flags.writeable = False  # a read-only view, as pandas may hand out
    kept = fortran.copy()
    block = _parts_block(y_b, y, y_pred, fortran, hashes, [123])
    np.testing.assert_array_equal(fortran, kept)
    assert _bytes(block) == _bytes(_parts_block(y_b, y, y_pred, np.ascontiguousarray(p), hashes, [50, 51]))
    part = prior_part(y[:50], y_pred[:50], p[:50], hashes[:50], 5)  # a state pickles (Dask may move it)
    again = pickle.loads(pickle.dumps(part))
    np.testing.assert_array_equal(again.cols, part.cols)
    np.testing.assert_array_equal(again.bounds, part.bounds)
    with pytest.raises(ValueError, match="non-negative"):
        prior_part(y[:2], y_pred[:2], -p[:2], hashes[:2], 5)


@pytest.mark.filterwarnings("ignore:All-NaN slice")  # the absent class's bootstrap replicates are all NaN
def test_a_class_absent_from_the_current_file():
    y_b, y, y_pred, p, hashes = _shifted_rows(800, 9)
    keep = y != 1
    y, y_pred, p, hashes = y[keep], y_pred[keep], p[keep], hashes[keep]
    out = _parts_block(y_b, y, y_pred, p, hashes, [100])
    assert out["label_shift"]["counts_current"]["neutral"] == 0 and out["what_if"]["measured"] == 1
    recall = out["what_if"]["per_class"]["neutral"]["recall"]
    assert recall["n"] == 0 and np.isnan(recall["before"]["value"]) and np.isnan(recall["delta"]["ci_low"])
    assert out["em"]["current_label_shares"]["neutral"] == 0
    assert out["em"]["estimated_prior"]["neutral"] < out["em"]["training_prior"]["neutral"]
