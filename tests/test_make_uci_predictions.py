"""The UCI sentences loader repairs each quirk and counts it; the bundled predictions reproduce byte for byte."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter

import pytest

from _paths import ROOT

from scripts import make_uci_predictions as uci

PREDICTIONS = ROOT / "data/raw/predictions/uci_sentences.jsonl"
LOAD_REPORT = ROOT / "data/raw/predictions/uci_sentences.load.json"


def _parse(text: str | bytes):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return uci.parse_file(data, "t.txt")


# --------------------------------------------------------------------------- the loader, quirk by quirk


def test_header_line_is_skipped_only_on_line_one():
    rows, report = _parse("Review\nGood phone.\t1\nBad.\t0\n")
    assert [r["text"] for r in rows] == ["Good phone.", "Bad."]
    assert report.counts["header_skipped"] == 1 and report.counts["lines"] == 3
    assert [r["line"] for r in rows] == [2, 3]


def test_a_sentence_broken_across_lines_is_joined_and_counted():
    rows, report = _parse("The script was\nnot there at all.  \t0\nFine.\t1\n")
    assert rows[0] == {"line": 1, "text": "The script was not there at all.", "label": "0"}
    assert report.counts["lines_joined"] == 1 and report.counts["sentences"] == 2


def test_spaces_before_the_tab_are_stripped_and_counted():
    rows, report = _parse("Slow movie.  \t0\nGreat.\t1\n")
    assert [r["text"] for r in rows] == ["Slow movie.", "Great."]
    assert report.counts["whitespace_stripped"] == 1


def test_nel_does_not_split_a_line_and_c1_controls_become_their_cp1252_characters():
    rows, report = _parse("The script is\x85was there a script?  \t0\nA \x96 B\t1\n")
    assert len(rows) == 2  # str.splitlines() would have made three lines
    assert rows[0]["text"] == "The script is\u2026was there a script?"
    assert rows[1]["text"] == "A \u2013 B"
    assert report.counts["nel_in_line"] == 1 and report.counts["c1_controls_mapped"] == 2
    assert report.to_json()["c1_characters"] == {"U+0085": 1, "U+0096": 1}


def test_bad_labels_and_a_dangling_fragment_are_rejected_with_line_and_reason():
    rows, report = _parse("ok.\t1\nmaybe.\t2\nspaces.\t 1 \n\t0\ntrailing fragment\n")
    assert [r["text"] for r in rows] == ["ok.", "spaces."]
    assert report.counts["label_whitespace_stripped"] == 1
    assert report.rejected == [
        {"line": 2, "reason": "bad_label", "found": "2"},
        {"line": 4, "reason": "empty_text", "found": "\t0"},
        {"line": 5, "reason": "no_label", "found": "trailing fragment"},
    ]
    assert (report.counts["rejected_bad_label"], report.counts["rejected_empty_text"],
            report.counts["rejected_no_label"]) == (1, 1, 1)


def test_bom_crlf_blank_lines_and_duplicates_are_counted():
    rows, report = _parse(b"\xef\xbb\xbfGood.\t1\r\n\r\nGood.\t1\r\n")
    assert [r["text"] for r in rows] == ["Good.", "Good."]
    c = report.counts
    assert (c["bom_stripped"], c["crlf_stripped"], c["blank_lines_skipped"], c["duplicate_sentences"]) == (1, 3, 1, 1)


def test_a_file_that_is_not_utf8_is_refused_with_its_name_and_offset():
    with pytest.raises(uci.SourceFileError, match=r"t\.txt: byte offset 3: not valid UTF-8 \(found bytes E9"):
        _parse(b"Caf\xe9.\t1\n")


def test_every_counter_is_described():
    _, report = _parse("a.\t1\n")
    assert set(report.to_json()["counts"]) == set(uci.FIXES)


# --------------------------------------------------------------------------- the bundled files


def test_bundled_files_load_as_documented():
    """The counts data/README.md and data/source/sentences_uci/README.md state."""
    sentences, reports = uci.load_sentences()
    assert len(sentences) == 3000 and len({s["id"] for s in sentences}) == 3000
    assert Counter(s["source"] for s in sentences) == {"amazon": 1000, "imdb": 1000, "yelp": 1000}
    assert Counter(s["label"] for s in sentences) == {"0": 1500, "1": 1500}
    by_file = {r.file: r.counts for r in reports}
    assert by_file["amazon_cells_labelled.txt"]["header_skipped"] == 1
    assert by_file["yelp_labelled.txt"]["header_skipped"] == 1
    assert by_file["imdb_labelled.txt"]["header_skipped"] == 0
    assert by_file["imdb_labelled.txt"]["whitespace_stripped"] == 1000
    assert by_file["imdb_labelled.txt"]["nel_in_line"] == 2
    assert by_file["imdb_labelled.txt"]["c1_controls_mapped"] == 8
    assert sum(c["duplicate_sentences"] for c in by_file.values()) == 17
    assert not any(r.rejected for r in reports)
    readme = (ROOT / "data/source/sentences_uci/README.md").read_text()
    for r in reports:
        assert r.sha256 in readme, f"{r.file}: sha256 in the README does not match the bundled file"


def test_committed_predictions_follow_the_input_contract():
    records = [json.loads(line) for line in PREDICTIONS.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 3000  # splitlines: no text holds a character that would split a record
    for r in records:
        assert set(r) == {"id", "text", "label", "prediction", "confidence", "probabilities", "source"}
        assert r["label"] in ("0", "1") and set(r["probabilities"]) == {"0", "1"}
        p0, p1 = r["probabilities"]["0"], r["probabilities"]["1"]
        assert abs(p0 + p1 - 1) < 1e-9
        assert r["prediction"] == ("0" if p0 >= p1 else "1") and r["confidence"] == max(p0, p1)
        assert not any("\x80" <= ch <= "\x9f" for ch in r["text"])
    accuracy = sum(r["label"] == r["prediction"] for r in records) / len(records)
    assert 0.80 < accuracy < 0.86  # held out: far from a training-set fit
    load = json.loads(LOAD_REPORT.read_text())
    assert load["totals"]["sentences"] == 3000 and load["seed"] == uci.SEED


def test_nothing_in_the_project_reads_the_shared_copy():
    """The data are bundled: no code, config or test refers to the folder they were copied from."""
    needle = "/".join(["shared", "data"])
    places = [ROOT / "Makefile", *ROOT.glob("conf/**/*.yaml")]
    for folder in ("scripts", "src", "stages", "tests"):
        places += (ROOT / folder).rglob("*.py")
    offenders = [str(p.relative_to(ROOT)) for p in places if needle in p.read_text(encoding="utf-8")]
    assert not offenders


@pytest.mark.slow
def test_script_regenerates_the_committed_files_byte_for_byte(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/make_uci_predictions.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "imdb_labelled.txt: lines=1000, nel_in_line=2, whitespace_stripped=1000" in proc.stdout
    assert "3000 sentences, out-of-fold accuracy 0.828" in proc.stdout
    for name in ("uci_sentences.jsonl", "uci_sentences.load.json"):
        fresh = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        committed = hashlib.sha256((ROOT / "data/raw/predictions" / name).read_bytes()).hexdigest()
        assert fresh == committed, f"{name} does not reproduce"
