"""The slice audit over kept batches: a file's row groups, here and on Dask, give the audit of the table in memory."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_columns import _columns
from test_text_slices import CLASSES, SETTINGS, _same, planted_family

from blindspot.slices import audit_slices
from blindspot.slices.metafile import nullable_booleans
from blindspot.slices.textpass import FileTexts, FrameTexts

# A frequent value conjoined with a detector, a rare value (an extra rule of its own), a flag and a number.
WATCH = ["negated_term__and__condition__x_y_z", "condition__rare_thing__and__jargon_high", "condition__rare_thing",
         "flag__true", "stars__2"]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """2,000 planted reviews with a metadata column of every shape, as a file of 256-row row groups whose
    first groups hold no missing flag (a batch reads it as bool, the whole column as object)."""
    frame, _ = planted_family(2000, seed=5)
    meta = _columns(len(frame), np.random.default_rng(9))
    meta["flag"][:600] = meta["flag"][:600].fillna(True)
    meta["condition"][::97] = "Rare Thing"  # 21 rows: under min_support, pooled, yet watched
    for name, values in meta.items():
        frame[f"meta__{name}"] = values.to_numpy()
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("meta__") and c[6:] not in meta])
    path = tmp_path_factory.mktemp("batch") / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=256)
    whole = pd.read_parquet(path)  # the columns as the whole file reads them
    return path, whole, audit_slices(whole, CLASSES, watchlist=WATCH, **SETTINGS)


def test_the_flag_with_a_missing_value_is_read_as_objects_in_every_batch(table):
    path, whole, audit = table
    assert nullable_booleans(path) == ("meta__flag",)
    assert audit.metrics["columns_tested"]["flag"]["n_values"] == 2  # "True" and "False", as the whole column
    assert {"review_id", "empty"} <= set(audit.metrics["columns_skipped"])
    watch = audit.metrics["watchlist"]
    assert set(watch) == set(WATCH) and all(w["n"] > 0 for w in watch.values())
    assert watch["condition__rare_thing"]["n"] == 21
    assert audit.membership["watch__condition__rare_thing"].sum() == 21


def test_batches_in_memory_give_the_same_audit(table):
    path, whole, audit = table
    small = audit_slices(whole, CLASSES, texts=FrameTexts(whole, whole["text"], batch_rows=123), watchlist=WATCH,
                         **SETTINGS)
    assert _same(small, audit)


def test_row_groups_read_here_and_on_dask_give_the_same_audit(table):
    path, whole, audit = table
    bare = whole[["id"]]
    local = audit_slices(bare, CLASSES, texts=FileTexts(path, len(whole)), watchlist=WATCH, **SETTINGS)
    assert _same(local, audit)
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig

    remote = audit_slices(bare, CLASSES, texts=FileTexts(path, len(whole), engine="dask",
                                                          dask=DaskConfig(n_workers=2, memory_limit="1GB")),
                          watchlist=WATCH, **SETTINGS)
    assert _same(remote, audit)


def test_a_table_with_no_metadata_column_reads_none(tmp_path):
    frame, _ = planted_family(400, seed=6)
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("meta__")])
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=150)
    audit = audit_slices(frame, CLASSES, **SETTINGS)
    assert _same(audit_slices(frame[["id"]], CLASSES, texts=FileTexts(path, len(frame)), **SETTINGS), audit)
    assert audit.metrics["columns_tested"] == {} and audit.metrics["columns_skipped"] == {}


def test_an_excluded_column_is_recorded_the_same_from_the_file(table):
    path, whole, _ = table
    options = dict(SETTINGS, watchlist=["stars__2"], metadata_exclude=["review_id", "stars"])
    audit = audit_slices(whole, CLASSES, **options)
    assert _same(audit_slices(whole[["id"]], CLASSES, texts=FileTexts(path, len(whole)), **options), audit)
    assert audit.metrics["columns_skipped"]["stars"]["reason"] == "excluded"
    assert audit.metrics["watchlist"]["stars__2"]["reason"] == "not_present"
