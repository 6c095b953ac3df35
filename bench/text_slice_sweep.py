"""Are topic slices and cross-fitted error terms honest? Quiet on null data, and do they find a planted topic? 50 seeds.

    .venv/bin/python bench/text_slice_sweep.py             # writes bench/results/text_slice_sweep.json
    .venv/bin/python bench/text_slice_sweep.py --seeds 10  # quicker look
    .venv/bin/python bench/text_slice_sweep.py --timing    # also time both families at 1k, 10k, 100k rows

Data: ``blindspot.synth`` reviews, n = 2,000 per run (the planted scenario also at
4,000: ``planted_topic_n4000``), three classes, a calibrated
simulated model with mean confidence 0.85 (about 15% errors).

Scenarios
---------
- ``null``: errors independent of everything. Reported: the share of runs where the
  new families (topic slices, error terms) add a significant finding. Target: at most
  5% of runs (>= 95% quiet).
- ``weak_class_null``: no slice, but the negative class is misread 35 points more
  often everywhere (``class_error_gaps = (0.35, 0, 0)``). Words of negative reviews
  ("terrible", sarcasm) are worse than the rest through their class mix only; the
  within-class tests must stay quiet. Reported as for ``null``, except that topic
  findings against the rest (class mix) are expected: only findings *of their own*
  (within classes) count here.
- ``planted_topic``: a word family about a glucose-sensor app ("bluetooth",
  "pairing", "firmware", "sync", "wearable", "sensor", "glucose": one of four
  sentences, each holding three to five of them, appended to the review) is added to
  10% of the reviews, and the simulated model gets those reviews wrong 20 points more
  often, within every class. Target: found in >= 95% of runs and ranked in the top
  three in >= 90%, for each family.

How the planted rows are made without editing the generator: ``synth.generate`` plants
a slice on ``app_version = 4.1.0`` (share 0.10, error gap 0.20: its own code flips the
predictions, keeps probabilities consistent and writes the truth), the bench appends a
family sentence to exactly those rows, and the ``app_version`` column is dropped
before the audit sees the data (in both scenarios, so they are audited alike). The
appended sentence also makes those reviews longer; the audit's length slices can pick
that up, and they compete in the ranking.

One family
----------
The audit runs read-only (``audit_slices`` with ``params.yaml``'s settings); its p
values are the ones it puts in its one BH family (classes, every slice metric against
the rest, each slice's error rate within the true classes). The new p values join
them and Benjamini-Hochberg is applied to the union at ``fdr_alpha``:

- topic slices: the audit's own tests (:func:`blindspot.slices.evaluate.slice_tests`:
  error rate and per-class recalls against the rest, error rate within the true
  classes), on each topic's membership;
- error terms: one cross-fitted p value per reported term
  (:func:`blindspot.slices.terms.error_terms`).

A finding *of its own* is a topic whose error rate within the true classes (or a
recall) has ``q <= alpha``, or a term with ``q <= alpha`` (its test is within
classes). The planted topic is *found* when a topic holding at least half of the
planted rows, with at least half of its members planted (Jaccard >= 1/3 would do
too), is a finding of its own; a planted term is found when a family word, or a
phrase holding one, is. *Rank*: among the findings of their own of the union (the
audit's slices, by their strongest within-class score; the family's topics or terms
by theirs), the planted one's place. This approximates the audit's own rules: its
parent rule for conjunctions is not re-run over the union.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

from blindspot import synth  # noqa: E402
from blindspot.config import load_params  # noqa: E402
from blindspot.io.writers import write_json  # noqa: E402
from blindspot.slices import audit_slices  # noqa: E402
from blindspot.slices.evaluate import Counts, cells, mask_counts, slice_tests  # noqa: E402
from blindspot.slices.terms import error_terms  # noqa: E402
from blindspot.slices.topics import learn_topics  # noqa: E402
from blindspot.stats import bh_qvalues  # noqa: E402

N_ROWS = 2000
FAMILY = ("bluetooth", "pairing", "firmware", "sync", "wearable", "sensor", "glucose")
FAMILY_SENTENCES = (
    " My glucose sensor lost its bluetooth pairing again.",
    " The wearable needed a firmware update before the bluetooth sync worked.",
    " The bluetooth sync with my glucose sensor kept failing.",
    " Pairing the wearable over bluetooth took ages and the firmware crashed.",
)
CARRIER = {"app_version": "4.1.0"}  # the synth slice whose rows get the family (column dropped after)
SHARE, GAP = 0.10, 0.20
WEAK_NEGATIVE = (0.35, 0.0, 0.0)  # weak_class_null: the negative class is misread 35 points more, everywhere


def plant_word_family(n: int, seed: int) -> tuple[synth.SynthData, np.ndarray, np.ndarray]:
    """Synthetic reviews where 10% carry a word family and are misread 20 points more often.

    Returns
    -------
    data : SynthData
        As generated (``app_version`` still in ``data.frame``).
    texts : ndarray of object, shape (n,)
        The reviews, a family sentence appended to the planted ones.
    planted : ndarray of bool, shape (n,)
    """
    data = synth.generate(n, seed=seed, mode="planted", planted=[synth.PlantedSlice(CARRIER, error_gap=GAP,
                                                                                     share=SHARE)])
    planted = data.latent["in_planted"].to_numpy() == 0
    rng = np.random.default_rng([seed, 16])
    texts = data.frame["text"].to_numpy(dtype=object).copy()
    pick = rng.integers(len(FAMILY_SENTENCES), size=int(planted.sum()))
    texts[planted] = texts[planted] + np.asarray(FAMILY_SENTENCES, dtype=object)[pick]
    return data, texts, planted


def canonical(data: synth.SynthData, texts) -> pd.DataFrame:
    """The canonical predictions table ingest would build, with ``texts`` and without ``app_version``."""
    f = data.frame
    code = {c: i for i, c in enumerate(data.classes)}
    out = pd.DataFrame({"id": f["id"].astype("string"), "text": pd.Series(texts, dtype="string"),
                        "label": f["label"].astype("string"), "prediction": f["prediction"].astype("string"),
                        "y_true": f["label"].map(code).to_numpy(np.int8),
                        "y_pred": f["prediction"].map(code).to_numpy(np.int8)})
    out["correct"] = out["y_true"] == out["y_pred"]
    for col in synth.METADATA_COLUMNS:
        if col not in CARRIER:
            out[f"meta__{col}"] = f[col].astype("string")
    return out


def topic_tests(texts, y_true, y_pred, classes, settings: dict, seed: int) -> tuple[object, pd.DataFrame]:
    """Topics of the texts and the audit's tests of each one (one row per topic and metric)."""
    topics = learn_topics(list(texts), seed=seed)
    k = len(classes)
    if not topics.k:
        return topics, pd.DataFrame(columns=["slice", "metric", "p_value", "cond_p_value", "cond_score", "tested"])
    counts = mask_counts(topics.membership, y_true, y_pred, k)
    totals = Counts.from_cells(np.bincount(cells(y_true, y_pred, k), minlength=2 * k)[None, :], k)
    tests = slice_tests(counts, totals, classes, min_support=settings["min_support"],
                        min_class_support=settings["min_class_support"], level=settings["ci_level"])
    return topics, tests


