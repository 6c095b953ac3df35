"""Stage compare: current predictions vs a baseline version's, paired on review id -> metrics/compare.json.

``metrics/compare.json`` always holds ``status`` and ``reason`` at the top level:
``no_baseline`` (``compare.baseline.path`` is null, the default for a user's own file),
``not_compared`` (a baseline that does not fit the current model, or too few paired rows:
``reason`` says which) or ``compared``. Only a baseline file that is missing or outside
the workspace stops the stage (a config error), and a baseline that cannot be written for the
Dask workers (the environment's fault); every other case exits 0.

``prior_shift`` (:mod:`blindspot.prior_shift`) is written in every case: whether the
gold-label shares moved between the baseline file and the current one, the label-free EM
estimate of the deployment class prior from the current probabilities (the baseline's
label shares stand for the training prior) and a cross-fitted prior-correction what-if, each row's fold
drawn from a seeded hash of its id (the same what-if for the rows in any order or partitioning).
The prior shift needs only the baseline's gold labels, not paired ids, so it is measured whenever the
baseline file is read, also when too few rows pair; otherwise it holds the reason.

With ``engine: dask`` the baseline file is validated on the workers (ingest's code); this process keeps
ingest's accounting (each clean id) and the compared columns until they are written for the workers;
from then on nothing is held per row here: both versions and the slice table are shuffled by id to buckets that
workers pair and count (:func:`paired_on_workers`), and the EM's passes run over row groups kept on the
workers (:func:`prior_shift_of`). ``engine: local`` counts the whole tables as one bucket
(:func:`paired_here`) through the same :func:`blindspot.compare.paired_counts`; both write the same file.
"""

import contextlib
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from blindspot import baseline as recorded, paths
from blindspot.compare import (NO_BASELINE, NOT_COMPARED, PairedCounts, check_config, compare_counts, id_array,
                               id_positions, pair_positions, paired_counts, read_baseline)
from blindspot.config import load_params
from blindspot.engine.batches import Source, resident_parts, shuffle_buckets
from blindspot.engine.cluster import engine_session
from blindspot.memory import release_freed_heap
from blindspot.io.readers import read_predictions
from blindspot.io.schema import PROBA_PREFIX, probability_matrix
from blindspot.prior_shift import (NO_BASELINE_REASON as NO_PRIOR_REASON, N_SPLITS, fold_hashes, label_counts,
                                   not_measured, prior_part, prior_shift_parts)
from blindspot.samples import row_hash
from blindspot.io.writers import write_metrics
from blindspot.progress import Progress
from blindspot.stages._runner import run

WATCH_PREFIX = "watch__"
# Columns of the canonical tables the comparison and the prior-shift check read (and proba__<class>).
COLUMNS = ("id", "y_true", "y_pred", "confidence")
NO_BASELINE_REASON = "no baseline: none configured and no previous audit recorded"


def watchlist_masks(frame, slices) -> dict:
    """Watchlist membership (``watch__<key>`` columns of the slice table) aligned with ``frame`` by id."""
    if slices is None:
        return {}
    # One lookup for all columns (Arrow's hash, no Python string per id); a prediction absent
    # from the slice table is in no slice.
    position = id_positions(id_array(frame["id"]), id_array(slices["id"]))
    found = position >= 0
    masks = {}
    for col in slices.columns:
        if str(col).startswith(WATCH_PREFIX):
            member = np.zeros(len(frame), dtype=bool)
            member[found] = slices[col].to_numpy(dtype=bool)[position[found]]
            masks[str(col)[len(WATCH_PREFIX):]] = member
    return masks


def without_ids(frame):
    """``frame`` without its ``id`` column; the other columns' data is shared, not copied (copy-on-write)."""
    return frame.drop(columns="id")


def slices_present(log) -> bool:
    """Whether the slice table exists (a warning when not).

    Under `dvc repro` the slice stage always runs first; run by hand before it exists, the
    comparison goes on without watchlist slices.
    """
    if paths.SLICES.exists():
        return True
    log.warning("%s not found: comparing without watchlist slices", paths.SLICES)
    return False


