"""Does the slice finder stay quiet on null data and find a planted blind spot? 50 seeds each.

    .venv/bin/python bench/slice_finder_sweep.py            # writes bench/results/slice_finder_sweep.json
    .venv/bin/python bench/slice_finder_sweep.py --seeds 10 # quicker look

Data: ``blindspot.synth`` reviews, n = 2,000 per run, three classes, a calibrated
simulated model with mean confidence 0.85 (so about 15% errors), metadata age_band,
platform, specialty, app_version, and text whose negation / sarcasm / mixed / jargon
register the text detectors can recover.

Scenarios
---------
- ``null``: errors independent of every feature. Reported: the share of runs with
  *any* significant finding (class or slice), target about 5% at most; and, as a check
  that the tests are not simply dead, the share of single unadjusted tests with
  p < alpha (about alpha, somewhat less for a discrete exact test).
- ``planted_metadata`` (the acceptance scenario): one slice, ``specialty =
  dermatology``, on 10% of rows, error rate 20 points above the rest. Reported: share
  of runs where it is among the reported blind spots (target >= 95%) and where it is
  ranked first (target >= 90%).
- ``planted_negation``: the same gap on reviews the generator wrote with a negation
  (latent ``negated``, 10%), to be recovered through the ``negation`` text detector.
- ``planted_conjunction``: the gap on ``age_band = 65+ and platform = android``
  (10%), a depth-2 slice whose parents carry a diluted copy of the gap.

Slice settings are those of ``params.yaml`` (``slices`` and ``stats``), including its
watchlist (keys absent from synthetic data are reported as unresolved, untested).
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

N_ROWS = 2000
SCENARIOS = {
    "null": None,
    "planted_metadata": ({"specialty": "dermatology"}, "specialty__dermatology"),
    "planted_negation": ({"negated": True}, "negation"),
    "planted_conjunction": ({"age_band": "65+", "platform": "android"}, "age_band__65__and__platform__android"),
}


def canonical(data: synth.SynthData) -> pd.DataFrame:
    """The canonical predictions table ingest would build from ``data.frame``."""
    f = data.frame
    code = {c: i for i, c in enumerate(data.classes)}
    out = pd.DataFrame({"id": f["id"].astype("string"), "text": f["text"].astype("string"),
                        "label": f["label"].astype("string"), "prediction": f["prediction"].astype("string"),
                        "y_true": f["label"].map(code).to_numpy(np.int8),
                        "y_pred": f["prediction"].map(code).to_numpy(np.int8)})
    out["correct"] = out["y_true"] == out["y_pred"]
    for col in synth.METADATA_COLUMNS:
        out[f"meta__{col}"] = f[col].astype("string")
    return out


def run_scenario(name: str, seeds: range, settings: dict, classes: list[str]) -> dict:
    spec = SCENARIOS[name]
    any_sig, found, first, gaps, ranks, n_tests, top_keys = 0, 0, 0, [], [], [], {}
    raw_below, raw_total = 0, 0
    start = time.perf_counter()
    for seed in seeds:
        if spec is None:
            data = synth.generate(N_ROWS, seed=seed, mode="null")
        else:
            plant = synth.PlantedSlice(spec[0], error_gap=0.20, share=0.10)
            data = synth.generate(N_ROWS, seed=seed, mode="planted", planted=[plant])
            gaps.append(data.truth["planted"][0]["realised_gap"])
        audit = audit_slices(canonical(data), classes, **settings)
        n_tests.append(audit.metrics["family"]["n_tests"])
        p = np.concatenate([audit.tests["p_value"], audit.classes_tests["p_value"]])
        p = p[np.isfinite(p)]
        raw_below += int((p < settings["fdr_alpha"]).sum())
        raw_total += p.size
        any_sig += any(f["significant"] for f in audit.findings)
        ranked = [f for f in audit.findings if f["rank"] is not None]
        if ranked:
            top_keys[ranked[0]["key"]] = top_keys.get(ranked[0]["key"], 0) + 1
        if spec is not None:
            keys = [f["key"] for f in ranked]
            if spec[1] in keys:
                found += 1
                ranks.append(keys.index(spec[1]) + 1)
            first += bool(keys) and keys[0] == spec[1]
    runs = len(seeds)
    out = {"runs": runs, "runs_with_any_significant_finding": any_sig,
           "share_with_any_significant_finding": any_sig / runs,
           "tests_per_run_mean": float(np.mean(n_tests)),
           # Unadjusted: the share of single tests with p < alpha (about alpha or less under the null,
           # less because Fisher's exact test is conservative on discrete counts).
           "raw_p_below_alpha_share": raw_below / raw_total if raw_total else None,
           "top_ranked_keys": dict(sorted(top_keys.items())),
           "seconds": round(time.perf_counter() - start, 1)}
    if spec is not None:
        out.update(planted_predicate=spec[0], planted_key=spec[1], found=found, found_share=found / runs,
                   ranked_first=first, ranked_first_share=first / runs,
                   rank_when_found_max=max(ranks) if ranks else None,
                   realised_gap_mean=float(np.mean(gaps)), realised_gap_min=float(np.min(gaps)))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--out", default=str(ROOT / "bench/results/slice_finder_sweep.json"))
    args = parser.parse_args(argv)
    cfg = load_params(ROOT / "params.yaml")
    settings = dict(asdict(cfg.slices), fdr_alpha=cfg.stats.fdr_alpha, ci_level=cfg.stats.ci_level)
    classes = list(synth.DEFAULT_CLASSES)
    results = {"n_rows": N_ROWS, "seeds": f"0..{args.seeds - 1}", "error_gap": 0.20, "planted_share": 0.10,
               "mean_confidence": 0.85, "settings": settings, "scenarios": {}}
    for name in args.scenarios:
        results["scenarios"][name] = run_scenario(name, range(args.seeds), settings, classes)
        print(name, {k: v for k, v in results["scenarios"][name].items() if k != "top_ranked_keys"}, file=sys.stderr)
    write_json(args.out, results)
    print(f"slice_finder_sweep: -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
