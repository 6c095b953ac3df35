"""Error-associated terms: quiet on null data, a planted word family found, the audit's test, tiny inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from blindspot import synth
from blindspot.slices.evaluate import Counts, cells, mask_counts, stratified_greater
from blindspot.slices.terms import (
    NO_CANDIDATES,
    TOO_FEW_ROWS,
    error_terms,
    split_halves,
    term_membership,
)
from blindspot.stats import bh_qvalues

FAMILY_SENTENCES = (" My glucose sensor lost its bluetooth pairing again.",
                    " The wearable needed a firmware update before the bluetooth sync worked.")


def codes(data: synth.SynthData) -> tuple[np.ndarray, np.ndarray]:
    code = {c: i for i, c in enumerate(data.classes)}
    return (data.frame["label"].map(code).to_numpy(np.int64), data.frame["prediction"].map(code).to_numpy(np.int64))


def planted_family(n: int, seed: int) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """Reviews where synth's planted slice (10%, 20 points worse) also gets a device sentence."""
    data = synth.generate(n, seed=seed, mode="planted",
                          planted=[synth.PlantedSlice({"app_version": "4.1.0"}, error_gap=0.2, share=0.1)])
    planted = data.latent["in_planted"].to_numpy() == 0
    texts = data.frame["text"].to_numpy(dtype=object).copy()
    texts[planted] = texts[planted] + np.asarray(FAMILY_SENTENCES, dtype=object)[np.arange(planted.sum()) % 2]
    return list(texts), *codes(data), planted


def test_split_is_seeded_balanced_and_does_not_depend_on_n():
    a = split_halves(10_000, seed=3)
    assert np.array_equal(a[:500], split_halves(500, seed=3))
    assert np.array_equal(a, split_halves(10_000, seed=3))
    assert not np.array_equal(a, split_halves(10_000, seed=4))
    assert abs(a.mean() - 0.5) < 0.02


def test_null_data_no_term_survives_bh():
    data = synth.generate(3000, seed=11, mode="null")
    result = error_terms(data.frame["text"].tolist(), *codes(data), 3, seed=0)
    assert result.reason == "" and len(result.tests) > 0 and result.n_candidates > 100
    assert (bh_qvalues(result.tests["p_value"].to_numpy()) > 0.05).all()


def test_planted_word_family_is_found():
    texts, y_true, y_pred, planted = planted_family(3000, seed=2)
    result = error_terms(texts, y_true, y_pred, 3, seed=0)
    tests = result.tests
    q = bh_qvalues(tests["p_value"].to_numpy())
    found = set(tests["term"][q <= 0.05])
    assert "bluetooth" in found
    assert tests["term"].iloc[0] in found
    top = tests.iloc[0]
    assert top["error_rate"] > top["rest_error_rate"] + 0.1


def test_p_values_are_the_audit_test_on_the_other_half_combined_by_bonferroni():
    texts, y_true, y_pred, planted = planted_family(2000, seed=1)
    result = error_terms(texts, y_true, y_pred, 3, seed=7)
    tests = result.tests
    half_b = split_halves(len(texts), 7)
    member = term_membership(texts, tests["term"].tolist())
    for i, row in tests.iterrows():
        for name, rows in (("p_a_to_b", half_b), ("p_b_to_a", ~half_b)):
            if np.isnan(row[name]):
                continue
            c = mask_counts(member[rows, i], y_true[rows], y_pred[rows], 3)
            tot = Counts.from_cells(np.bincount(cells(y_true[rows], y_pred[rows], 3), minlength=6)[None, :], 3)
            p, _, _ = stratified_greater(c.support - c.correct, c.support, tot.support - tot.correct, tot.support)
            assert np.isclose(row[name], np.nan_to_num(p[0], nan=1.0), rtol=1e-12, atol=0)
        expected = min(1.0, 2 * min(np.nan_to_num(row["p_a_to_b"], nan=1.0), np.nan_to_num(row["p_b_to_a"], nan=1.0)))
        assert row["p_value"] == expected
        assert row["n"] == member[:, i].sum() >= 30
        assert row["selected_on"] == {(True, True): "both", (True, False): "a", (False, True): "b"}[
            (not np.isnan(row["p_a_to_b"]), not np.isnan(row["p_b_to_a"]))]
    assert len(tests) <= 40 and tests["p_value"].is_monotonic_increasing


def test_same_inputs_same_tests():
    texts, y_true, y_pred, _ = planted_family(1500, seed=4)
    a = error_terms(texts, y_true, y_pred, 3, seed=1)
    b = error_terms(texts, y_true, y_pred, 3, seed=1)
    pd.testing.assert_frame_equal(a.tests, b.tests)
    assert a.tests.to_json() == b.tests.to_json()


def test_tiny_inputs():
    few = error_terms(["a review"] * 10, np.zeros(10, int), np.zeros(10, int), 2, seed=0)
    assert few.reason == TOO_FEW_ROWS and few.tests.empty and "p_value" in few.tests.columns
    distinct = [f"word{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(200)]  # every term in one row
    rng = np.random.default_rng(0)
    none = error_terms(distinct, rng.integers(0, 2, 200), rng.integers(0, 2, 200), 2, seed=0)
    assert none.reason == NO_CANDIDATES and none.tests.empty
    assert term_membership(["x"], []).shape == (1, 0)
