"""Render bench/results/*.json (scale, scale_memory, scale_reference, scale_slope, compare_classes, peers, allocator, ...) into bench/README.md.

    python bench/report.py

Each table sits between a pair of marker comments in bench/README.md
(``<!-- bench:<name>:start -->`` ... ``<!-- bench:<name>:end -->``); only what is between
the markers is replaced, so the prose around the tables stays as written. A results file
that does not exist leaves its tables as they are.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "bench" / "README.md"
SCALE = ROOT / "bench" / "results" / "scale.json"
PEERS = ROOT / "bench" / "results" / "peers.json"
MEMORY = ROOT / "bench" / "results" / "scale_memory.json"
REFERENCE = ROOT / "bench" / "results" / "scale_reference.json"  # run_scale.py --reference REV --own-workspace
SLOPE = ROOT / "bench" / "results" / "scale_slope.json"
CLASSES = ROOT / "bench" / "results" / "compare_classes.json"
DASK = ROOT / "bench" / "results" / "scale_dask.json"
DASK_AGAIN = ROOT / "bench" / "results" / "scale_dask_again.json"  # stages measured again after a change
DASK_REDUCE = ROOT / "bench" / "results" / "scale_dask_reduce.json"  # again, after profile's and judge's reduce
DASK_COMPARE = ROOT / "bench" / "results" / "scale_dask_compare.json"  # again, after compare's reduce
DASK_ALLOCATOR = ROOT / "bench" / "results" / "scale_dask_allocator.json"  # again, on glibc's adaptive threshold
DASK_CALIBRATE = ROOT / "bench" / "results" / "scale_dask_calibrate.json"  # again, after calibrate's reduce
DASK_SLICE = ROOT / "bench" / "results" / "scale_dask_slice.json"  # again, after slice's reduce
WORKERS = ROOT / "bench" / "results" / "scale_dask_workers.json"
ALLOCATOR = ROOT / "bench" / "results" / "allocator.json"  # bench/allocator.py
TARGET_DASK_PROCESS_MIB = 2000 / 1.048576  # 10M rows through engine=dask: every process under 2 GB
TARGET_DASK_TOTAL_MIB = 6000 / 1.048576  # ... and all of them together under 6 GB
TARGET_LOCAL_PEAK_MIB = 1024.0  # 1M rows through engine=local: every stage under 1 GiB
TARGET_CLASSES_MIB = 1000 / 1.048576  # compare at 100 classes: under 1 GB

TARGET_SECONDS_1M = 120.0
TARGET_PEAK_MIB_1M = 4 * 1024.0
TARGET_BUNDLED_SECONDS = 15.0
TARGET_SLICE_RATIO = 5.0


def size(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else f"{n:,}")


def seconds(s: float | None) -> str:
    if s is None:
        return "n/a"
    return f"{s:.1f} s" if s >= 10 else (f"{s:.2f} s" if s >= 0.1 else f"{s * 1000:.1f} ms" if s >= 0.001
                                         else f"{s * 1e6:.0f} µs")


def ratio(r: float | None) -> str:
    return "n/a" if r is None else (f"{r:,.0f}x" if r >= 100 else f"{r:.1f}x")


def mib(m: float) -> str:
    return f"{m / 1024:.2f} GiB" if m >= 1024 else f"{m:.0f} MiB"


def diff(d: float) -> str:
    return "exactly" if d == 0 else f"to {d:.0e}"


def met(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def load_text(text: str) -> str:
    return f"(load average {text})"


# ------------------------------------------------------------------------------------ scale


def scale_tables(scale: dict) -> dict[str, str]:
    runs = sorted(scale["runs"], key=lambda r: r["n"])
    stages = list(runs[0]["stages"])
    head = "| stage | " + " | ".join(size(r["n"]) for r in runs) + " |"
    rule = "|---|" + "---|" * len(runs)
    lines = [head, rule]
    for name in stages:
        cells = []
        for r in runs:
            s = r["stages"][name]
            cells.append(f"{seconds(s['seconds'])}, {mib(s['peak_mib'])}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **pipeline** (sum; peak of any stage) | " + " | ".join(
        f"**{seconds(r['total_seconds'])}**, **{mib(r['peak_mib'])}**" for r in runs) + " |")
    lines.append("| (not timed above) generating the synthetic input | " + " | ".join(
        seconds(r["generate_seconds"]) for r in runs) + " |")
    lines.append("| load average (1 min) during the run | " + " | ".join(
        f"{r['loadavg_start'][0]:.1f} to {r['loadavg_end'][0]:.1f}" if "loadavg_start" in r else "n/a"
        for r in runs) + " |")
    per_stage = "\n".join(lines)

    # Linear cost: each stage's own time (its log line: wall time minus process start-up and imports).
    timed = [r for r in runs if all(st.get("inner_seconds") is not None for st in r["stages"].values())]
    lin = []
    if timed:
        last, prev = timed[-1], (timed[-2] if len(timed) > 1 else None)
        growth = f" {size(last['n'])} / {size(prev['n'])} ({last['n'] // prev['n']}x rows) |" if prev else ""
        lin = ["| in-stage work | " + " | ".join(size(r["n"]) for r in timed) + " |" + growth,
               "|---|" + "---|" * (len(timed) + (1 if prev else 0))]

        def row(label, values_of):
            vals = [values_of(r) for r in timed]
            tail = f" {vals[-1] / max(vals[-2], 0.05):.1f}x |" if prev else ""
            lin.append(f"| {label} | " + " | ".join(seconds(v) for v in vals) + " |" + tail)

        for name in stages:
            row(name, lambda r, name=name: r["stages"][name]["inner_seconds"])
        row("**all stages**", lambda r: sum(st["inner_seconds"] for st in r["stages"].values()))
        row("start-up and imports (wall minus in-stage, 7 processes)",
            lambda r: r["total_seconds"] - sum(st["inner_seconds"] for st in r["stages"].values()))
    linear = "\n".join(lin)

    big1m = next((r for r in runs if r["n"] == 1_000_000), None)
    bundled = scale.get("bundled_cold")
    rows = ["| target | measured | |", "|---|---|---|"]
    if big1m:
        rows.append(f"| whole pipeline on 1M rows < {TARGET_SECONDS_1M:.0f} s | {seconds(big1m['total_seconds'])} | "
                    f"{met(big1m['total_seconds'] < TARGET_SECONDS_1M)} |")
        rows.append(f"| peak memory on 1M rows < 4 GB | {mib(big1m['peak_mib'])} "
                    f"({max(big1m['stages'], key=lambda k: big1m['stages'][k]['peak_mib'])}) | "
                    f"{met(big1m['peak_mib'] < TARGET_PEAK_MIB_1M)} |")
    if bundled:
        runs_text = ", ".join(seconds(t) for t in bundled.get("seconds_runs", [bundled["seconds"]]))
        load = bundled.get("loadavg_start")
        rows.append(f"| bundled 979-review pipeline, cold (`dvc repro --force` in a fresh copy) < "
                    f"{TARGET_BUNDLED_SECONDS:.0f} s | {seconds(bundled['seconds'])} (median of runs {runs_text}"
                    + (f"; load average {load[0]:.1f} at the start" if load else "") + ") | "
                    f"{met(bundled['seconds'] < TARGET_BUNDLED_SECONDS)} |")
    targets = "\n".join(rows)
    machine = scale["machine"]
    note = (f"Measured {scale.get('measured_at', '')} on {machine['cpus']} CPUs, Python {machine['python']}, "
            f"{machine['platform']}.").replace("  ", " ")
    return {"scale": per_stage, "linear": linear, "scale-targets": targets + "\n\n" + note}


# ------------------------------------------------------------------------------------ memory


def memory_tables(mem: dict) -> dict[str, str]:
    """Each stage at 1M rows with this checkout's code and the reference revision's, same run, same workspace."""
    r = mem["runs"][0]
    ref = r["reference"]
    lines = [f"| stage ({size(r['n'])} rows) | peak, {mem['reference']} | peak, now | now / ref | time, "
             f"{mem['reference']} | time, now | now / ref | outputs |", "|---|---|---|---|---|---|---|---|"]
    for name, now in r["stages"].items():
        was = ref["stages"][name]
        lines.append(f"| {name} | {mib(was['peak_mib'])} | {mib(now['peak_mib'])} | "
                     f"{now['peak_mib'] / was['peak_mib']:.2f} | {seconds(was['seconds'])} | {seconds(now['seconds'])} | "
                     f"{now['seconds'] / was['seconds']:.2f} | {'identical' if now.get('identical') else '**differ**'} |")
    lines.append(f"| **pipeline** (peak of any stage; sum of times) | **{mib(ref['peak_mib'])}** | **{mib(r['peak_mib'])}** | "
                 f"**{r['peak_mib'] / ref['peak_mib']:.2f}** | **{seconds(ref['total_seconds'])}** | "
                 f"**{seconds(r['total_seconds'])}** | **{r['total_seconds'] / ref['total_seconds']:.2f}** | |")
    worst = max(r["stages"], key=lambda k: r["stages"][k]["peak_mib"])
    lines += ["", "| target | measured | |", "|---|---|---|",
              f"| 1M rows through engine=local: every stage's peak < 1 GiB (2.33 GiB before issue 15) | {mib(r['peak_mib'])} ({worst}) | "
              f"{met(r['peak_mib'] < TARGET_LOCAL_PEAK_MIB)} |",
              f"| wall time no worse than the reference, same run | {r['total_seconds'] / ref['total_seconds']:.2f}x | "
              f"{met(r['total_seconds'] <= ref['total_seconds'] * 1.05)} (within 5%: the machine is shared) |",
              "", f"Measured {mem['measured_at']} on {mem['machine']['cpus']} CPUs; load average "
              f"{r['loadavg_start'][0]:.1f} at the start, {r['loadavg_end'][0]:.1f} at the end."]
    return {"memory": "\n".join(lines)}


CONFIGURATION_LABELS = {"text_off": "text families off", "configured": "as configured"}


def reference_tables(ref: dict) -> dict[str, str]:
    """Each stage with the reference revision's code and today's in each configuration, each in its own workspace.

    Times first (each configuration's over the reference's), then peaks; the last column says,
    per configuration, whether the stage's metrics files had the reference's content.
    """
    r = ref["runs"][0]
    configs = r["configurations"]
    base, others = configs["reference"], [name for name in r["order"] if name != "reference"]
    label = {name: CONFIGURATION_LABELS.get(name, name) for name in others}
    rev = ref["reference"]
    head = (f"| stage ({size(r['n'])} rows) | time, {rev} | "
            + " | ".join(f"time, now {label[c]} | / {rev}" for c in others)
            + f" | peak, {rev} | " + " | ".join(f"peak, now {label[c]}" for c in others)
            + " | metrics files as the reference's (" + ", ".join(label[c] for c in others) + ") |")
    lines = [head, "|---" * (4 + 3 * len(others)) + "|"]

    def same(flag) -> str:
        return "n/a" if flag is None else "same" if flag else "differ"

    for stage, was in base["stages"].items():
        now = [configs[c]["stages"][stage] for c in others]
        lines.append(f"| {stage} | {seconds(was['seconds'])} | "
                     + " | ".join(f"{seconds(s['seconds'])} | {s['seconds'] / was['seconds']:.2f}" for s in now)
                     + f" | {mib(was['peak_mib'])} | " + " | ".join(mib(s["peak_mib"]) for s in now)
                     + " | " + ", ".join(same(s.get("identical_metrics")) for s in now) + " |")
    lines.append(f"| **pipeline** (sum of times; peak of any stage) | **{seconds(base['total_seconds'])}** | "
                 + " | ".join(f"**{seconds(configs[c]['total_seconds'])}** | "
                              f"**{configs[c]['total_seconds'] / base['total_seconds']:.2f}**" for c in others)
                 + f" | **{mib(base['peak_mib'])}** | " + " | ".join(f"**{mib(configs[c]['peak_mib'])}**" for c in others)
                 + " | |")
    lines.append(f"| in-stage work (sum of each stage's own logged time) | {seconds(base['inner_seconds'])} | "
                 + " | ".join(f"{seconds(configs[c]['inner_seconds'])} | "
                              f"{configs[c]['inner_seconds'] / base['inner_seconds']:.2f}" for c in others)
                 + " |" + " |" * (1 + len(others)) + " |")
    rows = ["", "| target | measured | |", "|---|---|---|"]
    if "text_off" in configs:
        off = configs["text_off"]
        q = off["total_seconds"] / base["total_seconds"]
        rows.append(f"| {size(r['n'])} rows through engine=local: wall time no worse than before issue 15 "
                    f"(`{rev}`; today's run without the text families of issue 16, same minutes) | {q:.2f}x "
                    f"({seconds(off['total_seconds'])} against {seconds(base['total_seconds'])}) | "
                    f"{met(q <= 1.05)} (within 5%: the machine is shared) |")
    if "configured" in configs:
        q = configs["configured"]["total_seconds"] / base["total_seconds"]
        rows.append(f"| (context) the same with the text families on, as configured | {q:.2f}x | |")
    note = (f"Measured {ref['measured_at']} on {ref['machine']['cpus']} CPUs, reference `{ref['reference_commit'][:12]}`, "
            f"now `{ref['current_commit'][:12]}` ({ref['current']}); "
            + (f"each stage ran {r['repeats']} times in every workspace before the next stage, in rounds of "
               f"{', '.join(r['order'])} that rotate which goes first, and a time is the median of its runs "
               f"(a peak the largest); " if r.get("repeats", 1) > 1 else
               f"each stage ran in the order {', '.join(r['order'])} before the next stage; ")
            + "load average (1, 5, 15 min) "
            f"{', '.join(f'{x:.1f}' for x in r['loadavg_start'])} at the start, "
            f"{', '.join(f'{x:.1f}' for x in r['loadavg_end'])} at the end.")
    return {"reference-wall": "\n".join(lines + rows + ["", note])}


def dask_tables(dask: dict) -> dict[str, str]:
    """Every stage with engine=dask: the largest process and the whole process tree, per size."""
    runs = dask["runs"]
    head = " | ".join(f"{size(r['n'])} rows, {r['workers']} worker(s)" for r in runs)
    lines = [f"| stage | {head} |", "|---" * (len(runs) + 1) + "|"]
    for name in runs[0]["stages"]:
        cells = [f"{seconds(r['stages'][name]['seconds'])}, {mib(r['stages'][name]['peak_process_mib'])} / "
                 f"{mib(r['stages'][name]['peak_total_mib'])}" for r in runs]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **pipeline** (sum of times; largest process / largest tree) | " + " | ".join(
        f"**{seconds(r['total_seconds'])}**, **{mib(r['peak_process_mib'])}** / **{mib(r['peak_total_mib'])}**"
        for r in runs) + " |")
    big = max(runs, key=lambda r: r["n"])
    over = [k for k, v in big["stages"].items() if v["peak_process_mib"] >= TARGET_DASK_PROCESS_MIB]
    lines += ["", "| target | measured | |", "|---|---|---|",
              f"| {size(big['n'])} rows through engine=dask: every process < 2 GB | largest "
              f"{mib(big['peak_process_mib'])}; over 2 GB: {', '.join(over) or 'none'} | "
              f"{met(not over)} |",
              f"| ... all processes together < 6 GB | largest tree {mib(big['peak_total_mib'])} | "
              f"{met(big['peak_total_mib'] < TARGET_DASK_TOTAL_MIB)} |",
              "", f"Measured {dask['measured_at']} on {dask['machine']['cpus']} CPUs; load average "
              + "; ".join(f"{r['loadavg_start'][0]:.1f} to {r['loadavg_end'][0]:.1f} ({size(r['n'])})" for r in runs)
              + "."]
    lines += dask_slope_lines(runs)
    return {"dask": "\n".join(lines)}


def again_tables(again: dict) -> dict[str, str]:
    """Stages measured again on a run's workspace after a change (``run_dask_scale.py --stages``)."""
    lines = ["| stage | rows | commit | time | largest process / largest tree | < 2 GB |", "|---|---|---|---|---|---|"]
    for r in again["runs"]:
        for name, st in r["stages"].items():
            lines.append(f"| {name} | {size(r['n'])} | `{r.get('commit', '?')}` | {seconds(st['seconds'])} | "
                         f"{mib(st['peak_process_mib'])} / {mib(st['peak_total_mib'])} | "
                         f"{met(st['peak_process_mib'] < TARGET_DASK_PROCESS_MIB)} |")
    lines.append(f"\nMeasured {again['measured_at']}; load average "
                 + "; ".join(f"{r['loadavg_start'][0]:.1f} to {r['loadavg_end'][0]:.1f}" for r in again["runs"]) + ".")
    return {"dask-again": "\n".join(lines)}


