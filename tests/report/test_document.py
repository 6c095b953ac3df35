"""The document model: runs, blocks, truncation."""

from __future__ import annotations

import pytest

from blindspot.report.document import (BulletList, Callout, Code, Document, Figure, Heading, Paragraph, Quote,
                                       Strong, Table, plain, run, slug, truncate)


def test_run_flattens_and_drops_empty_pieces():
    assert run("a", None, "", (Code("b"), ("c",)), Strong("d")) == ("a", Code("b"), "c", Strong("d"))
    with pytest.raises(TypeError, match="not an inline piece"):
        run(3)
    assert plain(run("x ", Code("y"))) == "x y"


def test_slug_is_safe_for_an_id():
    assert slug('What the judge found, and "how" <far>') == "what-the-judge-found-and-how-far"
    assert slug("!!!") == "section"


def test_table_checks_its_shape():
    t = Table(["a", "b"], [["1", run("2", Code("x"))]], align=("l", "r"), wide=0)
    assert t.rows[0][1] == ("2", Code("x")) and t.align == ("l", "r")
    with pytest.raises(ValueError, match="2 columns"):
        Table(["a", "b"], [["only one"]])
    with pytest.raises(ValueError, match="align"):
        Table(["a"], [], align=("c",))
    with pytest.raises(ValueError, match="wide"):
        Table(["a"], [], wide=3)


def test_callout_kinds_and_document_blocks():
    with pytest.raises(ValueError, match="note, warning or ok"):
        Callout("shout", "x")
    doc = Document("T").add(Heading(2, "One"), Paragraph("p"), BulletList(["i"]), Figure("plots/x.png", "c"),
                            Quote("q", "m"), Callout("ok", "fine"), Heading(3, "Sub"))
    assert [h.text for h in doc.headings()] == ["One"]
    with pytest.raises(TypeError, match="not a block"):
        doc.add("just a string")
    assert Figure("plots/x.png").alt == "plots/x.png"


@pytest.mark.parametrize("text, n, expected", [
    ("short text", 50, "short text"),
    ("line one\n\n  line   two\r\n", 50, "line one line two"),
    ("the quick brown fox jumps over the lazy dog", 20, "the quick brown fox\u2026"),
    ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi\u2026"),
    ("words, words, words, words", 14, "words, words\u2026"),
])
def test_truncate(text, n, expected):
    out = truncate(text, n)
    assert out == expected and len(out) <= max(n, len(text.split()[0]))


def test_a_break_is_a_line_break_in_a_table_cell_and_a_label_leads_a_callout():
    from blindspot.report import html, markdown
    from blindspot.report.document import Break, Table

    doc = Document("t").add(Table(["slice"], [[run("site = <b>", Break(), Code("site__b"))]]),
                            Callout("warning", "2 weak classes.", label="NOT READY"))
    md, page = markdown.render(doc), html.render(doc)
    assert "| site = \\<b\\><br>`site__b` |" in md and "> **NOT READY:** 2 weak classes." in md
    assert "site = &lt;b&gt;<br><code>site__b</code>" in page
    assert '<strong class="label">NOT READY:</strong> 2 weak classes.' in page
