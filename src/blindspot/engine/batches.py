"""One function over the validated table's batches of rows, in this process or on Dask workers.

The stages after ingest keep per-row work that reads text (the text detectors, the repeated-text
digests) in functions of one batch of rows: ``fn(frame) -> result``, where ``frame`` holds some
columns of consecutive rows and ``result`` is small per-row data (bool and int columns) or a
mergeable summary (a count table, a shortlist of rows). :func:`map_reduce_buckets` adds a reduce
per bucket of keys, for groups that span batches (the repeated texts), and :func:`shuffle_buckets` the
same over several tables (the two versions a comparison pairs by id). :func:`resident_parts` keeps each
batch's state where it was made, for fits that pass over every row many times (the prior shift's EM).
:func:`map_batches` applies such a function to the whole table and returns the results in row order, so
the stage reduces them the same way whichever engine ran them:

- ``engine: local`` reads ``batch_rows`` rows at a time here (:func:`~blindspot.io.readers.predictions_batches`);
  the texts of one batch are in memory at a time.
- ``engine: dask`` sends one task per Parquet row group of the file (ingest writes row groups of a
  bounded size) to the cluster; a worker reads its row group itself and returns ``fn``'s result.
  Workers must see the file at the same path: true of a LocalCluster, and of a cluster whose
  workers share the workspace's file system.

Results must not depend on where the batches start and end (a per-row function, or a table whose
merge is exact); the tests of each caller check this with batches of a few rows.
"""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Callable, Iterator, Sequence

from blindspot.io.readers import PREDICTION_BATCH_ROWS, predictions_batches

# Row groups in flight per worker thread: enough to keep workers busy, few enough that the
# finished results waiting for their turn stay small on the driver.
_IN_FLIGHT_PER_THREAD = 2


def _column_then(frame, *, fn: Callable, name: str):
    return fn(frame[name])


def on_column(fn: Callable, name: str = "text") -> Callable:
    """``fn`` of one column of a batch, as :func:`map_batches` calls it with the batch's frame.

    ``fn`` takes a Series (the detectors take the texts); the result pickles by reference when
    ``fn`` is a module-level function or a ``functools.partial`` of one.
    """
    return partial(_column_then, fn=fn, name=name)


def _row_group(path: str, index: int, columns: Sequence[str], prefixes: Sequence[str], fn: Callable, *args):
    """``fn(frame, *args)`` of row group ``index`` of ``path`` (runs on a worker), dtypes as read_predictions gives."""
    import pyarrow.parquet as pq

    from blindspot.io.readers import _wanted

    with pq.ParquetFile(path) as source:
        frame = source.read_row_group(index, columns=_wanted(path, columns, prefixes)).to_pandas()
    return fn(frame, *args)


def _row_groups(path: Path) -> tuple[list, list]:
    """The row groups holding rows, and their sizes: one task each. A row group of no row (what a
    table of no row is written as) gets none, as the local reader gives no batch for it."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as source:
        sizes = [source.metadata.row_group(i).num_rows for i in range(source.metadata.num_row_groups)]
    return [i for i, n in enumerate(sizes) if n], [n for n in sizes if n]


def _on_dask(path: Path, columns, prefixes, fn: Callable, cfg, progress) -> list:
    from blindspot.engine.cluster import dask_client

    ids, groups = _row_groups(path)
    results, done = [None] * len(groups), 0
    # Task keys name the function and this call: two calls in one session must not share keys.
    tag = f"batch-{getattr(fn, '__name__', 'fn')}-{uuid.uuid4().hex[:8]}"
    with dask_client(cfg) as client:
        from distributed import wait

        threads = max(1, sum(client.nthreads().values()))
        pending, submitted = {}, 0
        # Submitted in order and bounded in number; each result is taken as soon as it is ready.
        while submitted < len(groups) or pending:
            while submitted < len(groups) and len(pending) < threads * _IN_FLIGHT_PER_THREAD:
                future = client.submit(_row_group, str(path), ids[submitted], list(columns), list(prefixes), fn,
                                       key=f"{tag}-{submitted}", pure=False)
                pending[future] = submitted
                submitted += 1
            finished = wait(list(pending), return_when="FIRST_COMPLETED").done
            for future in finished:
                k = pending.pop(future)
                results[k] = future.result()
                future.release()
                done += groups[k]
                if progress is not None:
                    progress.update(done)
    return results


def map_batches(path: str | Path, columns: Sequence[str], fn: Callable, *, prefixes: Sequence[str] = (),
                engine: str = "local", dask=None, batch_rows: int = PREDICTION_BATCH_ROWS,
                progress=None) -> list:
    """``fn`` of every batch of rows of the validated table, in row order.

    Parameters
    ----------
    path : str or Path
        The validated table (``data/interim/predictions.parquet``).
    columns : sequence of str
        Columns ``fn`` reads (and those starting with one of ``prefixes``).
    fn : callable
        ``fn(frame) -> result``: a module-level function (Dask pickles it by name).
    engine : {"local", "dask"}
    dask : DaskConfig, optional
        The cluster, with ``engine="dask"``.
    batch_rows : int
        Rows per batch with ``engine="local"`` (Dask's batches are the file's row groups).
    progress : Progress, optional
        Updated with the rows done after each batch.

    Returns
    -------
    list
        One result per batch, the first rows' first; empty for a table with no row.
    """
    if engine == "dask":
        return _on_dask(Path(path), columns, prefixes, fn, dask, progress)
    results, done = [], 0
    for frame in predictions_batches(path, columns, prefixes, batch_rows=batch_rows):
        results.append(fn(frame))
        done += len(frame)
        if progress is not None:
            progress.update(done)
    return results


# --------------------------------------------------------------------------- a group-by across batches


def _part(result, index: int):
    """Item ``index`` of a task's result (runs on the worker holding it: only that item moves)."""
    return result[index]


