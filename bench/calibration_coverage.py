"""Coverage of the calibration intervals, by simulation (not a test: minutes, not seconds).

    .venv/bin/python bench/calibration_coverage.py            # full run, writes bench/results/calibration_coverage.json
    .venv/bin/python bench/calibration_coverage.py --quick    # fewer simulations, prints only

Data: three classes, logits ``z ~ N(mu, I)``; true labels drawn from ``softmax(a z)``,
the model reports ``softmax(b z)``: ``b = a`` is perfectly calibrated, ``b > a``
overconfident, ``b < a`` underconfident. The model's argmax equals the truth's, so
accuracy is the same for every ``b``: only calibration changes.

Truth: every estimand is computed from 4,000,000 draws using the exact conditional
probabilities (not sampled labels), so its Monte Carlo error (~1e-4) is far below
any interval width:

- ``ece``: ``sum_b |E[(conf - q_pred) 1{conf in b}]|`` with the 10 equal-width bins;
- ``ece_equal_mass``: the same with the population's decile edges (the estimator uses
  the sample's deciles, so this also tests that the data-dependent edges are benign);
- ``brier``, ``brier_top_label``, ``log_loss``, ``overconfidence``: their expectations.

Each simulated data set goes through :func:`blindspot.calibration.summary.calibration_summary`
exactly as the calibrate stage calls it (10 bins, 1,000 replicates, 95%); coverage is
the share of data sets whose interval contains the truth. The Monte Carlo standard
error of a coverage near 0.95 from 400 data sets is about 0.011.

For comparison, ``ece_textbook_coverage`` gives the coverage of the two textbook
intervals on the same replicates (percentile ``[q_low, q_high]`` and basic
``[2 ece - q_high, 2 ece - q_low]``, no calibration test): why the stage uses neither alone.

A second table checks the cell bootstrap against the exact row bootstrap (multinomial
row weights): the ratio of the replicate standard deviations, averaged over data sets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from blindspot.calibration.binning import bin_edges, reliability_bins  # noqa: E402
from blindspot.calibration.bootstrap import calibration_replicates  # noqa: E402
from blindspot.calibration.metrics import brier_rows, ece_from_bins  # noqa: E402
from blindspot.calibration.summary import calibration_summary  # noqa: E402
from blindspot.io.writers import write_json  # noqa: E402

OUT = ROOT / "bench" / "results" / "calibration_coverage.json"
MU = np.array([0.0, -0.8, 0.9])
SCENARIOS = {  # name: (a, b)
    "calibrated": (1.0, 1.0),
    "mildly_overconfident": (1.0, 1.15),
    "overconfident": (1.0, 1.5),
    "strongly_overconfident": (1.0, 2.0),
    "underconfident": (2.0, 1.5),
}
SIZES = (100, 300, 1000, 5000, 20000)
METRICS = ("ece", "ece_equal_mass", "overconfidence", "brier_top_label", "brier", "log_loss")
N_BINS, N_BOOT, LEVEL, SEED = 10, 1000, 0.95, 20261122


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def draw(n, a, b, rng):
    z = rng.normal(0, 1, (n, 3)) + MU
    q, p = softmax(a * z), softmax(b * z)
    y = np.minimum((rng.random(n)[:, None] > np.cumsum(q, axis=1)).sum(axis=1), 2)
    return y, p, q


def truth(a, b, n=4_000_000):
    _, p, q = draw(n, a, b, np.random.default_rng(0))
    conf, pred = p.max(1), p.argmax(1)
    q_pred = q[np.arange(n), pred]
    out = {}
    for name, edges in (("ece", bin_edges(conf, n_bins=N_BINS)),
                        ("ece_equal_mass", bin_edges(conf, n_bins=N_BINS, strategy="quantile"))):
        idx = np.searchsorted(edges[1:-1], conf)
        out[name] = float(np.abs(np.bincount(idx, conf - q_pred, minlength=N_BINS)).sum() / n)
    out["overconfidence"] = float((conf - q_pred).mean())
    out["brier_top_label"] = float((conf**2 - 2 * conf * q_pred + q_pred).mean())
    out["brier"] = float(((p**2).sum(1) - 2 * (p * q).sum(1) + 1).mean())
    out["log_loss"] = float(-(q * np.log(p)).sum(1).mean())
    out["accuracy"] = float(q_pred.mean())
    return out


def coverage(a, b, n, sims, rng, true):
    hit = {m: 0 for m in METRICS}
    width = {m: 0.0 for m in METRICS}
    textbook = {"percentile": 0, "basic": 0}
    rejected = 0
    for _ in range(sims):
        y, p, _ = draw(n, a, b, rng)
        correct, conf = p.argmax(1) == y, p.max(1)
        state = rng.bit_generator.state
        summary = calibration_summary(correct, conf, y_true=y, proba=p, n_bins=N_BINS, n_boot=N_BOOT,
                                      ci_level=LEVEL, rng=rng)
        s = summary.metrics
        for m in METRICS:
            hit[m] += s[m]["ci_low"] <= true[m] <= s[m]["ci_high"]
            width[m] += s[m]["ci_high"] - s[m]["ci_low"]
        rejected += s["ece_p_value"] <= 1 - LEVEL
        # The same replicates the summary drew (same generator state), read as textbook intervals.
        after = rng.bit_generator.state
        rng.bit_generator.state = state
        reps = calibration_replicates(correct, conf, edges_width=summary.bins.edges,
                                      edges_mass=summary.bins_equal_mass.edges, n_boot=N_BOOT, rng=rng)["ece"]
        rng.bit_generator.state = after
        q_low, q_high = np.quantile(reps, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        textbook["percentile"] += q_low <= true["ece"] <= q_high
        ece = s["ece"]["value"]
        textbook["basic"] += max(2 * ece - q_high, 0) <= true["ece"] <= 2 * ece - q_low
    return ({m: hit[m] / sims for m in METRICS}, {m: width[m] / sims for m in METRICS}, rejected / sims,
            {k: v / sims for k, v in textbook.items()})


def fidelity(a, b, n, datasets, rng, n_boot=500):
    """Mean ratio (cell bootstrap SD / exact row bootstrap SD) for ECE, equal-mass ECE and Brier."""
    ratios = {"ece": [], "ece_equal_mass": [], "brier": []}
    for _ in range(datasets):
        y, p, _ = draw(n, a, b, rng)
        correct, conf = p.argmax(1) == y, p.max(1)
        ew, em = bin_edges(conf, n_bins=N_BINS), bin_edges(conf, n_bins=N_BINS, strategy="quantile")
        br = brier_rows(y, p)
        cells = calibration_replicates(correct, conf, edges_width=ew, edges_mass=em, extra={"brier": br},
                                       n_boot=n_boot, rng=rng)
        w = rng.multinomial(n, np.full(n, 1 / n), size=n_boot)
        exact = {
            "ece": np.array([ece_from_bins(reliability_bins(correct, conf, edges=ew, sample_weight=r)) for r in w]),
            "ece_equal_mass": np.array([ece_from_bins(reliability_bins(correct, conf, edges=em, sample_weight=r))
                                        for r in w]),
            "brier": w @ br / n,
        }
        for k in ratios:
            ratios[k].append(cells[k].std() / exact[k].std())
    return {k: float(np.mean(v)) for k, v in ratios.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=400, help="data sets per scenario and size")
    ap.add_argument("--quick", action="store_true", help="100 data sets, sizes up to 1000, no file written")
    args = ap.parse_args(argv)
    sims = 100 if args.quick else args.sims
    sizes = tuple(s for s in SIZES if s <= 1000) if args.quick else SIZES
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    result = {"settings": {"n_bins": N_BINS, "n_boot": N_BOOT, "ci_level": LEVEL, "seed": SEED,
                           "datasets_per_cell": sims, "sizes": list(sizes),
                           "monte_carlo_se_at_95": round(float(np.sqrt(0.95 * 0.05 / sims)), 4)},
              "scenarios": {}}
    for name, (a, b) in SCENARIOS.items():
        true = truth(a, b)
        entry = {"a": a, "b": b, "truth": true, "by_size": []}  # a list: JSON keys would sort "1000" < "300"
        for n in sizes:
            cov, wid, rej, tb = coverage(a, b, n, sims, rng, true)
            entry["by_size"].append({"n": n, "coverage": cov, "mean_width": wid, "ece_test_rejection_rate": rej,
                                     "ece_textbook_coverage": tb})
            print(f"{name:24s} n={n:6d} " + " ".join(f"{m}={cov[m]:.3f}" for m in METRICS)
                  + f" reject={rej:.2f} pct={tb['percentile']:.3f} basic={tb['basic']:.3f}"
                  + f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        result["scenarios"][name] = entry
    result["cell_vs_row_bootstrap_sd_ratio"] = {
        f"{name}_n{n}": fidelity(*SCENARIOS[name], n, 20 if args.quick else 100, rng)
        for name, n in (("calibrated", 300), ("overconfident", 300), ("overconfident", 1000))
    }
    every = [c for s in result["scenarios"].values() for v in s["by_size"] for c in v["coverage"].items()]
    result["coverage_range"] = {m: [min(c for k, c in every if k == m), max(c for k, c in every if k == m)]
                                for m in METRICS}
    tb = [c for s in result["scenarios"].values() for v in s["by_size"] for c in v["ece_textbook_coverage"].items()]
    result["ece_textbook_coverage_range"] = {m: [min(c for k, c in tb if k == m), max(c for k, c in tb if k == m)]
                                             for m in ("percentile", "basic")}
    # Scale, for information only (machine dependent): one block at 1,000,000 rows.
    y, p, _ = draw(1_000_000, 1.0, 1.5, rng)
    t0 = time.perf_counter()
    calibration_summary(p.argmax(1) == y, p.max(1), y_true=y, proba=p, n_bins=N_BINS, n_boot=N_BOOT,
                        ci_level=LEVEL, rng=rng)
    result["seconds_one_block_1m_rows"] = round(time.perf_counter() - t0, 2)
    result["seconds_total"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"coverage_range": result["coverage_range"],
                      "ece_textbook_coverage_range": result["ece_textbook_coverage_range"],
                      "cell_vs_row_bootstrap_sd_ratio": result["cell_vs_row_bootstrap_sd_ratio"]}, indent=1))
    if not args.quick:
        write_json(OUT, result, digits=4)
        print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
