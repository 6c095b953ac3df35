"""Complete or failed: every section present, nulls shown with their reason, unreadable files stop the stage.

The cases under ``tests/report/cases/`` were written by the real stages on data the
bundled demo never shows (``make_cases.py`` regenerates them). Each test copies one,
changes what it needs and renders the brief with the report's real code.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from blindspot import paths
from blindspot.config import ReportConfig
from blindspot.errors import BlindspotError, InputError
from blindspot.report import check_complete, load_inputs, render_brief
from blindspot.report.complete import SECTION_TITLES

from _bundled import bundled_params_file
from _paths import ROOT

CASES = Path(__file__).parent / "cases"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "metrics/profile.json").is_file())
METRICS = (paths.PROFILE_METRICS, paths.SLICE_METRICS, paths.CALIBRATION_METRICS, paths.JUDGE_METRICS,
           paths.COMPARE_METRICS)
PROV = {"params_sha256": "0" * 64, "input_path": "data/raw/mine.jsonl", "input_sha256": "1" * 64,
        "baseline_path": None, "packages": {"blindspot": "test"}}


def case(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / name
    shutil.copytree(CASES / name, dest)
    return dest


def render(root: Path, cfg: ReportConfig | None = None) -> tuple[str, str]:
    cfg = cfg or ReportConfig()
    inputs = load_inputs(root, confident_threshold=cfg.confident_threshold)
    return render_brief(inputs, cfg, alpha=0.05, prov=PROV, root=root)


def findings(root: Path) -> list:
    return json.loads((root / paths.FINDINGS).read_text(encoding="utf-8"))


def section(md: str, title: str) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert m, f"no section {title!r}"
    return m.group(1)


def edit_json(path: Path, fn) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(json.dumps(data, ensure_ascii=False, allow_nan=True), encoding="utf-8")


def number_leaves(node, trail=()):
    """(path, value) of every number held in an object (lists are left whole)."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from number_leaves(v, (*trail, k))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield trail, node


def set_leaf(node, trail, value):
    for k in trail[:-1]:
        node = node[k]
    node[trail[-1]] = value


@pytest.mark.parametrize("name", CASE_NAMES)
def test_every_case_renders_complete(name, tmp_path):
    root = case(name, tmp_path)
    md, html = render(root)
    assert check_complete(md, html, findings(root)) == []
    assert [t for t in re.findall(r"^## (.+)$", md, re.M)] == list(SECTION_TITLES)
    assert "nan" not in re.findall(r"[a-z]+", md.lower()), "a NaN reached the brief as 'nan'"


def test_an_empty_watchlist_slice_keeps_every_blind_spot(tmp_path):
    # The regression: one watchlist entry with n = 0 and a null error rate dropped all blind spots.
    root = case("planted", tmp_path)
    watch = json.loads((root / paths.SLICE_METRICS).read_text())["watchlist"]
    empty = [k for k, w in watch.items() if w["n"] == 0 and w.get("reason") == "no_rows"
             and (w.get("error_rate") or {}).get("value") is None]
    assert "words_le_10" in empty  # the planted case's reviews are all longer than ten words
    md, html = render(root)
    spots = [f for f in findings(root) if f["significant"] and f["source"] != "class"]
    assert spots, "the planted case has a significant slice"
    ranked = section(md, "Ranked blind spots")
    assert all(f"`{f['key']}`" in ranked for f in spots)
    assert "No slice is worse than the rest within" not in md
    assert re.search(r"`words_le_10` \| 0 \| \u2014 \|.*\| not tested: no rows \|", ranked)
    assert check_complete(md, html, findings(root)) == []


@pytest.mark.parametrize("rel", METRICS, ids=lambda p: Path(p).stem)
@pytest.mark.parametrize("missing", [None, math.nan], ids=["null", "NaN"])
def test_every_number_of_a_file_missing_renders_not_measurable(rel, missing, tmp_path):
    root = case("planted", tmp_path)
    before = render(root)[0].count("not measurable")

    def blank(data):
        for trail, _ in list(number_leaves(data)):
            set_leaf(data, trail, missing)

    edit_json(root / rel, blank)
    md, html = render(root)
    assert check_complete(md, html, findings(root)) == []
    if rel != paths.COMPARE_METRICS:  # this case has no baseline: compare.json holds no number the brief shows
        assert md.count("not measurable") > before
    assert "nan" not in re.findall(r"[a-z]+", md.lower())


