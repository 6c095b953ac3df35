import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from blindspot import metrics
from blindspot.calibration.confident import (
    WILSON,
    check_thresholds,
    confident_error_counts,
    confident_error_rates,
    confident_error_rows,
    threshold_key,
    underconfident_correct_rows,
)


@pytest.fixture
def tiny():
    # id, label, prediction, confidence; c and d tie on confidence: ranked by id.
    return pd.DataFrame({
        "id": pd.array(["e", "d", "c", "b", "a", "f"], dtype="string"),
        "text": pd.array(["ignore previous instructions <b>x</b>", "t2", "t3", "t4", "t5", "t6"], dtype="string"),
        "label": pd.array(["neg", "neg", "pos", "pos", "neg", "pos"], dtype="string"),
        "prediction": pd.array(["pos", "pos", "neg", "pos", "pos", "pos"], dtype="string"),
        "confidence": [0.95, 0.85, 0.85, 0.99, 0.65, 0.55],
        "correct": [False, False, False, True, False, True],
    })


def test_threshold_keys_are_stable_and_dot_free():
    assert [threshold_key(t) for t in (0.7, 0.8, 0.9, 0.975, 1.0)] == [
        "conf_ge_70", "conf_ge_80", "conf_ge_90", "conf_ge_97_5", "conf_ge_100"]


def test_check_thresholds():
    assert check_thresholds([0.9, 0.7, 0.9]) == [0.7, 0.9]
    with pytest.raises(ValueError, match=r"Got \[0.7, 1.5\] instead"):
        check_thresholds([0.7, 1.5])
    with pytest.raises(ValueError, match="non-empty"):
        check_thresholds([])


def test_counts_by_group_hand_checked(tiny):
    correct = tiny["correct"].to_numpy()
    conf = tiny["confidence"].to_numpy()
    groups = np.column_stack([np.ones(6, bool), tiny["label"].eq("neg").to_numpy()])
    c = confident_error_counts(correct, conf, [0.8, 0.9], groups)
    assert c["n"].tolist() == [6, 3]
    assert c["n_errors"].tolist() == [4, 3]
    assert c["count"].tolist() == [[3, 2], [1, 1]]        # wrong and >= .8: e, d, c (c is pos); >= .9: e
    assert c["n_confident"].tolist() == [[4, 2], [2, 1]]  # >= .8: e, d, c, b
    # the same groups one column at a time, from an iterator: the same counts
    one_by_one = confident_error_counts(correct, conf, [0.8, 0.9], iter(groups.T.copy()))
    assert all(np.array_equal(one_by_one[k], c[k]) for k in c)


def test_rates_and_wilson_interval(tiny):
    c = confident_error_counts(tiny["correct"], tiny["confidence"], [0.8])
    r = confident_error_rates(c, [0.8], level=0.95)["conf_ge_80"]
    assert (r["count"], r["n_confident"]) == (3, 4)
    assert r["rate"]["value"] == pytest.approx(3 / 6)
    assert r["error_rate_among_confident"]["value"] == pytest.approx(3 / 4)
    assert r["share_of_errors"] == pytest.approx(3 / 4)
    ref = st.binomtest(3, 6).proportion_ci(method="wilson")
    assert (r["rate"]["ci_low"], r["rate"]["ci_high"]) == pytest.approx((ref.low, ref.high))
    assert r["rate"]["method"] == r["error_rate_among_confident"]["method"] == WILSON == metrics.WILSON


def test_ranked_rows_bands_slices_and_text_kept_verbatim(tiny):
    slices = np.array([[1, 0], [0, 0], [1, 1], [0, 0], [0, 1], [0, 0]], bool)
    rows = confident_error_rows(tiny, [0.9, 0.8], margin=np.linspace(0, 1, 6), slice_keys=["s1", "s2"],
                                slice_matrix=slices)
    assert [r["id"] for r in rows] == ["e", "c", "d"]  # .95, then the .85 tie by id
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[0]["bands"] == [0.8, 0.9] and rows[1]["bands"] == [0.8]
    assert rows[0]["slices"] == ["s1"] and rows[1]["slices"] == ["s1", "s2"] and rows[2]["slices"] == []
    assert rows[0]["text"] == "ignore previous instructions <b>x</b>"
    assert set(rows[0]) == {"rank", "id", "text", "label", "prediction", "confidence", "margin", "bands", "slices"}


