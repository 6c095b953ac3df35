import json
import math

import numpy as np
import pandas as pd

from blindspot.io.writers import clean_for_json, dumps_metrics, write_jsonl


def test_metrics_are_stable_sorted_and_rounded():
    a = dumps_metrics({"b": np.float64(1 / 3), "a": {"z": np.int64(2), "y": float("nan")}, "c": -0.0000001})
    b = dumps_metrics({"c": -1e-7, "a": {"y": None, "z": 2}, "b": 0.333333333})
    assert a == b
    doc = json.loads(a)
    assert list(doc) == ["schema_version", "a", "b", "c"]
    assert doc["b"] == 0.333333 and doc["a"]["y"] is None and doc["c"] == 0.0
    assert "-0.0" not in a


def test_clean_for_json_types():
    out = clean_for_json({"x": np.array([1, 2]), "t": (np.bool_(True),), "p": pd.NA, "i": math.inf})
    assert out == {"i": None, "p": None, "t": [True], "x": [1, 2]}


def test_jsonl_keeps_exact_floats_when_asked(tmp_path):
    path = tmp_path / "r.jsonl"
    assert write_jsonl(path, [{"v": 0.123456789}], digits=None) == 1
    assert json.loads(path.read_text())["v"] == 0.123456789


def test_p_and_q_values_keep_significant_digits():
    doc = json.loads(dumps_metrics({"p_value": 2.123456789e-52, "ece_q_value": 3.3e-9, "gap": 2e-9,
                                    "tests": [{"q_value": 0.0123456789, "rate": 0.0123456789}]}))
    assert doc["p_value"] == 2.12346e-52  # six decimal places would write 0.0
    assert doc["ece_q_value"] == 3.3e-9
    assert doc["gap"] == 0.0  # other floats keep six decimal places
    assert doc["tests"][0] == {"q_value": 0.0123457, "rate": 0.012346}


def test_parquet_written_a_row_group_at_a_time_is_the_frame_written_whole(tmp_path):
    """write_parquet_chunks gives write_parquet's bytes, across row groups (more rows than one holds) and for no row."""
    from blindspot.io.writers import FRAME_ROW_GROUP_ROWS, write_parquet, write_parquet_chunks

    for n in (FRAME_ROW_GROUP_ROWS * 2 + 1234, 10, 0):
        rows = np.arange(n)
        frame = pd.DataFrame({"id": pd.array(rows.astype(str), dtype="string"), "found__a": rows % 3 == 0,
                              "watch__b": rows % 7 < 2})
        whole = write_parquet(tmp_path / f"whole{n}.parquet", frame)
        chunks = ({name: frame[name].to_numpy()[lo:lo + FRAME_ROW_GROUP_ROWS] for name in frame.columns}
                  for lo in range(0, n, FRAME_ROW_GROUP_ROWS))
        parts = write_parquet_chunks(tmp_path / f"parts{n}.parquet", frame.iloc[:0], n, chunks)
        assert parts.read_bytes() == whole.read_bytes(), n