def _bucket(result, index: int):
    """Bucket ``index`` of a :func:`map_reduce_buckets` map result."""
    return result[1][index]


@dataclass(frozen=True)
class Source:
    """One table of a shuffle (:func:`shuffle_buckets`): its file, the columns read, and its map.

    ``fn(frame) -> (small, buckets)``: ``small`` is the batch's own result (a count table, a row
    count, or None), ``buckets`` a sequence of ``n_buckets`` parts, where a key (a text's digest, a
    review's id) always goes to the same bucket whatever its batch or table. ``fn`` is
    module-level (Dask pickles it by name).
    """

    path: str | Path
    columns: Sequence[str]
    fn: Callable
    prefixes: Sequence[str] = ()


def _one_source(parts, *, fn: Callable):
    return fn(parts[0])


def map_reduce_buckets(path: str | Path, columns: Sequence[str], fn: Callable, reduce_fn: Callable, n_buckets: int,
                       *, prefixes: Sequence[str] = (), engine: str = "local", dask=None,
                       batch_rows: int = PREDICTION_BATCH_ROWS, progress=None) -> tuple[list, list]:
    """A map over the batches, then a reduce per bucket of keys: a group-by whose groups span batches.

    :func:`shuffle_buckets` of one table: ``reduce_fn(parts)`` takes one bucket's parts of
    every batch, in row order.

    Returns
    -------
    smalls : list
        ``small`` of every batch, in row order.
    reduced : list, length n_buckets
        ``reduce_fn`` of each bucket.
    """
    smalls, reduced = shuffle_buckets([Source(path, columns, fn, prefixes)], partial(_one_source, fn=reduce_fn),
                                      n_buckets, engine=engine, dask=dask, batch_rows=batch_rows, progress=progress)
    return smalls[0], reduced


def shuffle_buckets(sources: Sequence[Source], reduce_fn: Callable, n_buckets: int, *, engine: str = "local",
                    dask=None, batch_rows: int = PREDICTION_BATCH_ROWS, progress=None) -> tuple[list, list]:
    """Maps over the batches of one or more tables, then a reduce per bucket of keys: a join or group-by
    whose groups span batches (and tables).

    ``reduce_fn(parts)`` takes one bucket's parts, ``parts[s]`` the list of table ``s``'s parts
    of every batch in row order, and returns that bucket's result (additive counts). So every
    group is reduced whole in one call, and no call holds more than one bucket.

    - ``engine: local``: the batches are read here, then the buckets reduced one after the
      other, each bucket's parts let go once reduced.
    - ``engine: dask``: one task per row group of each table; the map results stay on the
      workers. Each bucket's reduce is a task that receives only that bucket's part of every
      map result (a shuffle: each part moves once, worker to worker), so neither the driver
      nor any single process holds the groups of the whole table; only the small results and
      the buckets' results come back.

    Parameters
    ----------
    sources : sequence of Source
    reduce_fn : callable
        Module-level; called with empty lists for tables of no row.
    n_buckets : int
    engine, dask, batch_rows, progress
        As :func:`map_batches` (``progress`` counts the mapped rows of every table).

    Returns
    -------
    smalls : list of list
        ``smalls[s]``: ``small`` of every batch of table ``s``, in row order.
    reduced : list, length n_buckets
        ``reduce_fn`` of each bucket.
    """
    if engine == "dask":
        return _shuffle_on_dask(sources, reduce_fn, n_buckets, dask, progress)
    mapped, done = [], 0
    for source in sources:
        results = []
        for frame in predictions_batches(source.path, source.columns, source.prefixes, batch_rows=batch_rows):
            small, buckets = source.fn(frame)
            results.append((small, list(buckets)))
            done += len(frame)
            if progress is not None:
                progress.update(done)
        mapped.append(results)
    reduced = []
    for b in range(n_buckets):
        parts = []
        for results in mapped:
            parts.append([buckets[b] for _, buckets in results])
            for _, buckets in results:
                buckets[b] = None  # let go once reduced
        reduced.append(reduce_fn(parts))
    return [[small for small, _ in results] for results in mapped], reduced