def allocator_tables(alloc: dict) -> dict[str, str]:
    """Each stage under glibc's adaptive threshold and a fixed 1 MiB one (``bench/allocator.py``)."""
    lines = ["| stage | time, adaptive | time, fixed 1 MiB | fixed / adaptive | peak, adaptive | peak, fixed 1 MiB | "
             "outputs |", "|---|---|---|---|---|---|---|"]
    total = {"adaptive": 0.0, "unmap_1MiB": 0.0}
    for name, st in alloc["stages"].items():
        a, u = st["adaptive"], st["unmap_1MiB"]
        total["adaptive"] += a["seconds"]
        total["unmap_1MiB"] += u["seconds"]
        lines.append(f"| {name} | {seconds(a['seconds'])} | {seconds(u['seconds'])} | "
                     f"{st['time_ratio_unmap_over_adaptive']:.2f} | {mib(a['peak_mib'])} | {mib(u['peak_mib'])} | "
                     f"{'same' if st['outputs_identical'] else 'DIFFER'} |")
    lines.append(f"| **six stages** (sum of times) | **{seconds(total['adaptive'])}** | "
                 f"**{seconds(total['unmap_1MiB'])}** | **{total['unmap_1MiB'] / total['adaptive']:.2f}** | | | |")
    lines.append(f"\nMeasured {alloc['measured_at']} at {size(alloc['n'])} rows on {alloc['machine']['cpus']} CPUs, "
                 f"`{alloc['commit']}`; in-stage time, median of {alloc['repeats']} rounds that alternate which setting "
                 f"goes first (a peak the median too); load average {alloc['loadavg_start'][0]:.1f} at the start, "
                 f"{alloc['loadavg_end'][0]:.1f} at the end.")
    return {"allocator": "\n".join(lines)}


