import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from blindspot.calibration.metrics import brier_rows, expected_calibration_error, log_loss_rows
from blindspot.calibration.recalibration import (
    apply_temperature,
    cross_fit_folds,
    fit_ranks,
    fit_temperature,
    fold_hashes,
    fit_top_label_temperature,
    isotonic_oof,
    recalibration_whatif,
    temperature_scaling_oof,
)
from blindspot.samples import hash_order, row_hash


def ids_of(n, prefix="r"):
    return np.array([f"{prefix}-{i:05d}" for i in range(n)], dtype=object)


def hashes_of(n, seed=0):
    """The fold hashes of ``n`` rows with ids ``r-00000``..."""
    return fold_hashes(ids_of(n), seed)


def assert_same_numbers(a, b, path="", rtol=1e-12):
    """Two nested results agree: integers, strings and flags exactly, floats to ``rtol`` (NaN equal to NaN)."""
    assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b)), (path, a, b)
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same_numbers(a[k], b[k], f"{path}.{k}", rtol)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_numbers(x, y, f"{path}[{i}]", rtol)
    elif isinstance(a, (float, np.floating, np.ndarray)) and not isinstance(a, (bool, np.bool_)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True, err_msg=path)
    else:
        assert a == b, (path, a, b)


@pytest.mark.parametrize("sharpness", [0.5, 1.0, 2.0])
def test_temperature_recovers_the_planted_sharpness(make_synthetic, sharpness):
    # The model reports softmax(s z) for labels from softmax(z): the best temperature is s.
    y, p = make_synthetic(20_000, seed=11, sharpness=sharpness)
    assert fit_temperature(y, p) == pytest.approx(sharpness, rel=0.06)


def test_temperature_keeps_argmax_and_sums_to_one(make_synthetic):
    y, p = make_synthetic(500, seed=1, sharpness=2)
    q = apply_temperature(p, 2.0)
    np.testing.assert_array_equal(q.argmax(1), p.argmax(1))
    np.testing.assert_allclose(q.sum(1), 1)


def test_top_label_temperature_on_overconfident_confidences():
    rng = np.random.default_rng(2)
    z = rng.normal(1, 1.5, 20_000)
    correct = rng.random(20_000) < 1 / (1 + np.exp(-z))
    conf = 1 / (1 + np.exp(-2 * z))  # logit doubled: T = 2 undoes it
    assert fit_top_label_temperature(correct, conf) == pytest.approx(2.0, rel=0.06)


def test_folds_partition_rows_and_stratify():
    correct = np.r_[np.ones(80, bool), np.zeros(20, bool)]
    folds = cross_fit_folds(correct, hashes_of(100), n_splits=5)
    assert sorted(np.unique(folds)) == [0, 1, 2, 3, 4]
    assert all((~correct[folds == f]).sum() == 4 for f in range(5))
    np.testing.assert_array_equal(folds, cross_fit_folds(correct, hashes_of(100), n_splits=5))


@pytest.mark.parametrize("n,n_hashes,splits,message", [
    (7, 7, 5, "cross-fitting 5 folds needs at least 10 rows. Got 7 instead."),
    (100, 100, 1, "recalibration needs at least 2 folds. Got n_splits=1 instead."),
    (100, 99, 5, "one hash a row is needed: (99,) hashes for (100,) rows."),
])
def test_fold_errors(n, n_hashes, splits, message):
    with pytest.raises(ValueError) as err:
        cross_fit_folds(np.ones(n, bool), hashes_of(n_hashes), n_splits=splits)
    assert message in str(err.value)


def test_isotonic_is_out_of_fold():
    # Each fold's values come from a map fitted on the other folds only (checked by refitting by hand).
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.4, 1, 300)
    correct = rng.random(300) < conf
    folds = cross_fit_folds(correct, hashes_of(300, seed=1), n_splits=3)
    out = isotonic_oof(correct, conf, folds, hashes_of(300, seed=1)).confidence
    for f in range(3):
        iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf[folds != f], correct[folds != f])
        np.testing.assert_allclose(out[folds == f], iso.predict(conf[folds == f]))
    # In-sample isotonic would fit its own rows better than cross-fitting does: the two differ.
    in_sample = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf, correct).predict(conf)
    assert not np.allclose(out, in_sample)


