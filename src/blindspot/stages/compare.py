"""Stage compare: current predictions vs a baseline version's, paired on review id -> metrics/compare.json.

``metrics/compare.json`` always holds ``status`` and ``reason`` at the top level:
``no_baseline`` (``compare.baseline.path`` is null, the default for a user's own file),
``not_compared`` (a baseline that does not fit the current model, or too few paired rows:
``reason`` says which) or ``compared``. Only a baseline file that is missing or outside
the workspace stops the stage (a config error); every other case exits 0.

``prior_shift`` (:mod:`blindspot.prior_shift`) is written in every case: whether the
gold-label shares moved between the baseline file and the current one, the label-free EM
estimate of the deployment class prior from the current probabilities (the baseline's
label shares stand for the training prior) and a cross-fitted prior-correction what-if, its folds
ranked by a seeded hash of the current ids (the same what-if for the rows in any order).
It needs only the baseline's gold labels, not paired ids, so it is measured whenever the
baseline file is read, also when too few rows pair; otherwise it holds the reason.
"""

from dataclasses import replace

import numpy as np

from blindspot import baseline as recorded, paths
from blindspot.compare import (NO_BASELINE, NOT_COMPARED, check_config, compare_predictions, id_array,
                               id_positions, pair_positions, read_baseline)
from blindspot.config import load_params
from blindspot.memory import release_freed_heap
from blindspot.io.readers import read_predictions
from blindspot.io.schema import PROBA_PREFIX, probability_matrix
from blindspot.prior_shift import NO_BASELINE_REASON as NO_PRIOR_REASON, fold_hashes, not_measured, prior_shift
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


def read_slices(log):
    """The slice table's ids and watchlist columns, or None when it is absent.

    Under `dvc repro` the slice stage always runs first; run by hand before it exists, the
    comparison goes on without watchlist slices.
    """
    if paths.SLICES.exists():
        return read_predictions(paths.SLICES, ["id"], [WATCH_PREFIX])
    log.warning("%s not found: comparing without watchlist slices", paths.SLICES)
    return None


def prior_shift_columns(current, y_true_baseline, classes) -> tuple:
    """What :func:`blindspot.prior_shift.prior_shift` reads of the two canonical tables.

    ``y_true_baseline``: the baseline's gold labels, shape (n_b,) (the rest of the baseline may
    already be gone).

    Returns
    -------
    y_true_baseline : ndarray of int, shape (n_b,)
    y_true, y_pred : ndarray of int, shape (n,)
        The current table's.
    proba : ndarray of float, shape (n, K), or None
        The current class probabilities, a writable array of their own: pandas may hand out a
        read-only view of the frame's float columns, which would keep those alive and make
        prior_shift copy them again. Copied in the view's layout (the sums over rows follow it).
    """
    proba = probability_matrix(current, classes)
    if proba is not None and not proba.flags.writeable:
        proba = proba.copy(order="K")
    return y_true_baseline, current["y_true"].to_numpy(), current["y_pred"].to_numpy(), proba


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
    """The stage's last log line: what was compared and what changed (``result``: :func:`compare_predictions`)."""
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
    # Only the columns a comparison reads (the texts and metadata stay on disk), of both versions.
    baseline = read_baseline(replace(cfg.compare, baseline=base), cfg.model, cfg.ingest, COLUMNS, [PROBA_PREFIX])
    versions["baseline"].update(rows_in=baseline.rows_in, rows_rejected=baseline.rows_rejected,
                                rows_clean=0 if baseline.clean is None else len(baseline.clean))
    head = f"{cfg.model.name} vs {base.name}"
    if baseline.clean is None:
        why = f"not measurable: the baseline cannot be read: {baseline.reason}"
        write_metrics(paths.COMPARE_METRICS, {**versions, "status": NOT_COMPARED, "reason": baseline.reason,
                                              "prior_shift": not_measured(why)})
        return f"{head}: not compared: {baseline.reason} -> {paths.COMPARE_METRICS}"
    current = read_predictions(paths.PREDICTIONS, COLUMNS, [PROBA_PREFIX])
    release_freed_heap()  # the read's Arrow-to-pandas garbage, before the pairing
    # Paired by position from here on: the baseline's ids (a third of its memory) go before the slice
    # table is read, the current table's once the watchlist masks are made of them.
    pairs = pair_positions(current, baseline.clean)
    baseline = replace(baseline, clean=without_ids(baseline.clean))
    release_freed_heap()  # the pairing's temporaries and the baseline's ids, before the slice table's read
    masks = watchlist_masks(current, read_slices(log))  # only the masks are kept of the slice table
    # The prior-shift what-if's folds are ranked by the current ids' hashes (8 bytes a row): made before the ids go.
    hashes, current = fold_hashes(current["id"], cfg.seed), without_ids(current)
    release_freed_heap()  # the slice table's read and the ids, before the tests
    # Silent on small data; on large data (many classes, many slices) a line every few seconds.
    progress = Progress("compare: paired tests", total=len(current))
    result = compare_predictions(current, baseline.clean, cfg.ingest.classes, masks,
                                 confident_threshold=cfg.compare.confident_threshold, n_boot=cfg.stats.n_boot,
                                 level=cfg.stats.ci_level, fdr_alpha=cfg.stats.fdr_alpha, seed=cfg.seed,
                                 min_rows=cfg.compare.min_rows, progress=progress, pairs=pairs)
    progress.finish(result["pairing"]["n_paired"])
    del masks
    y_true_baseline = baseline.clean["y_true"].to_numpy()
    del baseline  # the rest of the baseline (its confidences and probabilities) goes before the matrix's copy
    columns = prior_shift_columns(current, y_true_baseline, cfg.ingest.classes)
    del current, y_true_baseline  # the rest of the current table (confidences, probability columns) goes first
    # The matrix is the stage's own: normalised in place, not copied again.
    shift = prior_shift(*columns, cfg.ingest.classes, baseline_name=base.name, alpha=cfg.stats.fdr_alpha,
                        n_boot=cfg.stats.n_boot, level=cfg.stats.ci_level, seed=cfg.seed, hashes=hashes,
                        overwrite_proba=True)
    del columns, hashes
    write_metrics(paths.COMPARE_METRICS, {**versions, **result, "prior_shift": shift})
    head += f" on {result['pairing']['n_paired']} paired rows ({prior_shift_line(shift)})"
    return outcome_line(head, result, cfg.stats.fdr_alpha)


if __name__ == "__main__":
    run("compare", main)
