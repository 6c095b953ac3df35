"""Hostile text (script tags, quotes, Markdown and HTML injection) renders as text in both outputs.

The brief quotes patients' reviews and slice descriptions built from metadata values:
none of it may become markup. Each renderer escapes every text piece once; these tests
build a document whose every text slot holds hostile text and check, with real parsers,
that the output holds no element, link, image or attribute the text asked for, and that
the text itself is shown verbatim (whitespace collapsed).
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from blindspot.report import html as html_render
from blindspot.report.complete import SECTION_TITLES
from blindspot.report import markdown as md_render
from blindspot.report.document import (BulletList, Callout, Code, Document, Em, Figure, Heading, Paragraph, Quote,
                                       Strong, Table)

from report.conftest import HOSTILE

FLAT = " ".join(HOSTILE.split())


class Elements(HTMLParser):
    """Start tags with their attributes, and the text, of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def joined(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(markup: str) -> Elements:
    p = Elements()
    p.feed(markup)
    p.close()
    return p


def hostile_document(png_path: str) -> Document:
    doc = Document(HOSTILE, subtitle=(HOSTILE,))
    doc.add(Heading(2, HOSTILE), Paragraph(HOSTILE, Strong(HOSTILE), Em(HOSTILE), Code(HOSTILE)),
            BulletList([HOSTILE, (Code("a|b"), HOSTILE)]),
            Table(["slice", HOSTILE], [[HOSTILE, Code(HOSTILE)], ["x", "y"]], caption=HOSTILE),
            Figure(png_path, HOSTILE, alt=HOSTILE), Quote(HOSTILE, (HOSTILE, Code(HOSTILE))),
            Callout("warning", HOSTILE))
    return doc


@pytest.fixture
def png(tmp_path):
    from blindspot.report.document import Figure  # noqa: F401  (the renderer reads the file)

    path = tmp_path / "plots" / "x.png"
    path.parent.mkdir()
    # the smallest valid PNG: 1x1 transparent pixel
    path.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fe"
        "a7d6a4a30000000049454e44ae426082"))
    return path


def test_html_escapes_every_text_slot(png, tmp_path):
    out = html_render.render(hostile_document("plots/x.png"), root=tmp_path)
    doc = parse(out)
    tags = {t for t, _ in doc.tags}
    assert "script" not in tags and "<script" not in out.lower()
    assert not any(t == "a" and not a.get("href", "").startswith("#") for t, a in doc.tags), "a link was injected"
    assert all(a.get("src", "").startswith("data:image/png;base64,") for t, a in doc.tags if t == "img")
    assert sum(t == "img" for t, _ in doc.tags) == 1  # only the figure, none from the text
    assert not any(k.startswith("on") for _, a in doc.tags for k in a), "an event handler attribute was injected"
    assert not any(t == "p" and "onclick" in a for t, a in doc.tags)
    assert doc.joined.count(FLAT) >= 10  # every slot shows the text itself
    fig_alt = next(a["alt"] for t, a in doc.tags if t == "img")
    assert fig_alt == HOSTILE  # attribute values round-trip exactly (quotes escaped)


def test_markdown_escapes_every_text_slot(png):
    markdown_it = pytest.importorskip("markdown_it")
    md = md_render.render(hostile_document("plots/x.png"), base="reports")
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(md)
    doc = parse(rendered)
    tags = [t for t, _ in doc.tags]
    assert "script" not in tags and "<script" not in rendered.lower()
    assert "a" not in tags, "a link was injected"
    assert [a["src"] for t, a in doc.tags if t == "img"] == ["../plots/x.png"]
    assert "s" not in tags and "del" not in tags  # ~~strike~~ stays text
    assert tags.count("h1") == 1 and tags.count("h2") == 1  # "# Heading" inside the text made none
    assert not any(k.startswith("on") for _, a in doc.tags for k in a)
    assert doc.joined.count(FLAT) >= 9
    # Raw Markdown: no line of ours starts a list or heading because of the text.
    assert not any(line.startswith(("- item", "# Heading")) for line in md.splitlines())