def test_any_single_null_renders(tmp_path):
    """A seeded sample of single numbers, one at a time, in every file: never a crash, never a lost section."""
    root = case("planted", tmp_path)
    rng = random.Random(11)
    for rel in (*METRICS, paths.FINDINGS):
        original = (root / rel).read_text(encoding="utf-8")
        data = json.loads(original)
        leaves = (list(number_leaves(data)) if isinstance(data, dict)
                  else [((i, *t), v) for i, f in enumerate(data) for t, v in number_leaves(f)])
        for trail, _ in rng.sample(leaves, min(12, len(leaves))):
            data = json.loads(original)
            set_leaf(data, trail, None)
            (root / rel).write_text(json.dumps(data), encoding="utf-8")
            md, html = render(root)
            assert check_complete(md, html, findings(root)) == [], (rel, trail)
        (root / rel).write_text(original, encoding="utf-8")


@pytest.mark.parametrize("rel, trail", [
    (paths.PROFILE_METRICS, ("per_class",)),
    (paths.PROFILE_METRICS, ("accuracy", "value")),
    (paths.SLICE_METRICS, ("watchlist", "jargon_high", "n")),
    (paths.CALIBRATION_METRICS, ("overall", "ece")),
    (paths.CALIBRATION_METRICS, ("confidently_incorrect", "conf_ge_80")),
    (paths.JUDGE_METRICS, ("verdicts",)),
    (paths.COMPARE_METRICS, ("status",)),
], ids=lambda x: x if isinstance(x, str) else ".".join(x) if isinstance(x, tuple) else Path(x).stem)
def test_a_missing_key_stops_the_report_naming_file_and_key(rel, trail, tmp_path):
    root = case("planted", tmp_path)

    def drop(data):
        node = data
        for k in trail[:-1]:
            node = node[k]
        del node[trail[-1]]

    edit_json(root / rel, drop)
    with pytest.raises(InputError) as err:
        render(root)
    assert str(rel) in str(err.value) and ".".join(trail) in str(err.value)


def test_a_wrong_type_stops_the_report_naming_file_and_key(tmp_path):
    root = case("planted", tmp_path)
    edit_json(root / paths.CALIBRATION_METRICS, lambda d: set_leaf(d, ("overall", "ece", "value"), "0.1"))
    with pytest.raises(InputError, match=r"metrics/calibration.json, field 'overall.ece.value'.*is not a number"):
        render(root)


