"""engine=dask ingest against engine=local on the same rows: the same files, byte for byte.

The input: a few thousand generated reviews (blindspot.synth) with bad rows planted (an unknown
label, a NaN confidence, an id used again in a later partition, an id used twice inside a later
partition after its first use in an earlier one, a metadata column typed differently by one
partition), written once as one Parquet file (engine=local) and once as 4 partitions (engine=dask,
a 2-worker LocalCluster). Each engine's ingest runs as the real stage in its own workspace, then
profile, slice, calibrate and judge (with engine=dask the text detectors of profile, slice and judge
run on the workers, one row group per task), then compare against a baseline version of the same
reviews (engine=dask: both versions and the slice table shuffled by id to buckets paired on the workers,
the prior shift's EM passes over row groups kept on the workers), and every file each stage wrote is
compared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from _bundled import bundled_params

N_ROWS = 4000
N_PARTS = 4
STAGES = ("ingest", "profile", "slice", "calibrate", "judge", "compare")
OUTPUTS = {
    "ingest": ("metrics/ingest.json", "data/interim/rejected.jsonl", "data/interim/predictions.parquet"),
    "profile": ("metrics/profile.json",),
    "slice": ("metrics/slices.json", "reports/findings.json", "data/interim/slices.parquet"),
    "calibrate": ("metrics/calibration.json", "data/interim/confident_errors.jsonl",
                  "data/interim/underconfident_correct.jsonl", "plots/calibration/reliability_equal_mass.json",
                  "plots/calibration/reliability_equal_width.json"),
    "judge": ("metrics/judge.json", "data/interim/judgments.jsonl"),
    "compare": ("metrics/compare.json",),
}


def predictions() -> pd.DataFrame:
    """Generated rows with every kind of bad row the merge must account for across partitions."""
    from blindspot.synth.generator import generate

    frame = generate(N_ROWS, seed=7).frame.copy()
    part = N_ROWS // N_PARTS
    frame.loc[5, "label"] = "Positive"                          # unknown_label
    frame.loc[part + 9, "confidence"] = float("nan")            # missing_field (a Parquet NaN is missing)
    frame.loc[part + 20, "id"] = frame.loc[3, "id"]             # duplicate across partitions 1 and 2
    frame.loc[2 * part + 4, "id"] = frame.loc[11, "id"]         # used in partitions 1, 3 and 3 again:
    frame.loc[2 * part + 40, "id"] = frame.loc[11, "id"]        # the detail names record 12
    frame.loc[3 * part + 1, "id"] = frame.loc[3 * part, "id"]   # inside partition 4 only
    # Whole numbers in partitions 1-3 (Int64 there), one fraction in partition 4: float64 for all.
    frame["visits"] = (np.arange(N_ROWS) % 7).astype(float)
    frame.loc[3 * part + 2, "visits"] = 2.5
    return frame


def baseline_version(frame: pd.DataFrame) -> pd.DataFrame:
    """An earlier model's predictions of the same reviews: every third row predicted otherwise, rows in
    another order, a tenth of the reviews missing and one review the current file does not hold."""
    base = frame.copy()
    classes = ["negative", "neutral", "positive"]
    moved = np.arange(len(base)) % 3 == 0
    base.loc[moved, "prediction"] = [classes[(classes.index(p) + 1) % 3] for p in base.loc[moved, "prediction"]]
    base.loc[moved, "confidence"] = 0.9
    for c in classes:
        base.loc[moved, f"p_{c}"] = np.where(base.loc[moved, "prediction"] == c, 0.9, 0.05)
    base = base.iloc[np.random.default_rng(3).permutation(len(base))]
    base = base[np.arange(len(base)) % 10 != 0]
    extra = base.iloc[:1].assign(id="only-in-baseline")
    return pd.concat([base, extra], ignore_index=True)


def write_inputs(root: Path, frame: pd.DataFrame) -> None:
    raw = root / "data" / "raw"
    (raw / "parts").mkdir(parents=True)
    frame.to_parquet(raw / "all.parquet", index=False)
    baseline_version(frame).to_parquet(raw / "baseline.parquet", index=False)
    step = len(frame) // N_PARTS
    for k in range(N_PARTS):
        piece = frame.iloc[k * step:(k + 1) * step if k < N_PARTS - 1 else len(frame)]
        piece.to_parquet(raw / "parts" / f"part-{k:03d}.parquet", index=False)


def workspace(root: Path, engine: str, path: str, baseline: str | None = None, **dask) -> Path:
    params = bundled_params()
    params["model"]["path"] = path
    params["model"]["probability_prefix"] = "p_"
    params["model"]["columns"]["probabilities"] = None
    params["engine"] = engine
    params.setdefault("dask", {}).update(dask)
    params["compare"]["baseline"].update(name="v0", path=baseline)
    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root


def written(path: Path) -> bytes:
    """A stage's file as written; compare.json without the one field that names the input (a file here, a
    directory of partitions there)."""
    if path.name != "compare.json":
        return path.read_bytes()
    text = path.read_text()
    assert text.count('"path": "data/raw/all.parquet"') + text.count('"path": "data/raw/parts"') == 1
    return text.replace('"path": "data/raw/parts"', '"path": "data/raw/all.parquet"').encode()


def run_stage(root: Path, name: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", f"blindspot.stages.{name}"], cwd=root, capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.slow
def test_dask_engine_writes_the_local_engines_files(tmp_path):
    frame = predictions()
    runs = {}
    for engine, path in (("local", "data/raw/all.parquet"), ("dask", "data/raw/parts")):
        runs[engine] = workspace(tmp_path / engine, engine, path, "data/raw/baseline.parquet", n_workers=2,
                                 threads_per_worker=1)
        write_inputs(runs[engine], frame)
    for name in STAGES:
        for engine, root in runs.items():
            proc = run_stage(root, name)
            assert proc.returncode == 0, f"{engine} {name}: {proc.stderr[-2000:]}"
        for rel in OUTPUTS[name]:
            local, dask = (written(runs[e] / rel) for e in ("local", "dask"))
            assert local == dask, f"{rel} differs between the engines"
    ingest = yaml.safe_load((runs["dask"] / "metrics/ingest.json").read_text())
    rejected = (runs["dask"] / "data/interim/rejected.jsonl").read_text()
    assert ingest["rejected_by_reason"]["duplicate_id"] == 4 and "already used by record 12" in rejected
    assert ingest["rejected_by_reason"]["unknown_label"] == 1 and ingest["rejected_by_reason"]["missing_field"] == 1
    compare = yaml.safe_load((runs["dask"] / "metrics/compare.json").read_text())
    assert compare["status"] == "compared" and compare["watchlist"], compare.get("reason")
    assert compare["prior_shift"]["em"]["measured"] == 1
    assert not (runs["dask"] / "data/interim/.compare-baseline.parquet").exists()


def test_unreachable_scheduler_is_one_line(tmp_path):
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    predictions().head(200).to_parquet(raw / "p.parquet", index=False)
    root = workspace(tmp_path, "dask", "data/raw/p.parquet", scheduler_address="tcp://127.0.0.1:9")
    proc = run_stage(root, "ingest")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "tcp://127.0.0.1:9" in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_partitions_in_sorted_path_order_numbered_as_one_input(tmp_path):
    from blindspot.engine.partitions import partition_files, plan

    frame = predictions().head(30)
    (tmp_path / "b").mkdir()
    frame.iloc[:10].to_parquet(tmp_path / "b" / "x.parquet", index=False)
    frame.iloc[10:].to_parquet(tmp_path / "a.parquet", index=False)
    frame.iloc[:0].to_parquet(tmp_path / "a0.parquet", index=False)  # no rows: left out
    (tmp_path / "_SUCCESS").write_text("")
    parts = plan(partition_files(str(tmp_path)))
    assert [(Path(p.path).name, p.offset, p.rows) for p in parts] == [("a.parquet", 0, 20), ("x.parquet", 20, 10)]
    assert [Path(p).name for p in partition_files(str(tmp_path / "*.parquet"))] == ["a.parquet", "a0.parquet"]


def test_partitions_with_other_columns_are_refused(tmp_path):
    from blindspot.engine.partitions import partition_files, plan
    from blindspot.errors import InputError

    frame = predictions().head(20)
    frame.iloc[:10].to_parquet(tmp_path / "p0.parquet", index=False)
    frame.iloc[10:].drop(columns=["platform"]).to_parquet(tmp_path / "p1.parquet", index=False)
    with pytest.raises(InputError, match="columns differ from those of the first partition"):
        plan(partition_files(str(tmp_path)))
    with pytest.raises(InputError, match="no Parquet file found"):
        partition_files(str(tmp_path / "*.csv"))


def clean_predictions() -> pd.DataFrame:
    """Generated rows whose partitions need no second look: rejections inside one partition only."""
    from blindspot.synth.generator import generate

    frame = generate(N_ROWS, seed=7).frame.copy()
    frame.loc[5, "label"] = "Positive"                            # unknown_label
    frame.loc[N_ROWS - 2, "id"] = frame.loc[N_ROWS - 9, "id"]     # a duplicate inside the last partition
    frame["visits"] = (np.arange(N_ROWS) % 7).astype(float)      # Int64 in every partition
    return frame


@pytest.mark.slow
def test_dask_one_pass_and_fall_back_write_the_whole_files_bytes(tmp_path):
    """In process: a clean input is written from pass 1 (``one_pass``), the planted one by pass 2; both
    give the bytes of the whole file ingested at once, and leave no temporary file."""
    import dataclasses

    from blindspot.config import config_from_mapping
    from blindspot.ingest import ingest_file, ingest_metrics, ingested, write_clean

    params = yaml.safe_load((workspace(tmp_path / "cfg", "dask", "x", n_workers=2, threads_per_worker=1)
                             / "params.yaml").read_text())
    cfg = config_from_mapping(params)
    for name, frame, one_pass in (("clean", clean_predictions(), True), ("planted", predictions(), False)):
        root = tmp_path / name
        write_inputs(root, frame)
        whole = ingest_file(dataclasses.replace(cfg.model, path=str(root / "data/raw/all.parquet")), cfg.ingest)
        write_clean(whole, root / "whole.parquet")
        out = root / "out" / "predictions.parquet"
        parts = dataclasses.replace(cfg.model, path=str(root / "data/raw/parts"))
        with ingested(parts, cfg.ingest, "dask", cfg.dask, out=out) as result:
            assert ingest_metrics(result) == ingest_metrics(whole) and result.rejected == whole.rejected
            assert result.one_pass is one_pass, name
            write_clean(result, out)
        assert out.read_bytes() == (root / "whole.parquet").read_bytes(), name
        assert [p.name for p in out.parent.iterdir()] == ["predictions.parquet"], name


# The ingest stage with a bound of 1,000 rows a partition, so that a 4,000-row file is split as a
# large one would be; it prints the ranges it planned (no progress line is shown for so few rows).
SPLIT_INGEST = """
import sys

