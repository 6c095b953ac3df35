"""Allocator benchmark: each heavy stage with glibc's adaptive mmap threshold and with a fixed 1 MiB one.

    python bench/allocator.py                  # 1M rows, 3 rounds
    python bench/allocator.py --n 100000 --repeats 1

:mod:`blindspot.memory` keeps glibc's adaptive threshold for giving a block pages of its own; an
earlier version fixed it at 1 MiB, so that every freed per-row array went back to the system at
once. This measures that trade: for every stage that reads per-row data, its in-stage time and its
process's peak resident memory under both settings, alternating within each round (which goes
first rotates) so both figures of a stage come from the same minutes of a shared machine. Each run
is the stage's ``main`` in a child process after what the stage runner does before ``main``
(:func:`blindspot.memory.use_system_allocator`) and, for the fixed setting, glibc's ``mallopt``;
the outputs of the two settings are checked to be the same bytes.

The workspace is ``bench/out/n<N>`` as ``bench/run_scale.py`` leaves it; when it holds no audit yet
one is made first (generation and one run of every stage). Results go to
``bench/results/allocator.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_scale  # noqa: E402  (the workspace, the generator and the timed child live there)

ROOT = run_scale.ROOT
RESULTS = ROOT / "bench" / "results" / "allocator.json"
STAGES = ("ingest", "profile", "slice", "calibrate", "judge", "compare")
SETTINGS = {"adaptive": None, "unmap_1MiB": 1 << 20}
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)

# The child: the runner's allocator setting (and a fixed threshold), then the stage's main; prints its
# own elapsed seconds.
CHILD = """
import ctypes, logging, sys, time
from blindspot.memory import use_system_allocator
use_system_allocator()
if {unmap_from} is not None:
    ctypes.CDLL(None).mallopt({param}, {unmap_from})
from blindspot.stages import {stage} as stage
logging.basicConfig(level=logging.WARNING)
start = time.perf_counter()
stage.main(logging.getLogger("{stage}"))
print(f"{{time.perf_counter() - start:.3f}}", file=sys.stderr)
"""


def ensure_audit(n: int, seed: int) -> Path:
    """``bench/out/n<n>`` with every stage's outputs, made when it has none."""
    ws = run_scale.OUT / f"n{n}"
    if (ws / "metrics" / "compare.json").exists() and (ws / "data" / "raw" / "synth.parquet").exists():
        return ws
    print(f"making the audit of {n:,} rows in {ws}", flush=True)
    run_scale.run_size(n, seed)
    return ws


def once(stage: str, setting: str, ws: Path) -> dict:
    """One run of ``stage`` under ``setting``: in-stage seconds, peak MiB, the outputs' digest."""
    code = CHILD.format(unmap_from=SETTINGS[setting], param=M_MMAP_THRESHOLD, stage=stage)
    got = run_scale.timed([sys.executable, "-c", code], ws)
    return {"seconds": float(got["log"][-1]), "peak_mib": got["peak_mib"],
            "digest": run_scale.digest(ws, run_scale.stage_outputs(stage))}


def measure(stage: str, ws: Path, repeats: int) -> dict:
    """Both settings of one stage, ``repeats`` rounds; medians, the ratio, and whether outputs agree."""
    runs: dict = {s: [] for s in SETTINGS}
    names = list(SETTINGS)
    for r in range(repeats):
        for setting in names[r % 2:] + names[:r % 2]:
            runs[setting].append(once(stage, setting, ws))
    digests = {run["digest"] for rs in runs.values() for run in rs}
    out = {s: {"seconds": round(statistics.median(x["seconds"] for x in rs), 3),
               "peak_mib": round(statistics.median(x["peak_mib"] for x in rs), 1),
               "seconds_runs": [x["seconds"] for x in rs], "peak_mib_runs": [x["peak_mib"] for x in rs]}
           for s, rs in runs.items()}
    a, u = out["adaptive"], out["unmap_1MiB"]
    out["time_ratio_unmap_over_adaptive"] = round(u["seconds"] / a["seconds"], 3)
    out["peak_saved_by_unmap_mib"] = round(a["peak_mib"] - u["peak_mib"], 1)
    out["outputs_identical"] = len(digests) == 1
    print(f"  {stage:<10} adaptive {a['seconds']:6.2f} s {a['peak_mib']:6.0f} MiB   unmap 1 MiB {u['seconds']:6.2f} s "
          f"{u['peak_mib']:6.0f} MiB   outputs {'identical' if out['outputs_identical'] else 'DIFFER'}", flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    ws = ensure_audit(args.n, args.seed)
    load_start = run_scale.os.getloadavg()
    stages = {stage: measure(stage, ws, args.repeats) for stage in STAGES}
    result = {"machine": {"cpus": run_scale.os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "measured_at": time.strftime("%Y-%m-%d"), "commit": run_scale.commit_of("HEAD"), "n": args.n,
              "repeats": args.repeats, "command": "python bench/allocator.py " + " ".join(argv or sys.argv[1:]),
              "loadavg_start": [round(x, 2) for x in load_start],
              "loadavg_end": [round(x, 2) for x in run_scale.os.getloadavg()], "stages": stages}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