def family_p(tests: pd.DataFrame) -> np.ndarray:
    """The p values a set of slice tests adds to the family: every metric against the rest, and each
    error rate within the true classes (a recall's test within its class is the same test: counted once)."""
    if not len(tests):
        return np.zeros(0)
    err = (tests["metric"] == "error_rate").to_numpy()
    return np.concatenate([tests["p_value"].to_numpy(float), tests["cond_p_value"].to_numpy(float)[err]])


def bh_lookup(union: np.ndarray):
    """BH over ``union`` (NaN = untested, left out); returns ``q_of(p)`` for p values that are members of it.

    The BH q value of a p value depends only on where it sits among the sorted p values, so
    the q of any member is read back by position (ties share their q).
    """
    s = np.sort(union[np.isfinite(union)])
    m = s.size
    q = np.minimum.accumulate((s * m / np.arange(1, m + 1))[::-1])[::-1] if m else s
    q = np.minimum(q, 1.0)

    def q_of(p) -> np.ndarray:
        p = np.asarray(p, float)
        out = np.full(p.shape, np.nan)
        ok = np.isfinite(p)
        out[ok] = q[np.searchsorted(s, p[ok], side="right") - 1]
        return out

    return q_of, m


def _own(keys, cond_p, cond_score, q_of, alpha: float) -> dict:
    """Findings of their own: key -> strongest within-class score among its tests with ``q <= alpha``."""
    out: dict = {}
    sig = q_of(cond_p) <= alpha
    for key, score in zip(np.asarray(keys)[sig], np.asarray(cond_score, float)[sig]):
        out[key] = max(out.get(key, -np.inf), float(score))
    return out


def _rank(target: str | None, *groups: dict) -> int | None:
    """Place of ``target`` among the union of findings, strongest score first (ties: by key)."""
    if target is None:
        return None
    merged = sorted(((-score, key) for group in groups for key, score in group.items()))
    return [key for _, key in merged].index(target) + 1


