"""map_batches: the same results in row order from this process's batches and from Dask's row groups."""

from __future__ import annotations

import operator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from blindspot.config import DaskConfig
from blindspot.engine.batches import map_batches
from blindspot.io.readers import read_predictions

N, GROUP = 1000, 128


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A validated-table stand-in in row groups of GROUP rows (8 groups, the last one short)."""
    frame = pd.DataFrame({"id": pd.array([f"r{i}" for i in range(N)], dtype="string[pyarrow]"),
                          "text": pd.array([("word " * (i % 9)).strip() for i in range(N)], dtype="string[pyarrow]"),
                          "y_true": (pd.RangeIndex(N) % 3).astype("int8"),
                          "proba__a": [i / N for i in range(N)]})
    path = tmp_path_factory.mktemp("batches") / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=GROUP)
    return path


def test_local_batches_cover_every_row_once_in_order(table):
    pieces = map_batches(table, ["id", "text"], operator.itemgetter("id"), batch_rows=100)
    # At most 100 rows a batch, and never across a row group of 128 (each is read alone).
    assert [len(p) for p in pieces] == [100, 28] * 7 + [100, 4]
    assert pd.concat(pieces, ignore_index=True).tolist() == read_predictions(table, ["id"])["id"].tolist()


def test_an_empty_table_gives_no_batch(tmp_path, table):
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(table).slice(0, 0), empty)
    assert map_batches(empty, ["id"], len) == []


def test_dask_row_groups_give_the_local_results(table):
    """Each row group is one task; the per-row results in order equal the local engine's."""
    pytest.importorskip("distributed")
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    local = map_batches(table, ["text"], operator.itemgetter("text"), batch_rows=GROUP)
    remote = map_batches(table, ["text"], operator.itemgetter("text"), engine="dask", dask=cfg)
    assert [len(r) for r in remote] == [GROUP] * 7 + [N - 7 * GROUP]
    pd.testing.assert_series_equal(pd.concat(remote, ignore_index=True), pd.concat(local, ignore_index=True))
    sums = map_batches(table, [], operator.methodcaller("sum"), prefixes=["proba__"], engine="dask", dask=cfg)
    assert sum(s["proba__a"] for s in sums) == pytest.approx(sum(i / N for i in range(N)))


def test_the_stages_text_functions_on_dask_row_groups_equal_the_whole_table(tmp_path):
    """The three per-batch text functions the stages send to workers (slice flags, profile measures,
    judge cues), on 8 row groups of generated reviews, equal the local whole-table results."""
    pytest.importorskip("distributed")
    from functools import partial

    import numpy as np

    from blindspot.engine.batches import on_column
    from blindspot.judge.pipeline import cue_flags, cue_flags_of, join_cue_flags
    from blindspot.profiling import join_text_rows, text_measures, text_rows
    from blindspot.slices.features import TEXT_DETECTORS, text_flag_table, text_flags
    from blindspot.synth.generator import generate

    texts = generate(1000, seed=3).frame["text"].astype("string[pyarrow]")
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.table({"text": pa.array(texts.tolist(), pa.large_string())}), path, row_group_size=GROUP)
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    options = dict(detectors=list(TEXT_DETECTORS), jargon_high_density=0.05, caps_high_share=0.3)

    def remote(fn):
        return map_batches(path, ["text"], on_column(fn), engine="dask", dask=cfg)

    flags = remote(partial(text_flags, **options))
    assert len(flags) == 8
    pd.testing.assert_frame_equal(pd.concat(flags, ignore_index=True), text_flag_table(texts, **options))
    got, want = join_text_rows(remote(text_measures)), text_rows([texts])
    for name in ("words", "chars", "exact", "normalised"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    for got, want in zip(join_cue_flags(remote(cue_flags_of)), cue_flags([texts])):
        np.testing.assert_array_equal(got, want)


def test_a_bucketed_reduce_gives_the_same_groups_on_dask_as_here_and_as_the_whole_table(tmp_path):
    """map_reduce_buckets with the profile's batch and bucket functions: the duplicate groups of texts
    repeated across row groups are counted whole (each bucket reduced by one task) on both engines, and
    equal the groups of the whole table in one batch."""
    pytest.importorskip("distributed")
    from functools import partial

    import numpy as np

    from blindspot.duplicates import DuplicateCounts
    from blindspot.engine.batches import map_reduce_buckets
    from blindspot.profiling import DIGEST_BUCKETS, PROFILE_COLUMNS, duplicate_bucket, profile_batch

    rng = np.random.default_rng(2)
    n = 1000
    texts = [f"review {v}" for v in rng.integers(0, 300, n)]  # every text about three times, across row groups
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "text": texts, "y_true": rng.integers(0, 3, n),
                          "y_pred": rng.integers(0, 3, n)})
    path = tmp_path / "predictions.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=GROUP)
    fn = partial(profile_batch, k=3, seed=5)
    runs = {"local": map_reduce_buckets(path, list(PROFILE_COLUMNS), fn, duplicate_bucket, DIGEST_BUCKETS,
                                        batch_rows=100),
            "dask": map_reduce_buckets(path, list(PROFILE_COLUMNS), fn, duplicate_bucket, DIGEST_BUCKETS,
                                       engine="dask", dask=DaskConfig(n_workers=2, threads_per_worker=1,
                                                                      memory_limit="1GB"))}
    whole = [duplicate_bucket([part]) for part in profile_batch(frame, k=3, seed=5)[1]]  # one batch of every row
    for name, (counts, buckets) in runs.items():
        assert len(buckets) == DIGEST_BUCKETS
        assert sum(c.n_rows for c in counts) == n, name
        for i in (0, 1):  # exact and normalised texts
            total = DuplicateCounts.total(b[i] for b in buckets)
            assert total == DuplicateCounts.total(w[i] for w in whole), name
            assert total.rows == n and total.groups == len(set(texts)) and total.duplicated_rows > 900, name


