import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

from blindspot.calibration.recalibration import (
    apply_temperature,
    confident_after,
    confident_after_block,
    confident_after_counts,
    fit_temperature,
    fit_top_label_temperature,
    fold_hashes,
)
from blindspot.samples import row_hash


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


@pytest.mark.parametrize("seed", range(4))
def test_isotonic_map_matches_sklearn(seed):
    from blindspot.calibration.recalibration import apply_isotonic, fit_isotonic

    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.34, 1, 400), 2)  # ties, as real confidences have
    correct = (rng.random(400) < conf ** 2).astype(float)
    probe = np.r_[0.0, 0.2, np.linspace(0.3, 1.0, 71), 1.2]  # inside, between knots and beyond both ends
    ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf, correct).predict(probe)
    np.testing.assert_allclose(apply_isotonic(*fit_isotonic(conf, correct), probe), ref, atol=1e-12)


# --------------------------------------------------------------------------- the rows in any order


def test_fold_hashes_are_the_ids_row_hash_of_the_folds_draw():
    ids = ids_of(40)
    np.testing.assert_array_equal(fold_hashes(ids, 5), row_hash(5, ids, "recalibration/folds"))


def test_confident_after_counts_add_up_over_batches():
    rng = np.random.default_rng(2)
    before = rng.uniform(0.3, 1, 500)
    after = np.clip(before + rng.normal(0, 0.1, 500), 0, 1)
    correct = rng.random(500) < before
    t = [0.6, 0.9]
    parts = sum(confident_after_counts(correct[lo:lo + 70], before[lo:lo + 70], after[lo:lo + 70], t)
                for lo in range(0, 500, 70))
    assert confident_after_block(parts, 500, t) == confident_after(correct, before, after, t)
    block = confident_after(correct, before, after, t)["conf_ge_90"]
    assert block["count"] == int((~correct & (after >= 0.9)).sum())
    assert block["correct_rising_above"] == int((correct & (before < 0.9) & (after >= 0.9)).sum())