import blindspot.engine.ingest as engine_ingest
from blindspot.engine import partitions
from blindspot.stages import ingest
from blindspot.stages._runner import run

partitions.PARTITION_ROWS = 1000


def plan(files):
    parts = partitions.plan(files)
    print("planned row groups:", [p.row_groups for p in parts], file=sys.stderr)
    return parts


engine_ingest.plan = plan
run("ingest", ingest.main)
"""


@pytest.mark.slow
def test_dask_splits_one_large_file_into_row_group_ranges(tmp_path):
    """One Parquet file of 8 row groups, read by engine=dask as 4 ranges of row groups: the files engine=local
    writes from it, byte for byte (record numbers in the rejected rows included)."""
    import json

    from blindspot.synth.generator import generate

    frame = generate(N_ROWS, seed=7).frame.copy()
    frame.loc[700, "label"] = "Positive"                       # unknown_label, row group 2 (range 1)
    frame.loc[1600, "confidence"] = float("nan")               # missing_field, row group 4 (range 2)
    frame.loc[3100, "id"] = frame.loc[450, "id"]               # duplicate of record 451, ranges 1 and 4
    frame["visits"] = (np.arange(N_ROWS) % 7).astype(float)    # Int64 in ranges 1-3, float64 with range 4's
    frame.loc[3500, "visits"] = 2.5
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    runs = {}
    for engine in ("local", "dask"):
        root = runs[engine] = workspace(tmp_path / engine, engine, "data/raw/one.parquet", n_workers=2,
                                        threads_per_worker=1, memory_limit="1GB")
        (root / "data" / "raw").mkdir(parents=True)
        frame.to_parquet(root / "data/raw/one.parquet", index=False, row_group_size=500)
    local = run_stage(runs["local"], "ingest")
    dask = subprocess.run([sys.executable, "-c", SPLIT_INGEST], cwd=runs["dask"], capture_output=True, text=True,
                          env=env, timeout=300)
    assert local.returncode == 0 and dask.returncode == 0, (local.stderr[-2000:], dask.stderr[-2000:])
    assert "planned row groups: [(0, 2), (2, 4), (4, 6), (6, 8)]" in dask.stderr, dask.stderr[-2000:]
    for rel in OUTPUTS["ingest"]:
        assert written(runs["local"] / rel) == written(runs["dask"] / rel), f"{rel} differs between the engines"
    rejected = [json.loads(line) for line in (runs["dask"] / "data/interim/rejected.jsonl").read_text().splitlines()]
    # Record k is the frame's row k - 1: the numbers a reader of the whole file gives them.
    reasons = {r["record"]: r["reason"] for r in rejected}
    assert reasons == {701: "unknown_label", 1601: "missing_field", 3101: "duplicate_id"}, reasons
    assert "record 451" in next(r for r in rejected if r["record"] == 3101)["detail"]
