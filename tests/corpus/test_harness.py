"""The corpus's checks catch what they are meant to catch (each on a tiny hand-made workspace)."""

from __future__ import annotations

import json

import pytest

from corpus import harness


def _write(root, rel, data):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def test_ingest_accounting_flags_a_lost_row_and_a_wrong_count(tmp_path):
    _write(tmp_path, "metrics/ingest.json", {"rows_in": 10, "rows_clean": 8, "rows_rejected": 1})
    problems = harness.check_ingest_accounting(tmp_path, 12)
    assert problems == ["rows_in is 10, the file has 12 records", "rows_in 10 != rows_clean 8 + rows_rejected 1"]
    _write(tmp_path, "metrics/ingest.json", {"rows_in": 12, "rows_clean": 11, "rows_rejected": 1})
    assert harness.check_ingest_accounting(tmp_path, 12) == []


def test_a_repeated_json_key_is_caught(tmp_path):
    _write(tmp_path, "metrics/slices.json", '{"watchlist": {"other": {"n": 1}, "other": {"n": 2}}}')
    assert harness.check_slice_keys(tmp_path) == ["slices.json: repeated key(s) ['other'] in one object"]


def test_one_key_for_two_slices_and_two_keys_for_one_slice_are_caught(tmp_path):
    part = {"source": "metadata", "column": "device", "value": "Other", "key": "device__other"}
    pooled = {"source": "metadata", "column": "device", "value": {"not_in": ["ios"]}, "key": "device__other"}
    _write(tmp_path, "reports/findings.json", [{"key": "device__other", "parts": [part]},
                                               {"key": "device__other", "parts": [pooled]}])
    problems = harness.check_slice_keys(tmp_path)
    assert len(problems) == 1 and "key 'device__other' names two slices" in problems[0]
    renamed = dict(part, key="device__other_h1234abcd")
    _write(tmp_path, "reports/findings.json", [{"key": "device__other", "parts": [part]},
                                               {"key": "device__other_h1234abcd", "parts": [renamed]}])
    problems = harness.check_slice_keys(tmp_path)
    assert len(problems) == 1 and "has two keys" in problems[0]


def test_a_dotted_metrics_key_is_caught(tmp_path):
    _write(tmp_path, "metrics/slices.json", {"watchlist": {"device.os__ios": {"n": 3}}})
    assert harness.check_slice_keys(tmp_path) == ["metrics/slices.json: key with a dot watchlist/'device.os__ios'"]


def test_a_byte_changed_between_runs_is_caught(tmp_path):
    a, b = harness.PipelineRun(tmp_path / "a"), harness.PipelineRun(tmp_path / "b")
    for run, text in ((a, "1"), (b, "2")):
        _write(run.root, "metrics/profile.json", text)
        _write(run.root, "conf/config.yaml", text)  # an input: not compared
    _write(a.root, "plots/x.png", "")
    assert harness.compare_runs(a, b) == ["plots/x.png: only in the first run",
                                          "metrics/profile.json: bytes differ between the two runs"]


def test_a_missing_section_a_bare_heading_and_a_raw_nan_are_caught(tmp_path):
    from blindspot.report import SECTION_TITLES

    sections = [t for t in SECTION_TITLES if t != "Visual evidence"]
    md = "# Brief\n\n" + "".join(f"## {t}\n\nText nan.\n\n" for t in sections[:-1]) + f"## {sections[-1]}\n"
    md = md.replace("## Verdict\n\nText nan.\n\n", "## Verdict\n\n")
    page = "".join(f"<h2>{t}</h2><p>ok</p>" for t in SECTION_TITLES)
    _write(tmp_path, "reports/blind_spot_brief.md", md)
    _write(tmp_path, "reports/blind_spot_brief.html", page)
    _write(tmp_path, "reports/findings.json", [])
    problems = harness.check_brief_complete(tmp_path)
    assert "Markdown brief: section 'Visual evidence' is missing" in problems
    assert "Markdown brief: section 'Verdict' is a bare heading" in problems
    assert "Markdown brief: raw non-numbers ['nan'] instead of 'not measurable'" in problems
    assert not [p for p in problems if p.startswith("HTML")]


@pytest.mark.parametrize("stderr, expected", [
    ("ingest: 3 rows\ningest: error: data/raw/x.csv, line 3: bad\n  hint: fix\n", "ingest: error: data/raw/x.csv, line 3: bad"),
    ("Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'baseline'\n", "KeyError: 'baseline'"),
])
def test_the_first_error_line_is_the_one_that_says_what_went_wrong(stderr, expected):
    assert harness.StageResult("s", 1, stderr, 0.0).first_error() == expected


def test_a_blind_spot_named_only_outside_the_ranked_table_is_caught(tmp_path):
    """A key quoted in an example's slice list does not make up for an empty ranked table."""
    from blindspot.report import SECTION_TITLES

    body = {t: "Text." for t in SECTION_TITLES}
    body["Ranked blind spots"] = "> **Warning:** Some inputs were missing or unreadable."
    body["Confidently incorrect examples"] = "slices: `channel__sms`"
    md = "# Brief\n\n" + "".join(f"## {t}\n\n{b}\n\n" for t, b in body.items())
    page = "".join(f"<h2>{t}</h2><p>{b}</p>" for t, b in body.items())
    _write(tmp_path, "reports/blind_spot_brief.md", md)
    _write(tmp_path, "reports/blind_spot_brief.html", page)
    _write(tmp_path, "reports/findings.json", [{"id": "discovered__channel__sms__error_rate", "key": "channel__sms",
                                                "source": "discovered", "significant": True}])
    problems = harness.check_brief_complete(tmp_path)
    for brief in ("Markdown", "HTML"):
        assert (f"{brief} brief: significant finding 'discovered__channel__sms__error_rate' (key 'channel__sms') "
                "does not appear in 'Ranked blind spots'") in problems
    assert "the brief says some inputs were missing or unreadable after every stage ran" in problems
