"""The brief's "Text slices nobody named": learned topics and cross-fitted error terms (issue 16).

Each test copies the planted case (real stage outputs), writes a hand-made
``reports/text_slices.json`` beside it and, where the test needs them, term and topic
findings in ``reports/findings.json`` shaped as the slice stage writes them
(:data:`blindspot.results.slices.TEXT_SLICES`), then renders the brief.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from blindspot import paths
from blindspot.config import ReportConfig
from blindspot.errors import InputError
from blindspot.report import check_complete, load_inputs, render_brief
from blindspot.report.complete import SECTION_TITLES, TEXT_TITLE
from blindspot.results.keys import undeclared
from blindspot.results.slices import TEXT_SLICES

CASES = Path(__file__).parent / "cases"
PROV = {"params_sha256": "0" * 64, "input_path": "data/raw/mine.jsonl", "input_sha256": "1" * 64,
        "baseline_path": None, "packages": {"blindspot": "test"}}
HOSTILE = ('<script>alert(1)</script> [x](javascript:alert(2)) | a | b | **bold** `tick`\n# Head '
           '<img src=x onerror="alert(3)">')


def topic(i: int, terms: list, *, n=120, tested=True, evidence=None, rank=None, q=0.4, cq=0.6,
          examples=None) -> dict:
    name = " / ".join(terms[:3])
    return {"key": "topic_" + "_".join(terms[:3]), "name": name, "top_terms": terms, "n": n, "tested": tested,
            "evidence": evidence, "rank": rank, "error_rate": 0.3 + i / 100, "rest_error_rate": 0.2,
            "q_value": q if tested else None, "conditional_q_value": cq if tested else None,
            "examples": examples if examples is not None else [{"id": f"r{i}a", "text": f"first review of {name}"},
                                                               {"id": f"r{i}b", "text": f"second review of {name}"}]}


def term(word: str, *, p=0.2, q=0.5, significant=False, rank=None, selected_on="a") -> dict:
    return {"term": word, "key": "term_" + re.sub(r"[^a-z0-9]+", "_", word), "n": 80, "errors": 30,
            "error_rate": 0.375, "rest_error_rate": 0.2, "expected_given_class_mix": 18.5, "n_a": 41, "n_b": 39,
            "selected_on": selected_on, "p_a_to_b": p / 2 if selected_on != "b" else None,
            "p_b_to_a": p / 2 if selected_on != "a" else None, "p_value": p, "q_value": q,
            "significant": significant, "rank": rank}


def text_file(topics=(), terms=(), *, k=None, topics_reason=None, terms_reason=None, n_candidates=412) -> dict:
    return {"topics": {"k": len(topics) if k is None else k, "n_fit": 1000, "reason": topics_reason,
                       "settings": {"weight_floor": 0.15}, "topics": list(topics)},
            "terms": {"n_candidates": n_candidates, "n_a": 498, "n_b": 502, "reason": terms_reason,
                      "settings": {"min_support": 30, "top_k": 20}, "tested": list(terms)}}


def setup(tmp_path: Path, data: dict | None, extra_findings=()) -> Path:
    root = tmp_path / "case"
    shutil.copytree(CASES / "planted", root)
    (root / "reports/text_slices.json").unlink(missing_ok=True)  # the case's own; each test writes its own or none
    if data is not None:
        assert undeclared(data, TEXT_SLICES) == [], "the hand-made file drifted from its declaration"
        (root / "reports/text_slices.json").write_text(json.dumps(data), encoding="utf-8")
    if extra_findings:
        f = json.loads((root / paths.FINDINGS).read_text(encoding="utf-8"))
        (root / paths.FINDINGS).write_text(json.dumps(f + list(extra_findings)), encoding="utf-8")
    return root


def render(root: Path) -> tuple[str, str]:
    inputs = load_inputs(root)
    return render_brief(inputs, ReportConfig(), alpha=0.05, prov=PROV, root=root)


def section(md: str, title: str = TEXT_TITLE) -> str:
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert m, f"no section {title!r}"
    return m.group(1)


def findings(root: Path) -> list:
    return json.loads((root / paths.FINDINGS).read_text(encoding="utf-8"))


def _base_finding(root_findings: list) -> dict:
    return copy.deepcopy(next(f for f in root_findings if f["source"] == "discovered" and f["metric"] == "error_rate"))


def term_finding(word: str, rank: int) -> dict:
    f = _base_finding(json.loads((CASES / "planted" / paths.FINDINGS).read_text()))
    key = "term_" + re.sub(r"[^a-z0-9]+", "_", word)
    f.update(id=f"term__{key}__error_rate", source="term", key=key,
             description=f'reviews containing "{word}" (error-associated term, cross-fitted)', slice={"term": word},
             parts=[{"key": key, "source": "text", "column": "term", "value": word}], rank=rank, class_mix_rank=None,
             evidence="within_class", method="cross_fit_bonferroni_min_of_two", selected_on="both",
             p_a_to_b=0.015, p_b_to_a=0.015, p_value=0.03, conditional_p_value=0.0008, q_value=0.004,
             conditional_q_value=0.004)
    return f


def topic_finding(terms: list, rank: int, metric: str = "error_rate") -> dict:
    f = _base_finding(json.loads((CASES / "planted" / paths.FINDINGS).read_text()))
    key, name = "topic_" + "_".join(terms[:3]), " / ".join(terms[:3])
    if metric != "error_rate":
        f.update(metric=metric, higher_is_better=True, estimate={**f["estimate"], "value": 0.5}, rest_value=0.8)
    f.update(id=f"discovered__{key}__{metric}", key=key, description=f'reviews about "{name}" (learned topic)',
             slice={"topic": name}, parts=[{"key": key, "source": "text", "column": "topic", "value": name}],
             rank=rank, class_mix_rank=None, evidence="within_class")
    return f


def test_section_sits_after_the_ranked_blind_spots():
    assert SECTION_TITLES.index(TEXT_TITLE) == SECTION_TITLES.index("Ranked blind spots") + 1


def test_missing_file_says_not_run_and_renders_complete(tmp_path):
    root = setup(tmp_path, None)
    md, html = render(root)
    body = section(md)
    assert "Not run" in body and "reports/text\\_slices.json" not in body and "`reports/text_slices.json`" in body
    assert check_complete(md, html, findings(root)) == []
    assert "Not run: <code>reports/text_slices.json</code> is absent" in html


def test_zero_topics_and_terms_off_say_why(tmp_path):
    data = text_file(k=0, topics_reason="too_few_rows", terms_reason="too_few_rows", n_candidates=0)
    data["topics"]["n_fit"] = 150
    root = setup(tmp_path, data)
    md, html = render(root)
    body = section(md)
    assert "No topic was learned from the 150 reviews: too few reviews for it." in body
    assert "No term was tested: too few reviews for it" in body
    assert check_complete(md, html, findings(root)) == []


def test_a_family_the_file_lacks_reads_as_not_run(tmp_path):
    data = text_file([topic(0, ["pain", "sleep", "night"])])
    del data["terms"]
    root = setup(tmp_path, data)
    body = section(render(root)[0])
    assert "Not run: the slice stage did not write this family." in body
    assert "None of" not in body.split("### Error-associated terms")[1]


def test_no_significant_topic_or_term_says_what_was_not_found(tmp_path):
    topics = [topic(i, [f"w{i}a", f"w{i}b", f"w{i}c", "x"]) for i in range(10)]
    terms = [term("not worth", p=0.03, q=0.2), term("refund", p=0.4, q=0.6, selected_on="b")]
    root = setup(tmp_path, text_file(topics, terms))
    md, html = render(root)
    body = section(md)
    assert "10 topics were learned from the words of 1,000 reviews" in body
    assert "None of the 10 tested topics is worse within its true classes." in body
    assert "None of the 2 selected terms is worse within the true classes after false-discovery control" in body
    assert "1 term was selected on A, 1 on B, 0 by both." in body
    assert "the 20 most error-associated" in body
    assert "never saw" in body  # why the other half
    assert "> " not in body  # no example quoted for a topic that is not worse
    assert check_complete(md, html, findings(root)) == []


def test_single_tested_topic_and_untested_ones(tmp_path):
    topics = [topic(0, ["a1", "a2", "a3"]), topic(1, ["b1", "b2", "b3"], tested=False, n=4)]
    body = section(render(setup(tmp_path, text_file(topics, [])))[0])
    assert "The one tested topic is not worse within its true classes. 1 topic was not tested" in body
    assert "No term was selected in either direction" in body


def test_significant_topics_and_terms_are_shown_and_ranked(tmp_path):
    topics = [topic(0, ["pain", "sleep", "night", "bed"], evidence="within_class", rank=2, q=0.001, cq=0.002),
              topic(1, ["app", "login", "crash"], evidence="class_mix", q=0.01, cq=0.5),
              topic(2, ["staff", "kind", "desk"])]
    terms = [term("not worth", p=0.03, q=0.04, significant=True, rank=3, selected_on="both"),
             term("refund", p=0.3, q=0.7)]
    extra = [topic_finding(["pain", "sleep", "night"], 2), term_finding("not worth", 3)]
    root = setup(tmp_path, text_file(topics, terms), extra)
    md, html = render(root)
    assert check_complete(md, html, findings(root)) == []
    body = section(md)
    assert "1 is a blind spot of its own, 1 is worse only through its class mix" in body
    assert "blind spot of its own (\\#2 in the ranked list)" in body
    assert "2 of the 3 tested topics are not worse within their true classes." in body
    for text in ("first review of pain / sleep / night", "second review of app / login / crash"):
        assert text in body
    assert "first review of staff" not in body  # examples only for significant topics
    assert "1 of the 2 selected terms is worse within the true classes" in body
    assert "| A\u2192B 0.015<br>B\u2192A 0.015 | 0.030 | 0.040 |" in body and "| “not worth”<br>`term_not_worth` |" in body
    ranked = section(md, "Ranked blind spots")
    assert "`term_not_worth`" in ranked and "`topic_pain_sleep_night`" in ranked
    assert "cross-fitted" in ranked and "found on both halves, each tested on the other (p A→B = 0.015, B→A = 0.015)" in ranked
    risk = section(md, "Risk and mitigation")
    # The risk table lists the top rows only; where the term is among them, its row gives no watchlist advice.
    for row in (r for r in risk.splitlines() if "not worth" in r):
        assert "slices.watchlist" not in row
    assert "term_not_worth to slices.watchlist" not in risk and "topic_pain_sleep_night to slices.watchlist" not in risk
    assert "medical" not in body.lower() and "patient" not in body.lower()


def test_hostile_example_and_term_text_stay_text(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    topics = [topic(0, ["pain", "sleep", "night"], evidence="within_class", rank=2, q=0.001, cq=0.002,
                    examples=[{"id": "r<1>", "text": HOSTILE}, {"id": "r2", "text": "| pipe | in | table |"}])]
    terms = [term("a|b](javascript:x)", p=0.0008, q=0.004, significant=True, rank=3)]
    root = setup(tmp_path, text_file(topics, terms), [topic_finding(["pain", "sleep", "night"], 2)])
    md, html = render(root)

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

    for markup in (html, markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)):
        p = Tags()
        p.feed(markup)
        names = [t for t, _ in p.tags]
        assert "script" not in names and "img" not in names
        assert not [a for t, a in p.tags if t == "a" and "javascript" in a.get("href", "")]
        assert not [a for _, a in p.tags if "onerror" in a]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\<script\\>alert(1)\\</script\\>" in md
    # the pipes of the term and of the review stay inside their cell and quote
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    for table in re.findall(r"<table>(.*?)</table>", rendered, re.S):
        width = len(re.findall(r"<th[ >]", table.split("</tr>")[0]))
        rows = [r for r in table.split("</tr>")[1:] if "<td" in r]
        assert all(len(re.findall(r"<td[ >]", r)) == width for r in rows), "a cell broke out of its table"


def test_a_malformed_file_names_the_file_and_field(tmp_path):
    data = text_file([topic(0, ["a1", "a2", "a3"])])
    data["topics"]["topics"][0]["evidence"] = "maybe"
    root = setup(tmp_path, None)
    (root / "reports/text_slices.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_inputs(root)
    text = str(err.value)
    assert "reports/text_slices.json" in text and "topics.topics.0.evidence" in text and "'maybe'" in text

    data = text_file([], [term("x")])
    data["terms"]["tested"][0]["n"] = "many"
    (root / "reports/text_slices.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"terms\.tested\.0\.n"):
        load_inputs(root)


def test_many_classes_and_many_topics_stay_true(tmp_path):
    topics = [topic(i, [f"t{i}a", f"t{i}b", f"t{i}c"], evidence="within_class", rank=i + 2, q=0.001, cq=0.001)
              for i in range(20)]
    body = section(render(setup(tmp_path, text_file(topics, [])))[0])
    assert "20 are blind spots of their own, 0 are worse only through their class mix" in body
    assert "Every tested topic is worse within its true classes." in body
    assert body.count("\n> ") >= 40


def test_families_switched_off_say_so(tmp_path):
    data = text_file(k=0, topics_reason="off", terms_reason="off", n_candidates=0)
    data["topics"]["n_fit"] = 0
    md, html = render(setup(tmp_path, data))
    body = section(md)
    assert "Not run: switched off in the configuration (`slices.topics_max` is 0)." in body
    assert "Not run: switched off in the configuration (`slices.terms_top_k` is 0)." in body
    assert "0 reviews" not in body


def test_a_topic_worse_through_a_recall_shows_that_recall_and_an_empty_topic_is_not_measurable(tmp_path):
    # evidence and rank are the topic slice's over all its metrics: its error rate's q may be large
    t = topic(0, ["pain", "sleep", "night"], evidence="within_class", rank=2, q=0.9, cq=0.95)
    empty = topic(1, ["b1", "b2", "b3"], n=0, tested=False)
    empty["error_rate"] = None
    root = setup(tmp_path, text_file([t, empty]), [topic_finding(["pain", "sleep", "night"], 2, "recall_positive")])
    md, html = render(root)
    body = section(md)
    row = next(line for line in body.splitlines() if "`topic_pain_sleep_night`" in line)
    assert "recall of 'positive': q" in row and "0.950" not in row
    row = next(line for line in body.splitlines() if "`topic_b1_b2_b3`" in line)
    assert "not measurable" in row and "not tested" in row
    assert check_complete(md, html, findings(root)) == []


def test_the_real_stage_output_is_shown_whole(audited):
    """The bundled audit (real slice stage): every topic in the table, every significant term ranked and listed."""
    data = json.loads((audited / paths.TEXT_SLICES).read_text(encoding="utf-8"))
    md = (audited / paths.BRIEF_MD).read_text(encoding="utf-8")
    body, ranked = section(md), section(md, "Ranked blind spots")
    for t in data["topics"]["topics"]:
        assert f"<br>`{t['key']}` |" in body
    significant = [t for t in data["terms"]["tested"] if t["significant"]]
    for t in significant:
        assert f"`{t['key']}`" in body and f"`{t['key']}`" in ranked
    assert f"{len(significant)} of the {len(data['terms']['tested'])} selected terms" in body or not significant
    assert "medical" not in body.lower() and "patient" not in body.lower()
