"""Scale benchmark: wall time and peak memory of every pipeline stage at 1k-1M rows.

    python bench/run_scale.py                       # 1k, 10k, 100k, 1M rows
    python bench/run_scale.py --sizes 1000 10000    # a quick look

For each size it generates synthetic predictions with text and a planted blind spot
(``blindspot.synth``, in a child process) plus a baseline model version on the same
reviews for the compare stage, lays out a scratch workspace under ``bench/out/``
(conf/, scripts/, params.yaml composed with overrides that point ingest and compare
at the synthetic Parquet files), and runs each stage of ``dvc.yaml`` in dependency
order as its own process, the way ``dvc repro`` does, reading the child's peak
resident memory from ``wait4``. A stage's time includes interpreter and import
start-up, as a user would see it; its own log line gives the time inside the stage.

It also times the bundled 979-review pipeline from cold (``dvc repro --force`` in a
copy), the figure a first-time user waits for. Results go to
``bench/results/scale.json``; ``bench/report.py`` renders the tables in
``bench/README.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "results" / "scale.json"
BIN = Path(sys.executable).parent

SYNTH_OVERRIDES = [
    "model.name=synth",
    "model.path=data/raw/synth.parquet",
    "model.columns.probabilities=null",
    "model.probability_prefix=p_",
    # The compare stage pairs the model with a baseline version scored on the same reviews:
    # the same seed in null mode (same ids and labels, no planted blind spot).
    "compare.baseline.name=synth_null",
    "compare.baseline.path=data/raw/synth_baseline.parquet",
]
# The planted blind spot (blindspot.synth.PlantedSlice arguments): bench/peers.py plants the same.
PLANTED = {"predicate": {"specialty": "oncology"}, "error_gap": 0.2, "share": 0.1}


def _env(src: Path = ROOT / "src") -> dict:
    # The checkout's own code first (the venv's editable install may point at another checkout).
    return dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", PYTHONPATH=f"{src}:{ROOT}",
                DVC_NO_ANALYTICS="1", PYTHONHASHSEED="0")


def reference_src(rev: str) -> Path:
    """``src/`` of git revision ``rev``, exported under ``bench/out/`` (the code the figures are set against)."""
    sha = subprocess.run(["git", "rev-parse", "--short=12", rev], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    dest = OUT / f"ref-{sha}"
    if not (dest / "src").exists():
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(f"git archive {sha} src | tar -x -C {dest}", shell=True, cwd=ROOT, check=True)
    return dest / "src"


def stage_outputs(name: str) -> list[str]:
    """The files and folders a stage of dvc.yaml writes (outs, metrics, plots)."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"][name]
    return [next(iter(e)) if isinstance(e, dict) else e for key in ("outs", "metrics", "plots")
            for e in spec.get(key, []) or []]


def _content(path: Path) -> bytes:
    """A file's bytes; a Parquet file's rows and schema instead (its row groups may differ between
    versions of the code, e.g. the 131,072-row groups ingest writes since issue 15, with equal content)."""
    if path.suffix != ".parquet":
        return path.read_bytes()
    # In a child process: a table read here would stay in this process's memory, and every stage
    # process forked from it afterwards would report that as its own peak (ru_maxrss counts the
    # image before exec).
    code = ("import hashlib, sys, pyarrow as pa, pyarrow.parquet as pq\n"
            "t = pq.read_table(sys.argv[1]).combine_chunks(); sink = pa.BufferOutputStream()\n"
            "w = pa.ipc.new_stream(sink, t.schema); w.write_table(t); w.close()\n"
            "print(hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest())")
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          check=True).stdout.encode()


def digest(ws: Path, names: list[str]) -> str:
    """One sha256 over the content of every file under ``names`` in ``ws`` (sorted paths; see :func:`_content`)."""
    h = hashlib.sha256()
    for name in names:
        path = ws / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path] if path.exists() else []
        for f in files:
            h.update(str(f.relative_to(ws)).encode() + b"\0" + _content(f))
    return h.hexdigest()