def run_once(scenario: str, seed: int, settings: dict, classes: list, n_rows: int = N_ROWS) -> dict:
    """One audit with both new families: what the union family finds, and where the planted topic lands."""
    if scenario in ("null", "weak_class_null"):
        gaps = WEAK_NEGATIVE if scenario == "weak_class_null" else None
        data = synth.generate(n_rows, seed=seed, mode="null", class_error_gaps=gaps)
        texts, planted = data.frame["text"].to_numpy(dtype=object), None
    else:
        data, texts, planted = plant_word_family(n_rows, seed)
    frame = canonical(data, texts)
    y_true, y_pred = frame["y_true"].to_numpy(np.int64), frame["y_pred"].to_numpy(np.int64)
    alpha = settings["fdr_alpha"]
    t0 = time.perf_counter()
    audit = audit_slices(frame, classes, **settings)
    t1 = time.perf_counter()
    topics, ttests = topic_tests(texts, y_true, y_pred, classes, settings, seed)
    t2 = time.perf_counter()
    terms = error_terms(list(texts), y_true, y_pred, len(classes), seed=seed, min_support=settings["min_support"])
    t3 = time.perf_counter()
    audit_family = np.concatenate([audit.classes_tests["p_value"].to_numpy(float), family_p(audit.tests)])
    topic_family, term_family = family_p(ttests), terms.tests["p_value"].to_numpy(float)
    q_of, m = bh_lookup(np.concatenate([audit_family, topic_family, term_family]))
    audit_own = _own(audit.slices["key"].to_numpy()[audit.tests["slice"].to_numpy()], audit.tests["cond_p_value"],
                     audit.tests["cond_score"], q_of, alpha)
    topic_keys = np.asarray(topics.keys, dtype=object)[ttests["slice"].to_numpy()] if topics.k else []
    topic_own = _own(topic_keys, ttests["cond_p_value"], ttests["cond_score"], q_of, alpha) if topics.k else {}
    term_sig = q_of(term_family) <= alpha
    term_own = {f"term:{t}": float(sc) for t, sc in zip(terms.tests["term"][term_sig], terms.tests["score"][term_sig])}
    out = {"seed": seed, "family_size": m, "k": topics.k, "n_terms_tested": int(len(term_family)),
           "topic_significant": bool((q_of(topic_family) <= alpha).any()),
           "term_significant": bool(term_sig.any()), "topic_own": sorted(topic_own), "term_own": sorted(term_own),
           "audit_significant_in_union": bool((q_of(audit_family) <= alpha).any()),
           "raw_topic_p_below_alpha": int((topic_family[np.isfinite(topic_family)] < alpha).sum()),
           "raw_topic_tests": int(np.isfinite(topic_family).sum()),
           "seconds": {"audit": t1 - t0, "topics": t2 - t1, "terms": t3 - t2}}
    if planted is not None:
        out.update(_planted_outcome(topics, planted, terms, term_own, topic_own, audit_own))
    return out


def _planted_outcome(topics, planted, terms, term_own, topic_own, audit_own) -> dict:
    """Whether the planted topic and a planted term are findings of their own, and their ranks."""
    match = None
    for j in range(topics.k):
        member = topics.membership[:, j]
        recall, precision = member[planted].mean(), planted[member].mean() if member.any() else 0.0
        if recall >= 0.5 and precision >= 0.5 and (match is None or recall + precision > match[1]):
            match = (topics.keys[j], recall + precision, float(recall), float(precision), topics.names[j])
    topic_key = match[0] if match and match[0] in topic_own else None
    family_terms = [k for k in term_own if set(k[len("term:"):].split()) & set(FAMILY)]
    term_key = max(family_terms, key=lambda k: (term_own[k], k)) if family_terms else None
    return {"planted_topic": None if match is None else {"key": match[0], "name": match[4], "recall": match[2],
                                                           "precision": match[3]},
            "topic_found": topic_key is not None, "topic_rank": _rank(topic_key, audit_own, topic_own),
            "term_found": term_key is not None, "term_best": term_key, "term_rank": _rank(term_key, audit_own, term_own),
            "top_audit_findings": sorted(audit_own, key=lambda k: -audit_own[k])[:3]}


