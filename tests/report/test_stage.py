"""The report stage on a real audit of the bundled data (see conftest.audited).

Marked slow: the shared fixture runs every upstream stage once (about ten seconds).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from blindspot import paths
from blindspot.errors import InputError
from blindspot.report.fmt import metric_label

from report.conftest import HOSTILE, HOSTILE_ID, run_stages, write_params
from report.test_escaping import parse

FLAT = " ".join(HOSTILE.split())

pytestmark = pytest.mark.slow


def _read(root, rel):
    return (root / rel).read_text(encoding="utf-8")


def _section(markdown: str, title: str) -> str:
    """The Markdown of one ``## title`` section."""
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    assert m, f"no section {title!r}"
    return m.group(1)


def test_html_is_self_contained_and_shows_verdict_table_and_pictures(audited):
    html = _read(audited, paths.BRIEF_HTML)
    doc = parse(html)
    tags = [t for t, _ in doc.tags]
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in doc.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), f"<{tag} {key}={value[:40]!r}>"
    assert "default-src 'none'" in html and "@media print" in html
    headings = re.findall(r"<h2 id=\"[a-z0-9-]+\">(.*?)</h2>", html)
    assert headings[:3] == ["Verdict", "Why accuracy misleads", "Ranked blind spots"]
    assert {"Visual evidence", "Confidently incorrect examples", "Risk and mitigation", "Reproducibility",
            "What the judge found, and how far to trust it", "Comparison with the previous version"} <= set(headings)
    assert sum(t == "img" for t in tags) >= 6
    # the ranked blind-spot table: one row per ranked finding
    findings = json.loads(_read(audited, paths.FINDINGS))
    ranked = [f for f in findings if f["source"] != "class" and f["significant"] and f["rank"] is not None]
    assert ranked, "the bundled data has blind spots"
    table = re.search(r"<h2 id=\"ranked-blind-spots\">.*?<tbody>(.*?)</tbody>", html, re.S).group(1)
    assert table.count("<tr>") == min(len(ranked), 10)
    assert ranked[0]["key"] in table


def test_every_number_in_the_verdict_comes_from_the_metrics(audited):
    profile = json.loads(_read(audited, paths.PROFILE_METRICS))
    calibration = json.loads(_read(audited, paths.CALIBRATION_METRICS))
    verdict = _section(_read(audited, paths.BRIEF_MD), "Verdict")
    acc = profile["accuracy"]
    assert f"Accuracy {acc['value']:.3f} \\[{acc['ci_low']:.3f}, {acc['ci_high']:.3f}\\]" in verdict
    assert f"({profile['majority_baseline_accuracy']:.3f})" in verdict
    neutral = profile["per_class"]["neutral"]["recall"]
    assert profile["prediction_distribution"]["neutral"]["n"] == 0
    assert f"'neutral' is never predicted (recall {neutral['value']:.2f} \\[{neutral['ci_low']:.2f}" in verdict
    neg = profile["per_class"]["negative"]["recall"]["value"]
    assert f"'negative': {100 * (1 - neg):.0f}% of its" in verdict
    assert verdict.lstrip().startswith("> **NOT READY:** 2 weak classes ('negative', 'neutral')")
    count = calibration["confidently_incorrect"]["conf_ge_80"]["count"]
    assert f"{count} reviews" in verdict
    numbers = re.findall(r"\d+\.\d+", verdict)
    assert len(numbers) > 10


def test_a_recall_finding_has_no_class_mix_excess_to_call_unmeasurable(audited):
    """Excess given the class mix is defined for error rates only: a recall is already within one class."""
    findings = json.loads(_read(audited, paths.FINDINGS))
    assert any(f.get("significant") and f["metric"].startswith("recall_") and "slice" in f for f in findings)
    markdown = _read(audited, paths.BRIEF_MD)
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "recall of '" in line]
    assert rows
    assert not any("not measurable" in row for row in rows), rows


