"""Calibration cells: the one-batch code's bins, means and bootstrap table from mergeable integer sums."""

from __future__ import annotations

import numpy as np
import pytest

from blindspot.calibration.auroc import exact_auroc
from blindspot.calibration.binning import assign_bins, bin_edges, reliability_bins
from blindspot.calibration.bootstrap import _dense_cells, pair_codes
from blindspot.calibration.cells import CalibrationCells
from blindspot.calibration.metrics import (brier_rows, classwise_bins, ece_from_bins, log_loss_rows,
                                           top_label_brier_rows)
from blindspot.calibration.summary import calibration_summary, summary_of_totals

N_BINS = 10


def _rows(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    conf = np.clip(rng.beta(6, 1.5, size=n), 0.34, 1.0)
    correct = rng.random(n) < conf - 0.05
    losses = {"brier_top_label": (conf - correct) ** 2, "log_loss": -np.log(np.where(correct, conf, 1 - conf + 1e-3))}
    members = [np.ones(n, bool), rng.random(n) < 0.2, conf > 0.9, np.zeros(n, bool)]
    return conf, correct, losses, members


def _edges(conf, members):
    return [bin_edges(conf[m], n_bins=N_BINS, strategy="quantile") for m in members]


def _cells(conf, correct, losses, members, rows=None):
    rows = np.arange(conf.size) if rows is None else rows
    return CalibrationCells.of(correct[rows], conf[rows], {k: v[rows] for k, v in losses.items()},
                               [m[rows] for m in members], np.linspace(0, 1, N_BINS + 1), _edges(conf, members))


def test_bins_and_means_are_the_one_batch_code_s_to_the_last_bits():
    conf, correct, losses, members = _rows()
    cells = _cells(conf, correct, losses, members)
    for g, m in enumerate(members[:3]):
        width, mass = cells.bins(g)
        for got, want in ((width, reliability_bins(correct[m], conf[m], n_bins=N_BINS)),
                          (mass, reliability_bins(correct[m], conf[m], n_bins=N_BINS, strategy="quantile"))):
            assert np.array_equal(got.edges, want.edges) and np.array_equal(got.count, want.count)
            assert np.array_equal(got.sum_correct, want.sum_correct)
            np.testing.assert_allclose(got.sum_confidence, want.sum_confidence, rtol=1e-13, atol=0)
            assert ece_from_bins(got) == pytest.approx(ece_from_bins(want), rel=1e-12, abs=1e-15)
        assert cells.n(g) == int(m.sum())
        for name, v in losses.items():
            assert cells.mean(g, name) == pytest.approx(v[m].mean(), rel=1e-13)
    assert cells.n(3) == 0 and np.isnan(cells.mean(3, "log_loss"))
    assert cells.bins(3)[0].count.sum() == 0


def test_the_bootstrap_table_is_the_one_cell_bootstrap_builds_from_the_rows():
    conf, correct, losses, members = _rows(seed=1)
    cells = _cells(conf, correct, losses, members)
    edges = _edges(conf, members)
    for g, m in enumerate(members[:3]):
        codes = pair_codes(assign_bins(conf[m], np.linspace(0, 1, N_BINS + 1)), assign_bins(conf[m], edges[g]),
                           N_BINS, correct[m])
        values = {"confidence": conf[m], **{k: v[m] for k, v in losses.items()}}
        want = _dense_cells(codes, values)
        got = cells.count_table(g, list(values))
        assert np.array_equal(got.counts, want.counts) and np.array_equal(got.cell_names, want.cell_names)
        for name in values:
            # fixed point: each log loss truncated to a multiple of 2^-46 (cells.BOUNDS)
            np.testing.assert_allclose(got.sums[name], want.sums[name], rtol=1e-12)
            # sum x^2 - (sum x)^2 / n cancels most digits: a squared log loss truncated to 2^-40 a row shows in
            # the spread (at most about a cell's rows times that), which only scales the normal draw of its total
            np.testing.assert_allclose(got.m2[name], want.m2[name], rtol=1e-6, atol=1e-9)
        reps_got, sums_got = got.resample(np.random.default_rng(5), 50)
        reps_want, sums_want = want.resample(np.random.default_rng(5), 50)
        assert np.array_equal(reps_got, reps_want)
        np.testing.assert_allclose(sums_got["log_loss"], sums_want["log_loss"], rtol=1e-8)


@pytest.mark.parametrize("n_batches", [2, 5])
def test_batches_in_any_order_add_up_to_the_same_bits(n_batches):
    conf, correct, losses, members = _rows(seed=2)
    whole = _cells(conf, correct, losses, members)
    rng = np.random.default_rng(n_batches)
    order = rng.permutation(conf.size)
    batches = [_cells(conf, correct, losses, members, rows) for rows in np.array_split(order, n_batches)]
    merged = batches[-1]
    for part in reversed(batches[:-1]):
        merged = part + merged
    assert np.array_equal(merged.counts, whole.counts)
    assert merged.sums == whole.sums and merged.squares == whole.squares
    assert [merged.bins(g)[0].sum_confidence.tobytes() for g in range(3)] == \
        [whole.bins(g)[0].sum_confidence.tobytes() for g in range(3)]


def test_cells_of_other_edges_do_not_merge():
    conf, correct, losses, members = _rows(n=300, seed=3)
    a = _cells(conf, correct, losses, members)
    b = CalibrationCells.of(correct, conf, losses, members, np.linspace(0, 1, N_BINS + 1),
                            [np.linspace(0, 1, N_BINS + 1)] * len(members))
    with pytest.raises(ValueError, match="other edges"):
        a + b


def _proba_rows(n=3000, seed=4, k=3):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y_true = np.array([rng.choice(k, p=p) for p in proba])
    y_pred = proba.argmax(axis=1)
    conf, correct = proba.max(axis=1), y_pred == y_true
    members = [np.ones(n, bool), y_pred == 1, rng.random(n) < 0.3]
    return conf, correct, y_true, proba, members


def _proba_cells(conf, correct, y_true, proba, members, rows):
    names = {"brier_top_label": top_label_brier_rows(correct, conf), "brier": brier_rows(y_true, proba),
             "log_loss": log_loss_rows(y_true, proba)}
    return CalibrationCells.of(correct[rows], conf[rows], {k: v[rows] for k, v in names.items()},
                               [m[rows] for m in members], np.linspace(0, 1, N_BINS + 1), _edges(conf, members),
                               y_true=y_true[rows], proba=proba[rows])


def test_classwise_bins_are_the_one_batch_code_s():
    conf, correct, y_true, proba, members = _proba_rows()
    cells = _proba_cells(conf, correct, y_true, proba, members, np.arange(conf.size))
    for g, m in enumerate(members):
        got, want = cells.classwise_bins(g), classwise_bins(y_true[m], proba[m], n_bins=N_BINS, strategy="uniform")
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a.count, b.count) and np.array_equal(a.sum_correct, b.sum_correct)
            np.testing.assert_allclose(a.sum_confidence, b.sum_confidence, rtol=1e-13)


