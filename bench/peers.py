"""Peers: the same computation, on the same data, in the same process, ours against a peer library.

    python bench/peers.py                          # 10k, 100k and 1M rows (about 4 minutes)
    python bench/peers.py --sizes 10000 --repeats 1  # a quick look

Data: ``blindspot.synth`` reviews with text and a planted blind spot (``specialty =
oncology``, 10% of rows, error rate +0.20), turned into the canonical table in memory;
slice predicates from ``blindspot.slices.features.build_predicates`` with the settings of
``params.yaml``. Each side is timed with ``time.perf_counter``, the peer ``--repeats`` times
(fairlearn once at a million rows: minutes a call), ours at least 5 times after a warm-up
call; the median is kept. The results of the timed calls are then checked to agree (a
disagreement stops the script before anything is written). A ratio is peer seconds / our
seconds, both measured in this run.

(a) global metrics: ``blindspot.metrics`` (the confusion matrix counted once, every metric
    from it) against scikit-learn's accuracy / balanced accuracy / F1 (macro, weighted) /
    MCC / Cohen's kappa / precision_recall_fscore_support, called the usual way.
(a2) bootstrap intervals, 1,000 replicates: multinomial draws of the confusion matrix
    (``blindspot.metrics.bootstrap_metrics``) against the plain row bootstrap (resample row
    indices, recount); the row bootstrap is timed on fewer replicates and scaled to 1,000.
(b) reliability bins: ``blindspot.calibration.binning.reliability_bins`` against
    ``sklearn.calibration.calibration_curve`` (top-label correctness vs confidence), equal
    width and equal mass, 10 bins.
(c) per-slice metrics (accuracy and each class's recall in every slice):
    ``blindspot.slices.evaluate.mask_counts`` over the membership matrix against fairlearn's
    ``MetricFrame``, one per feature (``sensitive_features`` = which predicate of that feature
    a row satisfies).
(d) discovery (conjunctions up to depth 2, the same minimum support): our finder
    (``enumerate_conjunctions``, Fisher tests, one BH family, the "explained by a parent"
    rule, ranking) against ``sliceline.Slicefinder`` on the same one-hot items with the
    errors as target. Sliceline one-hot-encodes every value of every column, including "in
    none of this feature's predicates", so both sides get exactly that item set. The two
    rank differently (sliceline: a size/error score; ours: the evidence ``-log10 p``), so
    "same top slices" is judged by (1) the planted slice is top-1 in both, (2) the overlap
    of the two top-10 lists; the numbers checked are the sizes and error counts of
    sliceline's top slices against our counts of the same slices.

Results go to ``bench/results/peers.json``; ``bench/report.py`` renders the tables.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "peers.json"
sys.path.insert(0, str(ROOT / "src"))

from blindspot import synth  # noqa: E402
from blindspot.calibration.binning import reliability_bins  # noqa: E402
from blindspot.config import load_params  # noqa: E402
from blindspot.metrics import bootstrap_metrics, confusion_counts, metrics_from_confusion  # noqa: E402
from blindspot.slices.discovery import enumerate_conjunctions, explained_by_parent  # noqa: E402
from blindspot.slices.evaluate import Counts, cells, class_tests, mask_counts, slice_tests  # noqa: E402
from blindspot.slices.features import build_predicates  # noqa: E402
from blindspot.stats import bh_qvalues, resample_counts  # noqa: E402

PLANTED = [synth.PlantedSlice({"specialty": "oncology"}, error_gap=0.2, share=0.1)]
PLANTED_ITEM = ("specialty", "specialty__oncology")
N_BOOT = 1000
SLICELINE_ALPHA = 0.95  # weight of the error term; at the default 0.6 a 10% slice with +0.2 error scores below 0
TOP_K = 10
OURS_MIN_REPEATS = 5  # our side is cheap: more repeats steady its median


class Disagreement(AssertionError):
    """The two sides of a comparison did not compute the same thing: no timing is reported."""


def median_time(fn, repeats: int) -> tuple[float, list[float], object]:
    """Median wall seconds of ``repeats`` calls, every call's seconds, and the last call's result."""
    times, result = [], None
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), [round(t, 5) for t in times], result


def side_by_side(ours_fn, peer_fn, check, repeats: int, peer_repeats: int | None = None, **extra) -> dict:
    """Time both sides, then ``check(ours_result, peer_result)`` (raises :class:`Disagreement`, else
    returns what it verified); a disagreement stops the benchmark before any number is written.
    A warm-up call of our side goes first (the peer's first call is a timed one: it is never faster)."""
    ours_fn()
    t_ours, all_ours, ours = median_time(ours_fn, max(repeats, OURS_MIN_REPEATS))
    t_peer, all_peer, peer = median_time(peer_fn, repeats if peer_repeats is None else peer_repeats)
    return {**check(ours, peer), "ours_seconds": round(t_ours, 5), "peer_seconds": round(t_peer, 5),
            "ratio": round(t_peer / t_ours, 2) if t_ours > 0 else None,
            "ours_runs": all_ours, "peer_runs": all_peer, **extra}


def check_close(name: str, ours, peer, atol: float = 1e-12) -> float:
    ours, peer = np.asarray(ours, dtype=float), np.asarray(peer, dtype=float)
    if ours.shape != peer.shape or not np.allclose(ours, peer, rtol=0, atol=atol, equal_nan=True):
        raise Disagreement(f"{name}: ours {ours!r} vs peer {peer!r}")
    both = np.isfinite(ours) & np.isfinite(peer)
    return float(np.max(np.abs(ours[both] - peer[both]), initial=0.0))


# ---------------------------------------------------------------------------------------- data


def canonical(n: int, seed: int, classes) -> pd.DataFrame:
    """Synthetic predictions in the canonical layout (what ingest would write), built in memory."""
    frame = synth.generate(n, seed=seed, mode="planted", planted=PLANTED).frame
    index = pd.Index(list(classes))
    y_true = index.get_indexer(frame["label"]).astype(np.int8)
    y_pred = index.get_indexer(frame["prediction"]).astype(np.int8)
    out = pd.DataFrame({"id": frame["id"], "text": frame["text"], "y_true": y_true, "y_pred": y_pred,
                        "correct": y_true == y_pred, "confidence": frame["confidence"].to_numpy(float)})
    for col in synth.METADATA_COLUMNS:
        out[f"meta__{col}"] = frame[col]
    return out


def feature_items(table) -> tuple[np.ndarray, list, np.ndarray, list, list]:
    """Categorical codes per feature and their complete one-hot (every level, "none" included).

    Returns
    -------
    codes : ndarray of int, shape (n, G)
        0 = in none of the feature's predicates, j = its j-th predicate.
    groups : list of str, length G
    onehot : ndarray of bool, shape (n, L)
    item_features : list of str, length L
    item_keys : list of str, length L
    """
    features = table.features
    groups = list(dict.fromkeys(features))
    n = table.matrix.shape[0]
    codes = np.zeros((n, len(groups)), dtype=np.int64)
    level_keys = {g: ["none"] for g in groups}
    for j, (pred, feat) in enumerate(zip(table.predicates, features)):
        g = groups.index(feat)
        level_keys[feat].append(pred.key)
        codes[table.matrix.column(j), g] = len(level_keys[feat]) - 1
    columns, item_features, item_keys = [], [], []
    for g, feat in enumerate(groups):
        for level, key in enumerate(level_keys[feat]):
            member = codes[:, g] == level
            if member.any():  # sliceline's encoder only knows values that occur
                columns.append(member)
                item_features.append(feat)
                item_keys.append(key if key != "none" else f"{feat}__none")
    return codes, groups, np.column_stack(columns), item_features, item_keys


# ------------------------------------------------------------------------------ (a) global metrics


def ours_global(y_true, y_pred, k):
    return metrics_from_confusion(confusion_counts(y_true, y_pred, k))


def sklearn_global(y_true, y_pred, k):
    from sklearn import metrics as skm

    labels = np.arange(k)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels,
                                                                         zero_division=0)
    return {"accuracy": skm.accuracy_score(y_true, y_pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
            "f1_macro": skm.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0),
            "f1_weighted": skm.f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0),
            "mcc": skm.matthews_corrcoef(y_true, y_pred),
            "cohen_kappa": skm.cohen_kappa_score(y_true, y_pred, labels=labels),
            "precision": precision, "recall": recall, "f1": f1, "support": support}