def test_markdown_table_cells_keep_their_columns():
    markdown_it = pytest.importorskip("markdown_it")
    doc = Document("t").add(Table(["a", "b"], [["x | y | z", Code("p|q")]]))
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md_render.render(doc))
    cells = parse(rendered)
    assert sum(t == "td" for t, _ in cells.tags) == 2
    assert "x | y | z" in cells.joined and "p|q" in cells.joined


@pytest.mark.parametrize("text", ["# not a heading", "- not a list", "+ nor this", "1. nor this", "3) nor this",
                                  "> nor a quote", "=== nor a rule"])
def test_block_markers_at_line_start_are_escaped(text):
    markdown_it = pytest.importorskip("markdown_it")
    md = md_render.render(Document("t").add(Paragraph(text), Quote(text), BulletList([text])))
    rendered = markdown_it.MarkdownIt("commonmark").render(md)
    tags = [t for t, _ in parse(rendered).tags]
    assert tags.count("h1") == 1 and "ol" not in tags and "h2" not in tags and "hr" not in tags
    assert tags.count("ul") == 1 and tags.count("li") == 1 and tags.count("blockquote") == 1
    assert parse(rendered).joined.count(text) == 3


def test_code_spans_hold_backticks():
    markdown_it = pytest.importorskip("markdown_it")
    md = md_render.render(Document("t").add(Paragraph(Code("a ``b`` c"), " and ", Code("`edge`"))))
    rendered = markdown_it.MarkdownIt("commonmark").render(md)
    assert "<code>a ``b`` c</code>" in rendered and "<code>`edge`</code>" in rendered


# --------------------------------------------------------------------------- control and bidi characters

from blindspot.report.document import visible  # noqa: E402

# Every character that must never reach a brief raw, and how it is shown instead.
INVISIBLE = ["\x00", "\x07", "\x1b", "\x0b", "\x0c", "\x1c", "\x7f", "\x85", "\x9b", "\u061c", "\u200e", "\u200f",
             "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ud800"]


@pytest.mark.parametrize("ch", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_visible_spells_out_control_and_bidi_characters(ch):
    assert visible(f"a{ch}b") == f"a\\u{ord(ch):04x}b"
    doc = Document(f"t{ch}").add(Paragraph(f"p{ch}", Code(f"c{ch}")), Table(["h"], [[f"x{ch}"]]), Quote(f"q{ch}"))
    for out in (md_render.render(doc), html_render.render(doc)):
        assert ch not in out
        assert out.count(f"\\u{ord(ch):04x}") >= 5


def test_ordinary_text_is_untouched():
    text = "caf\u00e9 \u05e9\u05dc\u05d5\u05dd \U0001F600\u200d\U0001F525 tab\there"  # accents, Hebrew, emoji ZWJ, tab
    assert visible(text) == text


HOSTILE_NAME = "neg\u202eevil\x00 | `tick` \n# Head\x1b[31m"
HOSTILE_VALUE = "onc\u2066ology\u2069 | ``x`` \n- item\u200f"
HOSTILE_COLUMN = "spec\u202dialty | <b>\u061c"
HOSTILE_TEXT = "Great\u202e!sdrawkcab\x00\x1b]8;;http://x.invalid\x07link\x1b]8;;\x07 | a | b |\n# H\n> q ``` `"


def _hostile_case(tmp_path: Path) -> Path:
    """The planted case with a hostile class name, metadata value, column name and review texts everywhere."""
    root = tmp_path / "hostile"
    shutil.copytree(Path(__file__).parent / "cases" / "planted", root)
    swaps = [("negative", HOSTILE_NAME), ("oncology", HOSTILE_VALUE), ("specialty", HOSTILE_COLUMN)]
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".json", ".jsonl")):
        text = path.read_text(encoding="utf-8")
        for old, new in swaps:
            text = text.replace(old, json.dumps(new)[1:-1])
        if path.name == "confident_errors.jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            text = "".join(json.dumps({**r, "text": HOSTILE_TEXT + r["text"]}) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")
    return root


