"""Where a stage's memory goes: resident memory sampled while the stage runs, with the code at each rise.

    python bench/where_memory.py compare              # in a workspace with the stage's inputs (bench/out/n1000000)
    python bench/where_memory.py ingest --every 0.01

Runs the stage's ``main`` in this process (not through ``run``, which ends the process)
while a thread reads the resident set size from ``/proc/self/statm`` every ``--every``
seconds and, whenever it reaches a new maximum, records the main thread's innermost
frames in ``blindspot``. It prints the peak, and the code that was running at each rise
of more than ``--step`` MiB: the lines that hold the memory at the peak. A diagnostic,
not a measurement: the sampling thread costs a little time and the figures are this
process's, interpreter included (``run_scale.py`` takes the stage's own peak from
``wait4``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import threading
import time
import traceback

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def where(frame, depth: int = 4) -> str:
    """The innermost ``depth`` frames of ``frame``'s stack that lie in the project's code."""
    stack = [f for f in traceback.extract_stack(frame) if "blindspot" in f.filename]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in reversed(stack[-depth:]))


def sample(main_id: int, every: float, step: float, rises: list, stop: threading.Event) -> None:
    """Append ``(seconds, MiB, code)`` to ``rises`` at each new maximum above the last one by ``step`` MiB."""
    start, mark = time.perf_counter(), 0.0
    while not stop.is_set():
        now = rss_mib()
        if now >= mark + step:  # a new rise: name the code running now
            frame = sys._current_frames().get(main_id)
            rises.append((time.perf_counter() - start, now, where(frame) if frame else "?"))
            mark = now
        elif rises and now > rises[-1][1]:  # a small rise: the last entry's figure grows
            rises[-1] = (rises[-1][0], now, rises[-1][2])
        stop.wait(every)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("--every", type=float, default=0.005, help="seconds between samples")
    parser.add_argument("--step", type=float, default=40.0, help="MiB: smaller rises are folded into the last one")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    module = importlib.import_module(f"blindspot.stages.{args.stage}")
    from blindspot.memory import use_system_allocator

    use_system_allocator()  # as the stage runner does before main: the stage's own allocator settings
    rises, stop = [], threading.Event()
    before = rss_mib()
    thread = threading.Thread(target=sample, args=(threading.get_ident(), args.every, args.step, rises, stop),
                              daemon=True)
    thread.start()
    start = time.perf_counter()
    line = module.main(logging.getLogger(args.stage))
    wall = time.perf_counter() - start
    stop.set()
    thread.join()
    print(f"{args.stage}: {wall:.1f} s, {before:.0f} MiB after imports, peak {max(r[1] for r in rises):.0f} MiB")
    print(f"  {line[:160]}")
    last = before
    for t, mib, code in rises:
        print(f"  {t:7.2f} s {mib:7.0f} MiB (+{mib - last:5.0f})  {code}")
        last = mib
    return 0


if __name__ == "__main__":
    sys.exit(main())
