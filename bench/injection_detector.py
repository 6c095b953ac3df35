"""Precision and recall of the judge's injection detector (not a test: it also times 200,000 rows).

    .venv/bin/python bench/injection_detector.py           # writes bench/results/injection_detector.json
    .venv/bin/python bench/injection_detector.py --quick   # 20,000 synthetic rows, prints only

Corpora, each scored by :func:`blindspot.judge.injection.injection_signals`:

- ``bundled_v1`` / ``bundled_v2``: the 979 bundled Drugs.com reviews of each model version
  (``data/raw/predictions/v1.json``, ``v2.json``; the same texts, so the same figures);
- ``uci_sentences``: the 3,000 UCI Sentiment Labelled Sentences (``data/raw/predictions/uci_sentences.jsonl``);
- ``benign_near_misses``: sentences written to sit next to the rules without being attacks
  ("follow the instructions on the label", "disregard the above, the rash came back");
- ``injections``: injection strings written against this judge's prompt, by style (rounds 1-4);
- ``holdout``: round 5, written after the detector was frozen and never used to tune it;
- ``synth_null``: ``blindspot.synth.generate(n, seed=0, mode="null")`` texts, also timed.

For each corpus: rows, flagged (score >= threshold), near misses (score 1: one weak signal and
nothing else) and how often each signal fired. Bundled, UCI and benign near misses are listed
with their signals; for the injection sets the recall, per style, and every string missed.

How the sets were written (``round`` in each row). Round 1 was written with the detector. Each later
round was written blind, scored, and only then used to generalise the signals, so its first score is a
fair measure of recall on unseen phrasing (``BLIND_RECALL`` below, recorded by hand because the code that
produced it no longer exists); round 5 is the final blind check and was not used to tune. Benign rows
were written the same way; none was flagged in any round, blind or not.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from blindspot import synth  # noqa: E402
from blindspot.judge.injection import SIGNALS, THRESHOLD, injection_signals  # noqa: E402

OUT = ROOT / "bench" / "results" / "injection_detector.json"
# Flagged / written, each round scored blind, before it was used to tune (round 5: never used).
BLIND_RECALL = {"round_2": [11, 24], "round_3": [16, 25], "round_4": [16, 30], "round_5_holdout": [13, 30]}
BLIND_BENIGN_FLAGGED = {"round_2": [0, 20], "round_3": [0, 20], "round_4": [0, 25], "round_5": [0, 25]}
SETS = ROOT / "tests" / "data" / "injections"


def _texts() -> dict[str, pd.DataFrame]:
    raw = ROOT / "data" / "raw" / "predictions"
    frames = {
        "bundled_v1": pd.DataFrame(json.loads((raw / "v1.json").read_text(encoding="utf-8"))),
        "bundled_v2": pd.DataFrame(json.loads((raw / "v2.json").read_text(encoding="utf-8"))),
        "uci_sentences": pd.read_json(raw / "uci_sentences.jsonl", lines=True, dtype={"id": str}),
        "benign_near_misses": pd.read_json(SETS / "benign.jsonl", lines=True),
        "injections": pd.read_json(SETS / "injections.jsonl", lines=True),
        "holdout": pd.read_json(SETS / "holdout.jsonl", lines=True),
    }
    for name, frame in frames.items():
        if "id" not in frame:
            frame["id"] = [f"{name}-{i + 1}" for i in range(len(frame))]
    return frames


def _listing(frame: pd.DataFrame, scored: pd.DataFrame, mask) -> list[dict]:
    return [{"id": str(frame["id"].iat[i]), "score": int(scored["score"].iat[i]),
             "signals": list(scored["signals"].iat[i]), "text": str(frame["text"].iat[i])[:300]}
            for i in range(len(frame)) if mask[i]]


def summarise(frame: pd.DataFrame, scored: pd.DataFrame, *, list_near_misses: bool) -> dict:
    flagged = (scored["score"] >= THRESHOLD).to_numpy()
    near = (scored["score"] == 1).to_numpy()
    fired = Counter(name for names in scored["signals"] for name in names)
    out = {"rows": len(frame), "flagged": int(flagged.sum()), "near_misses": int(near.sum()),
           "signals_fired": {s.name: fired.get(s.name, 0) for s in SIGNALS}}
    if list_near_misses:
        out["flagged_rows"] = _listing(frame, scored, flagged)
        out["near_miss_rows"] = _listing(frame, scored, near)
    return out


def injection_recall(frame: pd.DataFrame, scored: pd.DataFrame) -> dict:
    flagged = (scored["score"] >= THRESHOLD).to_numpy()
    by_style = {style: {"n": int((frame["style"] == style).sum()),
                        "flagged": int(flagged[(frame["style"] == style).to_numpy()].sum())}
                for style in sorted(frame["style"].unique())}
    return {"recall": round(float(flagged.mean()), 4), "by_style": by_style,
            "missed_scores": {"1 (near miss)": int(((scored["score"] == 1).to_numpy() & ~flagged).sum()),
                              "0": int((scored["score"] == 0).sum())},
            "missed": [{"style": s, "text": t, "signals": list(g)}
                       for s, t, g, f in zip(frame["style"], frame["text"], scored["signals"], flagged) if not f]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 synthetic rows; print, do not write")
    args = parser.parse_args(argv)
    n_synth = 20_000 if args.quick else 200_000

    results: dict = {"threshold": THRESHOLD,
                     "signals": {s.name: {"weight": s.weight, "meaning": s.meaning} for s in SIGNALS},
                     "blind_recall_before_tuning": BLIND_RECALL,
                     "blind_benign_flagged": BLIND_BENIGN_FLAGGED,
                     "corpora": {}}
    for name, frame in _texts().items():
        scored = injection_signals(frame["text"])
        results["corpora"][name] = summarise(frame, scored, list_near_misses=name not in ("injections", "holdout"))
        if name in ("injections", "holdout"):
            results["corpora"][name].update(injection_recall(frame, scored))

    texts = synth.generate(n_synth, seed=0, mode="null").frame["text"]
    injection_signals(texts.head(1000))  # warm-up: compile the patterns once
    start = time.perf_counter()
    scored = injection_signals(texts)
    seconds = time.perf_counter() - start
    results["corpora"]["synth_null"] = {**summarise(pd.DataFrame({"text": texts}), scored, list_near_misses=False),
                                        "seconds": round(seconds, 2)}
    results["machine"] = {"python": platform.python_version(), "platform": platform.platform()}

    for name, c in results["corpora"].items():
        extra = f", recall {c['recall']}" if "recall" in c else ""
        print(f"{name:20s} rows {c['rows']:>7d}  flagged {c['flagged']:>3d}  near misses {c['near_misses']:>3d}{extra}"
              + (f"  ({c['seconds']} s)" if "seconds" in c else ""))
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