def _shuffle_on_dask(sources: Sequence[Source], reduce_fn: Callable, n_buckets: int, cfg,
                     progress) -> tuple[list, list]:
    from blindspot.engine.cluster import dask_client

    tag = f"shuffle-{getattr(reduce_fn, '__name__', 'fn')}-{uuid.uuid4().hex[:8]}"
    with dask_client(cfg) as client:
        from distributed import as_completed

        held: list = []  # every future made here: released at the end, also when a task failed
        try:
            mapped, rows = [], {}
            for s, source in enumerate(sources):
                ids, groups = _row_groups(Path(source.path))
                futures = [client.submit(_row_group, str(source.path), group, list(source.columns),
                                         list(source.prefixes), source.fn, key=f"{tag}-map-{s}-{i}", pure=False)
                           for i, group in enumerate(ids)]
                held += futures
                rows.update({future.key: n for future, n in zip(futures, groups)})
                mapped.append(futures)
            done = 0
            for future in as_completed(list(held)):
                if future.status == "error":
                    future.result()  # raises the worker's error here, with its message (a result stays on its worker)
                done += rows[future.key]
                if progress is not None:
                    progress.update(done)
            smalls = [client.gather([client.submit(_part, m, 0, key=f"{tag}-small-{s}-{i}", pure=False)
                                     for i, m in enumerate(futures)]) for s, futures in enumerate(mapped)]
            parts = [[[client.submit(_bucket, m, b, key=f"{tag}-part-{b}-{s}-{i}", pure=False)
                       for i, m in enumerate(futures)] for s, futures in enumerate(mapped)] for b in range(n_buckets)]
            held += [p for bucket in parts for table in bucket for p in table]
            reduces = [client.submit(reduce_fn, parts[b], key=f"{tag}-reduce-{b}", pure=False)
                       for b in range(n_buckets)]
            held += reduces
            reduced = client.gather(reduces)
        finally:
            for future in held:
                future.release()
    return smalls, reduced


# --------------------------------------------------------------------------- states kept for repeated passes


class LocalParts:
    """Per-batch states held in this process, mapped again and again (an iterative fit's passes).

    An iterative fit over every row (the EM of a class prior) needs a pass per step. The batches'
    states (each batch's rows in the form the fit reads) are made once and kept where they were
    made: here for ``engine: local``, on the workers for ``engine: dask``
    (:class:`DaskParts`); each step sends the same small function and arguments to every state
    and gets back one small result per batch, in row order, which the caller merges exactly
    (fixed-point or integer sums), so either engine gives the same numbers.

    Parameters
    ----------
    states : list
        One state per batch, in row order.
    threads : int
        Threads the maps run in (for functions that release the GIL: Arrow's and numpy's kernels);
        1 runs them one after the other here. The results are in row order either way.
    """

    def __init__(self, states: list, threads: int = 1):
        self.states = list(states)
        self.threads = max(1, int(threads))

    def __len__(self) -> int:
        return len(self.states)

    def _apply(self, fn: Callable, args: tuple) -> list:
        if self.threads == 1 or len(self.states) < 2:
            return [fn(state, *args) for state in self.states]
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            return list(pool.map(lambda state: fn(state, *args), self.states))

    def map(self, fn: Callable, *args) -> list:
        """``[fn(state, *args) for state in states]``, in row order."""
        return self._apply(fn, args)

    def derive(self, fn: Callable, *args) -> "LocalParts":
        """New kept states ``fn(state, *args)``, one per batch, kept where each batch's state is.

        For a second form of the same rows that later maps read again and again (sorted keys);
        :meth:`release` lets them go.
        """
        return LocalParts(self._apply(fn, args), self.threads)

    def shuffle(self, fn: Callable, reduce_fn: Callable, n_buckets: int, *args) -> list:
        """A group-by over the kept states: ``fn(state, *args)`` cuts a batch into ``n_buckets`` parts,
        ``reduce_fn(parts)`` reduces one bucket's parts of every batch (in row order).

        Returns
        -------
        list, length n_buckets
            ``reduce_fn`` of each bucket.
        """
        mapped = [list(part) for part in self._apply(fn, args)]
        reduced = []
        for b in range(n_buckets):
            parts = [m[b] for m in mapped]
            for m in mapped:
                m[b] = None  # let go once reduced
            reduced.append(reduce_fn(parts))
        return reduced

    def shared(self, value):
        """``value`` as the maps' functions read it (:meth:`DaskParts.shared` sends it to the workers once)."""
        return value

    def release(self) -> None:
        """Let the kept states go."""
        self.states = []


