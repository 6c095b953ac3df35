"""The recalibration what-if over kept batches: folds, fit samples and numbers, whatever the batches or row order."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression

import blindspot.calibration.recalibration as rc
from blindspot.calibration.metrics import expected_calibration_error
from blindspot.calibration.recalibration import apply_temperature, fit_ranks, fit_temperature, fold_hashes
from blindspot.calibration.summary import totals_of_rows
from blindspot.calibration.whatif import (
    _Rows,
    _after,
    fit_maps,
    fit_samples,
    fold_cuts,
    recalibration_whatif,
    whatif_of_parts,
)
from blindspot.engine.batches import LocalParts
from blindspot.samples import hash_order

from tests.calibration.test_recalibration import assert_same_numbers, hashes_of, ids_of


def batches(correct, conf, hashes, y_true=None, proba=None, size=None) -> LocalParts:
    """The rows as kept batches of ``size`` rows (one batch by default)."""
    n = correct.size
    size = size or n
    return LocalParts([_Rows(correct[lo:lo + size], conf[lo:lo + size], hashes[lo:lo + size],
                             None if y_true is None else y_true[lo:lo + size],
                             None if proba is None else proba[lo:lo + size], lo) for lo in range(0, n, size)])


def folds_of(correct, hashes, n_splits, size=None) -> np.ndarray:
    parts = batches(correct, np.zeros(correct.size), hashes, size=size)
    return fold_cuts(parts, n_splits).of(correct, hashes)


def test_folds_partition_rows_and_stratify():
    correct = np.r_[np.ones(80, bool), np.zeros(20, bool)]
    folds = folds_of(correct, hashes_of(100), 5)
    assert np.bincount(folds).tolist() == [20] * 5
    assert all((~correct[folds == f]).sum() == 4 for f in range(5))
    np.testing.assert_array_equal(folds, folds_of(correct, hashes_of(100), 5, size=7))  # any batches


@pytest.mark.parametrize("n,wrong_share,splits", [(997, 0.29, 5), (1000, 0.5, 4), (60, 0.05, 5)])
def test_folds_are_runs_of_the_hash_order_in_each_class(n, wrong_share, splits):
    """Fold f holds ranks [f s / K, (f + 1) s / K) of each class's hash order: sizes within two, wrong rows
    within one, each id in its fold whatever the order of the rows or their batches."""
    rng = np.random.default_rng(n)
    ids, correct = ids_of(n), rng.random(n) >= wrong_share
    h = fold_hashes(ids, 9)
    folds = folds_of(correct, h, splits)
    stratified = min(correct.sum(), (~correct).sum()) >= splits
    for stratum in ((~correct, correct) if stratified else (np.ones(n, bool),)):
        at = np.flatnonzero(stratum)
        ranked = at[hash_order(h[at])]
        s = at.size
        expected = np.searchsorted(np.arange(1, splits) * s // splits, np.arange(s), side="right")
        np.testing.assert_array_equal(folds[ranked], expected)
    sizes = np.bincount(folds, minlength=splits)
    assert sizes.max() - sizes.min() <= (2 if stratified else 1)
    perm = rng.permutation(n)
    np.testing.assert_array_equal(folds_of(correct[perm], h[perm], splits, size=97), folds[perm])


@pytest.mark.parametrize("n,splits,message", [
    (7, 5, "cross-fitting 5 folds needs at least 10 rows. Got 7 instead."),
    (100, 1, "recalibration needs at least 2 folds. Got n_splits=1 instead."),
])
def test_fold_errors(n, splits, message):
    with pytest.raises(ValueError) as err:
        folds_of(np.ones(n, bool), hashes_of(n), splits)
    assert message in str(err.value)
    with pytest.raises(ValueError, match=r"one hash a row is needed: \(99,\) hashes for \(100,\) rows"):
        recalibration_whatif(np.ones(100, bool), np.ones(100), hashes=hashes_of(99))


def test_fit_samples_are_the_smallest_fit_ranks_of_each_training_set(monkeypatch):
    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 300)
    rng = np.random.default_rng(4)
    n = 2000
    ids, correct = ids_of(n), rng.random(n) < 0.7
    conf = rng.uniform(0.3, 1, n)
    perm = rng.permutation(n)
    chosen = []
    for order, size in ((np.arange(n), None), (perm, 128)):
        h = fold_hashes(ids[order], 2)
        parts = batches(correct[order], conf[order], h, size=size)
        folds = fold_cuts(parts, 5)
        samples = fit_samples(parts, folds)
        assert len(samples) == 6 and all(s[1].size == 300 for s in samples)
        chosen.append([s[1] for s in samples])
        if size is None:  # against a full sort of the training rows' fit ranks
            fold = folds.of(correct, h)
            for f in range(5):
                train = np.flatnonzero(fold != f)
                want = train[hash_order(fit_ranks(h[train]))[:300]]
                np.testing.assert_array_equal(samples[f][1], conf[want])
    for a, b in zip(*chosen):
        np.testing.assert_array_equal(a, b)  # the same rows in the same order


def test_each_fold_is_recalibrated_by_the_map_of_the_other_folds(make_synthetic):
    """Temperature: every training row (fewer than MAX_FIT_ROWS) fitted, applied to its fold; isotonic: the
    same map as scikit-learn's fitted on the other folds."""
    y, p = make_synthetic(600, seed=4, sharpness=2)
    correct, conf, h = p.argmax(1) == y, p.max(1), hashes_of(600)
    parts = batches(correct, conf, h, y, p)
    folds = fold_cuts(parts, 4)
    ts, iso, _ = fit_maps(fit_samples(parts, folds), 4, multiclass=True)
    fold = folds.of(correct, h)
    ts_after, iso_after = _after(parts.states[0], folds, ts), _after(parts.states[0], folds, iso)
    for f in range(4):
        train = hash_order(fit_ranks(h))
        train = train[fold[train] != f]
        t = fit_temperature(y[train], p[train])
        assert ts.temperatures[f] == t
        np.testing.assert_allclose(ts_after.confidence[fold == f], apply_temperature(p[fold == f], t).max(1))
        ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(conf[fold != f], correct[fold != f])
        np.testing.assert_allclose(iso_after.confidence[fold == f], ref.predict(conf[fold == f]), atol=1e-12)


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
    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 3000)
    y, p = make_synthetic(8000, seed=12, sharpness=2.0)
    correct = p.argmax(1) == y
    h = hashes_of(8000, seed=3)
    a, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, hashes=h, seed=3)
    b, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, hashes=h, seed=3)
    assert a == b
    assert a["temperature"] == pytest.approx(2.0, rel=0.1)
    every = hash_order(fit_ranks(h))[:3000]  # the sample of every row: the 3000 smallest fit ranks
    assert a["temperature"] == fit_temperature(y[every], p[every])