def test_a_block_made_from_merged_cells_is_the_one_made_from_its_rows():
    conf, correct, y_true, proba, members = _proba_rows(seed=5)
    order = np.random.default_rng(1).permutation(conf.size)
    parts = [_proba_cells(conf, correct, y_true, proba, members, rows) for rows in np.array_split(order, 3)]
    cells = parts[0] + parts[1] + parts[2]
    for g, m in enumerate(members):
        want = calibration_summary(correct[m], conf[m], y_true=y_true[m], proba=proba[m], n_bins=N_BINS, n_boot=200,
                                   rng=np.random.default_rng(g))
        totals = cells.totals(g, ["brier_top_label", "brier", "log_loss"], auroc=exact_auroc(correct[m], conf[m]))
        got = summary_of_totals(totals, n_boot=200, ci_level=0.95, rng=np.random.default_rng(g))
        assert got.metrics.keys() == want.metrics.keys()
        for key, value in want.metrics.items():
            if isinstance(value, dict):
                for part in ("value", "ci_low", "ci_high"):
                    assert got.metrics[key][part] == pytest.approx(value[part], rel=1e-9, abs=1e-12), (g, key, part)
                assert got.metrics[key]["method"] == value["method"]
            else:
                assert got.metrics[key] == pytest.approx(value, rel=1e-9, abs=1e-12), (g, key)


def test_a_value_without_a_known_bound_is_refused():
    conf, correct, losses, members = _rows(n=50)
    with pytest.raises(ValueError, match="no known bound for the value 'margin'"):
        CalibrationCells.of(correct, conf, {"margin": conf}, members[:1], np.linspace(0, 1, 11),
                            _edges(conf, members[:1]))


def test_row_halves_sum_any_rows_as_unit_sums_does():
    """A row's fixed-point halves made once and gathered for each group it is in: the sums of
    ``unit_sums`` over the gathered values, bit for bit (repeated rows, a value at each bound)."""
    from blindspot.calibration.cells import RowHalves
    from blindspot.counts import unit_sums

    rng = np.random.default_rng(8)
    values = np.r_[rng.uniform(0, 64, 997), 0.0, 64.0]
    rows = rng.integers(0, values.size, 5000)
    codes = rng.integers(0, 37, 5000)
    got = RowHalves(values, 6).sums(rows, codes, 37)
    np.testing.assert_array_equal(got.halves, unit_sums(values[rows] / 64, codes, 37))
    assert got.scale == 46
    with pytest.raises(ValueError, match="must lie in"):
        RowHalves(np.array([65.0]), 6)
