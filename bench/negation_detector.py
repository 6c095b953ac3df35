"""The scoped negation detector against the retired one: precision, recall, firing rates, time.

    .venv/bin/python bench/negation_detector.py               # writes bench/results/negation_detector.json
    .venv/bin/python bench/negation_detector.py --rows 20000  # a quicker timing run

- Precision and recall of :func:`blindspot.text_features.negated_term` (slice key
  ``negated_term``) and of the retired :func:`~blindspot.text_features.negation` (any
  negator anywhere) on the 100 hand-labelled bundled reviews of
  ``tests/data/negation/labelled.jsonl`` (the question: does the review negate a sentiment
  or clinical term?), with Wilson 95% intervals; recall also on the reviews whose negation
  uses an explicit cue (two only use "unable" or "lack of", which neither detector reads).
- Firing rates on the 979 bundled reviews (``data/raw/predictions/v1.json``) and the 3,000
  UCI sentences (``data/raw/predictions/uci_sentences.jsonl``).
- Agreement with the synthetic generator's latent ``negated`` flag (``blindspot.synth``),
  which the slice-finder sweep's ``planted_negation`` scenario relies on.
- Wall time of each detector on ``blindspot.synth`` null data (``--rows``, default
  200,000, seed 0), best of ``--repeats`` runs, each on fresh texts (nothing cached),
  on this machine.

Everything but the timing is deterministic; ``tests/test_text_features.py`` holds the
precision and recall floors measured here.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest

ROOT = Path(__file__).resolve().parents[1]

from blindspot import synth  # noqa: E402
from blindspot import text_features as tf  # noqa: E402
from blindspot.io.writers import write_json  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "negation" / "labelled.jsonl"
BUNDLED = ROOT / "data" / "raw" / "predictions" / "v1.json"
UCI = ROOT / "data" / "raw" / "predictions" / "uci_sentences.jsonl"
RESULTS = ROOT / "bench" / "results" / "negation_detector.json"
DETECTORS = {"negated_term": tf.negated_term, "negation_retired": tf.negation}


def load_labelled(path: Path = LABELLED) -> pd.DataFrame:
    """The hand-labelled sample: id, text, label (bool), cue (explicit | implicit | none)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    frame = pd.DataFrame(rows)
    frame["label"] = frame["label"].map({"yes": True, "no": False})
    return frame


def _share(k: int, n: int) -> dict:
    if n == 0:
        return {"value": None, "k": k, "n": n, "reason": "no rows"}
    ci = binomtest(k, n).proportion_ci(0.95, method="wilson")
    return {"value": k / n, "ci_low": ci.low, "ci_high": ci.high, "k": k, "n": n}


def scores(fires: np.ndarray, label: np.ndarray, explicit: np.ndarray) -> dict:
    """Confusion counts, precision and recall (Wilson 95%) of one detector on the labelled sample.

    Parameters
    ----------
    fires, label, explicit : ndarray of bool, shape (n,)
        Detector output, hand label, and whether the labelled negation uses an explicit cue.
    """
    tp = int((fires & label).sum())
    fp = int((fires & ~label).sum())
    fn = int((~fires & label).sum())
    tn = int((~fires & ~label).sum())
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "fires": int(fires.sum()),
            "precision": _share(tp, tp + fp), "recall": _share(tp, tp + fn),
            "recall_explicit_cue": _share(int((fires & explicit).sum()), int(explicit.sum()))}


def firing(texts: pd.Series) -> dict:
    return {name: _share(int(fn(texts).sum()), len(texts)) for name, fn in DETECTORS.items()}


def timing(rows: int, repeats: int) -> dict:
    texts = synth.generate(rows, seed=0, mode="null").frame["text"]
    out = {"rows": rows, "distinct_texts": int(texts.nunique()), "repeats": repeats}
    for name, fn in DETECTORS.items():
        best = np.inf
        for _ in range(repeats):
            start = time.perf_counter()
            fn(texts.copy())  # prepare() runs inside: lower-casing and deduplication are timed too
            best = min(best, time.perf_counter() - start)
        out[f"{name}_seconds"] = best
    out["ratio_new_to_old"] = out["negated_term_seconds"] / out["negation_retired_seconds"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000, help="synthetic rows to time on (0: skip timing)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    sample = load_labelled()
    label = sample["label"].to_numpy(bool)
    explicit = (sample["cue"] == "explicit").to_numpy(bool)
    texts = sample["text"].astype("str")
    labelled = {name: scores(fn(texts), label, explicit) for name, fn in DETECTORS.items()}

    bundled = pd.Series([r["text"] for r in json.loads(BUNDLED.read_text(encoding="utf-8"))], dtype="str")
    uci = pd.Series([json.loads(line)["text"] for line in UCI.read_text(encoding="utf-8").splitlines()
                     if line.strip()], dtype="str")
    data = synth.generate(20_000, seed=0, mode="null")
    latent = data.latent["negated"].to_numpy(bool)
    synthetic = {name: {"fires_on_latent_negated": _share(int(fn(data.frame["text"])[latent].sum()), int(latent.sum())),
                        "fires_on_latent_plain": _share(int(fn(data.frame["text"])[~latent].sum()),
                                                        int((~latent).sum()))}
                 for name, fn in DETECTORS.items()}

    result = {
        "schema_version": 1,
        "labelled_sample": {"path": str(LABELLED.relative_to(ROOT)), "n": len(sample),
                            "labelled_yes": int(label.sum()), "labelled_yes_explicit_cue": int(explicit.sum()),
                            "detectors": labelled},
        "firing_rate": {"bundled_v1": firing(bundled), "uci_sentences": firing(uci)},
        "synthetic_latent_negated": {"rows": 20_000, "seed": 0, "detectors": synthetic},
        "negation_window": tf.NEGATION_WINDOW,
        "n_targets": len(tf.negation_targets()),
    }
    if args.rows > 0:
        result["timing"] = {**timing(args.rows, args.repeats), "machine": platform.platform(),
                            "python": sys.version.split()[0]}
    write_json(args.out, result)
    new, old = labelled["negated_term"], labelled["negation_retired"]
    print(f"negated_term: precision {new['precision']['value']:.3f} recall {new['recall']['value']:.3f} "
          f"(retired negation: {old['precision']['value']:.3f} / {old['recall']['value']:.3f}); "
          f"fires on {result['firing_rate']['bundled_v1']['negated_term']['k']} of {len(bundled)} bundled reviews "
          f"(retired: {result['firing_rate']['bundled_v1']['negation_retired']['k']}); wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
