"""has_repeats: whether an id occurs twice, by a blocked sort, against a set."""

import pyarrow as pa
import pytest

from blindspot.io import schema


@pytest.mark.parametrize("block", [1, 2, 3, 1 << 20])
def test_repeats_are_found_across_chunks_and_blocks(monkeypatch, block):
    monkeypatch.setattr(schema, "REPEAT_BLOCK_ROWS", block)
    cases = [[], ["a"], ["a", "b"], ["a", "a"], ["b", "a", "c", "a"], ["x", "y", "z", "w", "v", "x"],
             ["é", "e", "É"], ["", "a", ""]]
    for ids in cases:
        want = len(set(ids)) < len(ids)
        assert schema.has_repeats(pa.array(ids, pa.large_string())) is want
        split = pa.chunked_array([pa.array(ids[:2], pa.string()), pa.array(ids[2:], pa.string())], pa.string())
        assert schema.has_repeats(split) is want