def test_temperature_oof_uses_fold_temperatures(make_synthetic):
    y, p = make_synthetic(600, seed=4, sharpness=2)
    correct = p.argmax(1) == y
    import blindspot.calibration.recalibration as rc

    h = hashes_of(600)
    folds = cross_fit_folds(correct, h, n_splits=4)
    r = temperature_scaling_oof(correct, p.max(1), folds, h, y_true=y, proba=p)
    for f in range(4):
        fit = rc._fit_rows(folds != f, h)  # every training row (fewer than MAX_FIT_ROWS), in fit-rank order
        np.testing.assert_array_equal(np.sort(fit), np.flatnonzero(folds != f))
        t = fit_temperature(y[fit], p[fit])
        assert r.temperatures[f] == t
        np.testing.assert_allclose(r.proba[folds == f], apply_temperature(p[folds == f], t))
    # the losses scored fold by fold are, to the last digit, those of the whole recalibrated matrix
    assert r.losses == {"brier": float(brier_rows(y, r.proba).mean()), "log_loss": float(log_loss_rows(y, r.proba).mean())}
    lean = temperature_scaling_oof(correct, p.max(1), folds, h, y_true=y, proba=p, keep_proba=False)
    assert lean.proba is None and lean.losses == r.losses
    np.testing.assert_array_equal(lean.confidence, r.confidence)


def test_whatif_fixes_pure_miscalibration(make_synthetic):
    y, p = make_synthetic(4000, seed=5, sharpness=2.5)
    correct = p.argmax(1) == y
    m, bins = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, n_bins=10, n_splits=5, seed=0)
    assert m["temperature"] == pytest.approx(2.5, rel=0.1)
    assert m["none"]["ece"] > 0.08
    assert m["temperature_scaling"]["ece"]["value"] < 0.03 and m["isotonic"]["ece"]["value"] < 0.03
    assert "ci_low" not in m["isotonic"]["ece"]  # no interval without n_boot
    assert m["temperature_scaling"]["log_loss"] < m["none"]["log_loss"]
    assert "brier" not in m["isotonic"]  # a top-label map has no class probabilities
    assert set(bins) == {"none", "temperature_scaling", "isotonic"}


def test_whatif_without_probabilities_is_top_label():
    rng = np.random.default_rng(6)
    conf = rng.uniform(0.5, 1, 2000)
    correct = rng.random(2000) < conf - 0.15
    m, _ = recalibration_whatif(correct, conf, n_bins=10, n_splits=5, seed=0)
    assert m["temperature_scope"] == "top_label"
    assert "brier" not in m["none"] and m["isotonic"]["ece"]["value"] < m["none"]["ece"]
    assert expected_calibration_error(correct, conf) == pytest.approx(m["none"]["ece"])


def test_large_training_folds_are_subsampled_reproducibly(make_synthetic, monkeypatch):
    import blindspot.calibration.recalibration as rc

    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 3000)
    y, p = make_synthetic(8000, seed=12, sharpness=2.0)
    correct = p.argmax(1) == y
    h = hashes_of(8000, seed=3)
    a, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, hashes=h, seed=3)
    b, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, hashes=h, seed=3)
    assert a == b
    assert a["temperature"] == pytest.approx(2.0, rel=0.1)
    fit = rc._fit_rows(np.ones(8000, bool), h)
    # The 3000 rows of smallest fit rank, in ascending rank: what a full sort of the ranks gives.
    np.testing.assert_array_equal(fit, hash_order(fit_ranks(h))[:3000])
    ranks = fit_ranks(h)[fit]
    assert np.unique(fit).size == 3000 and np.all(ranks[1:] >= ranks[:-1])


@pytest.mark.parametrize("seed", range(4))
def test_isotonic_map_matches_sklearn(seed):
    from blindspot.calibration.recalibration import apply_isotonic, fit_isotonic

    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.34, 1, 400), 2)  # ties, as real confidences have
    correct = (rng.random(400) < conf ** 2).astype(float)
    probe = np.r_[0.0, 0.2, np.linspace(0.3, 1.0, 71), 1.2]  # inside, between knots and beyond both ends
    ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf, correct).predict(probe)
    np.testing.assert_allclose(apply_isotonic(*fit_isotonic(conf, correct), probe), ref, atol=1e-12)


def test_folds_balance_sizes_and_errors_when_uneven():
    rng = np.random.default_rng(5)
    correct = rng.random(997) < 0.71
    folds = cross_fit_folds(correct, hashes_of(997, seed=3), n_splits=5)
    sizes = np.bincount(folds)
    wrong = np.bincount(folds[~correct], minlength=5)
    assert sizes.max() - sizes.min() <= 1 and wrong.max() - wrong.min() <= 1
    assert not np.array_equal(folds, cross_fit_folds(correct, hashes_of(997, seed=4), n_splits=5))  # the seed