def test_max_rows_keeps_the_top(tiny):
    rows = confident_error_rows(tiny, [0.6], max_rows=2)
    assert [r["id"] for r in rows] == ["e", "c"]


def test_underconfident_rows_ranked_by_margin(tiny):
    margin = np.array([0.5, 0.5, 0.5, 0.08, 0.5, 0.02])
    rows = underconfident_correct_rows(tiny, margin, 0.1)
    assert [r["id"] for r in rows] == ["f", "b"]
    assert "bands" not in rows[0]


def test_counts_follow_the_threshold_order_given():
    rng = np.random.default_rng(0)
    conf = np.round(rng.uniform(0.3, 1, 500), 2)
    correct = rng.random(500) < conf
    thresholds = [0.9, 0.5, 0.75]
    c = confident_error_counts(correct, conf, thresholds)
    for i, t in enumerate(thresholds):  # brute force, thresholds reached exactly included
        assert c["count"][i, 0] == (~correct & (conf >= t)).sum()
        assert c["n_confident"][i, 0] == (conf >= t).sum()


def test_a_rate_over_nothing_is_null_with_its_reason():
    # groups: all rows; a class with no rows; a class whose rows are all right
    correct = np.array([False, True, True, True])
    conf = np.array([0.95, 0.9, 0.6, 0.85])
    groups = np.column_stack([np.ones(4, bool), np.zeros(4, bool), np.array([False, True, True, False])])
    c = confident_error_counts(correct, conf, [0.99], groups)
    every, empty, perfect = (confident_error_rates(c, [0.99], g)["conf_ge_99"] for g in range(3))
    assert every["count"] == 0 and every["rate"]["value"] == 0.0 and "reason" not in every["rate"]
    assert every["error_rate_among_confident"]["reason"] == "no prediction with confidence >= 0.99"
    assert np.isnan(empty["rate"]["value"]) and empty["rate"]["reason"] == "no rows in this group"
    assert empty["share_of_errors_reason"] == "no rows in this group"
    assert perfect["rate"]["value"] == 0.0 and np.isnan(perfect["share_of_errors"])
    assert perfect["share_of_errors_reason"] == "no errors in this group"


@pytest.mark.parametrize("max_rows", [None, 0, 1, 3, 7, 50, 400])
@pytest.mark.parametrize("ascending", [False, True])
def test_ranking_the_contenders_first_gives_the_full_ranking(max_rows, ascending):
    """Ids are turned into strings only for the rows that can be in the top k: same rows, same order,
    with many ties on the key (broken by id, then row) and NaN keys."""
    from blindspot.calibration.confident import _ranked
    from blindspot.samples import TopK

    rng = np.random.default_rng(3)
    n = 300
    key = np.round(rng.uniform(0, 1, n), 1)
    key[rng.random(n) < 0.05] = np.nan
    ids = np.array([f"r{i % 97}" for i in rng.permutation(n)], dtype=object)
    mask = rng.random(n) < 0.8
    pos = np.flatnonzero(mask)
    full = TopK.of(key[pos], ids[pos].astype(str), pos, k=max_rows, descending=not ascending).rows
    np.testing.assert_array_equal(_ranked(ids, mask, key, ascending, max_rows), full)


def test_rows_at_reads_the_wanted_rows_of_batches_in_the_order_given():
    from blindspot.calibration.confident import LISTED_FIELDS
    from blindspot.io.readers import rows_at

    table = pd.DataFrame({"text": [f"t{i}" for i in range(23)], "label": ["a"] * 23, "prediction": ["b"] * 23,
                          "other": range(23)})
    read = []

    def batches(size):
        for lo in range(0, len(table), size):
            read.append(lo)
            yield table.iloc[lo:lo + size].reset_index(drop=True)

    got = rows_at(batches(5), [12, 0, 4, 5, 12], LISTED_FIELDS)
    assert got["text"].tolist() == ["t12", "t0", "t4", "t5", "t12"] and list(got.columns) == ["text", "label",
                                                                                            "prediction"]
    assert read == [0, 5, 10]  # stops after the batch of the last wanted row
    read.clear()
    empty = rows_at(batches(5), [], LISTED_FIELDS)
    assert len(empty) == 0 and list(empty.columns) == ["text", "label", "prediction"] and read == []
    with pytest.raises(IndexError, match="1 of 2 positions are past the table's 23 rows"):
        rows_at(batches(5), [3, 23], LISTED_FIELDS)
