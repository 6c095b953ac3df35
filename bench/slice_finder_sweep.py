"""Does the slice finder stay quiet on null data, find a planted blind spot, and tell class mix apart? 50 seeds each.

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
  (latent ``negated``, 25% of rows), to be recovered through the ``negated_term``
  text detector. That detector fires only where a sentiment or clinical term is
  negated within its scope ("not a problem anymore"); every negated sentence of the
  generator negates one, so it should see all the planted rows and none other
  (reported: ``detector_recall_on_planted``). Target: found in >= 95% of runs.
- ``planted_conjunction``: the gap on ``age_band = 65+ and platform = android``
  (10%), a depth-2 slice whose parents carry a diluted copy of the gap.

Class mix against a blind spot of its own (the class ``negative`` is weak everywhere:
``class_error_gaps = (0.35, 0, 0)``, its error rate 0.50 against 0.15):

- ``weak_class_null``: nothing else. Every slice's errors are explained by its class
  mix, so no finding may be "of its own" (text cues such as sarcasm live in negative
  reviews, so they are worse than the rest and should land with the class mix).
- ``class_mix``: ``specialty = psychiatry`` (10%) holds about 74% negative reviews
  (class weights 8:1:1) but has no effect within any class (``error_gap = 0``).
  Target: it lands with the class mix (second group) in >= 95% of runs.
- ``within_class``: ``specialty = dermatology`` (10%, the data's class mix) with the
  20-point gap within every class. Target: a blind spot of its own (first group) in
  >= 95% of runs.

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
from blindspot.text_features import negated_term  # noqa: E402

N_ROWS = 2000
WEAK_NEGATIVE = (0.35, 0.0, 0.0)
# name -> (planted slice or None, key the audit should report, class error gaps)
SCENARIOS = {
    "null": (None, None, None),
    "planted_metadata": (synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.20, share=0.10),
                         "specialty__dermatology", None),
    "planted_negation": (synth.PlantedSlice({"negated": True}, error_gap=0.20, share=0.25), "negated_term", None),
    "planted_conjunction": (synth.PlantedSlice({"age_band": "65+", "platform": "android"}, error_gap=0.20, share=0.10),
                            "age_band__65__and__platform__android", None),
    "weak_class_null": (None, None, WEAK_NEGATIVE),
    "class_mix": (synth.PlantedSlice({"specialty": "psychiatry"}, error_gap=0.0, share=0.10, class_weights=(8, 1, 1)),
                  "specialty__psychiatry", WEAK_NEGATIVE),
    "within_class": (synth.PlantedSlice({"specialty": "dermatology"}, error_gap=0.20, share=0.10),
                     "specialty__dermatology", WEAK_NEGATIVE),
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
    plant, key, class_gaps = SCENARIOS[name]
    any_sig, any_own, any_mix, found, first, in_mix, gaps, ranks, n_tests = 0, 0, 0, 0, 0, 0, [], [], []
    top_keys, mix_keys, detector_recall = {}, {}, []
    raw_below, raw_total = 0, 0
    start = time.perf_counter()
    for seed in seeds:
        if plant is None:
            data = synth.generate(N_ROWS, seed=seed, mode="null", class_error_gaps=class_gaps)
        else:
            data = synth.generate(N_ROWS, seed=seed, mode="planted", planted=[plant], class_error_gaps=class_gaps)
            gaps.append(data.truth["planted"][0]["realised_gap"])
        audit = audit_slices(canonical(data), classes, **settings)
        n_tests.append(audit.metrics["family"]["n_tests"])
        err = (audit.tests["metric"] == "error_rate").to_numpy()
        p = np.concatenate([audit.tests["p_value"], audit.classes_tests["p_value"],
                            audit.tests["cond_p_value"][err]])
        p = p[np.isfinite(p)]
        raw_below += int((p < settings["fdr_alpha"]).sum())
        raw_total += p.size
        any_sig += any(f["significant"] for f in audit.findings if f["source"] != "class")
        own = [f for f in audit.findings if f["rank"] is not None]
        mixed = [f for f in audit.findings if f.get("class_mix_rank") is not None]
        any_own += bool(own)
        any_mix += bool(mixed)
        for f in {f["key"] for f in mixed}:
            mix_keys[f] = mix_keys.get(f, 0) + 1
        if own:
            top_keys[own[0]["key"]] = top_keys.get(own[0]["key"], 0) + 1
        if key is not None:
            keys = [f["key"] for f in own]
            if key in keys:
                found += 1
                ranks.append(keys.index(key) + 1)
            first += bool(keys) and keys[0] == key
            in_mix += key in {f["key"] for f in mixed} and key not in keys
        if key == "negated_term":
            planted = data.latent["in_planted"].to_numpy() == 0
            flagged = negated_term(data.frame["text"])
            detector_recall.append(float(np.asarray(flagged, bool)[planted].mean()))
    runs = len(seeds)
    out = {"runs": runs, "class_error_gaps": None if class_gaps is None else list(class_gaps),
           "runs_with_any_significant_slice_finding": any_sig,
           "share_with_any_significant_slice_finding": any_sig / runs,
           "runs_with_a_blind_spot_of_its_own": any_own, "share_with_a_blind_spot_of_its_own": any_own / runs,
           "runs_with_a_class_mix_finding": any_mix,
           "tests_per_run_mean": float(np.mean(n_tests)),
           # Unadjusted: the share of single tests with p < alpha (about alpha or less under the null,
           # less because Fisher's exact test is conservative on discrete counts).
           "raw_p_below_alpha_share": raw_below / raw_total if raw_total else None,
           "top_ranked_keys": dict(sorted(top_keys.items())),
           "class_mix_keys_runs": dict(sorted(mix_keys.items(), key=lambda kv: (-kv[1], kv[0]))[:12]),
           "seconds": round(time.perf_counter() - start, 1)}
    if key is not None:
        out.update(planted_predicate=dict(plant.predicate), planted_key=key, error_gap=plant.error_gap,
                   share=plant.share, class_weights=None if plant.class_weights is None else list(plant.class_weights),
                   found_own=found, found_own_share=found / runs, ranked_first=first, ranked_first_share=first / runs,
                   found_class_mix=in_mix, found_class_mix_share=in_mix / runs,
                   rank_when_found_max=max(ranks) if ranks else None,
                   realised_gap_mean=float(np.mean(gaps)), realised_gap_min=float(np.min(gaps)))
    if detector_recall:
        out["detector_recall_on_planted"] = float(np.mean(detector_recall))
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
    results = {"n_rows": N_ROWS, "seeds": f"0..{args.seeds - 1}", "mean_confidence": 0.85, "settings": settings,
               "scenarios": {}}
    for name in args.scenarios:
        results["scenarios"][name] = run_scenario(name, range(args.seeds), settings, classes)
        print(name, {k: v for k, v in results["scenarios"][name].items() if k != "top_ranked_keys"}, file=sys.stderr)
    write_json(args.out, results)
    print(f"slice_finder_sweep: -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