def least_squares(xs: list, ys: list) -> tuple[float, float]:
    """``(a, b)`` of the line ``y = a + b x`` through the points, by least squares."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def dask_slope_lines(runs: list) -> list:
    """Cost against rows on engine=dask: per size, time and largest process per million rows, and the lines."""
    runs = sorted((r for r in runs if r["workers"] == max(x["workers"] for x in runs)), key=lambda r: r["n"])
    if len({r["n"] for r in runs}) < 2:
        return []
    lines = ["", "Cost against rows (the same runs):", "",
             "| rows | time | seconds per million rows | largest process | largest tree |", "|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {size(r['n'])} | {seconds(r['total_seconds'])} | {r['total_seconds'] / (r['n'] / 1e6):.1f} | "
                     f"{mib(r['peak_process_mib'])} | {mib(r['peak_total_mib'])} |")
    xs = [r["n"] / 1e6 for r in runs]
    a, b = least_squares(xs, [r["total_seconds"] for r in runs])
    pa_, pb = least_squares(xs, [r["peak_process_mib"] for r in runs])
    small, big = runs[0], runs[-1]
    per = [r["total_seconds"] / (r["n"] / 1e6) for r in (small, big)]
    lines += ["", f"Least-squares line of the time: {b:.1f} s per million rows, {a:.1f} s fixed; of the largest "
              f"process: {pb:.0f} MiB per million rows, {pa_:.0f} MiB fixed. Seconds per million rows at "
              f"{size(big['n'])} against {size(small['n'])}: {per[1] / per[0]:.2f} (1.00 is linear)."]
    return lines


def workers_tables(workers: dict) -> dict[str, str]:
    """The same input with 1 and with 2 workers: each stage's time and the ratio."""
    one, two = (next(r for r in workers["runs"] if r["workers"] == w) for w in (1, 2))
    lines = [f"| stage ({size(one['n'])} rows) | 1 worker | 2 workers | 2 / 1 |", "|---|---|---|---|"]
    for name in one["stages"]:
        a, b = one["stages"][name]["seconds"], two["stages"][name]["seconds"]
        lines.append(f"| {name} | {seconds(a)} | {seconds(b)} | {b / a:.2f} |")
    lines.append(f"| **pipeline** | **{seconds(one['total_seconds'])}** | **{seconds(two['total_seconds'])}** | "
                 f"**{two['total_seconds'] / one['total_seconds']:.2f}** |")
    return {"dask-workers": "\n".join(lines)}