def read_slices(log):
    """The slice table's ids and watchlist columns, or None when it is absent."""
    return read_predictions(paths.SLICES, ["id"], [WATCH_PREFIX]) if slices_present(log) else None


# The baseline's clean rows with engine=dask, written where the workers read them; removed when the stage ends.
BASELINE_SPOOL = Path("data/interim/.compare-baseline.parquet")


@contextlib.contextmanager
def spooled(path: Path | None) -> Iterator[Path | None]:
    """``path`` for a file that lives for the block only: removed on leaving it, by a stop or not."""
    try:
        yield path
    finally:
        if path is not None:
            path.unlink(missing_ok=True)


def prior_shift_line(shift: dict) -> str:
    """A few words for the stage's log line: did the class mix move, would a prior correction help."""
    test = shift["label_shift"]
    words = f"class mix {'shifted' if test['shifted'] else 'unchanged'}, chi-square p {test['p_value']:.2g}"
    if shift["what_if"].get("measured"):
        acc = shift["what_if"]["accuracy"]
        words += (f"; prior correction what-if: accuracy {acc['before']['value']:.3f} -> {acc['after']['value']:.3f} "
                  f"[{acc['delta']['ci_low']:+.3f}, {acc['delta']['ci_high']:+.3f}]")
    return words


def outcome_line(head: str, result: dict, fdr_alpha: float) -> str:
    """The stage's last log line: what was compared and what changed (``result``: :func:`compare_counts`)."""
    if result["status"] != "compared":
        return f"{head}: not compared: {result['reason']} -> {paths.COMPARE_METRICS}"
    if result["baseline_is_current"]:
        return f"{head}: the baseline is the current model, nothing to compare -> {paths.COMPARE_METRICS}"
    f, acc = result["family"], result["global"]["accuracy"]
    return (f"{head}: accuracy {acc['baseline']:.3f} -> {acc['current']:.3f} (McNemar p {acc['p_value']:.2g}); "
            f"{f['n_changed']} of {f['n_tests']} tests changed at FDR {fdr_alpha:g} "
            f"({f['n_improved']} improved, {f['n_worsened']} worsened) -> {paths.COMPARE_METRICS}")


def main(log) -> str:
    cfg = load_params(paths.PARAMS)
    check_config(cfg.compare, cfg.model, cfg.ingest)
    # The configured baseline file, else the previous audited version `blindspot baseline` recorded.
    rec, configured = recorded.load(), cfg.compare.baseline.path is not None
    base = cfg.compare.baseline if configured or rec is None else recorded.compare_config(rec)
    versions = {"current": {"name": cfg.model.name, "path": cfg.model.path},
                "baseline": {"name": base.name, "path": base.path, **recorded.provenance(rec, configured)}}
    if base.path is None:
        write_metrics(paths.COMPARE_METRICS, {**versions, "status": NO_BASELINE, "reason": NO_BASELINE_REASON,
                                              "prior_shift": not_measured(NO_PRIOR_REASON)})
        return (f"{NO_BASELINE_REASON} (compare.baseline.path is null and {recorded.MANIFEST} is absent) -> "
                f"{paths.COMPARE_METRICS}")
    stale = None if configured else recorded.stale_reason(rec)
    if stale:
        write_metrics(paths.COMPARE_METRICS, {**versions, "status": NOT_COMPARED, "reason": stale,
                                              "prior_shift": not_measured(f"not measurable: {stale}")})
        return f"not compared: {stale} -> {paths.COMPARE_METRICS}"
    head = f"{cfg.model.name} vs {base.name}"
    with engine_session(cfg), spooled(BASELINE_SPOOL if cfg.engine == "dask" else None) as spool:
        # The baseline file is validated by the engine's ingest (engine=dask: on the workers, a large
        # Parquet file in runs of its row groups); with engine=dask its clean rows' compared columns are
        # then written where the workers read them.
        baseline = read_baseline(replace(cfg.compare, baseline=base), cfg.model, cfg.ingest, COLUMNS, [PROBA_PREFIX],
                                 engine=cfg.engine, dask=cfg.dask, out=spool)
        versions["baseline"].update(rows_in=baseline.rows_in, rows_rejected=baseline.rows_rejected,
                                    rows_clean=baseline.rows_clean)
        if not baseline.usable:
            why = f"not measurable: the baseline cannot be read: {baseline.reason}"
            write_metrics(paths.COMPARE_METRICS, {**versions, "status": NOT_COMPARED, "reason": baseline.reason,
                                                  "prior_shift": not_measured(why)})
            return f"{head}: not compared: {baseline.reason} -> {paths.COMPARE_METRICS}"
        counts, labels = (paired_here(baseline, cfg, log) if baseline.written is None else
                          paired_on_workers(baseline.written, cfg, log))
        del baseline
        release_freed_heap()  # the paired tables, before the prior shift's passes
        progress = Progress("compare: paired tests", total=counts.n_paired)  # silent on small data
        result = compare_counts(counts, cfg.ingest.classes, confident_threshold=cfg.compare.confident_threshold,
                                n_boot=cfg.stats.n_boot, level=cfg.stats.ci_level, fdr_alpha=cfg.stats.fdr_alpha,
                                seed=cfg.seed, min_rows=cfg.compare.min_rows, progress=progress)
        progress.finish(counts.n_paired)
        shift = prior_shift_of(labels, cfg, base.name)
    write_metrics(paths.COMPARE_METRICS, {**versions, **result, "prior_shift": shift})
    head += f" on {result['pairing']['n_paired']} paired rows ({prior_shift_line(shift)})"
    return outcome_line(head, result, cfg.stats.fdr_alpha)


