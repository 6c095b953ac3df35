"""The metadata predicates read from the file's batches, here and on Dask: those of the whole columns."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_columns import OPTIONS, _columns

from blindspot.io.readers import read_predictions
from blindspot.slices import features as sf
from blindspot.slices.columns import ColumnRule, metadata_rules
from blindspot.slices.metafile import FileMetadata, nullable_booleans

N = 500


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A validated table of every metadata shape, in row groups of 64 (the first ones with no missing flag)."""
    frame = {f"meta__{k}": v for k, v in _columns(N, np.random.default_rng(3)).items()}
    frame["meta__flag"][:200] = frame["meta__flag"][:200].fillna(True)
    path = tmp_path_factory.mktemp("metafile") / "predictions.parquet"
    import pandas as pd

    data = pd.DataFrame({"id": [f"i{i}" for i in range(N)], **frame})
    pq.write_table(pa.Table.from_pandas(data, preserve_index=False), path, row_group_size=64)
    return path


def _expected(path):
    whole = read_predictions(path, ["id"], ["meta__"])
    preds, masks, _, columns = sf.metadata_predicates(whole, **OPTIONS)
    return preds, np.column_stack(masks), columns, whole


def _read(source):
    rules = metadata_rules(source.summaries(OPTIONS["n_quantiles"]), all_names=source.names, **OPTIONS)
    return rules, source.bits(rules)


def test_the_flag_with_a_missing_value_is_cast_in_every_batch(table):
    assert nullable_booleans(table) == ("meta__flag",)


@pytest.mark.parametrize("batch_rows", [50, 64, 1000])
def test_local_batches_give_the_whole_columns_predicates(table, batch_rows):
    preds, matrix, columns, whole = _expected(table)
    rules, bits = _read(FileMetadata(table, batch_rows=batch_rows))
    assert rules.predicates == preds and rules.columns == columns
    assert np.array_equal(bits.dense(), matrix)
    # a rare value of a tested column, read again by its rule
    source = FileMetadata(table, batch_rows=batch_rows)
    rare = source.rows_of(ColumnRule("condition", "categorical", own=("x y z",)))
    assert np.array_equal(rare[0], (whole["meta__condition"] == "x y z").fillna(False).to_numpy())


def test_dask_row_groups_give_the_whole_columns_predicates(table):
    pytest.importorskip("distributed")
    from blindspot.config import DaskConfig

    preds, matrix, columns, _ = _expected(table)
    rules, bits = _read(FileMetadata(table, engine="dask", dask=DaskConfig(n_workers=2, threads_per_worker=1,
                                                                           memory_limit="1GB")))
    assert rules.predicates == preds and rules.columns == columns
    assert np.array_equal(bits.dense(), matrix)
