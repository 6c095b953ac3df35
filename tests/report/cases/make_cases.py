"""Regenerate the report's fixture cases: real stage outputs on small generated data sets.

Each case is a directory holding what the report reads (``metrics/*.json``,
``reports/findings.json``, ``data/interim/confident_errors.jsonl``; no plots, so the
files stay small), written by the real ingest, profile, slice, calibrate, judge and
compare stages on data the bundled demo never shows: binary with confidence only, twelve
classes named 0..9 and emoji, five rows, texts so short that every slice is empty, a
configured class absent from the data, a planted blind spot next to empty watchlist
slices, and a judge server that cannot be reached. Run it after a stage changes what it writes::

    python tests/report/cases/make_cases.py
    python tests/report/cases/make_cases.py --out /tmp/cases [case ...]   # elsewhere, to compare

It runs every stage in a scratch directory with this checkout's code, then copies the
files here. Deterministic: the data come from seeded generators.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
KEEP = ("metrics/profile.json", "metrics/slices.json", "reports/findings.json", "reports/text_slices.json",
        "metrics/calibration.json",
        "metrics/judge.json", "metrics/compare.json", "reports/lifecycle.json", "metrics/gate.json",
        "data/interim/confident_errors.jsonl")
STAGES = ("ingest", "profile", "slice", "calibrate", "judge", "compare", "lifecycle", "gate")


def rows(n: int, classes: list, *, seed: int, texts=None, probabilities=True, meta=None) -> list:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        y = classes[i % len(classes)]
        p = y if rng.random() < 0.7 else rng.choice(classes)
        c = round(rng.uniform(0.55, 0.99), 4)
        r = {"id": f"r{i:04d}", "text": texts[i % len(texts)] if texts else f"review {i}: the visit went as planned",
             "label": y, "prediction": p}
        if probabilities:
            rest = round((1 - c) / (len(classes) - 1), 6)
            r["probabilities"] = {k: (round(1 - rest * (len(classes) - 1), 6) if k == p else rest) for k in classes}
        else:
            r["confidence"] = c
        if meta:
            r.update(meta(i, rng))
        out.append(r)
    return out


def planted() -> list:
    out = Path(tempfile.mkdtemp()) / "planted.jsonl"
    subprocess.run([sys.executable, "-m", "blindspot.synth", "--n", "600", "--seed", "3", "--mode", "planted",
                    "--gap", "0.4", "--share", "0.2", "--out", str(out)], check=True, capture_output=True)
    return [json.loads(line) for line in out.read_text().splitlines()]


def cases() -> dict:
    twelve = [str(i) for i in range(10)] + ["\U0001F600", "\U0001F641"]
    return {
        "binary_confidence_only": (
            rows(80, ["0", "1"], seed=1, probabilities=False, meta=lambda i, r: {"source": r.choice("ab")}),
            {"ingest.classes": ["0", "1"], "judge.offline.class_polarity": {"0": "negative", "1": "positive"}}),
        # No polarity for these names: the offline judge abstains on every row, with its reason.
        "twelve_classes": (rows(120, twelve, seed=2), {"ingest.classes": twelve}),
        "five_rows": (rows(5, ["negative", "neutral", "positive"], seed=3), {}),
        "empty_slices": (rows(60, ["negative", "neutral", "positive"], seed=4, texts=["ok", "bad", "fine", "meh"]),
                         {}),
        "absent_class": (rows(60, ["negative", "positive"], seed=5, probabilities=False), {}),
        "planted": (planted(), {"slices.max_depth": 1}),
        # A judge server that refuses every connection (port 9 on this machine): the breaker opens.
        "judge_unreachable": (rows(60, ["negative", "neutral", "positive"], seed=6),
                              {"judge.backend": "openai", "judge.http.base_url": "http://127.0.0.1:9/v1",
                               "judge.http.max_retries": 0, "judge.http.timeout_s": 1.0}),
    }


def run_case(name: str, records: list, overrides: dict, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data/raw").mkdir(parents=True)
        with open(work / "data/raw/mine.jsonl", "w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        if str(HERE.parents[1]) not in sys.path:  # tests/: the bundled audit's params, not the workspace's
            sys.path.insert(0, str(HERE.parents[1]))
        from _bundled import bundled_params

        params = bundled_params()
        settings = {"model.path": "data/raw/mine.jsonl", "model.name": name, "stats.n_boot": 50,
                    "compare.baseline.path": None, **overrides}
        for dotted, value in settings.items():
            node = params
            *parents, leaf = dotted.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        for stage in STAGES:
            done = subprocess.run([sys.executable, "-m", f"blindspot.stages.{stage}"], cwd=work, env=env, capture_output=True,
                                  text=True)
            if done.returncode and stage == "judge":  # the brief then says the judge did not run
                print(f"{name}: the judge stage failed; the case has no judge results:\n{done.stderr}")
            elif done.returncode:
                raise SystemExit(f"{name}: stage {stage} failed:\n{done.stderr}")
        shutil.rmtree(dest, ignore_errors=True)
        for rel in KEEP:
            if (work / rel).is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(work / rel, dest / rel)
        shutil.copy(work / "params.yaml", dest / "params.yaml")


def main(names=(), out: Path = HERE) -> None:
    """Regenerate the named cases (all when none) into ``out`` (this directory by default)."""
    for name, (records, overrides) in cases().items():
        if names and name not in names:
            continue
        run_case(name, records, overrides, out / name)
        print(f"{name}: {len(records)} rows -> {out / name}")


if __name__ == "__main__":
    args = sys.argv[1:]
    target = HERE
    if args[:1] == ["--out"] and len(args) >= 2:
        target, args = Path(args[1]).resolve(), args[2:]
    main(args, target)