def slope_tables(slope: dict) -> dict[str, str]:
    """Time and peak against rows, with the least-squares line ``seconds = a + b * millions of rows``."""
    runs = sorted(slope["runs"], key=lambda r: r["n"])
    lines = ["| rows | pipeline (sum of stages) | in-stage work | peak (stage) | seconds per million rows |",
             "|---|---|---|---|---|"]
    for r in runs:
        inner = sum(st["inner_seconds"] or 0 for st in r["stages"].values())
        worst = max(r["stages"], key=lambda k: r["stages"][k]["peak_mib"])
        lines.append(f"| {size(r['n'])} | {seconds(r['total_seconds'])} | {seconds(inner)} | "
                     f"{mib(r['peak_mib'])} ({worst}) | {r['total_seconds'] / (r['n'] / 1e6):.1f} |")
    if len(runs) >= 2:
        xs = [r["n"] / 1e6 for r in runs]
        for label, ys in (("time", [r["total_seconds"] for r in runs]), ("peak", [r["peak_mib"] for r in runs])):
            mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
            b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
            a = my - b * mx
            unit = (f"{b:.1f} s per million rows, {a:.1f} s fixed" if label == "time"
                    else f"{b:.0f} MiB per million rows, {a:.0f} MiB fixed")
            lines.append(f"\nLeast-squares line of the {label}: {unit}.")
    lines.append(f"\nMeasured {slope['measured_at']} on {slope['machine']['cpus']} CPUs; load average "
                 f"{runs[0]['loadavg_start'][0]:.1f} at the start, {runs[-1]['loadavg_end'][0]:.1f} at the end.")
    return {"slope": "\n".join(lines)}


