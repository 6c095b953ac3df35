"""Scale benchmark: wall time and peak memory of every pipeline stage at 1k-1M rows.

    python bench/run_scale.py                       # 1k, 10k, 100k, 1M rows
    python bench/run_scale.py --sizes 1000 10000    # a quick look

For each size it generates synthetic predictions with text and a planted blind spot
(``blindspot.synth``), lays out a scratch workspace under ``bench/out/`` (conf/,
stages/, params.yaml composed with overrides that point ingest at the synthetic
Parquet file), and runs each stage of ``dvc.yaml`` in order as its own process, the
way ``dvc repro`` does, reading the child's peak resident memory from ``wait4``.
A stage's time includes interpreter and import start-up, as a user would see it.

It also times the bundled 979-review pipeline from cold (``dvc repro --force`` in a
copy), the figure a first-time user waits for. Results go to
``bench/results/scale.json``; ``bench/report.py`` renders the tables in
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results" / "scale.json"
BIN = Path(sys.executable).parent

sys.path.insert(0, str(ROOT / "src"))
from blindspot import synth  # noqa: E402

SYNTH_OVERRIDES = [
    "model.name=synth",
    "model.path=data/raw/synth.parquet",
    "model.columns.probabilities=null",
    "model.probability_prefix=p_",
]


def _env() -> dict:
    return dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", PYTHONPATH=str(ROOT),
                DVC_NO_ANALYTICS="1", PYTHONHASHSEED="0")


def timed(cmd: list[str] | str, cwd: Path) -> dict:
    """Run ``cmd``; return wall seconds, the child's peak RSS (MiB) and its exit status."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=_env(), shell=isinstance(cmd, str),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed in {cwd}:\n{out}\n{err}")
    # Linux reports ru_maxrss in KiB; with a shell in between it is the largest descendant.
    return {"seconds": round(wall, 3), "peak_mib": round(usage.ru_maxrss / 1024, 1), "log": err.strip().splitlines()[-1:]}


def stage_commands() -> list[tuple[str, str]]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return [(name, spec["cmd"]) for name, spec in stages.items()]


def workspace(n: int, seed: int) -> Path:
    ws = OUT / f"n{n}"
    if ws.exists():
        shutil.rmtree(ws)
    for name in ("conf", "scripts"):
        shutil.copytree(ROOT / name, ws / name)
    (ws / "data" / "raw").mkdir(parents=True)
    return ws


def run_size(n: int, seed: int) -> dict:
    ws = workspace(n, seed)
    t0 = time.perf_counter()
    data = synth.generate(n, seed=seed, mode="planted",
                          planted=[synth.PlantedSlice({"specialty": "oncology"}, error_gap=0.2, share=0.1)])
    synth.write(data, ws / "data" / "raw" / "synth.parquet")
    gen = round(time.perf_counter() - t0, 3)
    del data
    subprocess.run([sys.executable, "scripts/compose_params.py", *SYNTH_OVERRIDES], cwd=ws, env=_env(),
                   check=True, capture_output=True)
    stages = {}
    for name, cmd in stage_commands():
        stages[name] = timed(cmd, ws)
        print(f"  n={n:>9,} {name:<10} {stages[name]['seconds']:8.2f} s  {stages[name]['peak_mib']:8.0f} MiB", flush=True)
    total = round(sum(s["seconds"] for s in stages.values()), 3)
    peak = max(s["peak_mib"] for s in stages.values())
    return {"n": n, "generate_seconds": gen, "stages": stages, "total_seconds": total, "peak_mib": peak}


def bundled_cold() -> dict:
    """`dvc repro --force` on the bundled data in a fresh copy (the first-run experience)."""
    ws = OUT / "bundled"
    if ws.exists():
        shutil.rmtree(ws)
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for rel in filter(None, files.split("\0")):
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, ws / rel)
    subprocess.run("git init -q && git add -A && git -c user.name=b -c user.email=b@example.invalid commit -qm b",
                   shell=True, cwd=ws, check=True)
    return timed("dvc repro --force", ws)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    runs = []
    for n in args.sizes:
        print(f"scale: {n:,} rows", flush=True)
        runs.append(run_size(n, args.seed))
    print("scale: bundled 979-review pipeline, cold", flush=True)
    bundled = bundled_cold()
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "runs": runs,
        "bundled_cold": bundled,
    }
    # Linear cost: seconds per 1k rows at each size beyond start-up (the 1k run is ~all start-up).
    if len(runs) > 1:
        base = runs[0]["total_seconds"]
        for run in runs:
            run["seconds_per_100k_rows_above_smallest"] = round((run["total_seconds"] - base) / run["n"] * 1e5, 4)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"scale: results -> {args.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
