"""The same rows in another order give the same audit.

A prediction log exported sorted another way (by time, by id, by model shard) is the same
evidence, so nothing the audit reports may move with the order of its rows: every draw over
rows (the judge's sample and cue order, the cross-fitting folds, the recalibration and topic
fitting samples) is ranked by a seeded hash of the row ids (:func:`blindspot.samples.row_hash`),
never by row positions, and every tie is broken by id. Each stage runs as the real stage, on a
file and on the same rows shuffled, in two workspaces; every metrics file and report must hold the
same keys, counts, labels and selections, and the per-row outputs the same rows once their file
positions (``record``) are set aside.

Sums of floats over rows (a slice's mean confidence, a bin's, the confident-learning thresholds)
are added in the rows' order, and floating-point addition is not associative: the same rows in
another order may give a sum that differs in its last bits, which shows in a written number (six
significant digits) only when it sits on a rounding boundary. So a float may differ by one unit in
its sixth significant digit (:data:`LAST_DIGIT`), nothing more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from _bundled import bundled_params
from _documents import differences

N_ROWS = 3000
STAGES = ("ingest", "profile", "slice", "calibrate", "judge")
SAME_CONTENT = ("metrics/ingest.json", "metrics/profile.json", "metrics/slices.json", "reports/findings.json",
              "reports/text_slices.json", "metrics/calibration.json", "metrics/judge.json")
LAST_DIGIT = 2e-6  # relative: one unit in the sixth significant digit, and no more
# Per-row outputs: one JSON object a row; "record" is the row's position in the input file.
SAME_ROWS = ("data/interim/confident_errors.jsonl", "data/interim/judgments.jsonl")


def _workspace(root: Path, frame) -> Path:
    params = bundled_params()
    params["model"]["path"] = "data/raw/predictions.parquet"
    params["model"]["probability_prefix"] = "p_"
    params["model"]["columns"]["probabilities"] = None
    params["slices"]["text_sample_rows"] = 1000  # fewer than the rows: the topics' fitting sample is drawn
    (root / "data" / "raw").mkdir(parents=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    frame.to_parquet(root / "data" / "raw" / "predictions.parquet", index=False)
    return root


def _run(root: Path, name: str) -> None:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", f"blindspot.stages.{name}"], cwd=root, capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, f"{root.name} {name}: {proc.stderr[-2000:]}"


def _rows(path: Path) -> list:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        row.pop("record", None)
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


@pytest.mark.slow
def test_the_same_rows_in_another_order_give_the_same_audit(tmp_path):
    from blindspot.synth.generator import generate

    frame = generate(N_ROWS, seed=11).frame
    shuffled = frame.iloc[np.random.default_rng(5).permutation(len(frame))].reset_index(drop=True)
    roots = [_workspace(tmp_path / "file_order", frame), _workspace(tmp_path / "shuffled", shuffled)]
    for name in STAGES:
        for root in roots:
            _run(root, name)
    differ = [f"{rel}{d}" for rel in SAME_CONTENT
              for d in differences(*(json.loads((root / rel).read_text(encoding="utf-8")) for root in roots),
                                   rel=LAST_DIGIT)]
    differ += [f"{rel}: other rows" for rel in SAME_ROWS if _rows(roots[0] / rel) != _rows(roots[1] / rel)]
    assert not differ, "these outputs move with the order of the rows:\n" + "\n".join(differ[:20])
    # The draws were exercised: the judge's random sample, and a topics' fitting sample of fewer rows than the file.
    judged = _rows(roots[0] / "data/interim/judgments.jsonl")
    assert judged and any(r["random_sample"] for r in judged)
    topics = json.loads((roots[0] / "reports/text_slices.json").read_text(encoding="utf-8"))["topics"]
    assert topics["n_fit"] == 1000 and topics["k"] > 0
