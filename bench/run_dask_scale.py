"""Scale benchmark for engine=dask: every process's peak and the sum of all, at 1M-10M rows.

    python bench/run_dask_scale.py                                   # 1M, 3M, 10M rows, 2 workers
    python bench/run_dask_scale.py --sizes 1000000 --workers 1 2     # 1 worker against 2, same input

For each size it writes ``blindspot.synth`` reviews as a directory of Parquet partitions
(``--partition-rows`` rows each; one partition generated at a time, in a child process, so
the generator's memory never counts) plus the baseline model version on the same reviews as
one Parquet file, lays out a scratch workspace under ``bench/out/dask-n<N>`` with
``engine=dask`` and a LocalCluster of ``--workers`` worker processes (one thread each), and
runs every stage of ``dvc.yaml`` in dependency order as its own process, as ``dvc repro``
does.

Memory, per stage, two ways:

- ``peak_process_mib``: the largest peak resident set of any one process of the stage: the
  stage process, the Dask scheduler thread it hosts, the nannies and workers it starts. It is
  the larger of ``wait4``'s figure (the largest of the stage and every descendant it waited
  for) and the largest RSS sampled.
- ``stage_process_mib``: the largest resident set sampled of the stage's own process (the one
  running ``blindspot.stages``: what stays on the driver), apart from its workers.
- ``peak_total_mib``: the largest sum of the resident sets of the stage's whole process tree,
  sampled every ``--every`` seconds (a sample can miss a spike shorter than that; shared
  pages such as the interpreter's are counted once per process, so the sum errs high).

Writes ``bench/results/scale_dask.json``; the tables in bench/README.md come from it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run_scale  # noqa: E402 (the scale bench's workspace, stage order and timing helpers)

ROOT = run_scale.ROOT
RESULTS = ROOT / "bench" / "results" / "scale_dask.json"


class TreeSampler(threading.Thread):
    """Samples the resident memory of a process and all its descendants until stopped.

    Attributes
    ----------
    per_process : dict of int to float
        Largest RSS seen per pid, MiB.
    peak_total : float
        Largest sum over the tree at one sample, MiB.
    most_processes : int
        Largest number of processes seen at one sample.
    """

    def __init__(self, pid: int, every: float):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.per_process: dict[int, float] = {}
        self.stage_pids: set = set()
        self.peak_total, self.most_processes = 0.0, 0
        self.halt = threading.Event()

    def sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
            tree = [root] + root.children(recursive=True)
        except psutil.Error:
            return
        total = 0.0
        for proc in tree:
            try:
                rss = proc.memory_info().rss / 2**20
            except psutil.Error:  # ended between the listing and the read
                continue
            total += rss
            self.per_process[proc.pid] = max(self.per_process.get(proc.pid, 0.0), rss)
            if proc.pid not in self.stage_pids:
                try:
                    if "blindspot.stages" in " ".join(proc.cmdline()):
                        self.stage_pids.add(proc.pid)
                except psutil.Error:
                    pass
        self.peak_total = max(self.peak_total, total)
        self.most_processes = max(self.most_processes, len(tree))

    def run(self) -> None:
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(self.every)


def run_stage(cmd: str, ws: Path, every: float) -> dict:
    """One stage as its own process: wall time, the two memory figures, its last log line."""
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ws, env=run_scale._env(), shell=True, stdout=fout, stderr=ferr)
        sampler = TreeSampler(proc.pid, every)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        sampler.halt.set()
        sampler.join()
        ferr.seek(0)
        err = ferr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed in {ws}:\n{err}")
    log = err.strip().splitlines()[-1:]
    sampled = max(sampler.per_process.values(), default=0.0)
    return {"seconds": round(wall, 3), "inner_seconds": run_scale._inner_seconds(log),
            "peak_process_mib": round(max(usage.ru_maxrss / 1024, sampled), 1),
            "peak_total_mib": round(max(sampler.peak_total, usage.ru_maxrss / 1024), 1),
            "stage_process_mib": round(max((sampler.per_process[p] for p in sampler.stage_pids), default=0.0), 1),
            "processes": sampler.most_processes, "log": log}


def generate(n: int, seed: int, partition_rows: int, raw: Path) -> None:
    """The partitions of the planted model and the baseline file (null model, same reviews).

    Each partition is its own ``blindspot.synth`` draw (seed ``seed * 1000 + k``) with ids
    prefixed by the partition number, so ids stay unique; one partition is in memory at a time.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT / "src"))
    from blindspot import synth

    parts = raw / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    writer = None
    for k, start in enumerate(range(0, n, partition_rows)):
        rows, part_seed = min(partition_rows, n - start), seed * 1000 + k
        for mode in ("planted", "null"):
            planted = [synth.PlantedSlice(**run_scale.PLANTED)] if mode == "planted" else []
            frame = synth.generate(rows, seed=part_seed, mode=mode, planted=planted).frame
            frame["id"] = f"p{k:04d}-" + frame["id"].astype(str)
            if mode == "planted":
                frame.to_parquet(parts / f"part-{k:04d}.parquet", index=False)
            else:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(raw / "synth_baseline.parquet", table.schema, compression="zstd")
                writer.write_table(table)
            del frame
    writer.close()