def test_hostile_names_and_texts_are_shown_escaped_in_both_briefs(tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    from blindspot.config import ReportConfig
    from blindspot.report import check_complete, load_inputs, render_brief

    root = _hostile_case(tmp_path)
    inputs = load_inputs(root)
    assert any(c.name == HOSTILE_NAME for c in inputs.profile.classes)
    assert any(HOSTILE_VALUE in f.key and HOSTILE_COLUMN in f.key for f in inputs.slices.findings)
    prov = {"params_sha256": "0" * 64, "input_path": f"data/raw/{HOSTILE_COLUMN}.csv", "input_sha256": "1" * 64,
            "baseline_path": None, "packages": {}}
    md, html = render_brief(inputs, ReportConfig(n_examples=3), alpha=0.05, prov=prov, root=root)
    for out in (md, html):
        assert not [c for c in set(HOSTILE_NAME + HOSTILE_VALUE + HOSTILE_COLUMN + HOSTILE_TEXT)
                    if visible(c) != c and c in out], "a control or bidi character reached the brief raw"
        for ch in ("\u202e", "\x00", "\x1b", "\u2066", "\u2069", "\u200f", "\u202d", "\u061c", "\x07"):
            assert f"\\u{ord(ch):04x}" in out, f"U+{ord(ch):04X} is not shown"
    findings = json.loads((root / "reports/findings.json").read_text(encoding="utf-8"))
    assert check_complete(md, html, findings) == []
    # The text stays inside its quote and its table cell: the Markdown parses to the same structure.
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    doc = parse(rendered)
    tags = [t for t, _ in doc.tags]
    assert tags.count("h1") == 1 and tags.count("h2") == len(SECTION_TITLES) and "a" not in tags and "script" not in tags
    assert tags.count("blockquote") >= 3
    for table in re.findall(r"<table>(.*?)</table>", rendered, re.S):
        width = len(re.findall(r"<th[ >]", table.split("</tr>")[0]))
        rows = [r for r in table.split("</tr>")[1:] if "<td" in r]
        assert rows and all(len(re.findall(r"<td[ >]", r)) == width for r in rows), "a cell broke out of its table"
    hdoc = parse(html)
    assert [t for t, _ in hdoc.tags].count("h2") == len(SECTION_TITLES) and "script" not in [t for t, _ in hdoc.tags]
    title = "Blind Spot Brief: data/raw/spec\\u202dialty | <b>\\u061c.csv (model planted)"
    assert re.search(r"<h1>(.*?)</h1>", rendered).group(1) == title.replace("<", "&lt;").replace(">", "&gt;")
    assert f"<title>{title.replace('<', '&lt;').replace('>', '&gt;')}</title>" in html


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402

_HOSTILE_ALPHABET = hs.sampled_from(INVISIBLE + ["|", "`", "#", "\n", "\r", "\t", "<", ">", "&", "\\", "*", "_", "[",
                                                 "]", "-", "1", ".", " ", "a", "\u00e9", "\U0001F600", "\u2028"])


@settings(max_examples=150, deadline=None)
@given(hs.text(alphabet=_HOSTILE_ALPHABET, max_size=40) | hs.text(max_size=40))
def test_no_text_reaches_a_brief_raw_or_breaks_a_table(text):
    markdown_it = pytest.importorskip("markdown_it")
    doc = Document("t").add(Table(["a", "b"], [[text, Code(text)], [Strong(text), "x"]]), Quote(text))
    md, out = md_render.render(doc), html_render.render(doc)
    for rendered in (md, out):
        assert not [c for c in set(text) if visible(c) != c and c in rendered]
    html_of_md = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    body = re.search(r"<tbody>(.*?)</tbody>", html_of_md, re.S).group(1)
    assert [len(re.findall(r"<td[ >]", r)) for r in body.split("</tr>") if "<td" in r] == [2, 2]
    assert html_of_md.count("<blockquote>") == 1 and "<h1>" in html_of_md and html_of_md.count("<h") == 1
