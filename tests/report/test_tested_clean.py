"""The brief's "What was tested, column by column": every tested column and text feature, its tests,
and which came out clean, read from metrics/slices.json as the slice stage writes it."""

import json
import sys
from pathlib import Path
from types import SimpleNamespace

from blindspot.io.writers import dumps_metrics
from blindspot.report.document import Document
from blindspot.report.load import Src, parse_slices
from blindspot.report.markdown import render
from blindspot.report import sections
from blindspot.slices import audit_slices

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "slices"))
from test_shape_slices import CLASSES, DEFAULTS, rare_condition_frame  # noqa: E402


def brief_part(metrics: dict, findings: list) -> str:
    written = json.loads(dumps_metrics(metrics))  # as the report stage reads it back
    sl = parse_slices(Src("metrics/slices.json", written), json.loads(json.dumps(findings)))
    return render(Document("t").add(*sections.tested_clean(SimpleNamespace(slices=sl))))


def row(md: str, start: str) -> str:
    hits = [line for line in md.splitlines() if line.startswith(start)]
    assert len(hits) == 1, (start, md)
    return hits[0]


def test_each_column_is_listed_with_its_tests_and_the_clean_ones_are_named():
    run = audit_slices(rare_condition_frame(), CLASSES, **DEFAULTS)
    md = brief_part(run.metrics, run.findings)
    sex = run.metrics["columns_tested"]["sex"]
    # "Rare Condition and sex = ..." is significant only through the rare condition: sex stays clean.
    assert sex["n_significant"] == 0 and sex["conjunctions"]["n_reported"] == 0
    assert sex["conjunctions"]["n_significant"] >= 1
    n = sex["conjunctions"]["n_significant"]
    assert row(md, "| `sex` (metadata, 2 values) |") == (
        f"| `sex` (metadata, 2 values) | 2 | {sex['n_tests']} | {sex['conjunctions']['n_tests']} "
        f"({sex['conjunctions']['n_slices_tested']} slices) | no significant gap (combined with another feature, "
        f"{n} significant test{'s' if n != 1 else ''} explained by that feature alone) |")
    condition = row(md, "| `condition` (metadata, 73 values, 60 too rare to test alone pooled as “other”) |")
    assert "`condition__rare_condition`" in condition and "significant test" in condition
    length = row(md, "| word count (`length_q*`: quantile edges ")
    edges = run.metrics["text_features"]["length"]["n_words_quantiles"]["edges"]
    assert f"quantile edges {', '.join(map(str, edges))} words; 5 length slices in all)" in length
    assert "came out clean, with no significant gap alone or combined: `sex`" in md
    assert "not proof that there is none" in md


def test_a_metrics_file_without_the_counts_says_so():
    run = audit_slices(rare_condition_frame(), CLASSES, **DEFAULTS)
    old = dict(run.metrics)
    old["columns_tested"] = {k: {f: v for f, v in c.items() if f in ("column", "kind", "n_values", "n_predicates")}
                             for k, c in old["columns_tested"].items()}
    old.pop("text_features")
    md = brief_part(old, run.findings)
    assert "### What was tested, column by column" in md and "Not recorded" in md