# ----------------------------------------------------------------------------- the paired counts


def paired_here(baseline, cfg, log) -> tuple:
    """``engine: local``: the paired counts of the whole tables, held in this process (one bucket).

    Returns
    -------
    counts : PairedCounts
    labels : tuple of ndarray of int64, shape (K,)
        The gold-label counts of the baseline (the prior shift's training prior) and of the
        current table.
    """
    current = read_predictions(paths.PREDICTIONS, COLUMNS, [PROBA_PREFIX])
    release_freed_heap()  # the read's Arrow-to-pandas garbage, before the pairing
    # Paired by position from here on: the baseline's ids go before the slice table is read, the
    # current table's once the watchlist masks are made of them.
    pairs = pair_positions(current, baseline.clean)
    clean = without_ids(baseline.clean)
    release_freed_heap()  # the pairing's temporaries and the baseline's ids, before the slice table's read
    masks = watchlist_masks(current, read_slices(log))  # only the masks are kept of the slice table
    k = len(cfg.ingest.classes)
    labels = label_counts(clean["y_true"].to_numpy(), k), label_counts(current["y_true"].to_numpy(), k)
    counts = paired_counts(without_ids(current), clean, cfg.ingest.classes, masks,
                           confident_threshold=cfg.compare.confident_threshold, pairs=pairs)
    return counts, labels


# Buckets the rows are shuffled into by the hash of their id with engine=dask: both versions of an id,
# and its slice membership, meet in one bucket, which one task pairs and counts. A bucket holds about
# 1/BUCKETS of each table's numeric columns (10M rows, 3 classes: about 40 MiB each).
BUCKETS = 32
BUCKET_HASH = "compare/bucket"


def id_buckets(frame, *, n_buckets: int, n_classes: int | None):
    """A batch's rows split into ``n_buckets`` frames by the hash of their id (:class:`Source`'s map).

    Returns
    -------
    small : ndarray of int64, shape (K,), or int
        The batch's gold-label counts (a predictions table), or its rows (the slice table).
    buckets : list of DataFrame, length n_buckets
    """
    bucket = (row_hash(0, frame["id"], BUCKET_HASH) % np.uint64(n_buckets)).astype(np.int64)
    order = np.argsort(bucket, kind="stable")  # each bucket's rows keep the batch's order
    bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
    parts = [frame.take(order[bounds[b]:bounds[b + 1]]).reset_index(drop=True) for b in range(n_buckets)]
    small = len(frame) if n_classes is None else label_counts(frame["y_true"].to_numpy(), n_classes)
    return small, parts