def git_head() -> str:
    """The commit the measured code is at (and "+changes" when the work tree differs from it)."""
    sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "src"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.strip()
    return sha + ("+changes" if dirty else "")


def run_size(n: int, seed: int, partition_rows: int, workers: int, every: float, only=None) -> dict:
    ws = run_scale.OUT / f"dask-n{n}"
    raw = ws / "data" / "raw"
    if not (raw / "synth_baseline.parquet").exists():  # the input is kept between runs of the same size
        if ws.exists():
            shutil.rmtree(ws)
        ws.mkdir(parents=True)
        gen = run_scale.timed([sys.executable, str(Path(__file__).resolve()), "--generate", str(n), "--seed",
                               str(seed), "--partition-rows", str(partition_rows), "--raw", str(raw)], ws)
        print(f"  generated {n:,} rows in {gen['seconds']:.1f} s", flush=True)
    for name in ("conf", "scripts"):
        shutil.rmtree(ws / name, ignore_errors=True)
        shutil.copytree(ROOT / name, ws / name)
    overrides = [o for o in run_scale.SYNTH_OVERRIDES if not o.startswith("model.path=")]
    overrides += ["model.path=data/raw/parts", "engine=dask", f"dask.n_workers={workers}",
                  "dask.threads_per_worker=1"]
    subprocess.run([sys.executable, "scripts/compose_params.py", *overrides], cwd=ws, env=run_scale._env(),
                   check=True, capture_output=True)
    load_start = os.getloadavg()
    stages = {}
    for name, cmd in run_scale.stage_commands():
        if only and name not in only:
            continue
        stages[name] = run_stage(cmd, ws, every)
        s = stages[name]
        print(f"  n={n:>11,} workers={workers} {name:<10} {s['seconds']:8.2f} s  one process "
              f"{s['peak_process_mib']:7.0f} MiB  all {s['peak_total_mib']:7.0f} MiB ({s['processes']} processes)",
              flush=True)
    return {"n": n, "workers": workers, "partition_rows": partition_rows, "commit": git_head(),
            "partitions": -(-n // partition_rows), "stages": stages,
            "total_seconds": round(sum(s["seconds"] for s in stages.values()), 3),
            "peak_process_mib": max(s["peak_process_mib"] for s in stages.values()),
            "peak_total_mib": max(s["peak_total_mib"] for s in stages.values()),
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument("--workers", type=int, nargs="+", default=[2],
                        help="LocalCluster worker processes; several values run each size once per value")
    parser.add_argument("--partition-rows", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=float, default=0.2, help="seconds between two memory samples")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--stages", nargs="+", metavar="STAGE",
                        help="run only these stages, on the outputs an earlier run left in the workspace "
                             "(to measure one stage again after a change)")
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)  # child mode: write the input files
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.generate, args.seed, args.partition_rows, args.raw)
        return 0
    runs = []
    for n in args.sizes:
        for workers in args.workers:
            print(f"dask scale: {n:,} rows, {workers} worker(s)", flush=True)
            runs.append(run_size(n, args.seed, args.partition_rows, workers, args.every, args.stages))
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "measured_at": time.strftime("%Y-%m-%d"), "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"dask scale: results -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