@pytest.mark.parametrize("with_proba", [True, False])
def test_whatif_of_shuffled_rows_in_any_batches_gives_the_same_numbers(make_synthetic, monkeypatch, with_proba):
    monkeypatch.setattr(rc, "MAX_FIT_ROWS", 900)  # the training folds are subsampled
    y, p = make_synthetic(1500, seed=8, sharpness=1.8)
    correct, ids = p.argmax(1) == y, ids_of(1500)
    perm = np.random.default_rng(0).permutation(1500)

    def whatif(rows, size):
        kw = dict(y_true=y[rows], proba=p[rows]) if with_proba else {}
        before = totals_of_rows(correct[rows], p.max(1)[rows], n_bins=10, with_table=False, **kw)
        parts = batches(correct[rows], p.max(1)[rows], fold_hashes(ids[rows], 7), kw.get("y_true"), kw.get("proba"),
                        size=size)
        return whatif_of_parts(parts, before, n_bins=10, n_splits=5, thresholds=[0.6, 0.8], n_boot=100,
                               rng=np.random.default_rng(7))

    a, bins_a = whatif(np.arange(1500), None)
    for rows, size in ((perm, None), (perm, 211), (np.arange(1500), 64)):
        b, bins_b = whatif(rows, size)
        assert_same_numbers(a, b, rtol=1e-12)
        for method in bins_a:
            np.testing.assert_array_equal(bins_a[method].count, bins_b[method].count)


def test_whatif_without_hashes_ranks_the_positions(make_synthetic):
    y, p = make_synthetic(600, seed=9, sharpness=1.5)
    correct = p.argmax(1) == y
    fallback, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, seed=4)
    given, _ = recalibration_whatif(correct, p.max(1), y_true=y, proba=p, seed=4, hashes=fold_hashes(range(600), 4))
    assert fallback == given


def test_more_folds_than_a_byte_holds():
    correct = np.random.default_rng(3).random(1200) < 0.5
    folds = folds_of(correct, hashes_of(1200), 300)
    assert folds.max() == 299 and np.bincount(folds).min() >= 3
