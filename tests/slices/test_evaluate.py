"""Counts by matrix products, the one-sided Fisher test, Newcombe intervals, slice tests."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, recall_score

from blindspot.slices import evaluate as ev

CLASSES = ["neg", "neu", "pos"]


def random_case(seed, n=400, p=6):
    rng = np.random.default_rng(seed)
    matrix = rng.random((n, p)) < rng.uniform(0.1, 0.6, p)
    y_true = rng.integers(0, 3, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, rng.integers(0, 3, n))
    return matrix, y_true, y_pred


def test_cells_hand_checked():
    assert ev.cells([0, 2, 1], [0, 1, 1], 3).tolist() == [1, 4, 3]
    got = ev.Counts.from_cells(np.array([[1, 2, 0, 3, 4, 5]]), 3)
    assert got.n.tolist() == [15] and got.errors.tolist() == [5]
    assert got.support.tolist() == [[3, 3, 9]] and got.correct.tolist() == [[2, 3, 5]]


@pytest.mark.parametrize("block_rows", [7, 1 << 16])
def test_extension_counts_equal_direct_counts(block_rows):
    matrix, y_true, y_pred = random_case(0)
    cell = ev.cells(y_true, y_pred, 3)
    single = ev.extension_counts(matrix, None, cell, 6, block_rows=block_rows)[0]
    parents = np.array([[0, 1], [2, 3], [4, 0]])
    pairs = ev.extension_counts(matrix, parents, cell, 6, block_rows=block_rows)
    for j in range(matrix.shape[1]):
        np.testing.assert_array_equal(single[j], np.bincount(cell[matrix[:, j]], minlength=6))
        for c, (a, b) in enumerate(parents):
            rows = matrix[:, a] & matrix[:, b] & matrix[:, j]
            np.testing.assert_array_equal(pairs[c, j], np.bincount(cell[rows], minlength=6))


def test_fisher_greater_equals_scipy_fisher_exact():
    rng = np.random.default_rng(1)
    for _ in range(40):
        n_s, n_r = rng.integers(1, 60, 2)
        k_s, k_r = rng.integers(0, n_s + 1), rng.integers(0, n_r + 1)
        p, log10p = ev.fisher_greater(k_s, n_s, k_s + k_r, n_s + n_r)
        ref = stats.fisher_exact([[k_s, n_s - k_s], [k_r, n_r - k_r]], alternative="greater").pvalue
        assert p == pytest.approx(ref, rel=1e-9, abs=1e-15)
        assert 10**log10p == pytest.approx(ref, rel=1e-9, abs=1e-15)


def test_fisher_greater_keeps_tiny_p_values_on_the_log_scale():
    _, log10p = ev.fisher_greater(900, 1000, 1000, 100000)
    assert np.isfinite(log10p) and log10p < -300


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Stat Med 17:873, Table II, example (a): 56/70 - 48/80, method 10.
    low, high = ev.newcombe_interval(56, 70, 48, 80, 0.95)
    assert (round(float(low), 4), round(float(high), 4)) == (0.0524, 0.3339)
    low, high = ev.newcombe_interval(0, 0, 1, 2)
    assert np.isnan(low) and np.isnan(high)


def _direct(mask, y_true, y_pred, metric):
    """Oracle: the metric computed with scikit-learn on the subset itself."""
    if metric == "error_rate":
        return 1 - accuracy_score(y_true[mask], y_pred[mask])
    c = CLASSES.index(metric.removeprefix("recall_"))
    rows = mask & (y_true == c)
    return recall_score(y_true[rows], y_pred[rows], labels=[c], average="macro", zero_division=np.nan)


def test_slice_tests_values_equal_metrics_on_each_subset():
    matrix, y_true, y_pred = random_case(2)
    counts = ev.mask_counts(matrix, y_true, y_pred, 3)
    totals = ev.mask_counts(np.ones(len(y_true), bool), y_true, y_pred, 3)
    t = ev.slice_tests(counts, totals, CLASSES, min_support=30, min_class_support=10, level=0.95)
    assert len(t) == matrix.shape[1] * 4
    for _, row in t.iterrows():
        mask = matrix[:, row["slice"]]
        assert row["value"] == pytest.approx(_direct(mask, y_true, y_pred, row["metric"]))
        assert row["rest_value"] == pytest.approx(_direct(~mask, y_true, y_pred, row["metric"]))
        assert row["gap"] == pytest.approx(row["value"] - row["rest_value"])
        assert row["ci_low"] <= row["value"] <= row["ci_high"]
        assert row["gap_ci_low"] <= row["gap"] <= row["gap_ci_high"]
    err = t[t["metric"] == "error_rate"]
    overall = (y_true != y_pred).mean()
    np.testing.assert_allclose(err["excess"], counts.errors - counts.n * overall)


def test_slice_tests_p_values_are_one_sided_fisher():
    matrix, y_true, y_pred = random_case(3)
    counts = ev.mask_counts(matrix, y_true, y_pred, 3)
    totals = ev.mask_counts(np.ones(len(y_true), bool), y_true, y_pred, 3)
    t = ev.slice_tests(counts, totals, CLASSES, min_support=30, min_class_support=10, level=0.95)
    row = t[(t["slice"] == 1) & (t["metric"] == "recall_pos")].iloc[0]
    mask, pos = matrix[:, 1], y_true == 2
    miss_in = int((mask & pos & (y_pred != 2)).sum())
    miss_out = int((~mask & pos & (y_pred != 2)).sum())
    table = [[miss_in, int((mask & pos).sum()) - miss_in], [miss_out, int((~mask & pos).sum()) - miss_out]]
    assert row["p_value"] == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue)


def test_untested_reasons():
    y_true = np.array([0] * 50 + [1] * 50 + [2] * 100)
    y_pred = np.where(np.arange(200) % 3 == 0, 2, y_true)
    y_pred[50:100] = 2  # every neutral row missed: recall_neu cannot differ between slices
    matrix = np.zeros((200, 4), bool)
    matrix[:20, 0] = True  # too small
    matrix[::2, 1] = True  # 100 rows: tested
    matrix[:185, 2] = True  # rest too small
    matrix[45:150, 3] = True  # only 5 negative rows inside
    counts = ev.mask_counts(matrix, y_true, y_pred, 3)
    totals = ev.mask_counts(np.ones(200, bool), y_true, y_pred, 3)
    t = ev.slice_tests(counts, totals, CLASSES, min_support=30, min_class_support=10, level=0.95).set_index(
        ["slice", "metric"])
    assert not t.loc[(0, "error_rate"), "tested"] and t.loc[(0, "error_rate"), "reason"] == ev.BELOW_MIN_SUPPORT
    assert not t.loc[(2, "error_rate"), "tested"]
    assert t.loc[(1, "error_rate"), "tested"] and t.loc[(1, "recall_neg"), "tested"]
    assert not t.loc[(1, "recall_neu"), "tested"] and t.loc[(1, "recall_neu"), "reason"] == ev.NO_VARIATION
    assert np.isnan(t.loc[(1, "recall_neu"), "p_value"])
    assert t.loc[(3, "recall_neg"), "reason"] == ev.BELOW_MIN_CLASS_SUPPORT and t.loc[(3, "error_rate"), "tested"]


def test_class_tests_compare_each_class_with_the_others():
    y_true = np.array([0] * 40 + [1] * 20 + [2] * 140)
    y_pred = y_true.copy()
    y_pred[:30] = 2  # negative recall 0.25
    y_pred[40:60] = 2  # neutral recall 0
    totals = ev.mask_counts(np.ones(200, bool), y_true, y_pred, 3)
    t = ev.class_tests(totals, CLASSES, min_class_support=10, level=0.95)
    assert t["value"].tolist() == pytest.approx([0.25, 0.0, 1.0])
    assert t.loc[0, "rest_value"] == pytest.approx(140 / 160)
    assert t.loc[1, "p_value"] < 1e-6 and t.loc[2, "p_value"] == pytest.approx(1.0)
    ref = stats.fisher_exact([[30, 10], [20, 140]], alternative="greater").pvalue
    assert t.loc[0, "p_value"] == pytest.approx(ref)
    assert t.loc[1, "ci_high"] > 0  # Wilson interval of a zero recall is not degenerate


def test_the_far_tail_is_zero_without_its_windows(monkeypatch):
    """Slices whose Hoeffding bound is below 1e-340 get p = 0 and MH's log10 p, as the exact sum gives."""
    rng = np.random.default_rng(4)
    big_n = np.array([[40_000, 30_000, 50_000]] * 30)
    big_x = np.array([[6_000, 9_000, 4_000]] * 30)
    n = rng.integers(500, 8_000, size=(30, 3))
    expected = n * big_x / big_n
    x = np.minimum(np.rint(expected * rng.uniform(0.8, 3.0, size=(30, 1))).astype(np.int64), np.minimum(n, big_x))
    p, log10p, mean = ev.stratified_greater(x, n, big_x, big_n)
    monkeypatch.setattr(ev, "FAR_TAIL_EXPONENT", np.inf)  # every slice through its windows
    p_exact, log10p_exact, mean_exact = ev.stratified_greater(x, n, big_x, big_n)
    far = p == 0.0
    assert far.any() and (~far).any()
    assert np.array_equal(p_exact[far], p[far]) and np.array_equal(log10p_exact[far], log10p[far])
    assert np.array_equal(p[~far], p_exact[~far])  # each window summed from its own start: the same bits
    np.testing.assert_array_equal(mean, mean_exact)
