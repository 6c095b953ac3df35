"""Peak memory and time of the paired comparison as the number of classes grows.

    python bench/compare_classes.py                               # K = 3, 10, 30, 100 on 1,000,000 rows
    python bench/compare_classes.py --classes 100 --rows 200000   # a quick look

The joint table of a paired comparison has ``4 K^3`` cells (true class x baseline
prediction x current prediction x two flags): four million at K = 100. Each K runs in
a child process of its own (``--child``), so its peak resident memory (``wait4``) is the
comparison's alone: two synthetic prediction tables with ids, ``K`` classes (uniform
gold labels; each model right 80% / 82% of the time, wrong uniformly among the other
classes, so about ``n`` rows spread over ``K^3`` cells), five watchlist slices, and
:func:`blindspot.compare.compare_predictions` with the settings of ``params.yaml``
(1,000 bootstrap replicates). The child also samples its resident memory every 5 ms
while the comparison runs: the input tables' share and the comparison's own rise are
told apart. Results go to ``bench/results/compare_classes.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "compare_classes.json"
TARGET_MIB = 1000 / 1.048576  # 1 GB


def child(n: int, k: int, seed: int) -> dict:
    """Run one comparison in this process; return its time (peak memory is read by the parent)."""
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np
    import pandas as pd
    import yaml

    from blindspot.compare import compare_predictions

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    rng = np.random.default_rng(seed)
    classes = [f"c{j:03d}" for j in range(k)]
    ids = np.char.add("r", np.arange(n).astype(str)).astype(object)
    y = rng.integers(0, k, n)

    def model(accuracy: float) -> pd.DataFrame:
        wrong = rng.random(n) >= accuracy
        pred = np.where(wrong, (y + rng.integers(1, k, n)) % k, y)
        return pd.DataFrame({"id": ids, "y_true": y, "y_pred": pred, "confidence": rng.uniform(1 / k, 1, n)})

    current, baseline = model(0.80), model(0.82)
    masks = {f"s{j}": rng.random(n) < share for j, share in enumerate((0.5, 0.2, 0.1, 0.05, 0.02))}
    before = rss_mib()
    top, stop = [before], threading.Event()

    def watch():  # the resident set's maximum while the comparison runs
        while not stop.wait(0.005):
            top[0] = max(top[0], rss_mib())

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    start = time.perf_counter()
    out = compare_predictions(current, baseline, classes, masks, confident_threshold=params["compare"]["confident_threshold"],
                              n_boot=params["stats"]["n_boot"], level=params["stats"]["ci_level"],
                              fdr_alpha=params["stats"]["fdr_alpha"], seed=seed, min_rows=params["compare"]["min_rows"])
    seconds = time.perf_counter() - start
    stop.set()
    thread.join()
    return {"seconds": round(seconds, 3), "n_tests": out["family"]["n_tests"], "n_boot": params["stats"]["n_boot"],
            "inputs_mib": round(before, 1), "during_mib": round(max(top[0], rss_mib()), 1)}


def rss_mib() -> float:
    """This process's resident set size now (Linux), MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(n: int, k: int, seed: int) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--rows", str(n), "--classes", str(k),
           "--seed", str(seed)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=dict(os.environ, PYTHONHASHSEED="0"))
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed")
    return {"rows": n, "classes": k, "cells": 4 * k ** 3, "peak_mib": round(usage.ru_maxrss / 1024, 1),
            "wall_seconds": round(time.perf_counter() - start, 3), **json.loads(out)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, nargs="+", default=[3, 10, 30, 100])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.rows, args.classes[0], args.seed)))
        return 0
    runs = []
    for k in args.classes:
        print(f"compare_classes: {args.rows:,} rows, {k} classes ...", flush=True)
        runs.append(run(args.rows, k, args.seed))
        r = runs[-1]
        print(f"  K={k:>3}: {r['seconds']:.1f} s in compare_predictions, resident {r['inputs_mib']:.0f} MiB with the "
              f"inputs, at most {r['during_mib']:.0f} MiB during it; process peak {r['peak_mib']:.0f} MiB "
              f"({r['cells']:,} cells, {r['n_tests']} tests)", flush=True)
    result = {"measured_at": time.strftime("%Y-%m-%d"), "cpus": os.cpu_count(), "target_mib": round(TARGET_MIB, 1),
              "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"compare_classes: results -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