def classes_tables(cls: dict) -> dict[str, str]:
    lines = ["| classes K | cells of the joint table (4 K^3) | rows | tests | resident with the inputs | at most "
             "during the comparison | peak of the process | time in `compare_predictions` |",
             "|---|---|---|---|---|---|---|---|"]
    for r in cls["runs"]:
        lines.append(f"| {r['classes']} | {r['cells']:,} | {size(r['rows'])} | {r['n_tests']} | {mib(r['inputs_mib'])} | "
                     f"{mib(r['during_mib'])} | {mib(r['peak_mib'])} | {seconds(r['seconds'])} |")
    big = max(cls["runs"], key=lambda r: r["classes"])
    lines += ["", "| target | measured | |", "|---|---|---|",
              f"| compare at {big['classes']} classes < 1 GB | {mib(big['peak_mib'])} ({size(big['rows'])} rows, "
              f"{big['n_boot']:,} replicates) | {met(big['peak_mib'] < TARGET_CLASSES_MIB)} |"]
    return {"classes": "\n".join(lines)}


# ------------------------------------------------------------------------------------ peers


def peers_tables(peers: dict) -> dict[str, str]:
    runs = sorted(peers["runs"], key=lambda r: r["n"])
    rows = ["| computation | peer | rows | ours | peer | peer / ours | agreement (checked; a mismatch stops the run) |",
            "|---|---|---|---|---|---|---|"]

    def add(label, peer, r, entry, agreement):
        rows.append(f"| {label} | {peer} | {size(r['n'])} | {seconds(entry['ours_seconds'])} | "
                    f"{seconds(entry['peer_seconds'])} | {ratio(entry['ratio'])} | {agreement} |")

    for r in runs:
        g = r["global_metrics"]
        add("(a) 6 global metrics, per-class precision, recall, F1", "scikit-learn", r, g,
            f"all {len(g['checked'])} arrays equal {diff(g['max_abs_diff'])}")
    for r in runs:
        b = r["bootstrap"]
        add("(a2) bootstrap, 1,000 replicates", "row bootstrap (numpy)", r, b,
            f"replicate sd of accuracy {b['sd_accuracy_counts']:.5f} vs {b['sd_accuracy_rows']:.5f} (within Monte "
            f"Carlo error); " + ("row side: all 1,000 replicates" if b["peer_replicates_timed"] >= b["peer_scaled_to"]
                                 else f"row side timed on {b['peer_replicates_timed']} replicates, scaled to 1,000"))
    for strategy, label in (("uniform", "equal width"), ("quantile", "equal mass")):
        for r in runs:
            e = r["reliability"][strategy]
            add(f"(b) reliability bins, {label}", "`calibration_curve`", r, e,
                f"{e['nonempty_bins']} non-empty bins equal {diff(e['max_abs_diff'])}")
    for r in runs:
        p = r["per_slice"]
        add(f"(c) accuracy + 3 recalls in {p['n_slices']} slices", "fairlearn `MetricFrame`", r, p,
            f"{p['values_compared']} values equal {diff(p['max_abs_diff'])}; ours with Fisher tests and "
            f"intervals too: {seconds(p['ours_with_tests_seconds'])} ({ratio(p['ratio_with_tests'])})")
    for r in runs:
        d = r["discovery"]
        add(f"(d) depth-2 discovery, {d['n_items']} items", "`sliceline`", r, d,
            f"top-1 both `{d['ours_top1']}` (planted: {'yes' if d['planted_top1_both'] else 'NO'}); "
            f"sliceline's top 10: {d['peer_top10_within_planted']} contain the planted slice; sizes and errors "
            f"of its slices equal our counts")
    table = "\n".join(rows)

    big = next((r for r in runs if r["n"] == 1_000_000), runs[-1])
    ps, ds = big["per_slice"], big["discovery"]
    targets = "\n".join([
        "| target | measured | |", "|---|---|---|",
        f"| per-slice metrics >= {TARGET_SLICE_RATIO:.0f}x faster than MetricFrame on {size(big['n'])} rows | "
        f"{ratio(ps['ratio'])} ({ratio(ps['ratio_with_tests'])} with every test and interval) | "
        f"{met(ps['ratio'] >= TARGET_SLICE_RATIO)} |",
        f"| discovery at least as fast as sliceline, same top slices, {size(big['n'])} rows | {ratio(ds['ratio'])}; "
        f"planted slice top-1 in both: {'yes' if ds['planted_top1_both'] else 'no'} | "
        f"{met(ds['ratio'] >= 1 and ds['planted_top1_both'])} |",
    ])
    m, v = peers["machine"], peers["versions"]
    note = (f"One process; median of {peers['settings']['repeats']} runs of each peer (fairlearn once at 1M: four "
            f"minutes a call) and of at least 5 of ours, after one warm-up call of ours; load average "
            f"{m['loadavg_start'][0]:.1f} at the start, {m['loadavg_end'][0]:.1f} at the end; peak RSS of the process "
            f"{mib(m['peak_rss_mib'])}. scikit-learn {v['scikit-learn']}, fairlearn {v['fairlearn']}, sliceline "
            f"{v['sliceline']} (numba {'installed' if peers['settings']['sliceline_numba'] else 'not installed: its pure-numpy path'}), "
            f"numpy {v['numpy']}, pandas {v['pandas']}.")
    return {"peers": table + "\n\n" + note, "peer-targets": targets}


