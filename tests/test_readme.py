"""The README's "audit your own predictions" example runs as written.

It composes conf/ with the README's overrides (what `dvc exp run -S ...` does) in a
temporary copy and runs the ingest stage on a CSV shaped like the README describes.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from blindspot import synth

from _paths import ROOT


def _readme_overrides() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n\s*(dvc exp run -S model\.path=data/raw/mine\.csv.*?)```", text, re.S).group(1)
    tokens = shlex.split(block.replace("\\\n", " "))  # as a shell would
    return [t for prev, t in zip(tokens, tokens[1:]) if prev == "-S"]


def test_readme_custom_csv_example(tmp_path):
    overrides = _readme_overrides()
    assert "model.probability_prefix=p_" in overrides
    for name in ("conf", "scripts", "stages"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "data/raw").mkdir(parents=True)
    pd.DataFrame({
        "review": ["Helped my migraines a lot", "Gave me hives and no relief", "Could not sleep at all"],
        "gold": ["pos", "neg", "neg"], "pred": ["pos", "pos", "neg"], "score": [0.8, 0.55, 0.9],
        "p_neg": [0.2, 0.45, 0.9], "p_pos": [0.8, 0.55, 0.1], "clinic": ["north", "south", "north"],
    }).to_csv(tmp_path / "data/raw/mine.csv", index=False)
    subprocess.run([sys.executable, "scripts/compose_params.py", *overrides], cwd=tmp_path, check=True, capture_output=True)
    proc = subprocess.run([sys.executable, "-m", "stages.ingest"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "3 rows in from data/raw/mine.csv" in proc.stderr and "3 clean, 0 rejected" in proc.stderr
    clean = pd.read_parquet(tmp_path / "data/interim/predictions.parquet")
    assert clean["id"].tolist() == ["row-1", "row-2", "row-3"]
    assert list(clean.filter(like="proba__").columns) == ["proba__neg", "proba__pos"]
    assert clean["meta__clinic"].tolist() == ["north", "south", "north"]


@pytest.mark.slow
def test_readme_example_runs_every_stage_on_binary_data(tmp_path):
    """The same overrides on a realistic binary file: every stage of dvc.yaml runs and the brief renders."""
    overrides = _readme_overrides()
    for name in ("conf", "scripts", "stages"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "data/raw").mkdir(parents=True)
    data = synth.generate(600, seed=3, mode="planted", classes=("neg", "pos"),
                          planted=[synth.PlantedSlice({"platform": "android"}, error_gap=0.25, share=0.2)])
    frame = data.frame.rename(columns={"text": "review", "label": "gold", "prediction": "pred", "confidence": "score"})
    frame.drop(columns=["id"]).to_csv(tmp_path / "data/raw/mine.csv", index=False)
    # The bundled baseline for `compare` is a 3-class file: point it at the same binary file.
    overrides += ["compare.baseline.path=data/raw/mine.csv", "compare.baseline.name=mine"]
    subprocess.run([sys.executable, "scripts/compose_params.py", *overrides], cwd=tmp_path, check=True, capture_output=True)
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for name, spec in stages.items():
        cmd = [sys.executable if part == "python" else part for part in spec["cmd"].split()]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, f"stage {name} failed on binary data:\n{proc.stderr}"
        assert "Traceback" not in proc.stderr
    findings = yaml.safe_load((tmp_path / "reports/findings.json").read_text())
    assert any(f["slice"] == {"platform": "android"} and f["significant"] for f in findings), "planted slice missed"
    assert "android" in (tmp_path / "reports/blind_spot_brief.md").read_text()