def summarise(runs: list, scenario: str) -> dict:
    """Shares over the runs of one scenario."""
    n = len(runs)
    out = {"runs": n,
           "share_topic_family_adds_significant": sum(r["topic_significant"] for r in runs) / n,
           "share_term_family_adds_significant": sum(r["term_significant"] for r in runs) / n,
           "share_either_adds_significant": sum(r["topic_significant"] or r["term_significant"] for r in runs) / n,
           # within the true classes (a term's test always is): what weak_class_null must keep quiet
           "share_topic_family_adds_own_finding": sum(bool(r["topic_own"]) for r in runs) / n,
           "share_either_adds_own_finding": sum(bool(r["topic_own"] or r["term_own"]) for r in runs) / n,
           # the audit's own tests, q from the union family (BH adapts: strong new findings loosen its thresholds)
           "share_audit_significant_in_union": sum(r["audit_significant_in_union"] for r in runs) / n,
           "topics_k": sorted({r["k"] for r in runs}),
           "terms_tested_per_run_mean": float(np.mean([r["n_terms_tested"] for r in runs])),
           "family_size_mean": float(np.mean([r["family_size"] for r in runs])),
           "raw_topic_p_below_alpha_share": sum(r["raw_topic_p_below_alpha"] for r in runs)
           / max(1, sum(r["raw_topic_tests"] for r in runs)),
           "seconds_per_run_mean": {k: round(float(np.mean([r["seconds"][k] for r in runs])), 3)
                                    for k in ("audit", "topics", "terms")}}
    if scenario == "planted_topic":
        for fam in ("topic", "term"):
            ranks = [r[f"{fam}_rank"] for r in runs if r[f"{fam}_rank"] is not None]
            out[f"{fam}_found_share"] = sum(r[f"{fam}_found"] for r in runs) / n
            out[f"{fam}_top3_share"] = sum(rk <= 3 for rk in ranks) / n
            out[f"{fam}_rank_max"] = max(ranks) if ranks else None
        out["planted_topic_matched_share"] = sum(r["planted_topic"] is not None for r in runs) / n
        recalls = [r["planted_topic"]["recall"] for r in runs if r["planted_topic"]]
        precisions = [r["planted_topic"]["precision"] for r in runs if r["planted_topic"]]
        out["planted_topic_recall_mean"] = float(np.mean(recalls)) if recalls else None
        out["planted_topic_precision_mean"] = float(np.mean(precisions)) if precisions else None
        names: dict = {}
        for r in runs:
            if r["planted_topic"]:
                names[r["planted_topic"]["name"]] = names.get(r["planted_topic"]["name"], 0) + 1
        out["planted_topic_names"] = dict(sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[:5])
    return out


def timing(sizes=(1000, 10_000, 100_000)) -> dict:
    """Seconds of each family on null synthetic data at each size, and whether a second run is identical."""
    out = {}
    for n in sizes:
        data = synth.generate(n, seed=0, mode="null")
        texts = data.frame["text"].tolist()
        code = {c: i for i, c in enumerate(data.classes)}
        y_true = data.frame["label"].map(code).to_numpy(np.int64)
        y_pred = data.frame["prediction"].map(code).to_numpy(np.int64)
        t0 = time.perf_counter()
        topics = learn_topics(texts, seed=0)
        t1 = time.perf_counter()
        terms = error_terms(texts, y_true, y_pred, len(data.classes), seed=0)
        t2 = time.perf_counter()
        again = learn_topics(texts, seed=0)
        identical = (np.array_equal(again.weights, topics.weights) and again.keys == topics.keys
                     and terms.tests.equals(error_terms(texts, y_true, y_pred, len(data.classes), seed=0).tests))
        out[str(n)] = {"topics_seconds": round(t1 - t0, 2), "terms_seconds": round(t2 - t1, 2), "k": topics.k,
                       "n_fit": topics.n_fit, "term_candidates": terms.n_candidates, "rerun_identical": identical}
        print(n, out[str(n)], file=sys.stderr)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--scenarios", nargs="*", default=["null", "weak_class_null", "planted_topic"])
    parser.add_argument("--planted-sizes", nargs="*", type=int, default=[N_ROWS, 2 * N_ROWS],
                        help="rows per run of planted_topic (the first is the headline; others are keyed _n<rows>)")
    parser.add_argument("--timing", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench/results/text_slice_sweep.json"))
    args = parser.parse_args(argv)
    cfg = load_params(ROOT / "params.yaml")
    settings = dict(asdict(cfg.slices), fdr_alpha=cfg.stats.fdr_alpha, ci_level=cfg.stats.ci_level)
    classes = list(synth.DEFAULT_CLASSES)
    start = time.perf_counter()
    results = {"n_rows": N_ROWS, "seeds": f"0..{args.seeds - 1}", "mean_confidence": 0.85,
               "planted": {"family": list(FAMILY), "share": SHARE, "error_gap": GAP}, "scenarios": {}}
    todo = [(name, name, N_ROWS) for name in args.scenarios if name != "planted_topic"]
    if "planted_topic" in args.scenarios:
        todo += [("planted_topic" if i == 0 else f"planted_topic_n{n}", "planted_topic", n)
                 for i, n in enumerate(args.planted_sizes)]
    for key, name, n_rows in todo:
        runs = [run_once(name, seed, settings, classes, n_rows) for seed in range(args.seeds)]
        results["scenarios"][key] = {"n_rows": n_rows, **summarise(runs, name), "per_run": runs}
        print(key, {k: v for k, v in results["scenarios"][key].items() if k != "per_run"}, file=sys.stderr)
    if args.timing:
        results["timing"] = timing()
    results["seconds_total"] = round(time.perf_counter() - start, 1)
    write_json(args.out, results)
    print(f"text_slice_sweep: -> {args.out} ({results['seconds_total']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
