"""Render a :class:`~blindspot.report.document.Document` as one self-contained HTML page.

- Every text piece goes through :func:`html.escape` (quotes included), after control
  and bidi characters are spelt out as ``\\uXXXX``, here and nowhere else; the only
  markup is what this module writes around it.
- Figures are read from disk and embedded as ``data:image/png;base64`` URIs: the page
  opens offline, needs no other file and loads nothing from the network. A
  Content-Security-Policy meta tag forbids scripts and any fetch besides data: images,
  so even a mistake elsewhere could not make the page run code or call out.
- Inline CSS only, system fonts, readable on a laptop screen; ``@media print`` keeps
  tables and figures whole and drops the navigation.
"""

from __future__ import annotations

import base64
import html
import mimetypes
from pathlib import Path

from blindspot.report.document import (Break, BulletList, Callout, Code, Document, Em, Figure, Heading, Paragraph,
                                       Quote, Strong, Table, run, visible)

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --fg: #1d2125; --muted: #5c636a; --rule: #dee2e6; --bad: #c92a2a; --good: #2b8a3e; --accent: #1c7ed6;
        --note: #e7f1fc; --warn: #fff4e6; --ok: #ebfbee; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 64rem; padding: 1.5rem 1.25rem 3rem; color: var(--fg); background: #fff;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.75rem; margin: 0 0 .25rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.08rem; margin: 1.4rem 0 .4rem; }
p, ul { margin: .5rem 0; }
.subtitle { color: var(--muted); margin: 0 0 1rem; }
code { font: .88em/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f5;
       padding: .05em .3em; border-radius: 3px; overflow-wrap: anywhere; }
nav { font-size: .92rem; background: #f8f9fa; border: 1px solid var(--rule); border-radius: 6px; padding: .5rem 1rem; }
nav ol { margin: .25rem 0; padding-left: 1.4rem; columns: 2; }
a { color: var(--accent); }
.table-wrap { overflow-x: auto; margin: .75rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .45rem; vertical-align: top; text-align: left; }
th { background: #f8f9fa; font-weight: 600; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.r { min-width: 4.2rem; white-space: nowrap; }
th.wide, td.wide { min-width: 13rem; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: .85rem; padding-top: .3rem; }
figure { margin: 1rem 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: .88rem; margin-top: .3rem; }
blockquote { margin: .8rem 0; padding: .5rem .9rem; border-left: 4px solid var(--muted); background: #f8f9fa; }
blockquote p { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
blockquote footer { color: var(--muted); font-size: .85rem; margin-top: .35rem; }
.callout { margin: .8rem 0; padding: .55rem .9rem; border-radius: 6px; border: 1px solid var(--rule); }
.callout.note { background: var(--note); }
.callout.warning { background: var(--warn); }
.callout.ok { background: var(--ok); }
.callout .label { letter-spacing: .03em; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; }
  table, figure, blockquote, .callout { break-inside: avoid; }
  figure img { max-height: 22cm; width: auto; border: none; }
  .table-wrap { overflow: visible; }
}
""".strip()


def _e(text) -> str:
    # Control and bidi characters spelt out first (document.visible), then HTML-escaped.
    return html.escape(visible(text), quote=True)


def inline(parts) -> str:
    out = []
    for p in run(parts):
        if isinstance(p, Code):
            out.append(f"<code>{_e(p.text)}</code>")
        elif isinstance(p, Strong):
            out.append(f"<strong>{_e(p.text)}</strong>")
        elif isinstance(p, Em):
            out.append(f"<em>{_e(p.text)}</em>")
        elif isinstance(p, Break):
            out.append("<br>")
        else:
            out.append(_e(p))
    return "".join(out)


def data_uri(path: Path) -> str:
    """A file as a base64 data URI (PNG unless the suffix says otherwise)."""
    mime = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _table(t: Table) -> str:
    classes = [a + (" wide" if i == t.wide else "") for i, a in enumerate(t.align)]
    head = "".join(f'<th class="{k}">{inline(h)}</th>' for h, k in zip(t.header, classes))
    body = "".join("<tr>" + "".join(f'<td class="{k}">{inline(c)}</td>' for c, k in zip(row, classes)) + "</tr>"
                   for row in t.rows)
    caption = f"<caption>{inline(t.caption)}</caption>" if t.caption else ""
    return f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _figure(f: Figure, root: Path) -> str:
    path = root / f.path
    if not path.is_file():  # sections only add figures that exist; this guards a race with a stage
        return f'<div class="callout warning">Figure missing: <code>{_e(f.path)}</code></div>'
    caption = f"<figcaption>{inline(f.caption)}</figcaption>" if f.caption else ""
    return f'<figure><img src="{data_uri(path)}" alt="{_e(f.alt)}">{caption}</figure>'


def render(doc: Document, *, root: str | Path = ".") -> str:
    """The document as one HTML page; figures are read relative to ``root``."""
    root = Path(root)
    body = [f"<h1>{_e(doc.title)}</h1>"]
    if doc.subtitle:
        body.append(f'<p class="subtitle">{inline(doc.subtitle)}</p>')
    sections = doc.headings(2)
    if sections:
        items = "".join(f'<li><a href="#{h.anchor}">{_e(h.text)}</a></li>' for h in sections)
        body.append(f'<nav aria-label="contents"><ol>{items}</ol></nav>')
    seen: dict = {}
    for b in doc.blocks:
        if isinstance(b, Heading):
            level = min(max(b.level, 2), 6)
            # ids stay unique (the navigation links the first of each name, the level-2 headings)
            seen[b.anchor] = seen.get(b.anchor, 0) + 1
            anchor = b.anchor if seen[b.anchor] == 1 else f"{b.anchor}-{seen[b.anchor]}"
            body.append(f'<h{level} id="{_e(anchor)}">{_e(b.text)}</h{level}>')
        elif isinstance(b, Paragraph):
            body.append(f"<p>{inline(b.parts)}</p>")
        elif isinstance(b, BulletList):
            body.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            body.append(_table(b))
        elif isinstance(b, Figure):
            body.append(_figure(b, root))
        elif isinstance(b, Quote):
            meta = f"<footer>{inline(b.meta)}</footer>" if b.meta else ""
            body.append(f"<blockquote><p>{_e(b.text)}</p>{meta}</blockquote>")
        elif isinstance(b, Callout):
            lead = f'<strong class="label">{_e(b.label)}:</strong> ' if b.label else ""
            body.append(f'<div class="callout {b.kind}">{lead}{inline(b.parts)}</div>')
        else:  # pragma: no cover - Document.add refuses anything else
            raise TypeError(type(b).__name__)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(doc.title)}</title>\n<style>\n{CSS}\n</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
