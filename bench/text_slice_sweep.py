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
Everything runs through the wired audit (``audit_slices`` with ``params.yaml``'s
settings, the run's seed as the audit's seed), so what is measured is exactly what the
brief reports: the one Benjamini-Hochberg family holds the classes, every slice metric
against the rest, each slice's error rate within the true classes, the learned topics
(discovered slices of feature ``topic``, tested alone) and one cross-fitted p value per
tested error term (:mod:`blindspot.slices.terms`).

A finding *of its own* is a ranked finding (worse within the true classes): a topic
slice, or a term (source ``term``). The planted topic is *found* when a topic holding at
least half of the planted rows, with at least half of its members planted, has a ranked
finding; a planted term is found when a family word, or a phrase holding one, is a
term finding. *Rank*: the slice's place in the brief's ranked list of blind spots of their
own (one row per slice or term, ordered by its best-ranked finding; the audit's parent rule
applied), so a slice with three significant metrics takes one place, not three.
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
from blindspot.slices.terms import error_terms  # noqa: E402
from blindspot.slices.topics import learn_topics  # noqa: E402

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


def run_once(scenario: str, seed: int, settings: dict, classes: list, n_rows: int = N_ROWS) -> dict:
    """One audit with both text families wired in: what it finds, and where the planted topic lands."""
    if scenario in ("null", "weak_class_null"):
        gaps = WEAK_NEGATIVE if scenario == "weak_class_null" else None
        data = synth.generate(n_rows, seed=seed, mode="null", class_error_gaps=gaps)
        texts, planted = data.frame["text"].to_numpy(dtype=object), None
    else:
        data, texts, planted = plant_word_family(n_rows, seed)
    frame = canonical(data, texts)
    t0 = time.perf_counter()
    audit = audit_slices(frame, classes, **{**settings, "seed": seed})
    seconds = time.perf_counter() - t0
    significant = [f for f in audit.findings if f["significant"] and f["source"] != "class"]
    topic_sig = [f for f in significant if f["key"].startswith("topic_")]
    term_sig = [f for f in significant if f["source"] == "term"]
    # A slice's place in the brief's ranked list: one row per slice, ordered by its best-ranked finding
    # (a slice with several significant metrics holds several finding ranks but one row).
    best: dict = {}
    for f in significant:
        if f["rank"] is not None:
            best[f["key"]] = min(best.get(f["key"], f["rank"]), f["rank"])
    own = {key: place for place, key in enumerate(sorted(best, key=best.get), start=1)}
    text = audit.metrics["text_slices"]
    out = {"seed": seed, "family_size": audit.metrics["family"]["n_tests"], "k": text["topics"]["k"],
           "n_terms_tested": text["terms"]["n_selected"],
           "topic_significant": bool(topic_sig), "term_significant": bool(term_sig),
           "topic_own": sorted(k for k in own if k.startswith("topic_")),
           "term_own": sorted(f["slice"]["term"] for f in term_sig),
           "other_own": sorted(k for k in own if not k.startswith(("topic_", "term_"))),
           "seconds": {"audit": seconds}}
    if planted is not None:
        out.update(_planted_outcome(audit, planted, own))
    return out


def _planted_outcome(audit, planted: np.ndarray, own: dict) -> dict:
    """Whether the planted topic and a planted term are findings of their own, and their audit ranks."""
    topics = audit.text_slices["topics"]["topics"]
    match = None
    for j, topic in enumerate(topics):
        member = audit.topic_membership[:, j]
        recall, precision = member[planted].mean(), planted[member].mean() if member.any() else 0.0
        if recall >= 0.5 and precision >= 0.5 and (match is None or recall + precision > match[1]):
            match = (topic["key"], recall + precision, float(recall), float(precision), topic["name"])
    topic_key = match[0] if match and match[0] in own else None
    terms = [f for f in audit.findings if f["source"] == "term" and set(f["slice"]["term"].split()) & set(FAMILY)]
    best = min(terms, key=lambda f: f["rank"]) if terms else None
    return {"planted_topic": None if match is None else {"key": match[0], "name": match[4], "recall": match[2],
                                                           "precision": match[3]},
            "topic_found": topic_key is not None, "topic_rank": own.get(topic_key),
            "term_found": best is not None, "term_best": best["slice"]["term"] if best else None,
            "term_rank": own.get(best["key"]) if best else None,
            "top_audit_findings": sorted(own, key=own.get)[:3]}


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
           "share_other_own_finding": sum(bool(r["other_own"]) for r in runs) / n,
           "topics_k": sorted({r["k"] for r in runs}),
           "terms_tested_per_run_mean": float(np.mean([r["n_terms_tested"] for r in runs])),
           "family_size_mean": float(np.mean([r["family_size"] for r in runs])),
           "seconds_per_run_mean": {"audit": round(float(np.mean([r["seconds"]["audit"] for r in runs])), 3)}}
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
    settings = dict(asdict(cfg.slices), fdr_alpha=cfg.stats.fdr_alpha, ci_level=cfg.stats.ci_level)  # seed: per run
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