class DaskParts(LocalParts):
    """:class:`LocalParts` whose states stay on the Dask workers that made them (futures).

    Each :meth:`map` sends one small task per state to the worker holding it; only the tasks'
    results come back. The states live as long as the ``dask_client`` block they were made in.
    """

    def __init__(self, client, futures: list):
        super().__init__(futures)
        self.client = client

    def shared(self, value):
        """``value`` sent to the workers once, as a future every task of a later map resolves: for an
        argument too large to travel with each of hundreds of tasks (a fitted map's knots)."""
        return self.client.scatter([value], broadcast=True, hash=False)[0]

    def map(self, fn: Callable, *args) -> list:
        futures = [self.client.submit(fn, state, *args, pure=False) for state in self.states]
        try:
            return self.client.gather(futures)
        finally:
            for future in futures:
                future.release()

    def derive(self, fn: Callable, *args) -> "DaskParts":
        futures = [self.client.submit(fn, state, *args, pure=False) for state in self.states]
        try:
            _raise_failed(futures)
        except BaseException:
            for future in futures:
                future.release()
            raise
        return DaskParts(self.client, futures)

    def shuffle(self, fn: Callable, reduce_fn: Callable, n_buckets: int, *args) -> list:
        # Each bucket's reduce is a task fed that bucket's part of every map result: the parts move
        # worker to worker, and only the reduced buckets come back (as shuffle_buckets on files).
        held = [self.client.submit(fn, state, *args, pure=False) for state in self.states]
        try:
            mapped = list(held)
            parts = [[self.client.submit(_part, m, b, pure=False) for m in mapped] for b in range(n_buckets)]
            held += [p for bucket in parts for p in bucket]
            reduces = [self.client.submit(reduce_fn, parts[b], pure=False) for b in range(n_buckets)]
            held += reduces
            return self.client.gather(reduces)
        finally:
            for future in held:
                future.release()

    def release(self) -> None:
        for future in self.states:
            future.release()
        self.states = []


def _raise_failed(futures: list) -> None:
    """Wait for ``futures``; a task's error is raised here, with its message."""
    from distributed import wait

    wait(futures)
    for future in futures:
        if future.status == "error":
            future.result()


def _with_start(frame, *args, fn: Callable, start: int):
    """``fn(frame, start, *args)``: ``start`` the position of the batch's first row in the table."""
    return fn(frame, start, *args)


@contextlib.contextmanager
def resident_parts(path: str | Path, columns: Sequence[str], fn: Callable, *, prefixes: Sequence[str] = (),
                   engine: str = "local", dask=None, batch_rows: int = PREDICTION_BATCH_ROWS,
                   with_start: bool = False, shared: Sequence = ()) -> Iterator[LocalParts]:
    """The states ``fn(frame)`` of every batch of the validated table, kept for repeated maps.

    ``engine: local``: :class:`LocalParts` of the batches read here (``batch_rows`` rows each);
    ``engine: dask``: :class:`DaskParts`, one state per row group, made and kept on the workers
    until the block ends. Callers must merge the maps' results exactly (the batches differ
    between the engines). With ``with_start``, ``fn(frame, start)`` is also given the position of
    the batch's first row in the table (for states that carry global row positions). ``shared``
    values are given to every call after those (``fn(frame[, start], *shared)``); with Dask they
    are sent to the workers once, not with each of the tasks (a fitted model of some megabytes
    would otherwise be held once per task by the scheduler, in this process).
    """
    if engine != "dask":
        states, start = [], 0
        for frame in predictions_batches(path, columns, prefixes, batch_rows=batch_rows):
            states.append(_with_start(frame, *shared, fn=fn, start=start) if with_start else fn(frame, *shared))
            start += len(frame)
        yield LocalParts(states)
        return
    from blindspot.engine.cluster import dask_client

    ids, sizes = _row_groups(Path(path))
    starts = [0, *accumulate(sizes)][:len(sizes)]
    tag = f"parts-{getattr(fn, '__name__', 'fn')}-{uuid.uuid4().hex[:8]}"
    with dask_client(dask) as client:
        sent = client.scatter(list(shared), broadcast=True, hash=False) if shared else []
        futures = [client.submit(_row_group, str(path), group, list(columns), list(prefixes),
                                 partial(_with_start, fn=fn, start=starts[i]) if with_start else fn, *sent,
                                 key=f"{tag}-{i}", pure=False) for i, group in enumerate(ids)]
        try:
            _raise_failed(futures)
            yield DaskParts(client, futures)
        finally:
            for future in futures:
                future.release()
