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

    python bench/run_scale.py --sizes 1000000 --no-bundled --reference eb494d8 --own-workspace \
        --out bench/results/scale_reference.json

With ``--own-workspace`` the reference revision runs in a workspace of its own, laid out
from its own ``conf/``, ``scripts/`` and ``dvc.yaml`` and composed by its own
``scripts/compose_params.py`` (a revision's config code refuses the keys added after it),
on the same generated input (hard links). The current code runs from ``HEAD`` exported the
same way (a commit, not a working tree others may be editing), in one workspace per
configuration (:data:`CONFIGURATIONS`: the text families of issue 16 off, and as
configured). Stages alternate, each stage once per configuration before the next stage,
so every figure of a stage comes from the same minutes of a shared machine; whether each
configuration's outputs and metrics files equal the reference's is recorded, not required.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
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
# The current code's configurations in a run with --own-workspace, each its overrides on top of SYNTH_OVERRIDES.
# "text_off": the learned topics and error terms of issue 16 off (slices.topics_max 0 and slices.terms_top_k 0:
# blindspot.slices.textslices.learn_text then takes no fitting sample and fits nothing, and the text pass
# computes the detector flags alone), the work the code before issue 15 did; "configured": as conf/ has it.
CONFIGURATIONS = {"text_off": ["slices.topics_max=0", "slices.terms_top_k=0"], "configured": []}


def _env(src: Path = ROOT / "src") -> dict:
    # The checkout's own code first (the venv's editable install may point at another checkout).
    return dict(os.environ, PATH=f"{BIN}:{os.environ.get('PATH', '')}", PYTHONPATH=f"{src}:{ROOT}",
                DVC_NO_ANALYTICS="1", PYTHONHASHSEED="0")


def commit_of(rev: str, short: int = 12) -> str:
    """The commit ``rev`` names (``short`` hex digits; 40 for the full hash)."""
    return subprocess.run(["git", "rev-parse", f"--short={short}", rev], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def reference_tree(rev: str, paths: tuple = ("src",)) -> Path:
    """``paths`` of git revision ``rev`` exported under ``bench/out/ref-<sha>/`` (only those not there yet)."""
    sha = commit_of(rev)
    dest = OUT / f"ref-{sha}"
    missing = [p for p in paths if not (dest / p).exists()]
    if missing:
        dest.mkdir(parents=True, exist_ok=True)
        subprocess.run(["sh", "-c", f'git archive "$0" "$@" | tar -x -C "{dest}"', sha, *missing], cwd=ROOT,
                       check=True)
    return dest


def reference_src(rev: str) -> Path:
    """``src/`` of git revision ``rev``, exported under ``bench/out/`` (the code the figures are set against)."""
    return reference_tree(rev) / "src"


def stage_outputs(name: str, dvc: Path = ROOT / "dvc.yaml") -> list[str]:
    """The files and folders a stage of dvc.yaml writes (outs, metrics, plots)."""
    spec = yaml.safe_load(dvc.read_text())["stages"][name]
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


def stage_commands(dvc: Path = ROOT / "dvc.yaml") -> list[tuple[str, str]]:
    """Stages of dvc.yaml in an order DVC could run them: every stage after the stages whose
    outputs it reads (dvc.yaml's own order is free: DVC runs by the dependency graph)."""
    stages = yaml.safe_load(dvc.read_text())["stages"]

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


def lay_out(ws: Path, tree: Path = ROOT) -> Path:
    """A fresh workspace ``ws`` with ``tree``'s ``conf/`` and ``scripts/`` and an empty ``data/raw/``."""
    if ws.exists():
        shutil.rmtree(ws)
    for name in ("conf", "scripts"):
        shutil.copytree(tree / name, ws / name)
    (ws / "data" / "raw").mkdir(parents=True)
    return ws


def workspace(n: int, seed: int) -> Path:
    return lay_out(OUT / f"n{n}")


def compose(ws: Path, src: Path, overrides: list[str]) -> None:
    """``params.yaml`` of ``ws`` composed by its own ``scripts/compose_params.py`` with the code in ``src``."""
    subprocess.run([sys.executable, "scripts/compose_params.py", *overrides], cwd=ws, env=_env(src), check=True,
                   capture_output=True)


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
    compose(ws, ROOT / "src", SYNTH_OVERRIDES)
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


TREE = ("src", "conf", "scripts", "dvc.yaml")  # what a revision needs to run in a workspace of its own


def link_raw(raw: Path, ws: Path) -> None:
    """The generated input files of ``raw`` in ``ws/data/raw`` (hard links: one copy on disk and in the page cache)."""
    for f in raw.iterdir():
        try:
            os.link(f, ws / "data" / "raw" / f.name)
        except OSError:  # another file system
            shutil.copy2(f, ws / "data" / "raw" / f.name)


def _metrics_files(names: list[str]) -> list[str]:
    """The outputs under ``metrics/`` (what ``dvc metrics`` and the gate read) of a stage's outputs."""
    return [name for name in names if name.startswith("metrics/")]


def clear_outputs(ws: Path, names: list[str]) -> None:
    """Remove a stage's outputs from ``ws`` before it runs again, persisted ones too (the judge's reply
    cache): every repeat does the work of a first run."""
    for name in names:
        path = ws / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def fold(tries: list[dict]) -> dict:
    """One stage's repeated runs in one workspace: the median time (other work on a shared machine only
    ever adds time, and the median ignores one disturbed run), the largest peak, every run's time."""
    inner = [_inner_seconds(t["log"]) for t in tries]
    return {"seconds": round(statistics.median(t["seconds"] for t in tries), 3),
            "peak_mib": max(t["peak_mib"] for t in tries),
            "inner_seconds": round(statistics.median(inner), 3) if None not in inner else None, "log": tries[-1]["log"],
            "seconds_runs": [t["seconds"] for t in tries], "peak_mib_runs": [t["peak_mib"] for t in tries]}


def run_own_workspaces(n: int, seed: int, rev: str, current: str = "HEAD",
                       configurations: dict = CONFIGURATIONS, repeats: int = 1) -> dict:
    """Every stage with revision ``rev``'s code, then with ``current``'s in each configuration, each in its own workspace.

    The input is generated once and hard-linked into every workspace; each workspace has its
    revision's ``conf/`` and ``scripts/`` and a ``params.yaml`` its own ``compose_params.py``
    wrote (with :data:`SYNTH_OVERRIDES`, and for the current code a configuration's overrides).
    The stages run in dependency order, each ``repeats`` times per workspace before the next
    stage (round r starting with the r-th workspace; the median time is kept, see :func:`fold`):
    a stage's figures come from the same minutes. Per stage and configuration, whether
    the outputs (those the reference's ``dvc.yaml`` names) and the metrics files among them have
    the reference's content is recorded; a difference is expected when the work differs.

    Returns
    -------
    dict
        ``n``, the generator's time and peak, the load averages at the start and end, ``order``
        (the workspaces in the order each stage ran in them) and ``configurations``: per
        workspace its commit, overrides, ``stages`` (seconds, peak MiB, in-stage seconds, last
        log line; ``identical_outputs`` and ``identical_metrics`` beside the reference's, None
        when the stage writes no metrics file), ``total_seconds`` and ``peak_mib``.
    """
    base = OUT / f"own-n{n}"
    if base.exists():
        shutil.rmtree(base)
    raw = base / "raw"
    raw.mkdir(parents=True)
    load_start = os.getloadavg()
    gen = timed([sys.executable, str(Path(__file__).resolve()), "--generate", str(n), "--seed", str(seed),
                 "--raw", str(raw)], base)
    trees = {"reference": (rev, reference_tree(rev, TREE), [])}
    trees.update({name: (current, reference_tree(current, TREE), extra) for name, extra in configurations.items()})
    runs = {}
    for name, (revision, tree, extra) in trees.items():
        ws = lay_out(base / name, tree)
        link_raw(raw, ws)
        compose(ws, tree / "src", SYNTH_OVERRIDES + extra)
        runs[name] = {"commit": commit_of(revision, 40), "overrides": extra, "ws": ws, "tree": tree,
                      "cmds": dict(stage_commands(tree / "dvc.yaml")), "stages": {}}
    names = list(runs)
    for stage, _ in stage_commands(trees["reference"][1] / "dvc.yaml"):
        outs = stage_outputs(stage, trees["reference"][1] / "dvc.yaml")
        metrics = _metrics_files(outs)
        line = f"  n={n:>9,} {stage:<10}"
        tries = {name: [] for name in runs}
        for r in range(repeats):
            # Round r starts with the r-th workspace: each goes first as often as the others
            # (the first run of a stage may find the page cache colder).
            for name in names[r % len(names):] + names[:r % len(names)]:
                run = runs[name]
                clear_outputs(run["ws"], stage_outputs(stage, run["tree"] / "dvc.yaml"))
                tries[name].append(timed(run["cmds"][stage], run["ws"], run["tree"] / "src"))
        for name, run in runs.items():
            st = run["stages"][stage] = fold(tries[name])
            line += f"  {name} {st['seconds']:7.2f} s {st['peak_mib']:6.0f} MiB"
        # Digests after the stage ran everywhere: the reading child process is outside every timing.
        ref_ws = runs["reference"]["ws"]
        want = {"outputs": digest(ref_ws, outs), "metrics": digest(ref_ws, metrics) if metrics else None}
        for name, run in list(runs.items())[1:]:
            st = run["stages"][stage]
            st["identical_outputs"] = digest(run["ws"], outs) == want["outputs"]
            st["identical_metrics"] = digest(run["ws"], metrics) == want["metrics"] if metrics else None
            line += f"  {name} outputs {'identical' if st['identical_outputs'] else 'differ'}"
        print(line, flush=True)
    configs = {}
    for name, run in runs.items():
        stages = run["stages"]
        configs[name] = {"commit": run["commit"], "overrides": run["overrides"], "stages": stages,
                         "total_seconds": round(sum(s["seconds"] for s in stages.values()), 3),
                         "inner_seconds": round(sum(s["inner_seconds"] or 0 for s in stages.values()), 3),
                         "peak_mib": max(s["peak_mib"] for s in stages.values())}
    return {"n": n, "generate_seconds": gen["seconds"], "generate_peak_mib": gen["peak_mib"],
            "loadavg_start": [round(x, 2) for x in load_start], "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "order": list(runs), "repeats": repeats, "configurations": configs}


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
    parser.add_argument("--own-workspace", action="store_true", help="with --reference: the reference in a "
                        "workspace of its own (its own conf/, scripts/, dvc.yaml and params.yaml), the current code "
                        "from --current in one workspace per configuration (text families of issue 16 off, and as "
                        "configured); outputs may differ and are recorded, not checked")
    parser.add_argument("--current", default="HEAD", metavar="REV",
                        help="with --own-workspace: the revision measured as today's code (default HEAD)")
    parser.add_argument("--configurations", nargs="+", choices=list(CONFIGURATIONS), default=list(CONFIGURATIONS),
                        help="with --own-workspace: the current code's configurations (default: all)")
    parser.add_argument("--repeats", type=int, default=1, help="with --own-workspace: runs of each stage per "
                        "workspace, in rounds that rotate which workspace goes first; the median time is kept")
    parser.add_argument("--generate", type=int, help=argparse.SUPPRESS)  # child mode: write the input files
    parser.add_argument("--raw", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        generate(args.generate, args.seed, args.raw)
        return 0
    if args.own_workspace:
        if not args.reference:
            parser.error("--own-workspace needs --reference REV")
        return own_workspace_main(args, sys.argv[1:] if argv is None else argv)
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


def own_workspace_main(args, argv: list[str]) -> int:
    """``--reference REV --own-workspace``: :func:`run_own_workspaces` per size, results to ``args.out``."""
    configurations = {name: CONFIGURATIONS[name] for name in args.configurations}
    # The commits once, before the first stage: a branch may move while the run goes on.
    reference, current = commit_of(args.reference, 40), commit_of(args.current, 40)
    runs = []
    for n in args.sizes:
        print(f"scale: {n:,} rows, {args.reference} against {args.current} "
              f"({', '.join(configurations)}), each in its own workspace", flush=True)
        runs.append(run_own_workspaces(n, args.seed, reference, current, configurations, args.repeats))
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "measured_at": time.strftime("%Y-%m-%d"),
        "reference": args.reference, "reference_commit": reference,
        "current": args.current, "current_commit": current,
        "configurations": configurations,
        "command": "python bench/run_scale.py " + " ".join(argv),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"scale: results -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
