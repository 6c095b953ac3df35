"""The slice table a row group at a time: the same columns, values and bytes as the whole table."""

import pandas as pd

from blindspot import synth
from blindspot.io.writers import write_parquet, write_parquet_chunks
from blindspot.slices import audit_slices
from blindspot.slices.membership import Membership

from _slice_synth import generate

CLASSES = ["negative", "neutral", "positive"]
SETTINGS = dict(min_support=30, min_class_support=10, max_depth=2, text_detectors=["negated_term", "question"],
                jargon_high_density=0.05, caps_high_share=0.05, length_bands={"short": [0, 40], "long": [40, None]},
                max_levels=10, n_quantiles=4, fdr_alpha=0.05, ci_level=0.95)


def _audit():
    plant = synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.2, share=0.1)
    frame, _ = generate(1500, seed=5, planted=[plant])
    return frame, audit_slices(frame, CLASSES, watchlist=["jargon_high"], **SETTINGS)


def test_chunks_concatenate_to_the_whole_table_and_write_the_same_file(tmp_path):
    frame, audit = _audit()
    members = audit.members
    whole = audit.membership
    assert list(whole.columns) == ["id", *members.columns] and len(whole) == len(frame)
    assert "watch__jargon_high" in members.columns and "found__specialty__dermatology" in members.columns
    parts = [pd.DataFrame(chunk) for _, chunk in members.chunks(400)]
    assert [len(p) for p in parts] == [400, 400, 400, 300]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole.drop(columns="id"))
    chunks = ({"id": frame["id"].to_numpy()[rows], **columns} for rows, columns in members.chunks(len(frame)))
    written = write_parquet_chunks(tmp_path / "chunks.parquet", members.template(), members.n, chunks)
    assert written.read_bytes() == write_parquet(tmp_path / "whole.parquet", whole).read_bytes()


def test_a_table_without_ids_needs_them_from_the_file():
    members = Membership(3, {"found__x": lambda rows: [True, False, True][rows]})
    assert members.chunk(slice(0, 3))["found__x"].tolist() == [True, False, True]
    try:
        members.frame()
    except ValueError as e:
        assert "ids come from the file" in str(e)
    else:
        raise AssertionError("a table without ids was built")
