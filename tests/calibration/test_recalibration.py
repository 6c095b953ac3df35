import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from blindspot.calibration.metrics import brier_rows, expected_calibration_error, log_loss_rows
from blindspot.calibration.recalibration import (
    apply_temperature,
    cross_fit_folds,
    fit_temperature,
    fit_top_label_temperature,
    isotonic_oof,
    recalibration_whatif,
    temperature_scaling_oof,
)


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
    folds = cross_fit_folds(correct, n_splits=5, seed=0)
    assert sorted(np.unique(folds)) == [0, 1, 2, 3, 4]
    assert all((~correct[folds == f]).sum() == 4 for f in range(5))
    np.testing.assert_array_equal(folds, cross_fit_folds(correct, n_splits=5, seed=0))


@pytest.mark.parametrize("n,splits,message", [
    (7, 5, "cross-fitting 5 folds needs at least 10 rows. Got 7 instead."),
    (100, 1, "recalibration needs at least 2 folds. Got n_splits=1 instead."),
])
def test_fold_errors(n, splits, message):
    with pytest.raises(ValueError) as err:
        cross_fit_folds(np.ones(n, bool), n_splits=splits)
    assert message in str(err.value)


def test_isotonic_is_out_of_fold():
    # Each fold's values come from a map fitted on the other folds only (checked by refitting by hand).
    rng = np.random.default_rng(3)
    conf = rng.uniform(0.4, 1, 300)
    correct = rng.random(300) < conf
    folds = cross_fit_folds(correct, n_splits=3, seed=1)
    out = isotonic_oof(correct, conf, folds).confidence
    for f in range(3):
        iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf[folds != f], correct[folds != f])
        np.testing.assert_allclose(out[folds == f], iso.predict(conf[folds == f]))
    # In-sample isotonic would fit its own rows better than cross-fitting does: the two differ.
    in_sample = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf, correct).predict(conf)
    assert not np.allclose(out, in_sample)


def test_temperature_oof_uses_fold_temperatures(make_synthetic):
    y, p = make_synthetic(600, seed=4, sharpness=2)
    correct = p.argmax(1) == y
    folds = cross_fit_folds(correct, n_splits=4, seed=0)
    r = temperature_scaling_oof(correct, p.max(1), folds, y_true=y, proba=p)
    for f in range(4):
        t = fit_temperature(y[folds != f], p[folds != f])
        assert r.temperatures[f] == pytest.approx(t)
        np.testing.assert_allclose(r.proba[folds == f], apply_temperature(p[folds == f], t))
    # the losses scored fold by fold are, to the last digit, those of the whole recalibrated matrix
    assert r.losses == {"brier": float(brier_rows(y, r.proba).mean()), "log_loss": float(log_loss_rows(y, r.proba).mean())}
    lean = temperature_scaling_oof(correct, p.max(1), folds, y_true=y, proba=p, keep_proba=False)
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
    a, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, seed=3)
    b, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, seed=3)
    assert a == b
    assert a["temperature"] == pytest.approx(2.0, rel=0.1)
    fit = rc._fit_rows(np.ones(8000, bool), 3, 0)
    assert fit.size == 3000 and np.all(np.diff(fit) > 0)


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
    folds = cross_fit_folds(correct, n_splits=5, seed=3)
    sizes = np.bincount(folds)
    wrong = np.bincount(folds[~correct], minlength=5)
    assert sizes.max() - sizes.min() <= 1 and wrong.max() - wrong.min() <= 1
    assert not np.array_equal(folds, cross_fit_folds(correct, n_splits=5, seed=4))  # the seed shuffles


def test_folds_without_enough_errors_to_stratify_still_partition():
    correct = np.r_[np.ones(48, bool), np.zeros(2, bool)]
    folds = cross_fit_folds(correct, n_splits=5, seed=0)
    assert np.bincount(folds).tolist() == [10] * 5
