"""Progress lines: rate-limited, only for big work, never in an output file."""

from __future__ import annotations

import functools
import io
import json

from blindspot import progress as progress_module
from blindspot.config import IngestConfig, ModelConfig
from blindspot.ingest import ingest_file
from blindspot.io import readers
from blindspot.progress import Progress


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_small_work_prints_nothing():
    out, clock = io.StringIO(), Clock()
    p = Progress("ingest: reading x", total=50_000, stream=out, clock=clock)
    for done in range(0, 50_001, 5_000):
        clock.now += 5
        p.update(done)
    p.finish(50_000)
    assert out.getvalue() == ""


def test_big_work_prints_rows_rate_and_elapsed_at_most_every_two_seconds():
    out, clock = io.StringIO(), Clock()
    p = Progress("ingest: reading x", total=500_000, stream=out, clock=clock)
    clock.now += 1.0
    p.update(10_000)  # too early: the first line waits every_s too
    assert out.getvalue() == ""
    clock.now += 1.5
    p.update(100_000)
    clock.now += 0.5
    p.update(120_000)  # 0.5 s after the last line: nothing
    clock.now += 2.5
    p.finish(500_000)
    lines = out.getvalue().splitlines()
    assert lines == ["ingest: reading x: 100,000 of 500,000 rows (40,000 rows/s, 2.5 s)",
                     "ingest: reading x: 500,000 of 500,000 rows (90,909 rows/s, 5.5 s) done"]


def test_unknown_total_starts_once_the_rows_done_are_many():
    out, clock = io.StringIO(), Clock()
    p = Progress("reading", stream=out, clock=clock)
    clock.now += 3
    p.update(99_999)
    assert out.getvalue() == ""
    clock.now += 3
    p.update(150_000)
    assert out.getvalue() == "reading: 150,000 rows (25,000 rows/s, 6.0 s)\n"


def test_ingest_reports_progress_on_stderr_and_outputs_do_not_depend_on_it(tmp_path, monkeypatch):
    row = {"id": "a", "text": "fine", "label": "positive", "prediction": "positive", "confidence": 0.9}
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(dict(row, id=f"r{k}", label=("positive", "negative")[k % 2])) + "\n"
                            for k in range(10_000)))
    quiet = ingest_file(ModelConfig(path=str(path), columns=ModelConfig().columns), IngestConfig())
    out = io.StringIO()
    monkeypatch.setattr(readers, "Progress", functools.partial(Progress, min_rows=10, every_s=0.0, stream=out))
    monkeypatch.setattr(readers, "_PROGRESS_EVERY", 1000)
    loud = ingest_file(ModelConfig(path=str(path)), IngestConfig())
    lines = out.getvalue().splitlines()
    assert len(lines) >= 10 and lines[0].startswith(f"reading {path}: 1,000 of 10,000 rows (")
    assert "rows/s" in lines[0] and lines[-1].endswith(" done")
    assert quiet.clean.equals(loud.clean) and quiet.rejected == loud.rejected


def test_defaults():
    assert progress_module.MIN_ROWS == 100_000 and progress_module.EVERY_S == 2.0


def test_steps_of_whole_table_work_are_rate_limited_too():
    out, clock = io.StringIO(), Clock()
    p = Progress("ingest: validating x", total=200_000, stream=out, clock=clock)
    clock.now += 1
    p.step(1, 3, "types")
    clock.now += 2
    p.step(2, 3, "labels")
    clock.now += 1
    p.step(3, 3, "numbers")
    assert out.getvalue() == "ingest: validating x: labels (step 2 of 3, 3.0 s)\n"