def test_the_watchlist_row_shows_every_tested_metric_and_the_ranked_finding(audited):
    """One slice, one story: a watchlist row whose error rate is class mix still shows its own blind spot,
    with the metric's value, q and denominator as the ranked list has them."""
    findings = json.loads(_read(audited, paths.FINDINGS))
    # Watchlist slices only: a learned topic can be a blind spot through a recall too, and is not watched.
    own = [f for f in findings if f.get("rank") is not None and f["metric"] != "error_rate"
           and f.get("source") == "watchlist"]
    assert own, "bundled v1 has a ranked recall finding on the watchlist"
    markdown = _read(audited, paths.BRIEF_MD)
    watch = _section(markdown, "Ranked blind spots").split("### Watchlist", 1)[1]
    for f in own:
        row = next(line for line in watch.splitlines() if f"<br>`{f['key']}` |" in line)
        row = row.replace("\\", "")  # Markdown's backslash escapes are not part of the text
        ranked = sorted((g for g in findings if g.get("rank") is not None and g.get("source") != "class"),
                        key=lambda g: g["rank"])
        number = list(dict.fromkeys(g["key"] for g in ranked)).index(f["key"]) + 1  # its row in the ranked table
        assert f"blind spot of its own (#{number})" in row, row
        cell = f"**{f['estimate']['value']:.2f} vs {f['rest_value']:.2f}**<br>**q = "
        assert cell in row and f"({f['n']})**" in row, row
        tested = [g for g in findings if g["key"] == f["key"]]
        assert row.count(" vs ") == len(tested), "every tested metric of the slice has its cell"


def test_the_hostile_review_is_quoted_as_text(audited):
    html, md = _read(audited, paths.BRIEF_HTML), _read(audited, paths.BRIEF_MD)
    doc = parse(html)
    assert "<script" not in html.lower()
    assert not any(k.startswith("on") for _, a in doc.tags for k in a)
    assert FLAT in doc.joined, "the review is shown verbatim"
    assert HOSTILE_ID in _section(md, "Confidently incorrect examples")
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    mdoc = parse(rendered)
    assert "script" not in [t for t, _ in mdoc.tags] and "<script" not in rendered.lower()
    assert not any(t == "a" for t, _ in mdoc.tags)
    assert all(a["src"].startswith("../plots/") for t, a in mdoc.tags if t == "img")
    assert FLAT in mdoc.joined


def test_same_inputs_same_bytes(audit_copy, audited):
    run_stages(audit_copy, ["report"])
    for rel in (paths.BRIEF_MD, paths.BRIEF_HTML):
        assert (audit_copy / rel).read_bytes() == (audited / rel).read_bytes()
    md = _read(audited, paths.BRIEF_MD)
    params_hash = re.search(r"params.yaml` \| `([0-9a-f]{64})", md).group(1)
    assert not re.search(r"\b[0-9a-f]{40}\b", md.replace(params_hash, ""))  # no git revision
    assert not re.search(r"20\d\d-\d\d-\d\dT", md)  # no time stamp


def test_renders_without_the_judge(audit_copy):
    (audit_copy / paths.JUDGE_METRICS).unlink()
    (audit_copy / paths.JUDGMENTS).unlink()
    run_stages(audit_copy, ["report"])
    md = _read(audit_copy, paths.BRIEF_MD)
    assert "Not run: the judge did not run" in _section(md, "What the judge found, and how far to trust it")
    assert "the judge reads" not in md and "Suspected label noise" not in md
    assert "metrics/judge.json` is absent" in _section(md, "Verdict")


def test_an_upstream_key_change_stops_the_report_naming_file_and_key(audit_copy):
    # Complete or failed: a section that cannot be built is never dropped silently.
    judge = json.loads(_read(audit_copy, paths.JUDGE_METRICS))
    del judge["agreement"]
    (audit_copy / paths.JUDGE_METRICS).write_text(json.dumps(judge))
    before = (audit_copy / paths.BRIEF_MD).read_bytes()
    with pytest.raises(InputError, match="metrics/judge.json, field 'agreement': cannot be read for the brief"):
        run_stages(audit_copy, ["report"])
    assert (audit_copy / paths.BRIEF_MD).read_bytes() == before


def test_profile_is_required(audit_copy):
    (audit_copy / paths.PROFILE_METRICS).unlink()
    with pytest.raises(InputError, match="metrics/profile.json: not found"):
        run_stages(audit_copy, ["report"])


def test_v1_against_itself_says_so(audit_copy):
    write_params(audit_copy, {"stats.n_boot": 100, "report.max_quote_chars": 1000, "compare.baseline.name": "v1",
                              "compare.baseline.path": "data/raw/predictions/v1.json"})
    run_stages(audit_copy, ["compare", "report"])
    section = _section(_read(audit_copy, paths.BRIEF_MD), "Comparison with the previous version")
    assert "is the current model" in section and "dvc exp run -S model=v2" in section
    assert "|" not in section.split("### Blind spots across versions")[0]  # no table of zero deltas