def bucket_counts(parts: list, *, classes: list, confident_threshold: float) -> PairedCounts:
    """The paired counts of one bucket: ``parts`` = [current parts, baseline parts(, slice parts)].

    Every table has a row (ingest refuses a file of no usable row, the baseline's reader reports one
    as not comparable), so every table gives each bucket a part, perhaps of no row.
    """
    current, baseline = (pd.concat(p, ignore_index=True) for p in parts[:2])
    slices = pd.concat(parts[2], ignore_index=True) if len(parts) > 2 else None
    return paired_counts(current, baseline, classes, watchlist_masks(current, slices),
                         confident_threshold=confident_threshold)


def paired_on_workers(baseline_path, cfg, log) -> tuple:
    """``engine: dask``: both tables (and the slice table) shuffled by id into :data:`BUCKETS`, each
    bucket paired and counted on a worker; only the buckets' :class:`PairedCounts` come back.

    Returns
    -------
    As :func:`paired_here`.
    """
    k = len(cfg.ingest.classes)
    tables = partial(id_buckets, n_buckets=BUCKETS, n_classes=k)
    sources = [Source(paths.PREDICTIONS, COLUMNS, tables, (PROBA_PREFIX,)),
               Source(baseline_path, COLUMNS, tables, (PROBA_PREFIX,))]
    if slices_present(log):
        sources.append(Source(paths.SLICES, ("id",), partial(id_buckets, n_buckets=BUCKETS, n_classes=None),
                              (WATCH_PREFIX,)))
    # Counts the rows of every table shuffled: both versions' and the slice table's.
    progress = Progress(f"compare: {len(sources)} tables to {BUCKETS} buckets by id")
    smalls, reduced = shuffle_buckets(sources, partial(bucket_counts, classes=list(cfg.ingest.classes),
                                                       confident_threshold=cfg.compare.confident_threshold),
                                      BUCKETS, engine="dask", dask=cfg.dask, progress=progress)
    progress.finish(sum(int(np.sum(s)) for table in smalls for s in table))
    labels = tuple(sum(table, np.zeros(k, dtype=np.int64)) for table in smalls[1::-1])
    return sum(reduced[1:], reduced[0]), labels


# ----------------------------------------------------------------------------- the prior shift


def prior_state(frame, *, classes: list, seed: int, n_splits: int):
    """One batch of the current predictions as the prior shift's EM reads it (made where the batch is read)."""
    return prior_part(frame["y_true"].to_numpy(), frame["y_pred"].to_numpy(), probability_matrix(frame, classes),
                      fold_hashes(frame["id"], seed), n_splits)


def prior_shift_of(labels: tuple, cfg, baseline_name: str) -> dict:
    """``prior_shift`` of ``metrics/compare.json`` (``labels``: both tables' gold-label counts, baseline first).

    The EM's passes go over the current predictions' batches, kept where they were read (this
    process, or the Dask workers); without class probabilities only the label counts are read.
    """
    classes = list(cfg.ingest.classes)
    opts = dict(counts_current=labels[1], baseline_name=baseline_name, alpha=cfg.stats.fdr_alpha,
                n_boot=cfg.stats.n_boot, level=cfg.stats.ci_level, seed=cfg.seed, n_splits=N_SPLITS)
    if not any(str(n).startswith(PROBA_PREFIX) for n in pq.read_schema(paths.PREDICTIONS).names):
        return prior_shift_parts(None, labels[0], classes, **opts)
    state = partial(prior_state, classes=classes, seed=cfg.seed, n_splits=N_SPLITS)
    with resident_parts(paths.PREDICTIONS, ("id", "y_true", "y_pred"), state, prefixes=(PROBA_PREFIX,),
                        engine=cfg.engine, dask=cfg.dask) as parts:
        return prior_shift_parts(parts, labels[0], classes, **opts)


if __name__ == "__main__":
    run("compare", main)
