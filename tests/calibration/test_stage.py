"""The calibrate stage end to end on the bundled data, in a scratch directory."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from blindspot import paths
from blindspot.plots.reliability import DATA_FILES, FIGURES
from blindspot.results import undeclared
from blindspot.results.calibration import CALIBRATION
from blindspot.stages import calibrate, ingest

from _paths import ROOT

LOG = logging.getLogger("test")


def _hashes(root):
    files = [paths.CALIBRATION_METRICS, paths.CONFIDENT_ERRORS, paths.UNDERCONFIDENT_CORRECT,
             *[paths.CALIBRATION_PLOTS / f for f in FIGURES + DATA_FILES]]
    return {str(f): hashlib.sha256((root / f).read_bytes()).hexdigest() for f in files}


@pytest.fixture
def workdir(params_for):
    # Inputs must lie inside the workspace (blindspot.paths.workspace_input): a copy under data/raw.
    root = params_for({"model.path": "data/raw/predictions/v1.json", "stats.n_boot": 200})
    (root / "data/raw/predictions").mkdir(parents=True)
    shutil.copyfile(ROOT / "data/raw/predictions/v1.json", root / "data/raw/predictions/v1.json")
    ingest.main(LOG)
    return root


def test_stage_without_slice_file_then_with_slices(workdir, caplog):
    with caplog.at_level(logging.WARNING):
        summary = calibrate.main(LOG)
    assert "calibrating without slices" in caplog.text
    assert summary.startswith("979 rows: ECE ")
    m = json.loads((workdir / paths.CALIBRATION_METRICS).read_text())
    assert m["n"] == 979 and m["probabilities"] == "given" and m["slice_counts"]["total"] == 0

    frame = pd.read_parquet(workdir / paths.PREDICTIONS)
    slices = pd.DataFrame({
        "id": frame["id"],
        "watch__birth_control": frame["meta__condition"].eq("Birth Control").to_numpy(),
        "watch__rare": frame["record"].to_numpy() <= 5,
        "found__long_review": (frame["text"].str.len() > 600).to_numpy(),
    })
    slices.to_parquet(workdir / paths.SLICES, index=False)
    calibrate.main(LOG)
    m = json.loads((workdir / paths.CALIBRATION_METRICS).read_text())
    assert set(m["slices"]) == {"birth_control", "rare", "long_review"}
    assert m["slices"]["rare"]["status"] == "too_small" and m["slices"]["rare"]["n"] == 5
    bc = m["slices"]["birth_control"]
    assert bc["n"] == int(slices["watch__birth_control"].sum()) and bc["source"] == "watch"
    assert "ci_low" in bc["ece"] and "conf_ge_90" in bc["confidently_incorrect"]
    assert undeclared(m, CALIBRATION) == []
    assert set(m["worst_slices"]) <= {"birth_control", "long_review"}

    rows = [json.loads(line) for line in (workdir / paths.CONFIDENT_ERRORS).read_text().splitlines()]
    assert len(rows) == m["confidently_incorrect"]["conf_ge_70"]["count"]
    conf = [r["confidence"] for r in rows]
    assert conf == sorted(conf, reverse=True)
    in_bc = set(slices.loc[slices["watch__birth_control"], "id"])
    assert all(("birth_control" in r["slices"]) == (r["id"] in in_bc) for r in rows)
    assert all(r["label"] != r["prediction"] and r["bands"][0] == 0.7 for r in rows)

    data = json.loads((workdir / paths.RELIABILITY_DATA).read_text())
    assert sum(r["count"] for r in data) == 979
    for f in FIGURES:
        assert (workdir / paths.CALIBRATION_PLOTS / f).stat().st_size > 1000


def test_stage_outputs_consistent_and_byte_identical_on_rerun(workdir):
    calibrate.main(LOG)
    first = _hashes(workdir)
    text = (workdir / paths.CALIBRATION_METRICS).read_text()
    assert "NaN" not in text
    m = json.loads(text)

    def no_dots(node, prefix=""):
        if isinstance(node, dict):
            for k, v in node.items():
                assert "." not in k, prefix + k
                no_dots(v, prefix + k + "/")

    no_dots(m)
    # One binning feeds both: the ECE recomputed from the plot data equals the reported one.
    for path, key in ((paths.RELIABILITY_DATA, "ece"), (paths.RELIABILITY_DATA_EQUAL_MASS, "ece_equal_mass")):
        data = json.loads((workdir / path).read_text())
        ece = sum(r["count"] * abs(r["gap"]) for r in data) / sum(r["count"] for r in data)
        assert ece == pytest.approx(m["overall"][key]["value"], abs=1e-5)
        assert np.all(np.diff([r["bin_low"] for r in data]) > 0)
    calibrate.main(LOG)
    assert _hashes(workdir) == first


def test_dvc_stage_declares_what_the_stage_reads_and_writes():
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    stage = spec["stages"]["calibrate"]
    deps = stage["deps"]
    outs = [next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]]
    assert {str(paths.PREDICTIONS), str(paths.SLICES)} <= set(deps)
    # metrics/calibration.json is an ordinary out: only metrics/headline.json is a declared metric.
    assert set(outs) == {str(paths.CONFIDENT_ERRORS), str(paths.UNDERCONFIDENT_CORRECT), str(paths.CALIBRATION_PLOTS),
                         str(paths.CALIBRATION_METRICS)}
    assert set(stage["params"]) == {"seed", "stats.n_boot", "stats.ci_level", "ingest.classes", "calibration", "engine",
                                   "dask"}
    plotted = {f for p in spec["plots"] if isinstance(p, dict) for v in p.values() for f in v.get("y", {})}
    assert {str(paths.RELIABILITY_DATA), str(paths.RELIABILITY_DATA_EQUAL_MASS)} <= plotted
