"""Render a :class:`~blindspot.report.document.Document` as GitHub-flavoured Markdown.

Escaping happens here, once, in :func:`escape`: every text piece is collapsed to one
line and every character Markdown or inline HTML could act on is backslash-escaped, so
a review reading ``<script>``, ``**bold**``, ``[link](x)``, ``| cell |`` or ``# title``
renders as those characters. Figures are referenced by a path relative to the
Markdown file (``../plots/...``).
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from urllib.parse import quote

from blindspot.report.document import (Break, BulletList, Callout, Code, Document, Em, Figure, Heading, Paragraph,
                                       Quote, Strong, Table, run, visible)

# Backslash-escaped anywhere: CommonMark lets any ASCII punctuation be escaped, and these
# are the ones that open emphasis, code, links, images, raw HTML, entities, headings,
# tables or strikethrough.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#])")
# Block markers that only act at the start of a line: lists, quotes (">" is always
# escaped), thematic breaks, setext underlines, ordered lists ("1." / "1)").
_WHITESPACE = re.compile(r"\s+")
_LINE_START = re.compile(r"^([+=-])|^(\d+)([.)])")


def escape(text: str) -> str:
    """Plain text -> Markdown that displays exactly that text, collapsed to one line.

    Control and bidi characters are first spelt out (:func:`~blindspot.report.document.visible`);
    every run of whitespace (newlines included) becomes one space; a space at either
    end is kept, since the text may be one piece of a longer line.
    """
    flat = _WHITESPACE.sub(" ", visible(text))
    return _SPECIAL.sub(r"\\\1", flat)


def line_start(markdown: str) -> str:
    """Escape a block marker at the start of a rendered line."""
    return _LINE_START.sub(lambda m: "\\" + m.group(1) if m.group(1) else m.group(2) + "\\" + m.group(3),
                           markdown, count=1)


def _code(text: str, in_table: bool = False) -> str:
    # A code span shows its content verbatim; fence it with more backticks than it holds.
    flat = _WHITESPACE.sub(" ", visible(text)).strip()
    if in_table:  # GFM ends a cell at any unescaped pipe, even inside a code span
        flat = flat.replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _emphasis(text: str, marker: str) -> str:
    # CommonMark only opens emphasis before a non-space: keep outer spaces outside the markers.
    body = escape(text)
    core = body.strip()
    if not core:
        return body
    lead = " " if body[:1] == " " else ""
    trail = " " if body[-1:] == " " else ""
    return f"{lead}{marker}{core}{marker}{trail}"


def inline(parts, *, in_table: bool = False) -> str:
    """A run as Markdown (text escaped, code spans verbatim)."""
    out = []
    for p in run(parts):
        if isinstance(p, Code):
            out.append(_code(p.text, in_table))
        elif isinstance(p, (Strong, Em)):
            out.append(_emphasis(p.text, "**" if isinstance(p, Strong) else "*"))
        elif isinstance(p, Break):
            # A table cell is one line, so an HTML break is the only one Markdown has there.
            out.append("<br>" if in_table else "\\\n")
        else:
            out.append(escape(p))
    return "".join(out)


def _cell(parts) -> str:
    return inline(parts, in_table=True)


def _table(t: Table) -> str:
    lines = ["| " + " | ".join(_cell(h) for h in t.header) + " |",
             "| " + " | ".join("---:" if a == "r" else "---" for a in t.align) + " |"]
    lines += ["| " + " | ".join(_cell(c) or " " for c in row) + " |" for row in t.rows]
    if t.caption:
        lines += ["", f"*{inline(t.caption)}*"]
    return "\n".join(lines)


def _figure(f: Figure, base: PurePosixPath) -> str:
    rel = os.path.relpath(f.path, start=str(base)).replace(os.sep, "/")
    line = f"![{escape(f.alt)}]({quote(rel)})"
    return line + (f"\n\n*{inline(f.caption)}*" if f.caption else "")


def render(doc: Document, *, base: str = "reports") -> str:
    """The document as Markdown.

    Parameters
    ----------
    doc : Document
    base : str
        Directory of the Markdown file, relative to the repository root; figure paths
        are made relative to it.
    """
    base_path = PurePosixPath(base)
    parts = [f"# {escape(doc.title).strip()}"]
    if doc.subtitle:
        parts.append(inline(doc.subtitle))
    labels = {"note": "Note", "warning": "Warning", "ok": "OK"}
    for b in doc.blocks:
        if isinstance(b, Heading):
            parts.append(f"{'#' * min(max(b.level, 2), 6)} {escape(b.text).strip()}")
        elif isinstance(b, Paragraph):
            parts.append(line_start(inline(b.parts)))
        elif isinstance(b, BulletList):
            parts.append("\n".join(f"- {line_start(inline(i))}" for i in b.items))
        elif isinstance(b, Table):
            parts.append(_table(b))
        elif isinstance(b, Figure):
            parts.append(_figure(b, base_path))
        elif isinstance(b, Quote):
            text = f"> {line_start(escape(b.text).strip())}"
            parts.append(text + (f"\n>\n> \u2014 {inline(b.meta)}" if b.meta else ""))
        elif isinstance(b, Callout):
            parts.append(f"> **{escape(b.label) if b.label else labels[b.kind]}:** {inline(b.parts)}")
        else:  # pragma: no cover - Document.add refuses anything else
            raise TypeError(type(b).__name__)
    return "\n\n".join(parts) + "\n"