def timed(cmd: list[str] | str, cwd: Path, src: Path = ROOT / "src") -> dict:
    """Run ``cmd``; return wall seconds, the child's peak RSS (MiB) and its exit status."""
    # Output goes to files, not pipes: a child filling a pipe nobody reads until wait4 returns would hang.
    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=_env(src), shell=isinstance(cmd, str), stdout=fout, stderr=ferr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        fout.seek(0)
        ferr.seek(0)
        out, err = fout.read().decode(errors="replace"), ferr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed in {cwd}:\n{out}\n{err}")
    # Linux reports ru_maxrss in KiB; with a shell in between it is the largest descendant.
    return {"seconds": round(wall, 3), "peak_mib": round(usage.ru_maxrss / 1024, 1), "log": err.strip().splitlines()[-1:]}


def stage_commands() -> list[tuple[str, str]]:
    """Stages of dvc.yaml in an order DVC could run them: every stage after the stages whose
    outputs it reads (dvc.yaml's own order is free: DVC runs by the dependency graph)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]

    def outs(spec) -> set[str]:
        found = set()
        for key in ("outs", "metrics", "plots"):
            for entry in spec.get(key, []) or []:
                found.add(next(iter(entry)) if isinstance(entry, dict) else entry)
        return found

    producer = {out: name for name, spec in stages.items() for out in outs(spec)}
    needs = {name: {producer[d] for d in spec.get("deps", []) if producer.get(d, name) != name}
             for name, spec in stages.items()}
    order: list[str] = []
    while len(order) < len(stages):
        ready = [name for name in stages if name not in order and needs[name] <= set(order)]
        if not ready:
            raise RuntimeError(f"dependency cycle among {sorted(set(stages) - set(order))}")
        order.append(ready[0])  # first ready stage in file order: deterministic
    return [(name, stages[name]["cmd"]) for name in order]


def _inner_seconds(log: list[str]) -> float | None:
    """The stage's own elapsed time from its last log line ("... (12.3 s)"): wall time minus start-up."""
    match = re.search(r"\((\d+(?:\.\d+)?) s\)\s*$", log[-1]) if log else None
    return float(match.group(1)) if match else None


def workspace(n: int, seed: int) -> Path:
    ws = OUT / f"n{n}"
    if ws.exists():
        shutil.rmtree(ws)
    for name in ("conf", "scripts"):
        shutil.copytree(ROOT / name, ws / name)
    (ws / "data" / "raw").mkdir(parents=True)
    return ws


def generate(n: int, seed: int, raw: Path) -> None:
    """Write the synthetic model (planted) and its baseline version (null, same reviews) under ``raw``.

    Runs in its own process (``--generate``): a child forked from a parent holding a million
    rows would report the parent's memory as its own peak (Linux counts the pre-exec image).
    """
    sys.path.insert(0, str(ROOT / "src"))
    from blindspot import synth

    data = synth.generate(n, seed=seed, mode="planted", planted=[synth.PlantedSlice(**PLANTED)])
    synth.write(data, raw / "synth.parquet")
    del data
    synth.write(synth.generate(n, seed=seed, mode="null"), raw / "synth_baseline.parquet")


def run_stage(name: str, cmd: str, ws: Path, n: int, ref: Path | None) -> tuple[dict, dict | None]:
    """One stage with this checkout's code, after the reference code when there is one.

    The reference runs first and its outputs' digest is kept: the current code must then
    write the same bytes (``identical``), and both figures come from the same minute of a
    shared machine. The later stages read the current code's outputs.
    """
    before = None
    if ref is not None:
        before = timed(cmd, ws, ref)
        before["inner_seconds"] = _inner_seconds(before["log"])
        before["digest"] = digest(ws, stage_outputs(name))
    now = timed(cmd, ws)
    now["inner_seconds"] = _inner_seconds(now["log"])
    line = f"  n={n:>9,} {name:<10} {now['seconds']:8.2f} s  {now['peak_mib']:8.0f} MiB"
    if before is not None:
        now["identical"] = digest(ws, stage_outputs(name)) == before.pop("digest")
        line += (f"   reference {before['seconds']:8.2f} s {before['peak_mib']:8.0f} MiB   outputs "
                 f"{'identical' if now['identical'] else 'DIFFER'}")
    print(line, flush=True)
    return now, before