def test_folds_without_enough_errors_to_stratify_still_partition():
    correct = np.r_[np.ones(48, bool), np.zeros(2, bool)]
    folds = cross_fit_folds(correct, hashes_of(50), n_splits=5)
    assert np.bincount(folds).tolist() == [10] * 5


# --------------------------------------------------------------------------- the rows in any order


def test_fold_hashes_are_the_ids_row_hash_of_the_folds_draw():
    ids = ids_of(40)
    np.testing.assert_array_equal(fold_hashes(ids, 5), row_hash(5, ids, "recalibration/folds"))


@pytest.mark.parametrize("n,wrong_share,splits", [(997, 0.29, 5), (1000, 0.5, 4), (60, 0.05, 5)])
def test_shuffled_rows_keep_their_fold_and_the_folds_stay_balanced(n, wrong_share, splits):
    rng = np.random.default_rng(n)
    ids, correct = ids_of(n), rng.random(n) >= wrong_share
    folds = cross_fit_folds(correct, fold_hashes(ids, 9), n_splits=splits)
    perm = rng.permutation(n)
    shuffled = cross_fit_folds(correct[perm], fold_hashes(ids[perm], 9), n_splits=splits)
    np.testing.assert_array_equal(shuffled, folds[perm])  # each id keeps its fold
    sizes = np.bincount(folds, minlength=splits)
    assert sizes.max() - sizes.min() <= 1
    if min(correct.sum(), (~correct).sum()) >= splits:  # stratified: each fold's wrong rows to within one
        wrong = np.bincount(folds[~correct], minlength=splits)
        assert wrong.max() - wrong.min() <= 1


def test_shuffled_rows_give_the_same_fit_sample_in_the_same_order(monkeypatch):
    import blindspot.calibration.recalibration as rc

    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 300)
    monkeypatch.setattr(rc, "FIT_BLOCK", 256)  # several blocks: the best-so-far merge is exercised
    rng = np.random.default_rng(4)
    n = 2000
    ids, correct = ids_of(n), rng.random(n) < 0.7
    perm = rng.permutation(n)
    for rows_ids, corr in ((ids, correct), (ids[perm], correct[perm])):
        h = fold_hashes(rows_ids, 2)
        folds = cross_fit_folds(corr, h, n_splits=5)
        chosen = [rows_ids[rc._fit_rows(folds != f, h)] for f in range(5)]
        if rows_ids is ids:
            first = chosen
            pos = np.flatnonzero(folds != 0)  # the sample is the smallest fit ranks of the training rows
            np.testing.assert_array_equal(rc._fit_rows(folds != 0, h), pos[hash_order(fit_ranks(h[pos]))[:300]])
    for f in range(5):
        assert first[f].size == 300
        np.testing.assert_array_equal(chosen[f], first[f])  # the same ids, in the same order


@pytest.mark.parametrize("with_proba", [True, False])
def test_whatif_of_shuffled_rows_gives_the_same_numbers(make_synthetic, monkeypatch, with_proba):
    import blindspot.calibration.recalibration as rc

    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 900)  # the training folds are subsampled
    y, p = make_synthetic(1500, seed=8, sharpness=1.8)
    correct, ids = p.argmax(1) == y, ids_of(1500)
    perm = np.random.default_rng(0).permutation(1500)

    def whatif(rows):
        kw = dict(y_true=y[rows], proba=p[rows]) if with_proba else {}
        return recalibration_whatif(correct[rows], p.max(1)[rows], hashes=fold_hashes(ids[rows], 7), seed=7,
                                    thresholds=[0.6, 0.8], n_boot=100, **kw)

    (a, bins_a), (b, bins_b) = whatif(np.arange(1500)), whatif(perm)
    assert_same_numbers(a, b)
    for method in bins_a:
        np.testing.assert_array_equal(bins_a[method].count, bins_b[method].count)


def test_whatif_without_hashes_ranks_the_positions(make_synthetic):
    y, p = make_synthetic(600, seed=9, sharpness=1.5)
    correct = p.argmax(1) == y
    fallback, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, seed=4)
    given, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, seed=4, hashes=fold_hashes(range(600), 4))
    assert fallback == given