# ------------------------------------------------------------------------------------ README


def replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"report: {README} has no {start} ... {end} markers; add them where the table goes.")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def main() -> int:
    text = README.read_text(encoding="utf-8")
    blocks = {}
    if SCALE.exists():
        blocks.update(scale_tables(json.loads(SCALE.read_text())))
    if PEERS.exists():
        blocks.update(peers_tables(json.loads(PEERS.read_text())))
    for path, tables in ((MEMORY, memory_tables), (REFERENCE, reference_tables), (SLOPE, slope_tables), (CLASSES, classes_tables),
                         (DASK, dask_tables), (WORKERS, workers_tables), (ALLOCATOR, allocator_tables)):
        if path.exists():
            blocks.update(tables(json.loads(path.read_text())))
    again = [json.loads(path.read_text()) for path in (DASK_AGAIN, DASK_REDUCE, DASK_COMPARE, DASK_ALLOCATOR,
                                                                 DASK_CALIBRATE, DASK_SLICE)
             if path.exists()]
    if again:  # every run measured again, in one table, oldest first
        blocks.update(again_tables({"measured_at": again[-1]["measured_at"], "runs": [r for a in again for r in a["runs"]]}))
    for name, body in blocks.items():
        text = replace_block(text, name, body)
    README.write_text(text, encoding="utf-8")
    print(f"report: {len(blocks)} table(s) -> {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