def compare_global(y_true, y_pred, k, repeats) -> dict:
    def check(ours, peer):
        diff = max(check_close(f"global {name}", ours[name], peer[name]) for name in peer)
        return {"checked": sorted(peer), "max_abs_diff": diff}

    return side_by_side(lambda: ours_global(y_true, y_pred, k), lambda: sklearn_global(y_true, y_pred, k), check,
                        repeats, peer="scikit-learn metric functions")


def row_bootstrap(y_true, y_pred, k, n_boot, rng):
    """The textbook bootstrap: resample row indices, recount, recompute (plain numpy, no peer library)."""
    n = len(y_true)
    acc = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        acc[b] = ours_global(y_true[idx], y_pred[idx], k)["accuracy"]
    return acc


def compare_bootstrap(y_true, y_pred, k, repeats, seed) -> dict:
    cm = confusion_counts(y_true, y_pred, k)
    n = len(y_true)
    # Row replicates: all 1,000 where that is quick, fewer (then scaled) at a million rows.
    n_row = int(min(N_BOOT, max(50, 2e7 // n)))
    reps = resample_counts(cm, N_BOOT, np.random.default_rng(seed))
    sd_counts = float(np.std(metrics_from_confusion(reps)["accuracy"], ddof=1))
    sd_rows = float(np.std(row_bootstrap(y_true, y_pred, k, n_row, np.random.default_rng(seed + 1)), ddof=1))
    # Same distribution: the two standard deviations agree within Monte Carlo error.
    se = sd_rows * np.sqrt(2.0 / (n_row - 1)) + sd_counts * np.sqrt(2.0 / (N_BOOT - 1))
    if abs(sd_counts - sd_rows) > 4 * se:
        raise Disagreement(f"bootstrap sd of accuracy: counts {sd_counts:.6f} vs rows {sd_rows:.6f} (4 se = {4 * se:.6f})")
    bootstrap_metrics(cm, n_boot=N_BOOT, level=0.95, rng=np.random.default_rng(seed))  # warm-up
    t_ours, all_ours, _ = median_time(lambda: bootstrap_metrics(cm, n_boot=N_BOOT, level=0.95,
                                                                rng=np.random.default_rng(seed)),
                                      max(repeats, OURS_MIN_REPEATS))
    t_rows, all_rows, _ = median_time(lambda: row_bootstrap(y_true, y_pred, k, n_row, np.random.default_rng(seed)),
                                      repeats)
    t_peer = t_rows * N_BOOT / n_row
    return {"ours_seconds": round(t_ours, 5), "peer_seconds": round(t_peer, 5), "ratio": round(t_peer / t_ours, 2),
            "ours_runs": all_ours, "peer_runs": all_rows, "peer": "row bootstrap (plain numpy)",
            "peer_replicates_timed": n_row, "peer_scaled_to": N_BOOT,
            "sd_accuracy_counts": round(sd_counts, 7), "sd_accuracy_rows": round(sd_rows, 7)}


# ------------------------------------------------------------------------------ (b) reliability


def compare_reliability(correct, confidence, repeats) -> dict:
    from sklearn.calibration import calibration_curve

    def check(bins, curve):
        prob_true, prob_pred = curve
        keep = bins.nonempty
        diff = max(check_close(f"reliability {bins.strategy} accuracy", bins.accuracy[keep], prob_true),
                   check_close(f"reliability {bins.strategy} confidence", bins.mean_confidence[keep], prob_pred))
        return {"nonempty_bins": int(keep.sum()), "max_abs_diff": diff}

    out = {}
    for strategy in ("uniform", "quantile"):
        out[strategy] = side_by_side(
            lambda s=strategy: reliability_bins(correct, confidence, n_bins=10, strategy=s),
            lambda s=strategy: calibration_curve(correct, confidence, n_bins=10, strategy=s), check, repeats,
            peer="sklearn.calibration.calibration_curve")
    return out


# ------------------------------------------------------------------------------ (c) per-slice metrics


def ours_per_slice(matrix, y_true, y_pred, k) -> dict:
    counts = mask_counts(matrix, y_true, y_pred, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {"accuracy": 1 - counts.errors / counts.n}
        for c in range(k):
            out[f"recall_{c}"] = counts.correct[:, c] / counts.support[:, c]
    return out


def ours_per_slice_tested(matrix, y_true, y_pred, k, classes, settings, level) -> pd.DataFrame:
    """The slice stage's whole per-slice computation: counts, metrics, Wilson and Newcombe intervals,
    one-sided Fisher tests (what MetricFrame's numbers are, plus the evidence)."""
    counts = mask_counts(matrix, y_true, y_pred, k)
    totals = Counts.from_cells(np.bincount(cells(y_true, y_pred, k), minlength=2 * k)[None, :], k)
    return slice_tests(counts, totals, classes, min_support=settings.min_support,
                       min_class_support=settings.min_class_support, level=level)


def fairlearn_per_slice(groups, y_true, y_pred, k) -> dict:
    from fairlearn.metrics import MetricFrame
    from sklearn.metrics import accuracy_score, recall_score

    metrics = {"accuracy": accuracy_score}
    for c in range(k):
        metrics[f"recall_{c}"] = functools.partial(recall_score, labels=[c], average="macro", zero_division=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {feat: MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sf).by_group
                for feat, sf in groups.items()}


def compare_per_slice(table, y_true, y_pred, k, classes, settings, level, repeats) -> dict:
    # One categorical column per feature: which of its predicates a row satisfies.
    groups = {}
    for feat in dict.fromkeys(table.features):
        cols = [j for j, f in enumerate(table.features) if f == feat]
        labels = np.array(["(none)"] + [table.predicates[j].key for j in cols], dtype=object)
        code = np.zeros(len(y_true), dtype=np.int64)
        for i, j in enumerate(cols, start=1):
            code[table.matrix.column(j)] = i
        groups[feat] = pd.Categorical.from_codes(code, categories=labels)
    def check(ours, peer):
        diff, compared = 0.0, 0
        for j, pred in enumerate(table.predicates):
            if not table.matrix.column(j).any():
                continue  # an empty slice has no group in MetricFrame
            row = peer[pred.feature].loc[pred.key]
            for name in ours:
                diff = max(diff, check_close(f"slice {pred.key} {name}", ours[name][j], row[name]))
                compared += 1
        return {"values_compared": compared, "max_abs_diff": diff}

    # MetricFrame stacks every row into a new array per metric and group (np.stack in
    # fairlearn's AnnotatedMetricFunction): minutes a call at a million rows, so once there.
    result = side_by_side(lambda: ours_per_slice(table.matrix, y_true, y_pred, k),
                          lambda: fairlearn_per_slice(groups, y_true, y_pred, k), check, repeats,
                          peer_repeats=1 if len(y_true) >= 1_000_000 else repeats,
                          peer=f"fairlearn MetricFrame, one per feature ({len(groups)})",
                          n_slices=len(table.predicates))
    t_tested, runs, _ = median_time(lambda: ours_per_slice_tested(table.matrix, y_true, y_pred, k, classes, settings,
                                                                  level), max(repeats, OURS_MIN_REPEATS))
    result["ours_with_tests_seconds"] = round(t_tested, 5)
    result["ratio_with_tests"] = round(result["peer_seconds"] / t_tested, 2)
    return result


# ------------------------------------------------------------------------------ (d) discovery


def ours_discovery(onehot, features, y_true, y_pred, k, classes, settings, level, fdr_alpha) -> list:
    """Depth-2 discovery as the slice stage does it; returns error-rate findings, best first,
    each as a frozenset of one-hot columns."""
    cell = cells(y_true, y_pred, k)
    totals = Counts.from_cells(np.bincount(cell, minlength=2 * k)[None, :], k)
    cand = enumerate_conjunctions(onehot, features, cell, k, max_depth=2, min_support=settings.min_support)
    tests = slice_tests(cand.counts, totals, classes, min_support=settings.min_support,
                        min_class_support=settings.min_class_support, level=level)
    cls = class_tests(totals, classes, min_class_support=settings.min_class_support, level=level)
    q = bh_qvalues(np.concatenate([cls["p_value"].to_numpy(), tests["p_value"].to_numpy()]))[k:]
    significant = tests["tested"].to_numpy() & (q <= fdr_alpha)
    score = tests["score"].to_numpy()
    explained = explained_by_parent(cand.members, score.reshape(-1, 1 + k)).ravel()
    err = (tests["metric"] == "error_rate").to_numpy() & significant & ~explained
    rows = np.flatnonzero(err)
    order = rows[np.lexsort((-tests["excess"].to_numpy()[rows], -score[rows]))]
    return [(frozenset(cand.members[tests["slice"].iat[i]]), float(score[i])) for i in order]


def sliceline_discovery(codes, errors, settings):
    from sliceline import Slicefinder

    return Slicefinder(alpha=SLICELINE_ALPHA, k=TOP_K, max_l=2, min_sup=settings.min_support,
                       verbose=False).fit(codes, errors)


def compare_discovery(table, y_true, y_pred, k, classes, settings, level, fdr_alpha, repeats) -> dict:
    codes, groups, onehot, item_features, item_keys = feature_items(table)
    errors = (y_true != y_pred).astype(float)
    item_of = {}
    for col, (feat, key) in enumerate(zip(item_features, item_keys)):
        item_of[(feat, key)] = col
    level_key = {}
    for g, feat in enumerate(groups):
        keys = ["none"] + [p.key for p, f in zip(table.predicates, table.features) if f == feat]
        level_key[g] = keys

    names = lambda items: " & ".join(sorted(item_keys[c] for c in items))  # noqa: E731
    planted = frozenset([item_of[PLANTED_ITEM]])

    def check(ours, sf):
        theirs = []
        for row, stats in zip(sf.top_slices_, sf.top_slices_statistics_):
            items = frozenset(item_of[(groups[g], level_key[g][int(v)] if v != 0 else f"{groups[g]}__none")]
                              for g, v in enumerate(row) if v is not None)
            theirs.append((items, stats))
        # The numbers: sliceline's sizes and error sums equal our counts of the same slices.
        for items, stats in theirs:
            mask = np.logical_and.reduce(onehot[:, sorted(items)], axis=1)
            check_close("sliceline slice size", stats["slice_size"], mask.sum(), 0)
            check_close("sliceline slice errors", stats["sum_slice_error"], errors[mask].sum(), 0)
        ours_top = [items for items, _ in ours[:TOP_K]]
        theirs_top = [items for items, _ in theirs[:TOP_K]]
        return {
            "ours_top1": names(ours_top[0]) if ours_top else None,
            "peer_top1": names(theirs_top[0]) if theirs_top else None,
            "planted": names(planted),
            "planted_top1_both": bool(ours_top and theirs_top and ours_top[0] == planted and theirs_top[0] == planted),
            "top10_overlap": len(set(ours_top) & set(theirs_top)),
            # Sliceline lists sub-slices of its best slice (planted AND x); our parent rule folds them into it.
            "peer_top10_within_planted": sum(planted <= items for items in theirs_top),
            "ours_top10_within_planted": sum(planted <= items for items in ours_top),
            "ours_top10": [names(s) for s in ours_top], "peer_top10": [names(s) for s in theirs_top],
            "ours_reported": len(ours), "peer_slices_checked": len(theirs)}

    return side_by_side(
        lambda: ours_discovery(onehot, item_features, y_true, y_pred, k, classes, settings, level, fdr_alpha),
        lambda: sliceline_discovery(codes, errors, settings), check, repeats,
        peer=f"sliceline.Slicefinder(alpha={SLICELINE_ALPHA}, k={TOP_K}, max_l=2, min_sup={settings.min_support})",
        n_items=int(onehot.shape[1]), n_features=len(groups))


# ------------------------------------------------------------------------------ driver


def run_size(n: int, seed: int, repeats: int) -> dict:
    cfg = load_params(ROOT / "params.yaml")
    classes = list(cfg.ingest.classes)
    k = len(classes)
    t0 = time.perf_counter()
    frame = canonical(n, seed, classes)
    s = cfg.slices
    table = build_predicates(frame, text_detectors=s.text_detectors, jargon_high_density=s.jargon_high_density,
                             caps_high_share=s.caps_high_share, length_bands=asdict(s)["length_bands"],
                             max_levels=s.max_levels, n_quantiles=s.n_quantiles, metadata_exclude=s.metadata_exclude)
    setup = time.perf_counter() - t0
    y_true = frame["y_true"].to_numpy(np.int64)
    y_pred = frame["y_pred"].to_numpy(np.int64)
    correct = frame["correct"].to_numpy(bool)
    confidence = frame["confidence"].to_numpy(float)
    level, alpha = cfg.stats.ci_level, cfg.stats.fdr_alpha
    out = {"n": n, "setup_seconds": round(setup, 3), "n_predicates": len(table.predicates)}
    steps = [
        ("global_metrics", lambda: compare_global(y_true, y_pred, k, repeats)),
        ("bootstrap", lambda: compare_bootstrap(y_true, y_pred, k, repeats, seed)),
        ("reliability", lambda: compare_reliability(correct, confidence, repeats)),
        ("per_slice", lambda: compare_per_slice(table, y_true, y_pred, k, classes, s, level, repeats)),
        ("discovery", lambda: compare_discovery(table, y_true, y_pred, k, classes, s, level, alpha, repeats)),
    ]
    for name, step in steps:
        start = time.perf_counter()
        out[name] = step()
        summary = out[name] if "ratio" in out[name] else next(iter(out[name].values()))
        print(f"  n={n:>9,} {name:<15} ours {summary['ours_seconds']:9.4f} s  peer {summary['peer_seconds']:9.4f} s"
              f"  ratio {summary['ratio']:8.1f}  ({time.perf_counter() - start:.0f} s)", flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import fairlearn
    import sklearn
    import sliceline
    from importlib.metadata import version

    started = {"loadavg": os.getloadavg()}
    runs = []
    for n in args.sizes:
        print(f"peers: {n:,} rows", flush=True)
        runs.append(run_size(n, args.seed, args.repeats))
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg_start": [round(x, 2) for x in started["loadavg"]],
                    "loadavg_end": [round(x, 2) for x in os.getloadavg()],
                    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
        "versions": {"scikit-learn": sklearn.__version__, "fairlearn": fairlearn.__version__,
                     "sliceline": version("sliceline"), "numpy": np.__version__, "pandas": pd.__version__},
        "settings": {"repeats": args.repeats, "statistic": "median", "seed": args.seed, "n_boot": N_BOOT,
                     "sliceline_alpha": SLICELINE_ALPHA, "top_k": TOP_K,
                     "planted": [{"predicate": p.predicate, "error_gap": p.error_gap, "share": p.share}
                                 for p in PLANTED],
                     "sliceline_numba": _numba_available()},
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"peers: results -> {args.out}")
    return 0


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