def test_v2_against_a_recorded_v1_names_the_commit_and_tracks_each_blind_spot(audit_copy):
    """The previous audited version as baseline: the record `blindspot baseline` writes, read by the stages."""
    from blindspot.baseline import sha256_of

    record = audit_copy / "baseline"
    record.mkdir(exist_ok=True)
    shutil.copy(audit_copy / paths.FINDINGS, record / "findings.json")
    v1 = "data/raw/predictions/v1.json"
    (record / "baseline.json").write_text(json.dumps({
        "name": "v1", "rev": "HEAD", "commit": "0123456789abcdef0123", "committed": "2026-12-01T09:00:00+00:00",
        "subject": "audit v1", "input_sha256": sha256_of(audit_copy / v1),
        "model": {"name": "v1", "path": v1, "format": "auto", "columns": None, "probability_prefix": None}}))
    write_params(audit_copy, {"stats.n_boot": 100, "model.name": "v2", "model.path": "data/raw/predictions/v2.json"})
    run_stages(audit_copy, ["ingest", "profile", "slice", "calibrate", "judge", "compare", "lifecycle", "gate",
                            "report"])
    section = _section(_read(audit_copy, paths.BRIEF_MD), "Comparison with the previous version")
    assert ("**Baseline:** v1, the previous audited version: the audit committed at `0123456789ab` (2026-12-01, "
            "\u201caudit v1\u201d)") in section
    lifecycle = json.loads(_read(audit_copy, paths.LIFECYCLE))
    assert lifecycle["status"] == "tracked" and lifecycle["previous"]["name"] == "v1"
    n = lifecycle["counts"]
    assert f"Against v1 (the audit committed at `0123456789ab`): {n['new']} new, {n['reopened']} reopened" in section
    for entry in lifecycle["blind_spots"]:
        assert f"`{entry['key']}` {metric_label(entry['metric'])}" in section
    gate = json.loads(_read(audit_copy, paths.GATE_METRICS))
    assert ("Release gate: FAILED" if gate["passed"] == 0 else "Release gate: passed") in section


def test_v2_brief_compares_with_v1_and_drops_absent_findings(audit_copy):
    write_params(audit_copy, {"stats.n_boot": 100, "model.name": "v2", "model.path": "data/raw/predictions/v2.json",
                              "compare.baseline.name": "v1", "compare.baseline.path": "data/raw/predictions/v1.json"})
    run_stages(audit_copy, ["ingest", "profile", "slice", "calibrate", "judge", "compare", "report"])
    md = _read(audit_copy, paths.BRIEF_MD)
    profile = json.loads(_read(audit_copy, paths.PROFILE_METRICS))
    compare = json.loads(_read(audit_copy, paths.COMPARE_METRICS))
    section = _section(md, "Comparison with the previous version")
    acc = compare["global"]["accuracy"]
    assert acc["current"] == pytest.approx(profile["accuracy"]["value"], abs=1e-6)
    # the table row and `dvc metrics diff` carry the same numbers
    assert f"| accuracy *(higher is better)* | {acc['baseline']:.3f} | {acc['current']:.3f} | {acc['delta']['value']:+.3f}" \
        in section
    recall = compare["global"]["per_class"]["negative"]["recall"]
    assert recall["direction"] == "improved" and f"recall improved {recall['baseline']:.3f}" in section
    # v2 predicts 'neutral' now and then: the v1 sentence about never predicting it is gone
    assert profile["prediction_distribution"]["neutral"]["n"] > 0
    assert "'neutral' is never predicted" not in md and "'neutral': 98% of its" in md
    rate = json.loads(_read(audit_copy, paths.CALIBRATION_METRICS))["confidently_incorrect"]["conf_ge_80"]["count"]
    assert f"{rate} reviews (" in _section(md, "Verdict")


def test_headless_browser_opens_the_html_offline(audited, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless browser installed")
    shot = tmp_path / "brief.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           f"--screenshot={shot}", "--window-size=1280,2400", (audited / paths.BRIEF_HTML).as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 50_000  # a rendered page with pictures, not a blank one


def test_one_slice_is_one_entry_in_the_ranked_tables(audited):
    """A slice with several significant metrics is one row (its others in the last column), never two."""
    ranked = _section(_read(audited, paths.BRIEF_MD), "Ranked blind spots").split("### Watchlist", 1)[0]
    keys = re.findall(r"<br>`([^`]+)` \|", ranked)
    assert keys and len(keys) == len(set(keys)), keys