def test_the_stage_exits_2_with_the_file_and_key_and_no_traceback(tmp_path):
    root = case("planted", tmp_path)
    edit_json(root / paths.SLICE_METRICS, lambda d: d["family"].pop("n_tests"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "blindspot.stages.report"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "metrics/slices.json, field 'family.n_tests'" in done.stderr
    assert not (root / paths.BRIEF_MD).exists()


def test_judge_section_when_every_verdict_failed(tmp_path):
    root = case("twelve_classes", tmp_path)
    judge = json.loads((root / paths.JUDGE_METRICS).read_text())
    assert judge["judged"] == 0 and judge["agreement"]["random_sample"]["gold"]["kappa"]["value"] is None
    md, html = render(root)
    text = section(md, "What the judge found, and how far to trust it")
    assert "not measurable: no verdicts: all" in text
    assert "Not run" not in text
    assert check_complete(md, html, findings(root)) == []


def test_calibration_section_when_a_class_has_no_rows_or_no_errors(tmp_path):
    root = case("absent_class", tmp_path)
    md, html = render(root)
    examples = section(md, "Confidently incorrect examples")
    assert "'neutral' not measurable: no rows in this group" in examples
    accuracy = section(md, "Why accuracy misleads")
    assert "not measurable: no row of class 'neutral' in the data" in accuracy
    assert "not measurable: class 'neutral' has no rows" in accuracy  # the imbalance ratio
    assert check_complete(md, html, findings(root)) == []


@pytest.mark.parametrize("status, reason, expected", [
    ("no_baseline", "compare.baseline.path is null", "No baseline: no previous audit is recorded"),
    ("not_compared", "only 5 reviews are in both files; compare.min_rows is 10",
     "Not compared: only 5 reviews are in both files; compare.min\\_rows is 10."),
])
def test_comparison_status_is_said(status, reason, expected, tmp_path):
    root = case("five_rows", tmp_path)
    (root / paths.COMPARE_METRICS).write_text(json.dumps({"schema_version": 2, "status": status, "reason": reason}))
    md, html = render(root)
    assert expected in section(md, "Comparison with the previous version")
    assert check_complete(md, html, findings(root)) == []


def test_absent_stage_outputs_say_not_run(tmp_path):
    root = case("five_rows", tmp_path)
    for rel in (paths.SLICE_METRICS, paths.CALIBRATION_METRICS, paths.JUDGE_METRICS, paths.COMPARE_METRICS):
        (root / rel).unlink()
    md, html = render(root)
    for title in ("Ranked blind spots", "Confidently incorrect examples",
                  "What the judge found, and how far to trust it",
                  "Comparison with the previous version"):
        assert "Not run" in section(md, title), title
    assert check_complete(md, html, []) == []


def test_check_complete_names_what_is_missing():
    spot = {"id": "x__a__error_rate", "key": "x__a", "significant": True}
    md = "# t\n\n## Verdict\n\nfine\n\n## Ranked blind spots\n\n`x__a`\n"
    html = '<h2 id="verdict">Verdict</h2><code>y</code>'
    problems = check_complete(md, html, [spot, {"key": "quiet", "significant": False}])
    assert "HTML brief: section 'Ranked blind spots' is missing" in problems
    assert "HTML brief: significant finding 'x__a__error_rate' (key 'x__a') does not appear in 'Ranked blind spots'" in problems
    assert not any("Markdown brief: significant" in p for p in problems)
    assert not any("quiet" in p for p in problems)


def test_check_complete_wants_each_finding_in_the_section_that_owns_it():
    """A slice key quoted beside an example, or a class key outside the class table, does not count."""
    spot = {"id": "x__a__error_rate", "key": "x__a", "significant": True, "source": "slice"}
    weak = {"id": "class__neg__recall", "key": "class__neg", "significant": True, "source": "class"}
    md = ("## Why accuracy misleads\n\ntable\n\n## Ranked blind spots\n\nNo finding.\n\n"
          "## Confidently incorrect examples\n\n> text. slices: `x__a`, `class__neg`\n\n## Verdict\n\n")
    html = ('<h2 id="w">Why accuracy misleads</h2><p>table</p><h2 id="r">Ranked blind spots</h2><p>none</p>'
            '<h2 id="c">Confidently incorrect examples</h2><code>x__a</code> <code>class__neg</code>')
    problems = check_complete(md, html, [spot, weak])
    for brief in ("Markdown", "HTML"):
        assert f"{brief} brief: significant finding 'x__a__error_rate' (key 'x__a') does not appear in 'Ranked blind spots'" in problems
        assert f"{brief} brief: significant finding 'class__neg__recall' (key 'class__neg') does not appear in 'Why accuracy misleads'" in problems
    assert "Markdown brief: section 'Verdict' is a bare heading" in problems


def test_title_names_the_audited_file(tmp_path):
    root = case("five_rows", tmp_path)
    md, html = render(root)
    assert md.startswith("# Blind Spot Brief: data/raw/mine.jsonl (model five\\_rows)\n")
    assert "<title>Blind Spot Brief: data/raw/mine.jsonl (model five_rows)</title>" in html
    assert "Model v1" not in md


def test_the_stage_refuses_to_write_an_incomplete_brief(tmp_path, monkeypatch):
    import blindspot.stages.report as stage
    from blindspot import report as report_pkg

    root = case("planted", tmp_path)
    shutil.copy(bundled_params_file(), root / "params.yaml")

    def without_blind_spots(inputs, cfg, **kw):  # a renderer that loses the findings
        md, html = report_pkg.render_brief(inputs, cfg, **kw)
        return md.replace("specialty__oncology", "gone"), html.replace("specialty__oncology", "gone")

    monkeypatch.setattr(stage, "render_brief", without_blind_spots)
    monkeypatch.chdir(root)
    with pytest.raises(BlindspotError, match=r"(?s)the brief would be incomplete.*significant finding"):
        stage.main(__import__("logging").getLogger("test"))
    assert not (root / paths.BRIEF_MD).exists()


def test_judge_section_when_the_server_cannot_be_reached(tmp_path):
    root = case("judge_unreachable", tmp_path)
    md, html = render(root)
    text = section(md, "What the judge found, and how far to trust it")
    assert "The judge could not measure everything:" in text and "circuit breaker" in text
    assert "not measurable: no verdicts" in text
    assert check_complete(md, html, findings(root)) == []