def test_an_empty_table_gives_no_batch_on_dask_either(tmp_path, table):
    """A table of no row is written as one row group of no row: no task, as no local batch."""
    pytest.importorskip("distributed")
    from blindspot.engine.batches import map_reduce_buckets

    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(table).slice(0, 0), empty)
    assert pq.ParquetFile(empty).metadata.num_row_groups == 1
    cfg = DaskConfig(n_workers=1, threads_per_worker=1, memory_limit="1GB")
    assert map_batches(empty, ["id"], len, engine="dask", dask=cfg) == []
    smalls, reduced = map_reduce_buckets(empty, ["id"], len, len, 2, engine="dask", dask=cfg)
    assert smalls == [] and reduced == [0, 0]


def _ids_and_values(frame, *, n_buckets: int):
    """A Source map: the batch's row count, and its (id, value) rows split by the id's last digit."""
    digit = frame["id"].str[-1].astype(int).to_numpy() % n_buckets
    return len(frame), [frame.loc[digit == b, ["id", "y_true"]].reset_index(drop=True) for b in range(n_buckets)]


def _joined_sum(parts):
    """A bucket's two tables joined on id: the sum of the products of their values (each pair met once)."""
    left, right = (pd.concat(p, ignore_index=True) for p in parts)
    joined = left.merge(right, on="id", suffixes=("_l", "_r"))
    return len(joined), int((joined["y_true_l"].astype(int) * joined["y_true_r"].astype(int)).sum())


def test_a_shuffle_of_two_tables_meets_every_id_in_one_bucket_on_both_engines(tmp_path, table):
    """shuffle_buckets joins two tables whose rows sit in other orders and row groups: each id's two rows
    meet in one bucket, on this process's batches and on Dask's row groups alike, as a join of the whole."""
    pytest.importorskip("distributed")
    from functools import partial

    from blindspot.engine.batches import Source, shuffle_buckets

    frame = read_predictions(table, ["id", "y_true"])
    other = frame.sample(frac=0.9, random_state=1).assign(y_true=lambda f: (f["y_true"] + 1).astype("int8"))
    second = tmp_path / "other.parquet"
    pq.write_table(pa.Table.from_pandas(other, preserve_index=False), second, row_group_size=77)
    fn = partial(_ids_and_values, n_buckets=4)
    sources = [Source(table, ["id", "y_true"], fn), Source(second, ["id", "y_true"], fn)]
    whole = frame.merge(other, on="id")
    expected = (len(whole), int((whole["y_true_x"].astype(int) * whole["y_true_y"].astype(int)).sum()))
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    for engine in ("local", "dask"):
        smalls, reduced = shuffle_buckets(sources, _joined_sum, 4, engine=engine, dask=cfg, batch_rows=100)
        assert [sum(s) for s in smalls] == [N, len(other)], engine
        assert (sum(r[0] for r in reduced), sum(r[1] for r in reduced)) == expected, engine


def _state(frame):
    return frame["y_true"].to_numpy().astype("int64")


def _weighted(state, weight: int):
    return int(state.sum()) * weight, state.size


def test_resident_parts_map_again_and_again_alike_on_both_engines(table):
    """States made once per batch (here) or per row group (kept on the workers) answer repeated maps with the
    same merged sums."""
    pytest.importorskip("distributed")
    from blindspot.engine.batches import DaskParts, LocalParts, resident_parts

    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    total = int(read_predictions(table, ["y_true"])["y_true"].astype(int).sum())
    for engine, kind, parts_n in (("local", LocalParts, 16), ("dask", DaskParts, 8)):
        with resident_parts(table, ["y_true"], _state, engine=engine, dask=cfg, batch_rows=100) as parts:
            assert type(parts) is kind and len(parts) == parts_n
            for weight in (1, 3):
                sums = parts.map(_weighted, weight)
                assert sum(s for s, _ in sums) == total * weight and sum(n for _, n in sums) == N


def _doubled(state, factor: int):
    return state * factor


def _by_class(state, n_buckets: int):
    return [state[state % n_buckets == b] for b in range(n_buckets)]


def _class_total(parts):
    return int(sum(int(p.sum()) for p in parts)), sum(p.size for p in parts)


def test_kept_states_derive_and_shuffle_alike_on_both_engines(table):
    """Derived states stay where their batch is and answer maps; a shuffle meets every batch's part of a bucket."""
    pytest.importorskip("distributed")
    from blindspot.engine.batches import resident_parts

    y = read_predictions(table, ["y_true"])["y_true"].astype(int).to_numpy()
    want = [(int(y[y == b].sum()), int((y == b).sum())) for b in range(3)]
    cfg = DaskConfig(n_workers=2, threads_per_worker=1, memory_limit="1GB")
    for engine in ("local", "dask"):
        with resident_parts(table, ["y_true"], _state, engine=engine, dask=cfg, batch_rows=100) as parts:
            doubled = parts.derive(_doubled, 2)
            try:
                assert sum(s for s, _ in doubled.map(_weighted, 1)) == int(y.sum()) * 2
                # A value shared once (scattered to the workers with Dask) reads as itself in every task.
                assert sum(s for s, _ in parts.map(_weighted, parts.shared(3))) == int(y.sum()) * 3
                assert parts.shuffle(_by_class, _class_total, 3, 3) == want
            finally:
                doubled.release()
            assert len(doubled) == 0 and sum(n for _, n in parts.map(_weighted, 1)) == N
