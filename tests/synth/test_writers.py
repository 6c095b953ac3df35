"""Tests of the synthetic data's writers and command line (blindspot.synth.writers, blindspot.synth.cli)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from blindspot.synth import DEFAULT_CLASSES, METADATA_COLUMNS, PlantedSlice, generate, main, truth_path, write


@pytest.fixture(scope="module")
def planted_data():
    return generate(20_000, seed=12, mode="planted", planted=[PlantedSlice({"specialty": "oncology"}, error_gap=0.20)])


def test_jsonl_round_trip(tmp_path, planted_data):
    sub = type(planted_data)(planted_data.frame.iloc[:3000], planted_data.truth, planted_data.latent.iloc[:3000])
    path, tpath = write(sub, tmp_path / "out" / "synth.jsonl")
    assert tpath == truth_path(path) == tmp_path / "out" / "synth.truth.json"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3000
    assert list(records[0]) == ["id", "text", "label", "prediction", "confidence", "probabilities", *METADATA_COLUMNS]
    for rec in records:
        probs = rec["probabilities"]
        assert list(probs) == list(DEFAULT_CLASSES)
        assert abs(sum(probs.values()) - 1) < 1e-6
        assert max(probs, key=probs.get) == rec["prediction"]
        assert probs[rec["prediction"]] == rec["confidence"] == max(probs.values())
        assert sorted(probs.values())[-2] < rec["confidence"]
    back = pd.DataFrame.from_records(records)
    f = sub.frame
    for col in ["id", "text", "label", "prediction", *METADATA_COLUMNS]:
        assert back[col].tolist() == f[col].tolist()
    assert (back["confidence"].to_numpy() == f["confidence"].to_numpy()).all()  # exact, as written
    for c in DEFAULT_CLASSES:
        assert (back["probabilities"].str[c].to_numpy() == f[f"p_{c}"].to_numpy()).all()
    truth_text = tpath.read_text(encoding="utf-8")
    assert json.loads(truth_text) == planted_data.truth
    assert truth_text == json.dumps(planted_data.truth, sort_keys=True, indent=2) + "\n"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_flat_writers_round_trip(tmp_path, suffix):
    data = generate(500, seed=3)
    path, tpath = write(data, tmp_path / f"flat{suffix}")
    back = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    assert list(back.columns) == list(data.frame.columns)
    assert back["text"].tolist() == data.frame["text"].tolist()
    np.testing.assert_allclose(back["confidence"], data.frame["confidence"], rtol=0, atol=1e-12)
    assert tpath.exists()


def test_cli_writes_files(tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    assert main(["--n", "1000", "--seed", "0", "--mode", "planted", "--out", str(out),
                 "--plant", "specialty=oncology", "--plant", "age_band=65+,platform=android", "--gap", "0.3"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and str(out) in printed[0] and "specialty=oncology" in printed[0]
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1000
    truth = json.loads((tmp_path / "cli.truth.json").read_text(encoding="utf-8"))
    assert [p["predicate"] for p in truth["planted"]] == [{"specialty": "oncology"},
                                                          {"age_band": "65+", "platform": "android"}]
    assert truth["planted"][0]["error_gap"] == 0.3
    with pytest.raises(SystemExit):
        main(["--n", "10", "--seed", "0", "--mode", "planted", "--out", str(out), "--plant", "specialty=podiatry"])