def run_size(n: int, seed: int, ref: Path | None = None) -> dict:
    ws = workspace(n, seed)
    load_start = os.getloadavg()
    gen = timed([sys.executable, str(Path(__file__).resolve()), "--generate", str(n), "--seed", str(seed),
                 "--raw", str(ws / "data" / "raw")], ws)
    subprocess.run([sys.executable, "scripts/compose_params.py", *SYNTH_OVERRIDES], cwd=ws, env=_env(),
                   check=True, capture_output=True)
    stages, reference = {}, {}
    for name, cmd in stage_commands():
        stages[name], reference[name] = run_stage(name, cmd, ws, n, ref)
    out = {"n": n, "generate_seconds": gen["seconds"], "generate_peak_mib": gen["peak_mib"], "stages": stages,
           "total_seconds": round(sum(s["seconds"] for s in stages.values()), 3),
           "peak_mib": max(s["peak_mib"] for s in stages.values()), "loadavg_start": [round(x, 2) for x in load_start],
           "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    if ref is not None:
        out["reference"] = {"stages": reference, "total_seconds": round(sum(s["seconds"] for s in reference.values()), 3),
                            "peak_mib": max(s["peak_mib"] for s in reference.values())}
    return out


def bundled_cold(repeats: int = 3) -> dict:
    """`dvc repro --force` on the bundled data in a fresh copy (the first-run experience).

    Each repeat starts from a new copy; the median is the figure quoted (a shared machine's
    other work only ever adds time), with every run kept beside it.
    """
    ws = OUT / "bundled"
    runs = []
    for _ in range(repeats):
        if ws.exists():
            shutil.rmtree(ws)
        files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                               capture_output=True, check=True).stdout.decode()
        for rel in filter(None, files.split("\0")):
            (ws / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, ws / rel)
        subprocess.run("git init -q && git add -A && git -c user.name=b -c user.email=b@example.invalid commit -qm b",
                       shell=True, cwd=ws, check=True)
        runs.append(timed("dvc repro --force", ws))
        print(f"  bundled cold run {len(runs)}: {runs[-1]['seconds']:.2f} s", flush=True)
    times = sorted(r["seconds"] for r in runs)
    return {"seconds": times[len(times) // 2], "seconds_runs": [r["seconds"] for r in runs],
            "peak_mib": max(r["peak_mib"] for r in runs), "log": runs[-1]["log"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-bundled", action="store_true", help="skip the cold run of the bundled pipeline")
    parser.add_argument("--reference", metavar="REV", help="also run every stage with the code of git revision REV "
                        "(first, in the same workspace): ratios and a byte-for-byte check of the outputs")
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)  # child mode: write the input files
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.generate, args.seed, args.raw)
        return 0
    runs = []
    ref = reference_src(args.reference) if args.reference else None
    for n in args.sizes:
        print(f"scale: {n:,} rows" + (f" (reference: {args.reference} in {ref.parent.name})" if ref else ""), flush=True)
        runs.append(run_size(n, args.seed, ref))
    bundled = None
    if not args.no_bundled:
        print("scale: bundled 979-review pipeline, cold", flush=True)
        load_start = os.getloadavg()
        bundled = bundled_cold()
        bundled.update(loadavg_start=[round(x, 2) for x in load_start],
                       loadavg_end=[round(x, 2) for x in os.getloadavg()])
        print(f"  bundled cold {bundled['seconds']:8.2f} s  {bundled['peak_mib']:8.0f} MiB", flush=True)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%d"),
        "reference": args.reference,
        "runs": runs,
        "bundled_cold": bundled,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"scale: results -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
